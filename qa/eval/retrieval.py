"""Retrieval recall@1/@5 on a public Chinese reading-comprehension set: every CMRC 2018 development passage is a
document of one knowledge base, each question must find its own passage (qa/data/retrieval_cmrc2018_dev.jsonl,
built by scripts/build_retrieval_eval.py; CC BY-SA 4.0). BM25 alone, dense alone and fused, through the
knowledge base's own ingest and retrieve (chunks of a passage count as the passage)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from ..kb.base import MODES, KnowledgeBase
from ..kb.store import MemoryStore

SET = "retrieval_cmrc2018_dev.jsonl"
COLLECTION = "cmrc2018"


def load_set() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The passages and the questions of the packaged set."""
    rows = [
        json.loads(line) for line in resources.files("qa.data").joinpath(SET).read_text("utf-8").splitlines() if line
    ]
    return [r for r in rows if r["kind"] == "passage"], [r for r in rows if r["kind"] == "question"]


@dataclass
class Recall:
    """Questions whose own passage was among the first 1 and 5 distinct passages retrieved."""

    at1: int = 0
    at5: int = 0
    n: int = 0
    seconds: float = 0.0

    def row(self, name: str) -> str:
        """One Markdown table row."""
        per = 1000 * self.seconds / self.n if self.n else 0.0
        return f"| {name} | {self.at1}/{self.n} = {self.at1 / self.n:.3f} | {self.at5}/{self.n} = {self.at5 / self.n:.3f} | {per:.1f} ms |"


def passages_ranked(kb: KnowledgeBase, query: str, mode: str, k: int = 5) -> list[str]:
    """The first k distinct passages (file names without .txt) of a query's hits."""
    seen: list[str] = []
    for hit in kb.retrieve(COLLECTION, query, k * 4, mode):  # type: ignore[arg-type]
        name = hit.chunk.file.removesuffix(".txt")
        if name not in seen:
            seen.append(name)
        if len(seen) == k:
            break
    return seen


def run(
    embedder: Any, limit: int | None = None, stride: int = 1, out: Callable[[str], None] = print
) -> dict[str, Recall]:
    """Ingest every passage into an in-memory knowledge base, then score the questions in each mode."""
    passages, questions = load_set()
    questions = questions[::stride][:limit]
    kb = KnowledgeBase(MemoryStore(), embedder=embedder, max_files=len(passages) + 1, max_chunks=1_000_000)
    started = time.perf_counter()
    for p in passages:
        kb.add(COLLECTION, f"{p['id']}.txt", p["text"].encode("utf-8"))
    ingest = time.perf_counter() - started
    chunks = sum(r.chunks for r in kb.files(COLLECTION))
    out(f"ingested {len(passages)} passages ({chunks} chunks) in {ingest:.1f} s; {len(questions)} questions")
    results: dict[str, Recall] = {}
    for mode in MODES:
        if mode != "bm25" and embedder is None:
            continue
        r = results[mode] = Recall()
        started = time.perf_counter()
        for q in questions:
            ranked = passages_ranked(kb, q["text"], mode)
            r.n += 1
            r.at1 += ranked[:1] == [q["passage"]]
            r.at5 += q["passage"] in ranked
        r.seconds = time.perf_counter() - started
    out("\n| retrieval | recall@1 | recall@5 | per question |\n| --- | --- | --- | --- |")
    for mode, r in results.items():
        out(r.row(mode))
    return results
