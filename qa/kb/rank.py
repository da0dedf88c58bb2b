"""Which sentence of the retrieved passages answers the question: a lexical score (the rarity of the question's
terms a sentence holds) and, with an embedder, e5's cosine between `query: question` and `passage: sentence`,
each scaled to the candidates' own range and mixed. The weight was chosen on CMRC 2018's trial split and measured
on its development split and on qa/data/kb_eval (BENCHMARKS.md, "fourth session"); nothing is loaded here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from .base import tokens

# share of the dense (e5) score in the mix; 0 is the lexical ranking alone (chosen on CMRC trial, BENCHMARKS.md)
DENSE_WEIGHT = 0.1


def relevance(question: str, texts: list[str]) -> list[float]:
    """How much each text shares with the question: the summed rarity (log inverse share among the texts) of
    the question's BM25 terms (Chinese bigrams, words) that it holds."""
    wanted = set(tokens(question))
    held = [set(tokens(t)) & wanted for t in texts]
    counts = {t: sum(t in h for h in held) for t in wanted}
    weight = {t: math.log(1 + len(texts) / n) for t, n in counts.items() if n}
    # fsum: exactly rounded, so the total does not depend on the set's (hash-seeded) order and equal scores are
    # equal on every run (ties then go to the earlier sentence, not to chance)
    return [math.fsum(weight[t] for t in h) for h in held]


def scaled(values: list[float] | np.ndarray) -> np.ndarray:
    """Values mapped onto 0–1 by the candidates' own minimum and maximum (all 0 when they are all equal): the
    two scores live on different scales, and only their order among these candidates matters."""
    x = np.asarray(values, dtype=np.float64)
    if x.size == 0:
        return x
    low, high = float(x.min()), float(x.max())
    return (x - low) / (high - low) if high > low else np.zeros_like(x)


def mix(lexical: list[float] | np.ndarray, dense: list[float] | np.ndarray | None, weight: float) -> np.ndarray:
    """The combined score: (1 - weight) · scaled lexical + weight · scaled dense (lexical alone without dense)."""
    lex = scaled(lexical)
    if dense is None or weight <= 0:
        return lex
    return (1 - weight) * lex + weight * scaled(dense)


def best_first(scores: list[float] | np.ndarray) -> list[int]:
    """Indices from the highest score down; ties keep the order shown (the earlier sentence first)."""
    return sorted(range(len(scores)), key=lambda i: (-float(scores[i]), i))


class Ranker(Protocol):
    """What the citation needs of a ranker: the candidates' scores and their order, best first (this module's
    SentenceRanker, or qa.kb.learned.LearnedRanker)."""

    def scores(self, question: str, texts: list[str], where: list[tuple[str, int]] | None = None) -> list[float]: ...

    def order(self, question: str, texts: list[str], where: list[tuple[str, int]] | None = None) -> list[int]: ...


class SentenceRanker:
    """Scores candidate sentences against a question: lexical alone, or mixed with the embedder's cosine."""

    def __init__(
        self,
        embedder: Any = None,
        dense_weight: float = DENSE_WEIGHT,
        passage_vectors: Callable[[list[str]], np.ndarray] | None = None,
        query_vector: Callable[[str], np.ndarray] | None = None,
    ) -> None:
        self.embedder = embedder  # qa.triage Embedder (query:/passage: prefixes), or None: lexical alone
        self.dense_weight = dense_weight
        # where the vectors come from when not from the embedder: the knowledge base keeps its sentences' vectors
        # from ingest and the question's from retrieval, so ranking embeds nothing (the same vectors either way)
        self.passage_vectors = passage_vectors or (lambda texts: self.embedder.embed(texts, "passage"))
        self.query_vector = query_vector or (lambda text: self.embedder.embed([text], "query")[0])

    def dense(self, question: str, texts: list[str]) -> np.ndarray | None:
        """e5 cosine of the question with each text (None without an embedder or a weight)."""
        if self.embedder is None or self.dense_weight <= 0 or not texts:
            return None
        q = np.asarray(self.query_vector(question), dtype=np.float64)
        return np.asarray(self.passage_vectors(texts), dtype=np.float64) @ q

    def scores(self, question: str, texts: list[str], where: list[tuple[str, int]] | None = None) -> list[float]:
        """One score per text, higher answers the question better (comparable only within this call); `where`
        (each text's document and offset) is not read by this ranker, only by the learned one."""
        if not texts:
            return []
        return [float(s) for s in mix(relevance(question, texts), self.dense(question, texts), self.dense_weight)]

    def order(self, question: str, texts: list[str], where: list[tuple[str, int]] | None = None) -> list[int]:
        """Indices of the texts, best first (ties: the earlier text)."""
        return best_first(self.scores(question, texts, where))
