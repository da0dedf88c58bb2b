"""The citation sentence ranker (qa.kb.rank) and its evaluation (qa.eval.sentence_rank): lexical scores, the e5
mix through a controllable fake embedder, and the gold sentences of the packaged CMRC 2018 and kb_eval sets."""

from __future__ import annotations

import numpy as np
import pytest

from qa.eval.sentence_rank import (
    Item,
    accuracy,
    cmrc_items,
    fused_scorer,
    kb_items,
    lexical_scorer,
    mixed_scorer,
    score_items,
)
from qa.kb.base import Hit, chunk_pages
from qa.kb.cite import sentences
from qa.kb.learned import LearnedRanker
from qa.kb.rank import SentenceRanker, best_first, mix, relevance, scaled
from qa.triage import FakeEmbedder


class TableEmbedder:
    """Vectors set by the test: each text's unit vector at an angle, so the cosine with the question is known."""

    name, dim = "table", 2

    def __init__(self, angles: dict[str, float]) -> None:
        self.angles = angles  # text → angle from the question's direction (radians)
        self.calls: list[tuple[str, int]] = []

    def embed(self, texts: list[str], kind: str = "query") -> np.ndarray:
        self.calls.append((kind, len(texts)))
        if kind == "query":
            return np.array([[1.0, 0.0]] * len(texts), dtype=np.float32)
        return np.array([[np.cos(self.angles[t]), np.sin(self.angles[t])] for t in texts], dtype=np.float32)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1.0, 3.0, 2.0], [0.0, 1.0, 0.5]),
        ([2.0, 2.0], [0.0, 0.0]),  # all equal: nothing to tell apart
        ([], []),
        ([-1.0, 1.0], [0.0, 1.0]),
    ],
)
def test_scaled_maps_the_candidates_own_range_onto_zero_to_one(values, expected):
    assert scaled(values).tolist() == pytest.approx(expected)


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([0.1, 0.9, 0.5], [1, 2, 0]),
        ([0.5, 0.5, 0.9], [2, 0, 1]),  # ties: the earlier sentence first
        ([], []),
    ],
)
def test_best_first(scores, expected):
    assert best_first(scores) == expected


@pytest.mark.parametrize(
    ("question", "texts", "best"),
    [
        ("高血压患者每天吃多少盐？", ["规律运动有助于降低血压。", "高血压患者每日食盐摄入量应低于5克。"], 1),
        ("什么是久期？", ["久期衡量债券价格对利率变化的敏感程度。", "国债由国家信用担保。"], 0),
        ("How long is the warranty?", ["The warranty lasts two years.", "Shipping is free."], 0),
    ],
)
def test_the_lexical_score_prefers_the_sentence_sharing_the_questions_rarer_terms(question, texts, best):
    scores = relevance(question, texts)
    assert best_first(scores)[0] == best and SentenceRanker().order(question, texts)[0] == best


QUESTION = "这种病多久能好？"
# lexically the first wins (it repeats the question's words); by meaning the second answers
TEXTS = ["这种病多久能好是很多人关心的问题。", "一般一到两周可以痊愈。", "医院地址在市中心。"]
ANGLES = {TEXTS[0]: 0.9, TEXTS[1]: 0.1, TEXTS[2]: 1.4}


@pytest.mark.parametrize(
    ("weight", "best"),
    [
        (0.0, 0),  # lexical alone: the question's own words
        (1.0, 1),  # dense alone: the nearest vector
        (0.7, 1),
    ],
)
def test_the_dense_weight_moves_the_ranking_from_shared_words_to_meaning(weight, best):
    embedder = TableEmbedder(ANGLES)
    ranker = SentenceRanker(embedder, dense_weight=weight)
    assert ranker.order(QUESTION, TEXTS)[0] == best
    assert (embedder.calls == []) == (weight == 0)  # no weight, no embedding work


def test_without_an_embedder_the_ranker_is_the_lexical_ranking():
    ranker = SentenceRanker(None, dense_weight=0.9)
    assert ranker.order(QUESTION, TEXTS) == best_first(relevance(QUESTION, TEXTS))
    assert ranker.scores(QUESTION, []) == []


def test_the_evaluations_mixed_scorer_is_the_rankers_own_score():
    embedder = TableEmbedder(ANGLES)
    item = Item("q", QUESTION, TEXTS, [False, True, False])
    score_items([item], embedder)
    for weight in (0.0, 0.3, 0.5, 1.0):
        ranker = SentenceRanker(embedder, dense_weight=weight)
        assert list(mixed_scorer(weight)(item)) == pytest.approx(ranker.scores(QUESTION, TEXTS))
    assert mix(item.lexical, item.dense, 0.0).tolist() == pytest.approx(scaled(item.lexical).tolist())


