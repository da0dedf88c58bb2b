"""The real embedded model on a pasted Chinese revenue table: the growth figure shown is the executed one."""

import re

import pytest

from qa.calc import execute
from qa.tasks.finance.calculations import question_figures

pytestmark = pytest.mark.model

QUESTION = """某公司近两年营业收入如下（单位：亿元）：
|年份|营业收入|净利润|
|---|---|---|
|2022|80|12.5|
|2023|100|15|
营业收入同比增长多少？"""


def test_a_pasted_revenue_table_gets_its_growth_from_an_executed_program(real_service):
    params = real_service.params("finance", 0.0, 1.0, 384)
    answer = real_service.answer("finance", QUESTION, params)
    assert answer.ok, answer.report.to_dict()
    calcs = answer.data["calculations"]
    assert calcs, "no calculation survived the checks"
    figures = question_figures(QUESTION)
    for calc in calcs:  # every result is the app's execution of the program, not the model's number
        assert calc["result"] == execute(calc["program"], calc["unit"], figures).rounded(2)
    growth = [c for c in calcs if c["unit"] == "%"]
    assert growth and growth[-1]["result"] == 25.0, calcs  # (100 − 80) / 80
    # the growth the summary states is the executed one (as the app wrote it, or the model's {1} at its precision)
    assert re.search(r"(?<![\d.])25(\.00)?%", answer.data["summary"]), answer.data["summary"]
