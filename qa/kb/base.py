"""The knowledge base: documents in (parse → chunks with provenance → vectors → store), hybrid retrieval out.

Chunks are runs of whole sentences (qa.spans.split_sentences) of one page, up to `chunk_chars` characters, the
last short sentence of a chunk repeated at the start of the next so a fact on a boundary is whole in one of them.
A chunk's start/end index its page's stored text (qa.documents output), so `page[start:end] == chunk.text`.

Retrieval is hybrid: BM25 (bm25s) over character bigrams for Chinese and lower-cased words for English, dense
cosine over the triage embedder's vectors (`passage: ` for chunks, `query: ` for questions), fused by reciprocal
rank. A question is answered from the knowledge base only when the best dense similarity (or, without an
embedder, a BM25 match) reaches the threshold; below it the knowledge base has nothing on it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..documents import parse_document
from ..errors import ConfigurationError, InputError
from ..spans import split_sentences
from .store import Chunk, FileRecord, Store, best_indices, sentence_key

if TYPE_CHECKING:
    from .rank import Ranker

log = logging.getLogger(__name__)

Mode = Literal["bm25", "dense", "fused"]
MODES: tuple[Mode, ...] = ("bm25", "dense", "fused")
RRF_K = 60  # the usual reciprocal-rank constant: rank 1 and rank 5 differ, but no single list dominates
_COLLECTION = re.compile(r"^[\w\u4e00-\u9fff][\w\u4e00-\u9fff.\-]{0,63}$")
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+(?:\.[0-9]+)?")
_EMBED_BATCH = 32
CITE_RANKERS = ("learned", "mixed")  # qa.kb.learned, qa.kb.rank (settings: kb_cite_ranker)
_QUERY_MEMO = 64  # questions whose vector is kept: retrieval and the sentence ranker embed the same question


def tokens(text: str) -> list[str]:
    """BM25 terms: character bigrams of Chinese runs (a lone character stays a unigram) and lower-cased words."""
    out: list[str] = []
    lowered = text.lower()
    for run in _CJK_RUN.findall(lowered):
        out += [run] if len(run) == 1 else [run[i : i + 2] for i in range(len(run) - 1)]
    out += _WORD.findall(_CJK_RUN.sub(" ", lowered))
    return out


def check_collection(name: Any) -> str:
    """A collection name: 1–64 letters, digits, CJK, `_`, `-` or `.`; InputError otherwise."""
    if not isinstance(name, str) or not _COLLECTION.match(name):
        raise InputError(
            "a knowledge-base name is 1–64 letters, digits, Chinese characters, '_', '-' or '.' "
            f"(not {str(name)[:40]!r})",
            param="collection",
            code="bad_collection",
        )
    return name


def file_id(collection: str, name: str) -> str:
    """A stable short id for a collection's file (the prefix of its chunk ids)."""
    return hashlib.sha1(f"{collection}\x00{name}".encode()).hexdigest()[:8]  # noqa: S324 - an id, not security