def test_rank_fusion_without_dense_vectors_keeps_the_lexical_order():
    item = Item("q", QUESTION, TEXTS, [False, True, False])
    score_items([item])
    assert best_first(fused_scorer(item)) == best_first(item.lexical)
    score_items([item], TableEmbedder(ANGLES))
    assert best_first(fused_scorer(item))[0] in (0, 1)  # lexical first is 0, dense first is 1: fused is one of them


@pytest.mark.parametrize(("weight", "offered"), [(0.0, TEXTS[0]), (1.0, TEXTS[1])])
def test_sentences_offer_what_the_ranker_puts_first(weight, offered):
    page = "病程说明\n\n" + "".join(TEXTS) + "另外请注意休息和饮食清淡。"
    hits = [Hit(c, 1.0) for c in chunk_pages("c", "a.txt", [page])]
    ranker = SentenceRanker(TableEmbedder({**ANGLES, "另外请注意休息和饮食清淡。": 1.2}), weight)
    shown = sentences(hits, QUESTION, offer=1, ranker=ranker)
    assert [s.text for s in shown if s.text in TEXTS] == TEXTS  # every sentence is still shown …
    assert [s.text for s in shown if s.id is not None] == [offered]  # … and the one offered is the ranker's first


@pytest.mark.parametrize(
    ("scores", "gold", "top1", "top3"),
    [
        ([0.9, 0.1, 0.2, 0.3], [True, False, False, False], 1, 1),
        ([0.1, 0.9, 0.2, 0.3], [True, False, False, False], 0, 0),  # gold ranked 4th of 4: outside the three
        ([0.2, 0.9, 0.1, 0.3], [True, False, False, False], 0, 1),
        ([0.5, 0.5], [False, True], 0, 1),  # a tie goes to the earlier sentence
    ],
)
def test_accuracy_counts_top1_and_top3(scores, gold, top1, top3):
    item = Item("q", "q", [str(i) for i in range(len(scores))], gold)
    acc = accuracy([item], lambda _: scores)
    assert (acc.top1, acc.top3, acc.n, acc.candidates) == (top1, top3, 1, len(scores))


@pytest.mark.parametrize("split", ["trial", "dev"])
def test_cmrc_gold_sentences_hold_the_answer_text(split):
    items, left = cmrc_items(split, stride=50)
    assert len(items) > 15 and left["no_answer"] == 0
    for item in items:
        assert sum(item.gold) >= 1 and len(item.texts) == len(item.gold)
    # the gold sentence starts the answer: for most questions it holds the whole answer text
    score_items(items)
    assert 0.5 < accuracy(items, lexical_scorer).top1 / len(items) <= 1.0


def test_kb_eval_items_mark_the_sentence_holding_the_phrase():
    items, left = kb_items("tuning", FakeEmbedder(), min_similarity=0.0)
    assert items and left["nothing_retrieved"] == 0
    salt = next(i for i in items if i.question == "高血压患者每天吃多少盐合适？")
    assert [t for t, g in zip(salt.texts, salt.gold, strict=True) if g] == [
        "高血压患者每日食盐摄入量应低于5克,同时应少吃腌制食品和加工肉类。"  # the page is normalised (qa.documents)
    ]


# ---- how the answer's citation is chosen (the service, fake backend) ----------------------------------------------
GUIDE = (
    "高血压患者的日常管理\n\n成年人血压持续高于或等于140/90毫米汞柱，可诊断为高血压。\n\n"
    "限制食盐是最重要的生活方式干预之一。高血压患者每日食盐摄入量应低于5克，同时应少吃腌制食品。\n\n"
    "规律运动有助于降低血压。"
)


def _service(tmp_path, respond, offer: int, weight: float = 0.5, ranker: str = "mixed"):
    from qa.backends.fake import FakeBackend
    from qa.kb import KnowledgeBase, MemoryStore
    from qa.settings import Settings
    from qa.wiring import build_service

    settings = Settings(backend="fake", cache_dir=tmp_path / "cache", triage_embedder="off")
    kb = KnowledgeBase(
        MemoryStore(),
        FakeEmbedder(),
        min_similarity=0.0,
        cite_offer=offer,
        cite_dense_weight=weight,
        cite_ranker=ranker,
    )
    backend = FakeBackend(respond)
    service = build_service(settings, backend, kb=kb)
    service.warm_up()
    service.kb_add("资料", "guide.txt", GUIDE.encode())
    return service, backend


