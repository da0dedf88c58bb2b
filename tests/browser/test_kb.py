"""The 资料库 panel in headless Chromium against ./start.sh: a PDF uploaded on the page, a question answered from it,
and a numbered citation that opens the right passage (file, page) with the quoted words highlighted. The fake
backend cites the first sentence the grammar offers; retrieval, the citation check and the page are the real ones."""

from __future__ import annotations

import pytest

from ..kb_files import MEDICAL_PAGES, cjk_pdf
from ..serving import running_server
from .helpers import shot


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    cache = tmp_path_factory.mktemp("kb-cache")
    with running_server(
        "--backend", "fake", "--cache-dir", str(cache), "--max-upload-bytes", "5000000", timeout=300
    ) as url:
        yield url


def test_a_pdf_uploaded_on_the_page_is_cited_with_its_passage_highlighted(app, open_page, tmp_path):
    pdf = tmp_path / "高血压指南.pdf"
    pdf.write_bytes(cjk_pdf(MEDICAL_PAGES))
    page = open_page(app)
    page.click("#medical-kb")  # open the panel
    page.set_input_files("#medical-kb-upload input[type=file]", str(pdf))
    page.wait_for_function(
        "() => (document.querySelector('#medical-kb-files') || {}).innerText?.includes('高血压指南.pdf')",
        timeout=120_000,
    )
    assert page.is_checked("#medical-use-kb input")  # an upload turns on answering from the documents
    page.fill("#medical-question textarea", "高血压患者每天吃多少盐？")
    page.click("#medical-send")
    page.wait_for_selector("#medical-chat .qa-report", timeout=120_000)
    citations = page.locator("#medical-chat .qa-citations li")
    assert citations.count() >= 1
    first = citations.first
    summary = first.locator("summary").inner_text()
    assert "[1]" in summary and "高血压指南.pdf" in summary and "第 1 页" in summary and "已核实" in summary
    first.locator("summary").click()  # the citation opens its passage
    mark = first.locator(".qa-passage mark")
    mark.wait_for(state="visible")
    quoted = mark.inner_text()
    assert quoted and quoted in MEDICAL_PAGES[0]  # the quoted words, highlighted, from the right page
    assert quoted in first.locator(".qa-passage").inner_text()
    shot(page, "11-kb-cited-answer")
