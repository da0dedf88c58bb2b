"""The 资料库 panel and cited answers on the page: upload, list (with chunk counts) and delete per tab, answers whose
numbered citations show file, page and the quoted passage highlighted — all of it escaped, unverified ones marked."""

from __future__ import annotations

import pytest

from qa.backends.fake import FakeBackend
from qa.feedback import FeedbackLog
from qa.kb import KnowledgeBase, MemoryStore
from qa.render import render_citations
from qa.settings import Settings
from qa.triage import FakeEmbedder
from qa.ui import ChatHandlers, KbHandlers, StopSwitch, build_demo
from qa.wiring import build_service

from .helpers import FINANCE_OK, dumps
from .kb_files import FINANCE_TEXT, cite, docx_bytes

HOSTILE = '<img src=x onerror="alert(1)">![t](http://evil/x.png)'


def test_citations_render_escaped_with_the_verified_quote_highlighted():
    passage = f"前文{HOSTILE}。市盈率等于股价除以每股收益。后文"
    quote = "市盈率等于股价除以每股收益"
    at = passage.index(quote)
    html = render_citations(
        [
            {"chunk": "ab-1", "quote": quote, "file": f"{HOSTILE}.pdf", "page": 3, "start": 100 + at,
             "end": 100 + at + len(quote), "verified": True, "passage": passage, "passage_start": 100},
            {"chunk": "ab-2", "quote": HOSTILE, "file": "b.txt", "page": 1, "start": None, "end": None,
             "verified": False, "passage": "别的片段", "passage_start": 0},
        ]
    )  # fmt: skip
    assert f"<mark>{quote}</mark>" in html and html.count("<mark>") == 1  # only the verified one is highlighted
    assert "<img" not in html and "![" not in html and "&lt;img" in html
    assert "[1]" in html and "第 3 页" in html and "✓ 已核实" in html and "⚠ 未核实" in html
    assert "没有引用" in render_citations([])


@pytest.fixture
def kb_service(tmp_path):
    settings = Settings(backend="fake", cache_dir=tmp_path / "cache", triage_embedder="off")
    # three sentences offered: the page test is about rendering a citation, not about which one the ranker puts first
    kb = KnowledgeBase(MemoryStore(), FakeEmbedder(), chunk_chars=80, min_similarity=0.0, cite_offer=3)

    def respond(request):
        cited = request.schema["properties"].get("citations")
        if cited is None:
            return dumps(FINANCE_OK)
        return dumps({**FINANCE_OK, "citations": [cite(request, "市盈率等于")]})

    service = build_service(settings, FakeBackend(respond), kb=kb)
    service.warm_up()
    return service


def test_panel_uploads_lists_with_chunk_counts_and_deletes(kb_service, tmp_path):
    good = tmp_path / "估值.docx"
    good.write_bytes(docx_bytes(FINANCE_TEXT.split("\n\n")))
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf")
    panel = KbHandlers(kb_service, "finance")
    table, choose, cleared, use_kb = panel.upload([str(good), str(bad)])
    assert "估值.docx" in table and "bad.pdf" not in table and cleared is None and use_kb["value"] is True
    chunks = kb_service.kb_files("finance")[0]["chunks"]
    assert f"<td>{chunks}</td>" in table and choose["choices"] == ["估值.docx"]
    assert KbHandlers(kb_service, "medical").table().count("<tr>") == 0  # each tab has its own documents

    chat = ChatHandlers(kb_service, StopSwitch(), FeedbackLog(tmp_path / "fb.jsonl"), "finance")
    frames = list(chat.ask("市盈率怎么算？", [], chat.default_prompt, 0.0, 0.9, 512, use_kb=True))
    html = "".join(m["content"] for m in frames[-1][0] if m["role"] == "assistant")
    assert "引用 Citations" in html and "<mark>市盈率等于股价除以每股收益。</mark>" in html and "估值.docx" in html
    assert "✓ 已核实" in html
    plain = list(chat.ask("市盈率怎么算？", [], chat.default_prompt, 0.0, 0.9, 512, use_kb=False))
    assert "引用 Citations" not in "".join(m["content"] for m in plain[-1][0] if m["role"] == "assistant")

    table, choose = panel.delete("估值.docx")
    assert "估值.docx" not in table and choose["choices"] == [] and kb_service.kb_files("finance") == []


def test_page_builds_with_and_without_a_knowledge_base(kb_service, tmp_path):
    assert build_demo(kb_service, FeedbackLog(tmp_path / "fb.jsonl")) is not None
    off = build_service(Settings(backend="fake", kb_url="off", triage_embedder="off"), FakeBackend())
    assert build_demo(off, FeedbackLog(tmp_path / "fb2.jsonl")) is not None