def _choices(request) -> list[str] | None:
    cited = request.schema["properties"].get("citations")
    return None if cited is None else cited["items"]["properties"]["quote"]["enum"]


@pytest.mark.parametrize("kind", ["mixed", "learned"])
@pytest.mark.parametrize("offer", [1, 2, 3])
def test_the_schema_offers_the_rankers_first_n_sentences_and_at_most_n_citations(tmp_path, offer, kind):
    from .helpers import MEDICAL_OK, dumps

    def respond(request):
        choices = _choices(request)
        return dumps(MEDICAL_OK if choices is None else {**MEDICAL_OK, "citations": [{"quote": choices[0]}]})

    service, backend = _service(tmp_path, respond, offer, ranker=kind)
    question = "高血压患者每天吃多少盐？"
    answer = service.answer("medical", question, service.params("medical", 0.0), collection="资料")
    cited = backend.requests[-1].schema["properties"]["citations"]
    choices = cited["items"]["properties"]["quote"]["enum"]
    assert len(choices) == offer and cited["maxItems"] == offer
    # the ranker's first n of the same retrieval (the fake embedder's vectors: mixed in at the same weight, or the
    # learned ranker's dense features)
    ranker = SentenceRanker(FakeEmbedder(), 0.5) if kind == "mixed" else LearnedRanker(FakeEmbedder())
    page = service.kb_page("资料", "guide.txt", 1)  # as stored: normalised (qa.documents)
    hits = [Hit(c, 1.0) for c in chunk_pages("资料", "guide.txt", [page])]
    ranked = [s.text for s in sentences(hits, question, offer, None, ranker) if s.id is not None]
    assert sorted(choices) == sorted(ranked)
    assert answer.ok and len(answer.citations) == 1 and answer.citations[0]["verified"] is True


def test_a_sentence_cited_twice_is_shown_once(tmp_path):
    from .helpers import MEDICAL_OK, dumps

    def respond(request):
        choices = _choices(request)
        if choices is None:
            return dumps(MEDICAL_OK)
        return dumps({**MEDICAL_OK, "citations": [{"quote": choices[0]}, {"quote": choices[1]}, {"quote": choices[0]}]})

    service, _ = _service(tmp_path, respond, offer=3)
    answer = service.answer("medical", "高血压患者每天吃多少盐？", service.params("medical", 0.0), collection="资料")
    assert [c["quote"] for c in answer.citations] == [c["quote"] for c in answer.data["citations"]]
    assert len(answer.citations) == 2 and len({c["quote"] for c in answer.citations}) == 2
    assert all(c["verified"] for c in answer.citations)
    assert any("repeating a sentence" in r for r in answer.report.repairs)


def test_kb_eval_heldout2_is_the_seeded_cmrc_sample_it_says(tmp_path):
    """The larger held-out split: each in-scope phrase occurs once in its own document and is a CMRC answer to that
    question; each out-of-scope question is about a passage that is not a document; rebuilding gives the file."""
    import json
    import subprocess
    import sys
    from importlib import resources
    from pathlib import Path

    text = resources.files("qa.data").joinpath("kb_eval/heldout2.jsonl").read_text("utf-8")
    rows = [json.loads(line) for line in text.splitlines()]
    docs = {r["doc"]: r["text"] for r in rows if "doc" in r}
    questions = [r for r in rows if "question" in r]
    cmrc = {
        r["id"]: r
        for r in map(
            json.loads, resources.files("qa.data").joinpath("sentences_cmrc2018_dev.jsonl").open("r", encoding="utf-8")
        )
    }
    inside = [q for q in questions if q["file"]]
    assert (len(docs), len(inside), len(questions) - len(inside)) == (11, 44, 8)
    for q in questions:
        source = cmrc[q["source"]]
        assert source["text"] == q["question"]
        if q["file"]:
            assert docs[q["file"]].count(q["phrase"]) == 1 and q["phrase"] == source["answers"][0]["text"]
            assert q["file"] == f"cmrc_{source['passage']}.txt"
        else:
            assert f"cmrc_{source['passage']}.txt" not in docs
    root = Path(__file__).resolve().parent.parent
    rebuilt = tmp_path / "heldout2.jsonl"
    subprocess.run([sys.executable, str(root / "scripts/build_kb_heldout2.py"), str(rebuilt)], check=True,
                   capture_output=True)  # fmt: skip
    assert rebuilt.read_text("utf-8") == text
