"""The learned citation ranker (qa.kb.learned, qa.kb.features): its packaged weights load and are validated, it
orders hand-made cases as a reader would, and the setting chooses between it and the mixed ranker."""

from __future__ import annotations

import json
from importlib import resources

import numpy as np
import pytest

from qa.errors import ConfigurationError
from qa.eval.sentence_rank import fit_listwise
from qa.kb import KnowledgeBase, MemoryStore
from qa.kb import learned as learned_module
from qa.kb.features import DENSE_NAMES, NAMES, features
from qa.kb.learned import FORMAT, WEIGHTS_FILE, LearnedRanker, packaged_weights, parse_weights
from qa.kb.rank import SentenceRanker
from qa.triage import FakeEmbedder


def _packaged() -> dict:
    return json.loads(resources.files("qa.data").joinpath(WEIGHTS_FILE).read_text("utf-8"))


def test_the_packaged_weights_load_with_both_weight_sets():
    weights = packaged_weights()
    assert weights["dense"].names == NAMES + DENSE_NAMES and weights["lexical"].names == NAMES
    assert all(np.isfinite(w.coef).all() and (w.scale > 0).all() for w in weights.values())
    # the weights were measured better than the mixed ranker out of fold on the data they were fitted on
    data = _packaged()
    assert data["dense"]["cv_top1"][0] > data["mixed_cv_top1"][0]


@pytest.mark.parametrize(
    ("question", "texts", "best"),
    [
        # how many: the sentence with the number, not the one naming the subject
        (
            "乍都节公园的面积有多大？",
            ["乍都节公园是泰国曼谷的一座公园，位于乍都节县。", "它的面积约为0.304平方公里。", "公园内种有许多树木。"],
            1,
        ),
        (
            "江苏路街道下辖多少个居委会？",
            ["江苏路街道是上海市长宁区下辖的一个街道办事处。", "面积1.52平方公里，户籍人口5.26万人，下辖13个居委会。"],
            1,
        ),
        # when: the sentence with the year
        (
            "这座车站是哪一年启用的？",
            ["这座车站位于城市北部，是铁路线上的一个车站。", "车站于1998年正式启用。", "车站设有两个月台。"],
            1,
        ),
        # the question's own date picks its sentence among others with dates
        (
            "1996年2月至4月，他担任什么职务？",
            ["他是一名将领，1963年12月参加工作。", "1996年2月至4月任副司令员兼参谋长。", "2002年任司令员。"],
            1,
        ),
    ],
)
@pytest.mark.parametrize("embedder", [None, FakeEmbedder()])
def test_the_learned_ranker_puts_the_answering_sentence_first(question, texts, best, embedder):
    assert LearnedRanker(embedder).order(question, texts)[0] == best


def test_the_mixed_ranker_misses_what_the_learned_one_finds():
    """The case the fourth session's table names: shared rare terms rank the sentence naming the park first."""
    question = "乍都节公园的面积有多大？"
    texts = ["乍都节公园是泰国曼谷的一座公园，位于乍都节县。", "它的面积约为0.304平方公里。"]
    assert SentenceRanker(None).order(question, texts)[0] == 0
    assert LearnedRanker(None).order(question, texts)[0] == 1


def test_features_read_neighbours_and_first_sentences_within_a_document():
    texts = ["甲公司成立于1990年。", "它的总部位于北京。", "乙公司成立于2001年。", "它的总部位于上海。"]
    first, prev = NAMES.index("first"), NAMES.index("prev_lex")
    one = features("乙公司的总部在哪里？", texts)
    two = features("乙公司的总部在哪里？", texts, where=[("a", 0), ("a", 9), ("b", 0), ("b", 9)])
    assert one.shape == (4, len(NAMES)) and one[:, first].tolist() == [1, 0, 0, 0]
    assert two[:, first].tolist() == [1, 0, 1, 0]  # each document's first sentence
    assert two[2, prev] == 0.0 and one[2, prev] > 0.0  # no neighbour across two documents
    assert features("q", texts, dense=[0.1, 0.2, 0.3, 0.4]).shape == (4, len(NAMES) + len(DENSE_NAMES))
    assert features("q", []).shape == (0, len(NAMES))


