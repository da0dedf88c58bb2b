"""A quote of two sentences (qa.kb.cite.pair_with): the ranker's first and its neighbour when the ranker barely
tells them apart; the DRCD reader behind the tenth session's training data and held-out split."""

from __future__ import annotations

import json

import pytest

from qa.eval.sentence_rank import drcd_rows, passage_items
from qa.kb import KnowledgeBase, MemoryStore
from qa.kb.base import Hit, chunk_pages
from qa.kb.cite import PAIR_MAX_CHARS, CitationCheck, sentences

A = "本病的潜伏期一般为三到五天。"
B = "症状出现后一到两周可以痊愈。"
C = "医院地址在市中心。"
D = "另外请注意休息和饮食清淡。"


class FixedRanker:
    """Scores set by the test, by sentence text."""

    def __init__(self, table: dict[str, float]) -> None:
        self.table = table

    def scores(self, question, texts, where=None):
        return [self.table.get(t, 0.0) for t in texts]

    def order(self, question, texts, where=None):
        scores = self.scores(question, texts, where)
        return sorted(range(len(texts)), key=lambda i: (-scores[i], i))


def _offered(page: str, table: dict[str, float], margin: float) -> list[str]:
    hits = [Hit(c, 1.0) for c in chunk_pages("c", "a.txt", [page])]
    shown = sentences(hits, "多久能好？", offer=1, ranker=FixedRanker(table), pair_margin=margin)
    return [s.text for s in shown if s.id is not None]


PAGE = "病程\n\n" + A + B + C + "\n" + D


@pytest.mark.parametrize(
    ("table", "margin", "offered"),
    [
        ({A: 2.0, B: 1.8}, 0.5, [A + B]),  # neighbours, the runner-up close: one quote over both
        ({A: 1.8, B: 2.0}, 0.5, [A + B]),  # the runner-up before the first: the same span, in page order
        ({A: 2.0, B: 1.0}, 0.5, [A]),  # the ranker is sure: one sentence
        ({A: 2.0, B: 1.8}, 0.0, [A]),  # margin 0: always one sentence
        ({A: 2.0, C: 1.9}, 0.5, [A]),  # the runner-up is not the first's neighbour
        ({C: 2.0, D: 1.9}, 0.5, [C]),  # neighbours across a line break: another paragraph
        ({B: 2.0, C: 1.9, A: 1.95}, 0.5, [A + B]),  # the runner-up, not the third, is the pair
    ],
)
def test_the_first_sentence_is_quoted_with_its_close_neighbour(table, margin, offered):
    assert _offered(PAGE, table, margin) == offered


def test_a_pair_longer_than_the_bound_stays_one_sentence():
    long_a = "这是很长的说明" * ((PAIR_MAX_CHARS - 10) // 7) + "。"
    page = long_a + B + C
    assert len(long_a) + len(B) > PAIR_MAX_CHARS
    assert _offered(page, {long_a: 2.0, B: 1.9}, 0.5) == [long_a]


def test_a_pair_quote_is_verified_in_its_chunk_at_its_page_offsets():
    hits = [Hit(c, 1.0) for c in chunk_pages("c", "a.txt", [PAGE])]
    shown = sentences(hits, "多久能好？", offer=1, ranker=FixedRanker({A: 2.0, B: 1.9}), pair_margin=0.5)
    check = CitationCheck(hits, "c", shown)
    (row,) = check.verify([{"quote": A + B}])
    assert row["verified"] and row["match"] == "exact"
    assert PAGE[row["start"] : row["end"]] == A + B == row["quote"]
    assert [s.text for s in shown].count(A + B) == 1 and B not in [s.text for s in shown]  # shown once, folded


@pytest.mark.parametrize(("ranker", "margin"), [("learned", 0.7), ("mixed", 0.0)])
def test_the_pair_margin_applies_to_the_learned_rankers_log_odds_only(ranker, margin):
    kb = KnowledgeBase(MemoryStore(), None, cite_ranker=ranker, cite_pair_margin=0.7)
    assert kb.cite_pair_margin == margin


def test_drcd_rows_convert_to_simplified_and_find_each_answer_again(tmp_path):
    drcd = {
        "data": [
            {
                "title": "臺灣",
                "paragraphs": [
                    {
                        "id": "1-1",
                        "context": "臺灣位於東亞。首府為臺北。",
                        "qas": [
                            {
                                "id": "1-1-1",
                                "question": "臺灣的首府為何？",
                                "answers": [{"text": "臺北", "answer_start": 10}],
                            },
                            {"id": "1-1-2", "question": "沒有答案？", "answers": [{"text": "香港", "answer_start": 0}]},
                        ],
                    }
                ],
            }
        ]
    }
    path = tmp_path / "drcd.json"
    path.write_text(json.dumps(drcd, ensure_ascii=False), encoding="utf-8")
    passages, questions = drcd_rows(str(path))
    assert passages == {"1-1": "台湾位于东亚。首府为台北。"}
    assert questions[0] == {"id": "1-1-1", "passage": "1-1", "text": "台湾的首府为何？",
                            "answers": [{"text": "台北", "start": 10}]}  # fmt: skip
    assert questions[1]["answers"] == []  # not in the passage: dropped
    items, left = passage_items(passages, questions)
    assert left == {"no_answer": 1, "answer_not_offered": 0}
    assert [t for t, g in zip(items[0].texts, items[0].gold, strict=True) if g] == ["首府为台北。"]


@pytest.mark.parametrize("split", ["heldout3", "heldout4"])
def test_kb_eval_drcd_heldout_has_the_shape_its_builder_states(split: str):
    """40 documents, 4 in-scope questions each whose phrase occurs once in its document, 20 out-of-scope."""
    from importlib import resources

    text = resources.files("qa.data").joinpath(f"kb_eval/{split}.jsonl").read_text("utf-8")
    rows = [json.loads(line) for line in text.splitlines()]
    docs = {r["doc"]: r["text"] for r in rows if "doc" in r}
    questions = [r for r in rows if "question" in r]
    inside = [q for q in questions if q["file"]]
    assert (len(docs), len(inside), len(questions) - len(inside)) == (40, 160, 20)
    assert all(docs[q["file"]].count(q["phrase"]) == 1 for q in inside)
    assert len({q["source"] for q in questions}) == len(questions)
    # out-of-scope questions are about paragraphs that are not documents
    assert all(f"drcd_{q['source'].rsplit('-', 1)[0]}.txt" not in docs for q in questions if not q["file"])


def test_kb_eval_heldout4_shares_no_article_or_question_with_heldout3():
    """heldout4 was drawn with heldout3 excluded: no article title and no DRCD question id in common."""
    from importlib import resources

    def titles_and_ids(split: str) -> tuple[set[str], set[str]]:
        text = resources.files("qa.data").joinpath(f"kb_eval/{split}.jsonl").read_text("utf-8")
        rows = [json.loads(line) for line in text.splitlines()]
        return {r["text"].split("\n", 1)[0] for r in rows if "doc" in r}, {r["source"] for r in rows if "source" in r}

    (t3, i3), (t4, i4) = titles_and_ids("heldout3"), titles_and_ids("heldout4")
    assert len(t4) == 40 and not t3 & t4 and not i3 & i4
