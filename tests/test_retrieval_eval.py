"""The public retrieval set (CMRC 2018 development passages) through the knowledge base's own ingest and BM25:
questions find their own passage. The dense and fused figures need the real embedder and are in BENCHMARKS.md."""

from __future__ import annotations

from qa.eval.retrieval import load_set, run


def test_the_set_is_whole_and_every_question_has_its_passage():
    passages, questions = load_set()
    ids = {p["id"] for p in passages}
    assert len(passages) == 848 and len(questions) == 3219
    assert all(q["passage"] in ids for q in questions)


def test_bm25_finds_the_questions_own_passage():
    lines: list[str] = []
    results = run(None, limit=60, stride=50, out=lines.append)
    bm25 = results["bm25"]
    assert bm25.n == 60 and set(results) == {"bm25"}  # no embedder: BM25 only
    # measured on every 16th question: recall@5 0.995, recall@1 0.936 (the goal: R@5 >= 0.8)
    assert bm25.at5 / bm25.n >= 0.9
    assert bm25.at1 <= bm25.at5
    assert any(line.startswith("| bm25 |") for line in lines)