@pytest.mark.parametrize(
    ("texts", "where", "expected"),
    [
        # the first sentence has nothing before it: it adds all it holds of the question
        (["乙公司的总部位于上海。", "公司很大。"], None, ["all", "none"]),
        # the second repeats only what the first already said of the question
        (["乙公司的总部位于上海。", "乙公司的总部很大。"], None, ["all", "none"]),
        # the second holds the question's 总部 that the first lacks, and its 乙公司 the first already had
        (["乙公司成立于2001年。", "乙公司的总部位于上海。"], None, ["all", "part"]),
        # the sentence before it in another document is not its neighbour
        (["乙公司的总部位于上海。", "乙公司的总部很大。"], [("a", 0), ("b", 0)], ["all", "all"]),
    ],
)
def test_what_a_sentence_adds_to_the_one_before_it(texts, where, expected):
    rows = features("乙公司的总部在哪里？", texts, where=where)
    adds, held = rows[:, NAMES.index("adds_to_prev")], rows[:, NAMES.index("rare_uni_cov")]
    got = ["none" if a == 0 else "all" if a == pytest.approx(h) else "part" for a, h in zip(adds, held, strict=True)]
    assert got == expected and (adds <= held + 1e-12).all()


def _broken(change) -> str:
    data = _packaged()
    change(data)
    return json.dumps(data)


def _rename(data):
    data["dense"]["features"][0] = "not_a_feature"


def _shorten(data):
    data["lexical"]["coef"] = data["lexical"]["coef"][:-1]


def _nan(data):
    data["dense"]["coef"][3] = float("nan")


def _zero_scale(data):
    data["lexical"]["scale"][0] = 0


def _no_lexical(data):
    del data["lexical"]


def _old_format(data):
    data["format"] = "qa.kb.sentence_ranker/0"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("{not json", "not JSON"),
        (_broken(_old_format), FORMAT),
        (_broken(_rename), "retrain"),
        (_broken(_shorten), "must list"),
        (_broken(_nan), "finite"),
        (_broken(_zero_scale), "positive"),
        (_broken(_no_lexical), "missing"),
    ],
)
def test_a_weights_file_that_does_not_match_the_code_is_refused(text, says):
    with pytest.raises(ConfigurationError, match=says):
        parse_weights(text)


def test_missing_weights_stop_a_learned_knowledge_base_at_construction_not_a_mixed_one(monkeypatch):
    monkeypatch.setattr(learned_module, "WEIGHTS_FILE", "no_such_weights.json")
    packaged_weights.cache_clear()
    try:
        with pytest.raises(ConfigurationError, match="QA_KB_CITE_RANKER=mixed"):
            KnowledgeBase(MemoryStore(), None, cite_ranker="learned")
        kb = KnowledgeBase(MemoryStore(), None, cite_ranker="mixed")
        assert isinstance(kb.sentence_ranker("c", []), SentenceRanker)
    finally:
        monkeypatch.undo()
        packaged_weights.cache_clear()


@pytest.mark.parametrize(
    ("value", "ranker"),
    [(None, LearnedRanker), ("learned", LearnedRanker), ("mixed", SentenceRanker)],
)
@pytest.mark.parametrize("embedder", ["off", "fake"])
def test_the_setting_chooses_the_ranker(tmp_path, value, ranker, embedder):
    from qa.settings import Settings
    from qa.triage import create_embedder
    from qa.wiring import build_kb

    extra = {} if value is None else {"kb_cite_ranker": value}
    settings = Settings(kb_url="memory://", cache_dir=tmp_path, **extra)
    kb = build_kb(settings, None if embedder == "off" else create_embedder(embedder))
    chosen = kb.sentence_ranker("c", [])
    assert type(chosen) is ranker and (chosen.embedder is None) == (embedder == "off")


def test_an_unknown_ranker_is_refused():
    from pydantic import ValidationError

    from qa.settings import Settings

    with pytest.raises(ValidationError):
        Settings(kb_cite_ranker="neural")
    with pytest.raises(ConfigurationError, match="unknown citation ranker"):
        KnowledgeBase(MemoryStore(), None, cite_ranker="neural")


def test_the_listwise_fit_weights_the_feature_that_marks_the_gold_sentence():
    rng = np.random.default_rng(0)
    rows, golds = [], []
    for _ in range(60):
        x = rng.normal(size=(6, 3))
        gold = np.zeros(6, dtype=bool)
        gold[int(np.argmax(x[:, 1]))] = True  # feature 1 decides; 0 and 2 are noise
        rows.append(x)
        golds.append(gold)
    weights = fit_listwise(rows, golds, strength=1.0)
    coef = np.abs(weights["coef"])
    assert coef[1] > 3 * max(coef[0], coef[2]) and weights["coef"][1] > 0
