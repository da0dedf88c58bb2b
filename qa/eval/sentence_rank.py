"""The citation sentence ranker alone (no LLM): for a question and its passage(s), is the sentence ranked first
the one holding the answer?

Two sources. CMRC 2018 (public, CC BY-SA 4.0; qa/data/sentences_cmrc2018_{trial,dev}.jsonl, built by
scripts/build_sentence_eval.py): the question's own passage, cut into the knowledge base's chunks, every citable
sentence a candidate; gold is the sentence holding an answer's start. The project's qa/data/kb_eval: the passages
the app retrieves for the question (top k, threshold), the sentences it would offer; gold is the sentence of the
page holding the answer phrase. Candidates are exactly those qa.kb.cite would offer (headings never).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np

from ..kb.base import Hit, KnowledgeBase, chunk_pages
from ..kb.cite import shown_rows, where
from ..kb.rank import best_first, mix, relevance
from ..kb.store import MemoryStore
from ..spans import split_sentences

CMRC_SPLITS = ("trial", "dev")  # tuning, held-out (the test split is never used)
KB_SPLITS = ("tuning", "heldout")
TOP_N = 3  # also reported: is the answer's sentence among the first three (what offering three would give a model)


@dataclass
class Item:
    """One question's candidate sentences (in the order shown) and which of them hold its answer."""

    id: str
    question: str
    texts: list[str]
    gold: list[bool]
    lexical: list[float] = field(default_factory=list)
    dense: np.ndarray | None = None
    where: list[tuple[str, int]] | None = None  # each text's document and offset (None: one document, in order)


def _lines(name: str) -> list[dict[str, Any]]:
    text = resources.files("qa.data").joinpath(name).read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def cmrc_items(split: str, stride: int = 1) -> tuple[list[Item], dict[str, int]]:
    """CMRC 2018 questions with their own passage's citable sentences; counts of questions left out (no
    answer in the passage, the answer only in a heading)."""
    rows = _lines(f"sentences_cmrc2018_{split}.jsonl")
    passages = {r["id"]: r["text"] for r in rows if r["kind"] == "passage"}
    if not passages:  # dev: the passages are the retrieval set's
        passages = {r["id"]: r["text"] for r in _lines(f"retrieval_cmrc2018_{split}.jsonl") if r["kind"] == "passage"}
    return passage_items(passages, [r for r in rows if r["kind"] == "question"][::stride])


def passage_items(passages: dict[str, str], questions: Sequence[dict[str, Any]]) -> tuple[list[Item], dict[str, int]]:
    """Questions ({"id", "passage", "text", "answers": [{"text", "start"}]}) with their own passage's citable
    sentences, the passage cut into the knowledge base's chunks; gold the sentence holding an answer's start."""
    items, left = [], {"no_answer": 0, "answer_not_offered": 0}
    for q in questions:
        if not q["answers"]:
            left["no_answer"] += 1
            continue
        hits = [Hit(c, 1.0) for c in chunk_pages("cmrc", f"{q['passage']}.txt", [passages[q["passage"]]])]
        shown, offered = shown_rows(hits)
        cands = [r for r, ok in zip(shown, offered, strict=True) if ok]
        starts = [a["start"] for a in q["answers"]]
        gold = [any(start <= s < end for s in starts) for _, start, end, _ in cands]
        if not any(gold):
            left["answer_not_offered"] += 1
            continue
        items.append(Item(q["id"], q["text"], [r[3] for r in cands], gold))
    return items, left


def drcd_rows(path: str) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """DRCD (https://github.com/DRCKnowledgeTeam/DRCD, CC BY-SA 3.0) as passages and questions, converted from
    traditional to simplified Chinese (OpenCC t2s); each answer's start is found again in the converted passage
    (the nearest occurrence of the converted answer to the original start), an answer not found there dropped."""
    import opencc

    t2s = opencc.OpenCC("t2s")
    data = json.loads(open(path, encoding="utf-8").read())["data"]  # noqa: SIM115
    passages: dict[str, str] = {}
    questions: list[dict[str, Any]] = []
    for article in data:
        for paragraph in article["paragraphs"]:
            context = passages[paragraph["id"]] = t2s.convert(paragraph["context"])
            for qa in paragraph["qas"]:
                answers = []
                for a in qa["answers"][:1]:
                    text = t2s.convert(a["text"])
                    found = [i for i in range(len(context)) if text and context.startswith(text, i)]
                    if found:
                        answers.append({"text": text, "start": min(found, key=lambda i: abs(i - a["answer_start"]))})
                questions.append(
                    {
                        "id": qa["id"],
                        "passage": paragraph["id"],
                        "text": t2s.convert(qa["question"]),
                        "answers": answers,
                    }
                )
    return passages, questions


