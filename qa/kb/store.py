"""Where the knowledge base keeps documents, chunks and vectors: one protocol, three stores.

- `MemoryStore`: dicts (tests, `memory://`).
- `SqliteStore`: the embedded default — one directory under the cache dir holding `kb.sqlite3` (files, pages,
  chunks, sentence vectors) and `vectors/<file id>.npy` beside it (one float32 row per chunk, in chunk order). No
  server.
- `PostgresStore`: Postgres with pgvector (`QA_KB_URL=postgresql://…`), for a knowledge base shared by several
  machines; vectors live in a `vector` column and dense search runs in the database.

Each store also keeps the vectors of the chunks' sentences, by file and a key of the sentence's text (`sentence_key`),
computed at ingest so that ranking a cited sentence at answer time embeds nothing but the question. A knowledge
base stored before they existed gains the (empty) table when opened and its sentences' vectors as answers need them.

Every store keeps a per-collection version that changes with each write, so the retriever can cache its BM25
index until the collection changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ..errors import ConfigurationError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Chunk:
    """One retrievable passage: its id, the collection and file it came from, the 1-based page, and its code-point
    start/end in that page's stored text (page_text[start:end] == text)."""

    id: str
    collection: str
    file: str
    page: int
    start: int
    end: int
    text: str
    seq: int = 0  # order within the file

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class FileRecord:
    """One stored file of a collection."""

    collection: str
    name: str
    file_id: str
    kind: str
    pages: int
    chars: int
    bytes: int
    sha256: str
    chunks: int
    added_at: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


@runtime_checkable
class Store(Protocol):
    """Documents, chunks and vectors by collection."""

    kind: str

    def put_file(self, record: FileRecord, pages: list[str], chunks: list[Chunk], vectors: np.ndarray | None) -> None:
        """Store a file with its pages, chunks and (optionally) one vector per chunk, replacing a file of that name."""
        ...

    def put_sentence_vectors(self, collection: str, file: str, keys: list[str], vectors: np.ndarray) -> None:
        """Keep one vector per sentence key for a stored file (a key already kept is left as it is)."""
        ...

    def sentence_vectors(self, collection: str, keys: list[str]) -> dict[str, np.ndarray]:
        """The kept vectors of those keys found in the collection (missing keys are left out)."""
        ...

    def remove_file(self, collection: str, name: str) -> bool:
        """Remove one file with its chunks and sentence vectors; False when there was none."""
        ...

    def files(self, collection: str) -> list[FileRecord]:
        """The collection's files, by name."""
        ...

    def collections(self) -> list[str]:
        """Collections that hold at least one file."""
        ...

    def chunks(self, collection: str) -> list[Chunk]:
        """Every chunk of a collection, by file and order."""
        ...

    def page_text(self, collection: str, file: str, page: int) -> str | None:
        """A stored page's text, or None."""
        ...

    def dense_search(self, collection: str, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """The k chunks whose vectors have the highest cosine similarity to a normalised query vector."""
        ...

    def version(self, collection: str) -> str:
        """A token that changes whenever the collection changes."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def sentence_key(embedder_name: str, text: str) -> str:
    """The key a sentence's vector is kept under: its text and the embedder that made it (another embedder's
    vectors are never mixed in)."""
    return hashlib.sha1(f"{embedder_name}\x00{text}".encode()).hexdigest()  # noqa: S324 - a key, not security


def _as_vector(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32)


def best_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores, best first (ties in index order)."""
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    best = np.argpartition(-scores, k - 1)[:k]
    return best[np.argsort(-scores[best], kind="stable")]


