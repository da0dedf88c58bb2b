"""The record-extraction tab in headless Chromium against ./start.sh with the fake backend: a pasted record comes
back with each field's span highlighted in the record, and a click on a field's link in the table highlights
every piece of that field's span — also when other fields' spans overlap it and cut it into pieces."""

from __future__ import annotations

import json

import pytest

from ..serving import running_server
from ..test_record import GOOD, RECORD, STORED, find
from .helpers import shot

# the default answer plus a procedure quoting the whole diagnosis sentence: it overlaps the diagnosis's span, so
# the record is cut into pieces that belong to one field, to the other, or to both
ANSWER = {
    **GOOD,
    "procedures": [
        {
            "evidence": {"sentence": find(STORED, "诊断"), "quote": "诊断：社区获得性肺炎"},
            "value": "诊断：社区获得性肺炎",
        }
    ],
}
HIGHLIGHT = "rgb(255, 197, 61)"  # the target colour of the page's style


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    script = tmp_path_factory.mktemp("record") / "answers.json"
    script.write_text(json.dumps([json.dumps(ANSWER, ensure_ascii=False)], ensure_ascii=False), encoding="utf-8")
    with running_server("--backend", "fake", "--fake-responses-file", str(script)) as url:
        yield url


def _span_text(page, i: int) -> str:
    """The text of every segment that belongs to field i, in order."""
    return "".join(page.locator(f"#record-result .qa-s{i}").all_inner_texts())


def test_pasted_record_shows_each_field_on_its_exact_source_words(app, open_page):
    page = open_page(app)
    page.get_by_role("tab", name="病历提取 Record").click()
    page.fill("#record-record textarea", RECORD)
    page.click("#record-extract")
    page.wait_for_selector("#record-result .qa-extract table", timeout=30_000)
    rows = page.locator("#record-result tbody tr")
    spans, index = {}, {}
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td")
        name, where = cells.nth(1).inner_text(), cells.nth(5).inner_text()
        index[name] = i
        if "–" not in where:  # an ungrounded field: no span, marked unverified, still listed
            assert "qa-unverified" in (rows.nth(i).get_attribute("class") or "")
            spans[name] = None
            continue
        start, end = (int(x) for x in where.split("–"))
        # the highlighted pieces of the field are the stored record's own words at its offsets
        assert _span_text(page, i) == STORED[start:end]
        spans[name] = STORED[start:end]
    assert (
        spans["diagnoses"] == "社区获得性肺炎" and spans["procedures"] == "诊断:社区获得性肺炎"
    )  # NFKC: the stored record
    assert spans["allergies"] is None  # the fake's 磺胺 is not in the record
    for clicked, other in (("procedures", "diagnoses"), ("diagnoses", "procedures")):
        i, j = index[clicked], index[other]
        rows.nth(i).locator("td").nth(5).locator("a").click()
        assert page.evaluate("location.hash") == f"#rec-f{i}"
        # every piece of the clicked field turns to the target colour and no piece that only the other field
        # covers keeps it (both read after the page's colour transition; a wrong page times out here)
        page.wait_for_function(
            "([mine, others, c]) => { const on = e => getComputedStyle(e).backgroundColor === c;"
            " const els = Array.from(document.querySelectorAll(mine));"
            " return els.length > 0 && els.every(on) && !Array.from(document.querySelectorAll(others)).some(on); }",
            arg=[f"#record-result .qa-s{i}", f"#record-result .qa-s{j}:not(.qa-s{i})", HIGHLIGHT],
            timeout=5_000,
        )
    assert page.locator(f"#record-result .qa-s{index['procedures']}").count() == 2  # "诊断：" and the shared part
    shot(page, "10-record-extraction")