def cmrc_app_items(
    split: str, embedder: Any, documents: int = 11, min_similarity: float = 0.87, top_k: int = 4
) -> tuple[list[Item], dict[str, int]]:
    """CMRC 2018 questions with the candidates the app would offer: the split's passages ingested `documents` to
    a collection (as kb_eval heldout2 holds 11), each question's candidates the citable sentences of the chunks
    retrieved for it (threshold, top k), gold the sentence of its own passage holding an answer's start."""
    rows = _lines(f"sentences_cmrc2018_{split}.jsonl")
    passages = {r["id"]: r["text"] for r in rows if r["kind"] == "passage"}
    if not passages:
        passages = {r["id"]: r["text"] for r in _lines(f"retrieval_cmrc2018_{split}.jsonl") if r["kind"] == "passage"}
    names = list(passages)
    questions = [r for r in rows if r["kind"] == "question" and r["answers"]]
    items, left = [], {"nothing_retrieved": 0, "answer_not_offered": 0}
    for first in range(0, len(names), documents):
        group = names[first : first + documents]
        kb = KnowledgeBase(MemoryStore(), embedder, min_similarity=min_similarity)
        for name in group:
            kb.add("eval", f"{name}.txt", passages[name].encode())
        for q in (q for q in questions if q["passage"] in group):
            hits = kb.relevant("eval", q["text"], top_k)
            if not hits:
                left["nothing_retrieved"] += 1
                continue
            shown, offered = shown_rows(hits)
            cands = [r for r, ok in zip(shown, offered, strict=True) if ok]
            starts = [a["start"] for a in q["answers"]]
            own = f"{q['passage']}.txt"
            gold = [c.file == own and any(start <= s < end for s in starts) for c, start, end, _ in cands]
            if not any(gold):
                left["answer_not_offered"] += 1
                continue
            items.append(Item(q["id"], q["text"], [r[3] for r in cands], gold, where=[where(r) for r in cands]))
    return items, left


def kb_items(
    split: str, embedder: Any, min_similarity: float = 0.87, top_k: int = 4, chunk_chars: int = 400
) -> tuple[list[Item], dict[str, int]]:
    """qa/data/kb_eval questions with the sentences the app would choose from (its retrieval, its threshold);
    counts of in-scope questions left out (nothing retrieved, the answer sentence not among the candidates)."""
    rows = _lines(f"kb_eval/{split}.jsonl")
    kb = KnowledgeBase(MemoryStore(), embedder, chunk_chars=chunk_chars, min_similarity=min_similarity)
    pages = {}
    for r in rows:
        if "doc" in r:
            kb.add("eval", r["doc"], r["text"].encode())
            pages[r["doc"]] = kb.page("eval", r["doc"], 1) or ""
    items, left = [], {"nothing_retrieved": 0, "answer_not_offered": 0}
    for q in (r for r in rows if r.get("file")):
        hits = kb.relevant("eval", q["question"], top_k)
        if not hits:
            left["nothing_retrieved"] += 1
            continue
        page = pages[q["file"]]
        at = page.index(q["phrase"])
        sentence = next(s for s in split_sentences(page) if s.start <= at < s.end)
        shown, offered = shown_rows(hits)
        cands = [r for r, ok in zip(shown, offered, strict=True) if ok]
        # supporting as scripts/kb_bench.py counts it: the right file, the span overlapping the answer's sentence
        gold = [c.file == q["file"] and start < sentence.end and end > sentence.start for c, start, end, _ in cands]
        if not any(gold):
            left["answer_not_offered"] += 1
            continue
        items.append(Item(q["question"], q["question"], [r[3] for r in cands], gold, where=[where(r) for r in cands]))
    return items, left