def _top_k(ids: list[str], matrix: np.ndarray, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
    if not ids or k <= 0:
        return []
    scores = matrix @ vector.astype(np.float32)
    return [(ids[i], float(scores[i])) for i in best_indices(scores, k)]


class MemoryStore:
    """Everything in dicts: tests and throwaway sessions."""

    kind = "memory"

    def __init__(self) -> None:
        self._files: dict[tuple[str, str], FileRecord] = {}
        self._pages: dict[tuple[str, str], list[str]] = {}
        self._chunks: dict[tuple[str, str], list[Chunk]] = {}
        self._vectors: dict[tuple[str, str], np.ndarray | None] = {}
        self._sentences: dict[tuple[str, str], dict[str, np.ndarray]] = {}  # (collection, file) → key → vector
        self._versions: dict[str, int] = {}
        self._lock = threading.Lock()

    def _bump(self, collection: str) -> None:
        self._versions[collection] = self._versions.get(collection, 0) + 1

    def put_file(self, record: FileRecord, pages: list[str], chunks: list[Chunk], vectors: np.ndarray | None) -> None:
        key = (record.collection, record.name)
        with self._lock:
            self._files[key] = record
            self._pages[key] = list(pages)
            self._chunks[key] = list(chunks)
            self._vectors[key] = None if vectors is None else np.asarray(vectors, dtype=np.float32)
            self._sentences.pop(key, None)  # the replaced file's sentences go with it
            self._bump(record.collection)

    def put_sentence_vectors(self, collection: str, file: str, keys: list[str], vectors: np.ndarray) -> None:
        with self._lock:
            if (collection, file) not in self._files:
                return  # removed meanwhile: nothing to keep them for
            kept = self._sentences.setdefault((collection, file), {})
            for k, v in zip(keys, np.asarray(vectors, dtype=np.float32), strict=True):
                kept.setdefault(k, v)

    def sentence_vectors(self, collection: str, keys: list[str]) -> dict[str, np.ndarray]:
        wanted = set(keys)
        with self._lock:
            return {
                k: v
                for (c, _), kept in self._sentences.items()
                if c == collection
                for k, v in kept.items()
                if k in wanted
            }

    def remove_file(self, collection: str, name: str) -> bool:
        key = (collection, name)
        with self._lock:
            if key not in self._files:
                return False
            for table in (self._files, self._pages, self._chunks, self._vectors, self._sentences):
                table.pop(key, None)
            self._bump(collection)
            return True

    def files(self, collection: str) -> list[FileRecord]:
        with self._lock:
            return sorted((r for (c, _), r in self._files.items() if c == collection), key=lambda r: r.name)

    def collections(self) -> list[str]:
        with self._lock:
            return sorted({c for c, _ in self._files})

    def chunks(self, collection: str) -> list[Chunk]:
        with self._lock:
            return [ch for (c, n) in sorted(self._chunks) if c == collection for ch in self._chunks[(c, n)]]

    def page_text(self, collection: str, file: str, page: int) -> str | None:
        pages = self._pages.get((collection, file))
        return pages[page - 1] if pages and 1 <= page <= len(pages) else None

    def dense_search(self, collection: str, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        with self._lock:
            keys = [key for key in sorted(self._chunks) if key[0] == collection and self._vectors.get(key) is not None]
            ids = [ch.id for key in keys for ch in self._chunks[key]]
            if not keys:
                return []
            matrix = np.concatenate([self._vectors[key] for key in keys])  # type: ignore[misc]
        return _top_k(ids, matrix, vector, k)

    def version(self, collection: str) -> str:
        return str(self._versions.get(collection, 0))

    def close(self) -> None:
        """Nothing to release."""


_SQLITE_SCHEMA = """
create table if not exists files (
  collection text not null, name text not null, file_id text not null, kind text not null, pages integer not null,
  chars integer not null, bytes integer not null, sha256 text not null, chunks integer not null,
  added_at real not null, primary key (collection, name));
create table if not exists pages (
  collection text not null, file text not null, page integer not null, text text not null,
  primary key (collection, file, page));
create table if not exists chunks (
  id text primary key, collection text not null, file text not null, page integer not null, start integer not null,
  "end" integer not null, text text not null, seq integer not null);
create index if not exists chunks_by_file on chunks (collection, file, seq);
create table if not exists versions (collection text primary key, version integer not null);
create table if not exists sentence_vectors (
  collection text not null, file text not null, key text not null, vector blob not null,
  primary key (collection, file, key));
create index if not exists sentence_vectors_by_key on sentence_vectors (collection, key);
"""
_CHUNK_COLUMNS = 'id, collection, file, page, start, "end", text, seq'


class _SqlReads:
    """The read queries the SQL stores share; each sets its table prefix and parameter marker."""

    _TABLE = ""  # prefix of the table names
    _MARK = "?"  # the driver's parameter marker
    _db: Any
    _lock: threading.Lock

    def _sql(self, template: str) -> str:
        return template.format(t=self._TABLE, m=self._MARK, columns=_CHUNK_COLUMNS)

    def files(self, collection: str) -> list[FileRecord]:
        sql = self._sql("select * from {t}files where collection = {m} order by name")
        with self._lock:
            rows = self._db.execute(sql, (collection,)).fetchall()
        return [FileRecord(*row) for row in rows]

    def collections(self) -> list[str]:
        sql = self._sql("select distinct collection from {t}files order by collection")
        with self._lock:
            return [r[0] for r in self._db.execute(sql)]

    def chunks(self, collection: str) -> list[Chunk]:
        sql = self._sql("select {columns} from {t}chunks where collection = {m} order by file, seq")
        with self._lock:
            rows = self._db.execute(sql, (collection,)).fetchall()
        return [Chunk(*row) for row in rows]

    def page_text(self, collection: str, file: str, page: int) -> str | None:
        sql = self._sql("select text from {t}pages where collection = {m} and file = {m} and page = {m}")
        with self._lock:
            row = self._db.execute(sql, (collection, file, page)).fetchone()
        return None if row is None else str(row[0])


class SqliteStore(_SqlReads):
    """The embedded default: SQLite for files, pages and chunks, and a .npy of vectors per file beside it."""

    kind = "sqlite"

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        try:
            (self.directory / "vectors").mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.directory / "kb.sqlite3", check_same_thread=False, isolation_level=None)
            self._db.executescript(_SQLITE_SCHEMA)
            self._db.execute("pragma journal_mode=wal")
        except (OSError, sqlite3.Error) as exc:
            raise ConfigurationError(f"cannot open the knowledge base in {self.directory}: {exc}") from exc
        self._lock = threading.Lock()
        self._matrices: dict[str, tuple[str, list[str], np.ndarray]] = {}  # collection → (version, ids, matrix)

    def _vector_path(self, file_id: str) -> Path:
        return self.directory / "vectors" / f"{file_id}.npy"

    def _bump(self, collection: str) -> None:
        self._db.execute(
            "insert into versions values (?, 1) on conflict(collection) do update set version = version + 1",
            (collection,),
        )

    def _delete(self, collection: str, name: str) -> str | None:
        row = self._db.execute(
            "select file_id from files where collection = ? and name = ?", (collection, name)
        ).fetchone()
        if row is None:
            return None
        for table, column in (("files", "name"), ("pages", "file"), ("chunks", "file"), ("sentence_vectors", "file")):
            self._db.execute(f"delete from {table} where collection = ? and {column} = ?", (collection, name))  # noqa: S608
        return str(row[0])

    def put_file(self, record: FileRecord, pages: list[str], chunks: list[Chunk], vectors: np.ndarray | None) -> None:
        path = self._vector_path(record.file_id)
        with self._lock:
            # the vectors first (to a temporary name): a crash leaves either the old file whole or the new one
            tmp = path.with_suffix(".tmp.npy")
            if vectors is not None:
                np.save(tmp, np.asarray(vectors, dtype=np.float32))
            try:
                self._db.execute("begin immediate")
                old = self._delete(record.collection, record.name)
                self._db.execute(
                    "insert into files values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (record.collection, record.name, record.file_id, record.kind, record.pages, record.chars,
                     record.bytes, record.sha256, record.chunks, record.added_at),
                )  # fmt: skip
                self._db.executemany(
                    "insert into pages values (?, ?, ?, ?)",
                    [(record.collection, record.name, i + 1, text) for i, text in enumerate(pages)],
                )
                self._db.executemany(
                    f"insert into chunks ({_CHUNK_COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                    [(c.id, c.collection, c.file, c.page, c.start, c.end, c.text, c.seq) for c in chunks],
                )
                self._bump(record.collection)
                if vectors is not None:
                    os.replace(tmp, path)
                elif path.exists():
                    path.unlink()
                self._db.execute("commit")
            except BaseException:
                self._db.execute("rollback")
                tmp.unlink(missing_ok=True)
                raise
            if old is not None and old != record.file_id:
                self._vector_path(old).unlink(missing_ok=True)

    def remove_file(self, collection: str, name: str) -> bool:
        with self._lock:
            self._db.execute("begin immediate")
            try:
                file_id = self._delete(collection, name)
                if file_id is not None:
                    self._bump(collection)
                self._db.execute("commit")
            except BaseException:
                self._db.execute("rollback")
                raise
            if file_id is None:
                return False
            self._vector_path(file_id).unlink(missing_ok=True)
            return True

    def put_sentence_vectors(self, collection: str, file: str, keys: list[str], vectors: np.ndarray) -> None:
        rows = [
            (collection, file, k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in zip(keys, vectors, strict=True)
        ]
        with self._lock:
            self._db.execute("begin immediate")
            try:
                # only for a file still stored (it may have been removed since its sentences were read)
                if self._db.execute(
                    "select 1 from files where collection = ? and name = ?", (collection, file)
                ).fetchone():
                    self._db.executemany("insert or ignore into sentence_vectors values (?, ?, ?, ?)", rows)
                self._db.execute("commit")
            except BaseException:
                self._db.execute("rollback")
                raise

    def sentence_vectors(self, collection: str, keys: list[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        with self._lock:
            for i in range(0, len(unique), 500):  # SQLite's bound on parameters per statement
                part = unique[i : i + 500]
                marks = ", ".join("?" * len(part))
                sql = f"select key, vector from sentence_vectors where collection = ? and key in ({marks})"  # noqa: S608
                for key, blob in self._db.execute(sql, (collection, *part)):
                    out[key] = _as_vector(blob)
        return out

    def _matrix(self, collection: str) -> tuple[list[str], np.ndarray | None]:
        version = self.version(collection)
        cached = self._matrices.get(collection)
        if cached is not None and cached[0] == version:
            return cached[1], cached[2]
        with self._lock:
            files = self._db.execute(
                "select name, file_id from files where collection = ? order by name", (collection,)
            ).fetchall()
            ids: list[str] = []
            parts: list[np.ndarray] = []
            for name, file_id in files:
                path = self._vector_path(file_id)
                if not path.exists():
                    continue
                rows = self._db.execute(
                    "select id from chunks where collection = ? and file = ? order by seq", (collection, name)
                ).fetchall()
                matrix = np.load(path)
                if len(matrix) != len(rows):
                    log.warning("vectors of %s/%s do not match its chunks; left out of dense search", collection, name)
                    continue
                ids += [r[0] for r in rows]
                parts.append(matrix)
        matrix = np.concatenate(parts) if parts else None
        if matrix is not None:
            self._matrices[collection] = (version, ids, matrix)
        return ids, matrix

    def dense_search(self, collection: str, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        ids, matrix = self._matrix(collection)
        return [] if matrix is None else _top_k(ids, matrix, vector, k)

    def version(self, collection: str) -> str:
        with self._lock:
            row = self._db.execute("select version from versions where collection = ?", (collection,)).fetchone()
        return str(row[0] if row else 0)

    def close(self) -> None:
        with self._lock:
            self._db.close()


_PG_SCHEMA = """
create extension if not exists vector;
create table if not exists kb_files (
  collection text not null, name text not null, file_id text not null, kind text not null, pages integer not null,
  chars integer not null, bytes bigint not null, sha256 text not null, chunks integer not null,
  added_at double precision not null, primary key (collection, name));
create table if not exists kb_pages (
  collection text not null, file text not null, page integer not null, text text not null,
  primary key (collection, file, page));
create table if not exists kb_chunks (
  id text primary key, collection text not null, file text not null, page integer not null, start integer not null,
  "end" integer not null, text text not null, seq integer not null, embedding vector);
create index if not exists kb_chunks_by_file on kb_chunks (collection, file, seq);
create table if not exists kb_versions (collection text primary key, version bigint not null);
create table if not exists kb_sentence_vectors (
  collection text not null, file text not null, key text not null, embedding vector not null,
  primary key (collection, file, key));
create index if not exists kb_sentence_vectors_by_key on kb_sentence_vectors (collection, key);
"""


class PostgresStore(_SqlReads):
    """Postgres with pgvector: the same tables, vectors in a `vector` column, cosine search in SQL."""

    kind = "postgres"
    _TABLE = "kb_"
    _MARK = "%s"

    def __init__(self, url: str) -> None:
        try:
            import psycopg
            from pgvector.psycopg import register_vector
        except ImportError as exc:  # pragma: no cover - pinned in requirements.txt
            raise ConfigurationError("the Postgres knowledge base needs psycopg and pgvector") from exc
        try:
            self._db = psycopg.connect(url, autocommit=True)
            self._db.execute(_PG_SCHEMA)
            register_vector(self._db)
        except psycopg.Error as exc:
            raise ConfigurationError(f"cannot use the Postgres knowledge base: {exc}") from exc
        self._lock = threading.Lock()

    def put_file(self, record: FileRecord, pages: list[str], chunks: list[Chunk], vectors: np.ndarray | None) -> None:
        rows = [
            (c.id, c.collection, c.file, c.page, c.start, c.end, c.text, c.seq,
             None if vectors is None else np.asarray(vectors[i], dtype=np.float32))
            for i, c in enumerate(chunks)
        ]  # fmt: skip
        with self._lock, self._db.transaction(), self._db.cursor() as cur:
            self._delete(cur, record.collection, record.name)
            cur.execute(
                "insert into kb_files values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (record.collection, record.name, record.file_id, record.kind, record.pages, record.chars,
                 record.bytes, record.sha256, record.chunks, record.added_at),
            )  # fmt: skip
            cur.executemany(
                "insert into kb_pages values (%s, %s, %s, %s)",
                [(record.collection, record.name, i + 1, text) for i, text in enumerate(pages)],
            )
            cur.executemany(
                f"insert into kb_chunks ({_CHUNK_COLUMNS}, embedding) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",  # noqa: S608
                rows,
            )
            self._bump(cur, record.collection)

    @staticmethod
    def _delete(cur: Any, collection: str, name: str) -> bool:
        cur.execute("delete from kb_files where collection = %s and name = %s", (collection, name))
        found = cur.rowcount > 0
        cur.execute("delete from kb_pages where collection = %s and file = %s", (collection, name))
        cur.execute("delete from kb_chunks where collection = %s and file = %s", (collection, name))
        cur.execute("delete from kb_sentence_vectors where collection = %s and file = %s", (collection, name))
        return found

    @staticmethod
    def _bump(cur: Any, collection: str) -> None:
        cur.execute(
            "insert into kb_versions values (%s, 1) on conflict (collection) do update"
            " set version = kb_versions.version + 1",
            (collection,),
        )

    def remove_file(self, collection: str, name: str) -> bool:
        with self._lock, self._db.transaction(), self._db.cursor() as cur:
            found = self._delete(cur, collection, name)
            if found:
                self._bump(cur, collection)
            return found

    def put_sentence_vectors(self, collection: str, file: str, keys: list[str], vectors: np.ndarray) -> None:
        rows = [(collection, file, k, np.asarray(v, dtype=np.float32)) for k, v in zip(keys, vectors, strict=True)]
        with self._lock, self._db.transaction(), self._db.cursor() as cur:
            cur.execute("select 1 from kb_files where collection = %s and name = %s", (collection, file))
            if cur.fetchone() is not None:  # only for a file still stored
                cur.executemany("insert into kb_sentence_vectors values (%s, %s, %s, %s) on conflict do nothing", rows)

    def sentence_vectors(self, collection: str, keys: list[str]) -> dict[str, np.ndarray]:
        unique = list(dict.fromkeys(keys))
        if not unique:
            return {}
        with self._lock:
            rows = self._db.execute(
                "select key, embedding from kb_sentence_vectors where collection = %s and key = any(%s)",
                (collection, unique),
            ).fetchall()
        # pgvector hands back its own Vector type for a column outside a search
        return {
            r[0]: np.asarray(r[1].to_numpy() if hasattr(r[1], "to_numpy") else r[1], dtype=np.float32) for r in rows
        }

    def dense_search(self, collection: str, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        query = np.asarray(vector, dtype=np.float32)
        with self._lock:
            rows = self._db.execute(
                "select id, 1 - (embedding <=> %s) as score from kb_chunks"
                " where collection = %s and embedding is not null order by embedding <=> %s, id limit %s",
                (query, collection, query, k),
            ).fetchall()
        return [(r[0], float(r[1])) for r in rows]

    def version(self, collection: str) -> str:
        with self._lock:
            row = self._db.execute("select version from kb_versions where collection = %s", (collection,)).fetchone()
        return str(row[0] if row else 0)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def check_url(url: str) -> str:
    """A knowledge-base URL whose kind is known (checked at start; the store itself opens at first use)."""
    url = (url or "").strip()
    if "://" in url and not url.startswith(("memory://", "postgresql://", "postgres://", "sqlite:///")):
        raise ConfigurationError(
            f"unknown knowledge-base URL kind {url.split('://')[0]!r}; use a folder, sqlite:///PATH, memory:// or "
            "postgresql://…"
        )
    return url


def from_url(url: str, data_dir: Path) -> Store:
    """The store a URL names: empty/`sqlite` (data_dir/kb), `sqlite:///path` or a folder, `memory://`, or
    `postgresql://…`; ConfigurationError for anything else."""
    url = (url or "").strip()
    if url in ("", "sqlite", "disk"):
        return SqliteStore(Path(data_dir) / "kb")
    if url == "memory://":
        return MemoryStore()
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresStore(url)
    if url.startswith("sqlite:///"):
        return SqliteStore(Path(url[len("sqlite://") :]))
    if "://" not in url:
        return SqliteStore(Path(url).expanduser())
    raise ConfigurationError(
        f"unknown knowledge-base URL {json.dumps(url.split('://')[0] + '://')}; use a folder, sqlite:///PATH,"
        " memory:// or postgresql://…"
    )
