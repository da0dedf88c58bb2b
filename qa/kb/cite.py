"""Cited answers: any task answers from a knowledge base by gaining a `citations` field, the retrieved passages
under the question, and the citation check.

The schema's `citations[].chunk` is an enum of the ids actually retrieved, so constrained decoding cannot cite
anything else; `quote` must be copied from that chunk. The check then locates each quote inside its own chunk
only (qa.spans.locate: exact, normalised, bounded fuzzy) and reports every citation as verified or not — an
unverified citation stays in the answer, marked, never dropped and never shown as good. With nothing retrieved
above the threshold the schema allows no citations and the answer says the knowledge base has nothing on it.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from ..checks import BaseCheck, Candidate, CheckContext, Finding, Repair
from ..spans import locate
from ..tasks.base import Task
from .base import Hit

MAX_CITATIONS = 3
MAX_QUOTE = 120
NOTHING_ZH = "知识库中没有与此问题相关的资料，以下回答不依据知识库。"
NOTHING_EN = "The knowledge base has nothing on this question; this answer is not based on it. "


def citation_schema(ids: list[str]) -> dict[str, Any]:
    """The `citations` property: chunk restricted to the given ids (no citations at all when there are none)."""
    chunk: dict[str, Any] = {"type": "string", "enum": list(ids)} if ids else {"type": "string", "maxLength": 1}
    return {
        "type": "array",
        # passages above the threshold were found: at least one citation (an unverifiable one is marked, not hidden)
        "minItems": 1 if ids else 0,
        "maxItems": min(MAX_CITATIONS, len(ids)),
        "description": "先引用【资料】中回答问题的原文：chunk 填片段编号，quote 逐字摘抄该片段中直接回答问题的那一句（不改写，不要摘标题）。"
        if ids
        else "没有资料，留空。",
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["chunk", "quote"],
            "properties": {"chunk": chunk, "quote": {"type": "string", "minLength": 2, "maxLength": MAX_QUOTE}},
        },
    }


def listing(hits: list[Hit]) -> str:
    """The retrieved passages as the model reads them under the question."""
    if not hits:
        return "【资料】知识库中没有与此问题相关的资料。citations 留空。"
    parts = ["【资料】以下是知识库中检索到的片段，回答请依据它们，并在 citations 中逐字引用："]
    for hit in hits:
        c = hit.chunk
        parts.append(f"[片段 {c.id}]（{c.file} 第 {c.page} 页）\n{c.text}")
    return "\n\n".join(parts)


def cited_task(task: Task, hits: list[Hit], collection: str) -> Task:
    """The task as it answers from a knowledge base: schema with citations, passages as context, citation check."""
    schema = copy.deepcopy(task.schema)
    # citations come first: the model copies its evidence before it answers (quote, then answer), and a small
    # model asked for them last tends to close the answer with an empty list
    schema["properties"] = {"citations": citation_schema([h.chunk.id for h in hits]), **schema["properties"]}
    schema["required"] = ["citations", *schema.get("required", [])]
    own = task.context
    passages = listing(hits)

    def context(question: str) -> str:
        extra = own(question) if own is not None else ""
        return f"{extra}\n\n{passages}" if extra else passages

    return dataclasses.replace(
        task,
        prompts=dataclasses.replace(task.prompts, schema=schema),
        checks=(*task.checks, CitationCheck(hits, collection)),
        context=context,
    )


class CitationCheck(BaseCheck):
    """Each citation's quote is located inside the chunk it names (and only there); the report says which are
    verified. Unverified quotes are fed back once for a retry, then kept and marked."""

    name = "citations"
    rules = ("citation_unverified", "citation_unknown_chunk", "kb_nothing", "citations_verified")

    def __init__(self, hits: list[Hit], collection: str) -> None:
        self.collection = collection
        self.chunks = {h.chunk.id: h.chunk for h in hits}

    def verify(self, citations: Any) -> list[dict[str, Any]]:
        """Every citation with its file, page, page offsets and whether its quote was found in its chunk."""
        out = []
        for item in citations if isinstance(citations, list) else []:
            if not isinstance(item, dict):
                continue
            chunk_id, quote = str(item.get("chunk", "")), str(item.get("quote", ""))
            chunk = self.chunks.get(chunk_id)
            row: dict[str, Any] = {"chunk": chunk_id, "quote": quote, "file": None, "page": None,
                                   "start": None, "end": None, "verified": False, "match": "unknown_chunk"}  # fmt: skip
            if chunk is not None:
                found = locate(quote, chunk.text, chunk.start)
                row.update(file=chunk.file, page=chunk.page, match=found.status, verified=found.verified)
                # the passage the page opens, with the quote highlighted at start/end (page offsets)
                row.update(passage=chunk.text, passage_start=chunk.start)
                if found.verified:
                    row.update(start=found.start, end=found.end)
                    if found.status == "fuzzy":
                        row["score"] = found.score
            out.append(row)
        return out

    def _findings(self, rows: list[dict[str, Any]], retry: bool) -> list[Finding]:
        findings = []
        for row in rows:
            if row["match"] == "unknown_chunk":
                findings.append(
                    Finding("citation_unknown_chunk", f"citation of {row['chunk']!r}, which was not retrieved")
                )
            elif not row["verified"]:
                findings.append(
                    Finding(
                        "citation_unverified",
                        f"quote not found in chunk {row['chunk']}: {row['quote'][:60]!r}",
                        problem=f"citations 中片段 {row['chunk']} 的 quote 在该片段中找不到，必须逐字摘抄该片段的原文"
                        if retry
                        else None,
                    )
                )
        return findings

    def inspect(self, ctx: CheckContext, candidate: Candidate) -> list[Finding]:
        if candidate.data is None or not self.chunks:
            return []
        rows = self.verify(candidate.data.get("citations"))
        # only unverified quotes are worth a retry; the unknown-chunk finding comes once, from repair
        return [f for f in self._findings(rows, retry=True) if f.problem]

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        rows = self.verify(data.get("citations"))
        ctx.notes["citations"] = rows
        ctx.notes["collection"] = self.collection
        findings = self._findings(rows, retry=False)
        repairs: list[str] = []
        if not self.chunks:
            findings.append(Finding("kb_nothing", f"the knowledge base {self.collection!r} has nothing on this"))
            note = NOTHING_ZH if ctx.zh else NOTHING_EN
            summary = str(data.get("summary", ""))
            if "summary" in data and not summary.startswith(note):
                limit = ctx.schema.get("properties", {}).get("summary", {}).get("maxLength")
                data = {**data, "summary": (note + summary)[:limit] if limit else note + summary}
                repairs.append("said in the summary that the knowledge base has nothing on this")
        elif rows:
            good = sum(r["verified"] for r in rows)
            findings.append(Finding("citations_verified", f"{good} of {len(rows)} citation(s) verified in their chunk"))
        return Repair(data, findings, repairs)
