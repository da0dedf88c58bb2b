"""The finance tab's calculations in headless Chromium: a pasted Chinese revenue table and "同比增长多少？" answered
with the executed growth figure, its formula with the cells spelled out, and those cells highlighted in the table
(the fake backend, whose scripted result is wrong on purpose; and one real-model run)."""

from __future__ import annotations

import json

import pytest

from ..serving import running_server
from .helpers import shot
from .test_chat import ask, wait_answers

QUESTION = """某公司近两年经营数据如下：
|年份|营业收入(亿元)|净利润(亿元)|
|---|---|---|
|2022|80|12.5|
|2023|100|15|
营业收入同比增长多少？"""
# the model's own result (99.9) is wrong: the page must show the one the app executed
SCRIPTED = {
    "calculations": [{"label": "营业收入同比增长率", "program": "pct_change(R1C2, R2C2)", "result": 99.9, "unit": "%"}],
    "summary": "营业收入同比增长{1}。",
    "analysis": ["营业收入从80亿元增长到100亿元。"],
    "suggestions": ["结合净利润的变化一起看。"],
    "risk_notice": "历史增长不代表未来表现，投资有风险。",
}


@pytest.fixture(scope="module")
def finance_app(tmp_path_factory):
    script = tmp_path_factory.mktemp("finance") / "answers.json"
    script.write_text(json.dumps([SCRIPTED], ensure_ascii=False), encoding="utf-8")
    with running_server("--backend", "fake", "--fake-responses-file", str(script)) as url:
        yield url


def calculation_view(page) -> tuple[str, list[tuple[str, str]]]:
    """The finance answer's calculation block as text, and its highlighted cells as (reference, text)."""
    block = page.locator("#finance-chat .qa-calc").last
    marks = block.locator("mark")
    cells = [(marks.nth(i).get_attribute("title"), marks.nth(i).inner_text()) for i in range(marks.count())]
    return block.inner_text(), cells


def test_growth_is_shown_with_its_formula_and_highlighted_cells(finance_app, open_page):
    page = open_page(finance_app, width=1200, height=1100)
    page.get_by_role("tab", name="金融 Finance").click()
    ask(page, "finance", QUESTION)
    wait_answers(page, "finance", 1)
    text, cells = calculation_view(page)
    assert "营业收入同比增长率 = 25.00%" in text
    assert "pct_change(2022 营业收入(亿元)[R1C2]=80亿元, 2023 营业收入(亿元)[R2C2]=100亿元)" in text
    assert "精确值 exact: 25%" in text
    assert sorted(cells) == [("R1C2", "80"), ("R2C2", "100")]
    chat = page.inner_text("#finance-chat")
    assert "营业收入同比增长25.00%。" in chat and "99.9" not in chat
    shot(page, "20-finance-calculation")


@pytest.mark.model
def test_real_model_growth_is_the_executed_result(open_page):
    with running_server(env={"QA_MAX_NEW_TOKENS_LIMIT": "2048"}, timeout=600) as url:
        page = open_page(url, width=1200, height=1100)
        page.get_by_role("tab", name="金融 Finance").click()
        ask(page, "finance", QUESTION)
        wait_answers(page, "finance", 1, timeout=600_000)
        text, cells = calculation_view(page)
        assert "= 25.00%" in text and "[R1C2]=80亿元" in text and "[R2C2]=100亿元" in text
        assert sorted(cells) == [("R1C2", "80"), ("R2C2", "100")]
        assert "25.00%" in page.inner_text("#finance-chat .qa-answer >> nth=-1")
        shot(page, "21-real-model-finance-calculation")
