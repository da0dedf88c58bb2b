"""The record-extraction tab in headless Chromium against ./start.sh with the fake backend: a pasted record comes
back with each field's span highlighted in the record, and the table's links land on the exact source words."""

from __future__ import annotations

import json

import pytest

from ..serving import running_server
from ..test_record import GOOD, RECORD, STORED
from .helpers import shot


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    script = tmp_path_factory.mktemp("record") / "answers.json"
    script.write_text(json.dumps([json.dumps(GOOD, ensure_ascii=False)], ensure_ascii=False), encoding="utf-8")
    with running_server("--backend", "fake", "--fake-responses-file", str(script)) as url:
        yield url


def test_pasted_record_shows_each_field_on_its_exact_source_words(app, open_page):
    page = open_page(app)
    page.get_by_role("tab", name="病历提取 Record").click()
    page.fill("#record-record textarea", RECORD)
    page.click("#record-extract")
    page.wait_for_selector("#record-result .qa-extract table", timeout=30_000)
    rows = page.locator("#record-result tbody tr")
    spans = {}
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td")
        name, where = cells.nth(1).inner_text(), cells.nth(5).inner_text()
        if "–" not in where:  # an ungrounded field: no span, marked unverified, still listed
            assert "qa-unverified" in (rows.nth(i).get_attribute("class") or "")
            spans[name] = None
            continue
        start, end = (int(x) for x in where.split("–"))
        spans[name] = STORED[start:end]
        # the highlighted text the row links to is the stored record's own words at those offsets
        assert page.inner_text(f"#record-result #rec-f{i}") == STORED[start:end]
    assert spans["diagnoses"] == "社区获得性肺炎" and spans["age"] == "65岁"
    assert spans["allergies"] is None  # the fake's 磺胺 is not in the record
    row = next(i for i in range(rows.count()) if rows.nth(i).locator("td").nth(1).inner_text() == "diagnoses")
    rows.nth(row).locator("td").nth(5).locator("a").click()
    assert page.evaluate("location.hash") == f"#rec-f{row}"
    target = page.locator(f"#record-result #rec-f{row}")
    assert target.evaluate("e => e.matches(':target')")  # the page's style highlights the targeted span
    shot(page, "10-record-extraction")
