"""The real embedded model answering from a knowledge base (a CJK PDF): the grammar lets it cite only the chunks
it was given (by choosing one of their sentences), it must cite at least one, and every citation comes back with
a verdict whose offsets are honest."""

import pytest

from qa.kb import KnowledgeBase, MemoryStore
from qa.settings import Settings
from qa.triage import FakeEmbedder
from qa.wiring import build_service

from .kb_files import MEDICAL_PAGES, cjk_pdf

pytestmark = pytest.mark.model

QUESTION = "高血压患者每天吃多少盐合适？"


def test_constrained_citations_use_only_the_retrieved_chunk_ids(real_backend, tmp_path):
    """Whatever the 0.5B model writes, its citations are sentences of the retrieved chunks only (the schema's
    enum of the offered sentences, enforced by the grammar), and a citation marked verified points at its quote in
    the stored page."""
    kb = KnowledgeBase(MemoryStore(), FakeEmbedder(), chunk_chars=80, min_similarity=0.0, top_k=3)
    extra = ["糖尿病患者应每年至少做一次眼底检查。", "流感疫苗建议每年接种一次。"]  # passages that do not answer
    kb.add("资料", "guide.pdf", cjk_pdf([*MEDICAL_PAGES, "\n".join(extra)]))
    settings = Settings(answer_cache=False, triage_embedder="off", cache_dir=tmp_path)
    service = build_service(settings, real_backend, kb=kb)
    service.warm_up()
    given = {h.chunk.id for h in kb.relevant("资料", QUESTION, kb.top_k)}
    every = {c.id for c in kb.store.chunks("资料")}
    assert given and given < every  # some chunks were not given: citing them is what the grammar must prevent
    answer = service.answer("medical", QUESTION, service.params("medical", 0.0, 1.0, 384), collection="资料")
    assert answer.ok, answer.report.to_dict()
    assert answer.citations, "the schema asks for at least one citation when passages were found"
    assert {c["chunk"] for c in answer.citations} <= given
    assert [c["quote"] for c in answer.citations] == [c["quote"] for c in answer.data["citations"]]
    for c in answer.citations:
        assert isinstance(c["verified"], bool) and c["file"] == "guide.pdf"
        if c["verified"] and c["match"] == "exact":
            assert kb.page("资料", "guide.pdf", c["page"])[c["start"] : c["end"]] == c["quote"].strip()
