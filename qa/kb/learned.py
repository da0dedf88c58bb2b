"""The learned citation ranker: a linear score over reader-like features (qa.kb.features), its weights fitted by
scripts/train_sentence_ranker.py on public CMRC 2018 data and shipped as package data
(qa/data/kb_sentence_ranker.json).

The weights file holds two weight sets: one with the e5 features, used when the knowledge base has an embedder,
and one without them (BM25-only knowledge bases). It is validated when it is read — its format, its feature names
against the code's, finite numbers — and a file that fails is a ConfigurationError when the knowledge base is
built: it ships with the code, so a mismatch is a broken install or a features change without retraining, and
silently falling back to the other ranker would lower citation precision with nothing said.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from ..errors import ConfigurationError
from .features import DENSE_NAMES, NAMES, Where, features
from .rank import best_first

FORMAT = "qa.kb.sentence_ranker/1"
WEIGHTS_FILE = "kb_sentence_ranker.json"
KINDS = ("dense", "lexical")  # with the e5 features, without them


class LinearWeights:
    """One weight set: the features it reads, their centring and scale, and a weight each."""

    def __init__(self, names: tuple[str, ...], mean: np.ndarray, scale: np.ndarray, coef: np.ndarray) -> None:
        self.names, self.mean, self.scale, self.coef = names, mean, scale, coef

    def score(self, rows: np.ndarray) -> np.ndarray:
        """The linear score of each feature row."""
        return ((rows - self.mean) / self.scale) @ self.coef


def _weights(kind: str, data: Any, where: str) -> LinearWeights:
    expected = NAMES + DENSE_NAMES if kind == "dense" else NAMES
    if not isinstance(data, dict):
        raise ConfigurationError(f"{where}: weight set {kind!r} is missing")
    names = tuple(data.get("features") or ())
    if names != expected:
        extra, missing = set(names) - set(expected), set(expected) - set(names)
        raise ConfigurationError(
            f"{where}: weight set {kind!r} names features {sorted(extra) or 'in another order'} that the code does "
            f"not compute, or lacks {sorted(missing) or 'none'}; retrain with scripts/train_sentence_ranker.py"
        )
    arrays = []
    for field in ("mean", "scale", "coef"):
        values = data.get(field)
        if not isinstance(values, list) or len(values) != len(names):
            raise ConfigurationError(f"{where}: {kind}.{field} must list {len(names)} numbers")
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
            raise ConfigurationError(f"{where}: {kind}.{field} holds a value that is not a finite number")
        arrays.append(np.asarray(values, dtype=np.float64))
    if (arrays[1] <= 0).any():
        raise ConfigurationError(f"{where}: {kind}.scale must be positive")
    return LinearWeights(names, *arrays)


def parse_weights(text: str, where: str = WEIGHTS_FILE) -> dict[str, LinearWeights]:
    """Both weight sets from a weights file's text; ConfigurationError when it is not a valid one."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigurationError(f"{where} is not JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ConfigurationError(f"{where} is not a sentence-ranker weights file of format {FORMAT}")
    return {kind: _weights(kind, data.get(kind), where) for kind in KINDS}


@cache
def packaged_weights() -> dict[str, LinearWeights]:
    """The weights shipped in qa/data (read and validated once)."""
    try:
        text = resources.files("qa.data").joinpath(WEIGHTS_FILE).read_text("utf-8")
    except (FileNotFoundError, OSError) as exc:
        raise ConfigurationError(
            f"the learned citation ranker's weights (qa/data/{WEIGHTS_FILE}) are missing: reinstall, rebuild them "
            "with scripts/train_sentence_ranker.py, or set QA_KB_CITE_RANKER=mixed"
        ) from exc
    return parse_weights(text, f"qa/data/{WEIGHTS_FILE}")


class LearnedRanker:
    """Scores candidate sentences with the learned weights: with e5 features when there is an embedder, the
    lexical weight set otherwise. Same interface as qa.kb.rank.SentenceRanker."""

    def __init__(
        self,
        embedder: Any = None,
        weights: dict[str, LinearWeights] | None = None,
        passage_vectors: Callable[[list[str]], np.ndarray] | None = None,
        query_vector: Callable[[str], np.ndarray] | None = None,
    ) -> None:
        self.embedder = embedder
        self.weights = weights if weights is not None else packaged_weights()
        # as SentenceRanker: the knowledge base passes its kept sentence vectors and the question's from retrieval
        self.passage_vectors = passage_vectors or (lambda texts: self.embedder.embed(texts, "passage"))
        self.query_vector = query_vector or (lambda text: self.embedder.embed([text], "query")[0])

    def dense(self, question: str, texts: list[str]) -> np.ndarray | None:
        """e5 cosine of the question with each text (None without an embedder)."""
        if self.embedder is None or not texts:
            return None
        q = np.asarray(self.query_vector(question), dtype=np.float64)
        return np.asarray(self.passage_vectors(texts), dtype=np.float64) @ q

    def scores(self, question: str, texts: list[str], where: list[Where] | None = None) -> list[float]:
        """One score per text, higher answers the question better (comparable only within this call)."""
        if not texts:
            return []
        dense = self.dense(question, texts)
        weights = self.weights["lexical" if dense is None else "dense"]
        return [float(s) for s in weights.score(features(question, texts, dense, where))]

    def order(self, question: str, texts: list[str], where: list[Where] | None = None) -> list[int]:
        """Indices of the texts, best first (ties: the earlier text)."""
        return best_first(self.scores(question, texts, where))