def score_items(items: Sequence[Item], embedder: Any = None) -> None:
    """Fill each item's lexical scores and, with an embedder, its e5 cosines (question vs each sentence)."""
    for item in items:
        item.lexical = relevance(item.question, item.texts)
        if embedder is not None:
            q = np.asarray(embedder.embed([item.question], "query")[0], dtype=np.float64)
            item.dense = np.asarray(embedder.embed(item.texts, "passage"), dtype=np.float64) @ q


@dataclass
class Accuracy:
    """Questions whose first-ranked sentence holds the answer, and whose answer is among the first TOP_N."""

    top1: int = 0
    top3: int = 0
    n: int = 0
    candidates: int = 0  # summed over questions, for the mean

    def cells(self) -> str:
        """`top1/n = x | top3/n = y | mean candidates` as Markdown cells."""
        if not self.n:
            return "0 | 0 | 0"
        mean = self.candidates / self.n
        return f"{self.top1}/{self.n} = {self.top1 / self.n:.3f} | {self.top3}/{self.n} = {self.top3 / self.n:.3f} | {mean:.1f}"


Scorer = Callable[[Item], Sequence[float]]


def lexical_scorer(item: Item) -> Sequence[float]:
    """The lexical ranking alone (the ranker before this session)."""
    return item.lexical


def mixed_scorer(weight: float) -> Scorer:
    """Scaled lexical and scaled dense mixed with this dense weight (qa.kb.rank.mix)."""

    def score(item: Item) -> Sequence[float]:
        return mix(item.lexical, item.dense, weight)

    return score


def fused_scorer(item: Item) -> Sequence[float]:
    """Reciprocal-rank fusion of the lexical and dense orders (k = 60, as retrieval fuses): a comparison, untuned."""
    score = np.zeros(len(item.texts))
    for values in (item.lexical, item.dense if item.dense is not None else item.lexical):
        for rank, i in enumerate(best_first(values), start=1):
            score[i] += 1.0 / (60 + rank)
    return score


def accuracy(items: Sequence[Item], scorer: Scorer, offered: int = TOP_N) -> Accuracy:
    """Top-1 accuracy and top-`offered` recall of one scoring over the items."""
    acc = Accuracy()
    for item in items:
        order = best_first(scorer(item))
        acc.n += 1
        acc.candidates += len(item.texts)
        acc.top1 += item.gold[order[0]]
        acc.top3 += any(item.gold[i] for i in order[:offered])
    return acc


def learned_scorer(weights: Any) -> Scorer:
    """The learned ranker's score with these weight sets (qa.kb.learned): the dense set where the item has e5
    cosines, the lexical set otherwise."""
    from ..kb.features import features

    def score(item: Item) -> Sequence[float]:
        kind = "lexical" if item.dense is None else "dense"
        return weights[kind].score(features(item.question, item.texts, item.dense, item.where))

    return score


def fit_listwise(rows: Sequence[np.ndarray], golds: Sequence[np.ndarray], strength: float) -> dict[str, list[float]]:
    """Weights of a linear score fitted listwise: for each question a softmax over its candidates, maximising the
    probability of its gold sentence(s), with an L2 penalty of `strength` on the standardised weights (L-BFGS,
    deterministic). Returns mean, scale and coef as lists (the weights file's fields)."""
    from scipy.optimize import minimize

    stacked = np.vstack(rows)
    mean, scale = stacked.mean(axis=0), stacked.std(axis=0)
    scale = np.where(scale > 1e-9, scale, 1.0)  # a feature constant over the data: weight it, harmlessly, by 1
    a = (stacked - mean) / scale
    gold = np.concatenate([np.asarray(g, dtype=np.float64) for g in golds])
    sizes = np.array([len(r) for r in rows])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        s = a @ w
        e = np.exp(s - np.repeat(np.maximum.reduceat(s, starts), sizes))
        total, held = np.add.reduceat(e, starts), np.add.reduceat(e * gold, starts)
        value = -float(np.sum(np.log(held) - np.log(total))) + strength / 2 * float(w @ w)
        grad = a.T @ (e / np.repeat(total, sizes) - e * gold / np.repeat(held, sizes)) + strength * w
        return value, grad

    result = minimize(loss, np.zeros(a.shape[1]), jac=True, method="L-BFGS-B")
    return {"mean": mean.tolist(), "scale": scale.tolist(), "coef": result.x.tolist()}
