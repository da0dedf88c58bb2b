"""The knowledge base: the user's own documents, chunked with provenance, retrieved by BM25 + dense vectors, and
cited in answers whose quotes are verified inside the cited chunk. Imported lazily; nothing loads at import."""

from .base import MODES, Hit, KnowledgeBase, check_collection, chunk_pages, retrieve, tokens
from .store import Chunk, FileRecord, MemoryStore, PostgresStore, SqliteStore, Store, check_url, from_url

__all__ = [
    "MODES",
    "Chunk",
    "FileRecord",
    "Hit",
    "KnowledgeBase",
    "MemoryStore",
    "PostgresStore",
    "SqliteStore",
    "Store",
    "check_collection",
    "check_url",
    "chunk_pages",
    "from_url",
    "retrieve",
    "tokens",
]