def chunk_pages(
    collection: str, name: str, pages: list[str], chunk_chars: int = 400, overlap_chars: int = 80
) -> list[Chunk]:
    """Chunks of whole sentences per page; each knows its page and its offsets into that page's text."""
    out: list[Chunk] = []
    fid = file_id(collection, name)
    for number, text in enumerate(pages, start=1):
        sentences = split_sentences(text, max_chars=chunk_chars)
        i = 0
        while i < len(sentences):
            j = i
            while j + 1 < len(sentences) and sentences[j + 1].end - sentences[i].start <= chunk_chars:
                j += 1
            start, end = sentences[i].start, sentences[j].end
            out.append(Chunk(f"{fid}-{len(out) + 1}", collection, name, number, start, end, text[start:end], len(out)))
            # the next chunk starts with this one's last sentence when it is short (context across the cut)
            last = sentences[j]
            i = j if j > i and last.end - last.start <= overlap_chars else j + 1
    return out


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with its fused score and each method's score and rank (None where it did not rank)."""

    chunk: Chunk
    score: float
    bm25: float | None = None
    bm25_rank: int | None = None
    dense: float | None = None
    dense_rank: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The debug view: chunk id, file, page, offsets, scores and ranks."""
        c = self.chunk
        return {
            "chunk": c.id, "file": c.file, "page": c.page, "start": c.start, "end": c.end,
            "score": round(self.score, 5), "bm25": None if self.bm25 is None else round(self.bm25, 4),
            "bm25_rank": self.bm25_rank, "dense": None if self.dense is None else round(self.dense, 4),
            "dense_rank": self.dense_rank, "text": c.text,
        }  # fmt: skip


class _Bm25Index:
    def __init__(self, chunks: list[Chunk]) -> None:
        import bm25s  # lazily: only the knowledge base needs it

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it logs every index build at DEBUG

        self.chunks = chunks
        self.retriever = bm25s.BM25()
        if chunks:  # bm25s cannot index an empty corpus (an empty or unknown collection): search finds nothing
            corpus = [tokens(c.text) or [""] for c in chunks]
            self.retriever.index(corpus, show_progress=False)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        terms = tokens(query)
        if not terms or not self.chunks:
            return []
        scores = np.asarray(self.retriever.get_scores(terms), dtype=np.float32)
        return [(int(i), float(scores[i])) for i in best_indices(scores, k) if scores[i] > 0]


class KnowledgeBase:
    """Collections of uploaded documents, chunked and indexed, searched by BM25, dense vectors or both."""

    def __init__(
        self,
        store: Store | Callable[[], Store],
        embedder: Any = None,
        chunk_chars: int = 400,
        overlap_chars: int = 80,
        max_file_bytes: int = 20_000_000,
        max_pages: int = 2000,
        max_files: int = 200,
        max_chunks: int = 20_000,
        min_similarity: float = 0.87,
        top_k: int = 4,
        cite_offer: int = 1,
        cite_dense_weight: float = 0.1,
        cite_ranker: str = "learned",
        cite_pair_margin: float = 0.5,
    ) -> None:
        self._store = store  # a store, or a function that opens one at first use
        self.embedder = embedder  # qa.triage Embedder, or None: BM25 only
        self.chunk_chars = chunk_chars
        self.overlap_chars = overlap_chars
        self.max_file_bytes = max_file_bytes
        self.max_pages = max_pages
        self.max_files = max_files
        self.max_chunks = max_chunks
        self.min_similarity = min_similarity
        self.top_k = top_k  # passages an answer is given
        self.cite_offer = cite_offer  # sentences an answer may cite (qa.kb.cite), the ranker's first
        self.cite_dense_weight = cite_dense_weight  # the e5 share of the mixed ranker's score (qa.kb.rank)
        if cite_ranker not in CITE_RANKERS:
            raise ConfigurationError(
                f"unknown citation ranker {cite_ranker!r}; choose one of {', '.join(CITE_RANKERS)}"
            )
        self.cite_ranker = cite_ranker  # which ranker chooses the cited sentence
        # the learned ranker's score gap under which its first sentence is quoted with its neighbour (qa.kb.cite);
        # its scores are log-odds of a softmax, the mixed ranker's are not, so it applies to the learned one only
        self.cite_pair_margin = cite_pair_margin if cite_ranker == "learned" else 0.0
        if cite_ranker == "learned":
            from .learned import packaged_weights

            packaged_weights()  # read and validated now: a broken weights file stops the start, not an answer
        self._indexes: dict[str, tuple[str, _Bm25Index, dict[str, Chunk]]] = {}
        self._queries: dict[str, np.ndarray] = {}  # question → vector, the most recent _QUERY_MEMO
        self._lock = threading.RLock()  # one writer at a time: limits are checked against what is stored

    @property
    def store(self) -> Store:
        """The store, opened at first use."""
        if callable(self._store) and not isinstance(self._store, Store):
            with self._lock:
                if callable(self._store) and not isinstance(self._store, Store):
                    self._store = self._store()
        return self._store  # type: ignore[return-value]

    # ---- documents ------------------------------------------------------------------------------------------
    def add(self, collection: str, name: str, data: bytes) -> FileRecord:
        """Parse, chunk, embed and store one file (replacing a file of the same name); InputError on bad input."""
        collection = check_collection(collection)
        if not isinstance(data, bytes | bytearray):
            raise InputError("the file's content must be bytes", param="file")
        parsed = parse_document(name, bytes(data), self.max_file_bytes, self.max_pages)
        pages = [p.text for p in parsed.pages]
        chunks = chunk_pages(collection, parsed.name, pages, self.chunk_chars, self.overlap_chars)
        with self._lock:
            existing = {r.name: r for r in self.store.files(collection)}
            if parsed.name not in existing and len(existing) >= self.max_files:
                raise InputError(
                    f"the knowledge base {collection!r} already holds {len(existing)} files (the limit is "
                    f"{self.max_files}); remove some first",
                    param="file",
                    code="too_many_files",
                )
            stored = sum(r.chunks for n, r in existing.items() if n != parsed.name)
            if stored + len(chunks) > self.max_chunks:
                raise InputError(
                    f"{parsed.name}: {len(chunks)} more passages would take {collection!r} past its limit of "
                    f"{self.max_chunks}; remove some files first",
                    param="file",
                    code="file_too_large",
                )
            vectors = self._embed([c.text for c in chunks], "passage") if self.embedder is not None else None
            # the sentences the citation ranker may compare with a question, embedded once here, not per answer
            said = list(dict.fromkeys(s.text for c in chunks for s in split_sentences(c.text)))
            said_vectors = self._embed(said, "passage") if self.embedder is not None else None
            record = FileRecord(
                collection=collection,
                name=parsed.name,
                file_id=file_id(collection, parsed.name),
                kind=parsed.kind,
                pages=len(pages),
                chars=parsed.chars,
                bytes=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                chunks=len(chunks),
                added_at=time.time(),
            )
            self.store.put_file(record, pages, chunks, vectors)
            if said_vectors is not None:
                # after the file: a crash between the two leaves vectors to compute at answer time, nothing lost
                keys = [sentence_key(self.embedder.name, t) for t in said]
                self.store.put_sentence_vectors(collection, parsed.name, keys, said_vectors)
        log.info("knowledge base %s: stored %s (%d pages, %d chunks)", collection, parsed.name, len(pages), len(chunks))
        return record

    def _embed(self, texts: list[str], kind: str) -> np.ndarray:
        parts = [self.embedder.embed(texts[i : i + _EMBED_BATCH], kind) for i in range(0, len(texts), _EMBED_BATCH)]
        return np.concatenate(parts) if parts else np.zeros((0, int(self.embedder.dim)), dtype=np.float32)

    def query_vector(self, text: str) -> np.ndarray:
        """The embedder's `query:` vector of a question, kept for the few most recent questions."""
        vector = self._queries.get(text)
        if vector is None:
            vector = np.asarray(self.embedder.embed([text], "query")[0], dtype=np.float32)
            with self._lock:
                self._queries[text] = vector
                while len(self._queries) > _QUERY_MEMO:
                    self._queries.pop(next(iter(self._queries)))
        return vector

    def sentence_vectors(self, collection: str, texts: list[str], chunks: list[Chunk]) -> np.ndarray:
        """One `passage:` vector per sentence text, read from the store; a sentence stored without one (a
        knowledge base filled before sentence vectors were kept) is embedded now and kept under the file of the
        first of `chunks` holding it, so the next answer finds it."""
        key_of = {t: sentence_key(self.embedder.name, t) for t in texts}
        keys = [key_of[t] for t in texts]
        found = self.store.sentence_vectors(collection, keys)
        missing = [t for t, k in key_of.items() if k not in found]
        if missing:
            made = self._embed(missing, "passage")
            by_file: dict[str, tuple[list[str], list[np.ndarray]]] = {}
            for text, vector in zip(missing, made, strict=True):
                key = key_of[text]
                found[key] = vector
                owner = next((c.file for c in chunks if text in c.text), None)
                if owner is not None:
                    by_file.setdefault(owner, ([], []))[0].append(key)
                    by_file[owner][1].append(vector)
            for file, (file_keys, vectors) in by_file.items():
                self.store.put_sentence_vectors(collection, file, file_keys, np.stack(vectors))
            log.info("knowledge base %s: %d sentence vectors computed at answer time", collection, len(missing))
        if not keys:
            return np.zeros((0, int(self.embedder.dim)), dtype=np.float32)
        return np.stack([found[k] for k in keys])

    def sentence_ranker(self, collection: str, chunks: list[Chunk]) -> Ranker:
        """The citation ranker (`cite_ranker`: learned or mixed) for an answer from these retrieved chunks: sentence
        vectors from the store (kept at ingest) and the question's from retrieval, so ranking embeds nothing;
        without an embedder, the learned ranker's lexical weights or the mixed ranker's lexical score."""
        from .learned import LearnedRanker  # rank reads this module's tokens()
        from .rank import SentenceRanker

        if self.embedder is None:
            return (
                LearnedRanker(None) if self.cite_ranker == "learned" else SentenceRanker(None, self.cite_dense_weight)
            )
        vectors = {
            "passage_vectors": lambda texts: self.sentence_vectors(collection, texts, chunks),
            "query_vector": self.query_vector,
        }
        if self.cite_ranker == "learned":
            return LearnedRanker(self.embedder, **vectors)
        return SentenceRanker(self.embedder, self.cite_dense_weight, **vectors)

    def files(self, collection: str) -> list[FileRecord]:
        """A collection's files (empty when it has none)."""
        return self.store.files(check_collection(collection))

    def collections(self) -> list[dict[str, Any]]:
        """Every collection with its file and chunk counts."""
        out = []
        for name in self.store.collections():
            records = self.store.files(name)
            out.append({"name": name, "files": len(records), "chunks": sum(r.chunks for r in records)})
        return out

    def remove(self, collection: str, names: list[str] | None = None) -> list[str]:
        """Remove the named files (all files when none are named); InputError for a name that is not stored."""
        collection = check_collection(collection)
        with self._lock:
            stored = [r.name for r in self.store.files(collection)]
            wanted = stored if not names else list(names)
            missing = [n for n in wanted if n not in stored]
            if missing or not stored:
                raise InputError(
                    f"the knowledge base {collection!r} has no file {', '.join(missing) or '(it is empty)'}",
                    param="file",
                    code="not_found",
                )
            return [n for n in wanted if self.store.remove_file(collection, n)]

    def page(self, collection: str, file: str, page: int) -> str | None:
        """The stored text of one page, for showing a cited passage in its page."""
        return self.store.page_text(check_collection(collection), file, page)

    # ---- retrieval ------------------------------------------------------------------------------------------
    def _index(self, collection: str) -> tuple[_Bm25Index, dict[str, Chunk]]:
        version = self.store.version(collection)
        cached = self._indexes.get(collection)
        if cached is None or cached[0] != version:
            chunks = self.store.chunks(collection)
            cached = (version, _Bm25Index(chunks), {c.id: c for c in chunks})
            self._indexes[collection] = cached
        return cached[1], cached[2]

    def retrieve(self, collection: str, query: str, k: int = 5, mode: Mode = "fused") -> list[Hit]:
        """The top k chunks for a query by BM25, dense similarity or both fused by reciprocal rank."""
        collection = check_collection(collection)
        if mode not in MODES:
            raise InputError(f"mode must be one of {', '.join(MODES)}", param="mode")
        if mode == "dense" and self.embedder is None:
            raise InputError("dense retrieval needs the embedder (QA_TRIAGE_EMBEDDER is off)", param="mode")
        index, by_id = self._index(collection)
        if not by_id:
            return []
        depth = max(k * 4, 20)  # fuse from deeper lists than asked, so a chunk ranked 6th by both can still win
        lexical: list[tuple[str, float]] = []
        if mode in ("bm25", "fused"):
            lexical = [(index.chunks[i].id, s) for i, s in index.search(query, depth)]
        dense: list[tuple[str, float]] = []
        if mode in ("dense", "fused") and self.embedder is not None:
            vector = self.query_vector(query)
            dense = [(cid, s) for cid, s in self.store.dense_search(collection, vector, depth) if cid in by_id]
        ranks: dict[str, dict[str, tuple[int, float]]] = {}
        for name, ranked in (("bm25", lexical), ("dense", dense)):
            for rank, (cid, score) in enumerate(ranked, start=1):
                ranks.setdefault(cid, {})[name] = (rank, score)
        hits = []
        for cid, found in ranks.items():
            fused = sum(1.0 / (RRF_K + rank) for rank, _ in found.values())
            b, d = found.get("bm25"), found.get("dense")
            hits.append(
                Hit(
                    by_id[cid],
                    fused,
                    bm25=b[1] if b else None,
                    bm25_rank=b[0] if b else None,
                    dense=d[1] if d else None,
                    dense_rank=d[0] if d else None,
                )
            )
        hits.sort(key=lambda h: (-h.score, h.chunk.id))
        return hits[:k]

    def relevant(self, collection: str, query: str, k: int = 4) -> list[Hit]:
        """The fused top k when the knowledge base has something on the query, else [] (best dense similarity
        under the threshold, or no BM25 match at all without an embedder)."""
        hits = self.retrieve(collection, query, k, "fused")
        if self.embedder is None:
            return [h for h in hits if h.bm25]
        best = max((h.dense for h in hits if h.dense is not None), default=None)
        if best is None or best < self.min_similarity:
            return []
        return hits

    def chunk(self, collection: str, chunk_id: str) -> Chunk | None:
        """One chunk by id."""
        return self._index(check_collection(collection))[1].get(chunk_id)


def retrieve(kb: KnowledgeBase, collection: str, query: str, k: int = 5, mode: Mode = "fused") -> list[dict[str, Any]]:
    """For scripts (recall@k): the top k as dicts with chunk id and score, by bm25, dense or fused."""
    return [{"chunk": h.chunk.id, "score": h.score, **h.to_dict()} for h in kb.retrieve(collection, query, k, mode)]
