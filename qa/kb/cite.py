"""Cited answers: any task answers from a knowledge base by gaining a `citations` field, the retrieved passages
under the question, and the citation check.

The model cites by choosing a sentence of the passages, never by copying free text. The passages are shown one
sentence a line; the sentences the ranker (qa.kb.rank: the rarity of the question's terms they hold, mixed with
e5 similarity) puts first are numbered — OFFERED of them, by default one, so the app chooses the citation and
the model writes its answer after reading it — and the schema's `citations[].quote` is an enum of exactly those
sentences (with `by="id"`, `citations[].sentence` an enum of their numbers), so constrained decoding can cite
nothing else.
Heading-like lines (the document's first line, a short line without a sentence-final stop) are shown for context
but never offered: a title is a true quote that supports nothing, and the 0.5B model used to quote it. The app
fills chunk, quote, file, page and offsets from the chosen sentence, and the check still locates each quote inside
its own chunk only (qa.spans.locate: exact, normalised, bounded fuzzy) and reports every citation as verified or
not — a citation that cannot be verified stays in the answer, marked, never dropped and never shown as good. With
nothing retrieved above the threshold the schema allows no citations and the answer says the knowledge base has
nothing on it.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from ..checks import BaseCheck, Candidate, CheckContext, Finding, Repair
from ..spans import locate, split_sentences
from ..tasks.base import Task
from .base import Hit
from .rank import Ranker, SentenceRanker, best_first
from .store import Chunk

By = Literal["id", "text"]
# how the model names its sentence: by its text (the 0.5B model wrote "2" whatever the numbers meant; BENCHMARKS.md)
CHOOSE_BY: By = "text"
# sentences offered for citation: the ranker's first. Offered three (the answer's sentence among them 9 of 9), the
# 0.5B model chose a supporting one 5 of 9 times; offered the first alone, 9 of 9 (BENCHMARKS.md, fourth session)
OFFERED = 1
MAX_CITATIONS = 3
# a quote of two sentences (the ranker's first and its neighbour, when the ranker barely tells them apart) is at
# most this long: a citation points at the evidence, it does not paste the passage
PAIR_MAX_CHARS = 200
# a line without a sentence-final stop up to this long is a heading (a title, "诊断标准如下："), not an answer
HEADING_CHARS = 40
MIN_SENTENCE_CHARS = 6  # shorter "sentences" ("是的。", a list number) answer nothing on their own
NOTHING_ZH = "知识库中没有与此问题相关的资料，以下回答不依据知识库。"
NOTHING_EN = "The knowledge base has nothing on this question; this answer is not based on it. "
# a sentence-final stop, or a comma: a long sentence cut into pieces (qa.spans) is not a heading either
_SAYS = re.compile(r"(?:[。！？!?；;…，,、]|\.)[”’」』\"')）\]]*$")


@dataclass(frozen=True)
class PassageSentence:
    """One sentence of a retrieved passage as the model reads it: its number (None when it is not offered for
    citation: a heading, or less related to the question), its chunk, and its code-point start/end in the chunk's
    page (page[start:end] == text)."""

    id: str | None
    chunk: Chunk
    start: int
    end: int
    text: str


def is_heading(chunk: Chunk, start: int, text: str) -> bool:
    """A line that names a topic rather than says something: the document's first line, or a short line without
    a sentence-final stop (start is the sentence's offset in the chunk's page)."""
    if len(text) < MIN_SENTENCE_CHARS:
        return True
    if _SAYS.search(text):
        return False
    first_line = chunk.page == 1 and chunk.seq == 0 and start == chunk.start
    return first_line or len(text) <= HEADING_CHARS


Row = tuple[Chunk, int, int, str]  # a shown sentence: its chunk, page start/end, text


def shown_rows(hits: list[Hit], avoid: Callable[[str], bool] | None = None) -> tuple[list[Row], list[bool]]:
    """The retrieved passages' sentences in the order shown, each once, and which of them may be cited: not
    headings (unless nothing else is there: something must be citable) and never one that `avoid` refuses."""
    rows: list[Row] = []
    seen = set()
    for hit in hits:
        c = hit.chunk
        for s in split_sentences(c.text):
            where = (c.file, c.page, c.start + s.start)
            if where not in seen:  # the chunk overlap repeats a short sentence: it is shown (and offered) once
                seen.add(where)
                rows.append((c, c.start + s.start, c.start + s.end, s.text))
    citable = [avoid is None or not avoid(text) for _, _, _, text in rows]
    offered = [ok and not is_heading(c, start, text) for ok, (c, start, _, text) in zip(citable, rows, strict=True)]
    if not any(offered):
        offered = citable
    return rows, offered


def where(row: Row) -> tuple[str, int]:
    """A shown sentence's document and its place there, as the learned ranker reads them (its neighbours and the
    document's first sentence are found within one file)."""
    chunk, start, _, _ = row
    return chunk.file, chunk.page * 10_000_000 + start


def pair_with(rows: list[Row], best: int, second: int, gap: float, margin: float) -> int | None:
    """The row to quote together with row `best` (the ranker's first): `second`, the runner-up, when the ranker
    puts it within `margin` of the first (`gap`, in its score's units), it is the first's neighbour in the same
    chunk and paragraph, and the two together stay within PAIR_MAX_CHARS; else None."""
    if margin <= 0 or gap > margin or abs(best - second) != 1:
        return None
    (c1, start1, end1, _), (c2, start2, end2, _) = rows[min(best, second)], rows[max(best, second)]
    if c1 is not c2 or "\n" in c1.text[end1 - c1.start : start2 - c1.start] or end2 - start1 > PAIR_MAX_CHARS:
        return None
    return second


def sentences(
    hits: list[Hit],
    question: str = "",
    offer: int | None = None,
    avoid: Callable[[str], bool] | None = None,
    ranker: Ranker | None = None,
    pair_margin: float = 0.0,
) -> list[PassageSentence]:
    """The retrieved passages' sentences in the order shown, each once; those offered for citation (shown_rows)
    numbered 1, 2, … across all passages and, with a question and `offer`, only that many: the ones the ranker
    (lexical alone by default) puts first (ties: the first shown). With one offered and `pair_margin`, the first
    and its neighbour are offered as one quote when the ranker barely prefers the first (pair_with)."""
    rows, offered = shown_rows(hits, avoid)
    if question and offer and sum(offered) > offer:
        candidates = [i for i, ok in enumerate(offered) if ok]
        scores = (ranker or SentenceRanker()).scores(
            question, [rows[i][3] for i in candidates], [where(rows[i]) for i in candidates]
        )
        order = best_first(scores)
        keep = {candidates[i] for i in order[:offer]}
        offered = [i in keep for i in range(len(rows))]
        if offer == 1 and len(order) > 1:
            best, second = candidates[order[0]], candidates[order[1]]
            other = pair_with(rows, best, second, scores[order[0]] - scores[order[1]], pair_margin)
            if other is not None:
                # one quote over both sentences (and what lies between them in the chunk): the chunk's own text,
                # so the check still finds it there exactly; the later row is folded into the earlier one
                first, last = min(best, other), max(best, other)
                c, start, _, _ = rows[first]
                end = rows[last][2]
                rows[first] = (c, start, end, c.text[start - c.start : end - c.start])
                del rows[last], offered[last]
                offered[first] = True
    out, number = [], 0
    for (c, start, end, text), ok in zip(rows, offered, strict=True):
        number += ok
        out.append(PassageSentence(str(number) if ok else None, c, start, end, text))
    return out


def citation_schema(shown: list[PassageSentence], by: By = CHOOSE_BY) -> dict[str, Any]:
    """The `citations` property: each citation one of the offered sentences, by its text or its number (no
    citations at all when nothing was offered)."""
    if by == "id":
        choices = [s.id for s in shown if s.id is not None]
        field, description = "sentence", "sentence 填【资料】中直接回答问题的那一句句首的编号（不要选标题）。"
    else:
        choices = list(dict.fromkeys(s.text for s in shown if s.id is not None))
        field, description = "quote", "quote 原样选取【资料】中直接回答问题的那一句（不要选标题）。"
    value: dict[str, Any] = {"type": "string", "enum": choices} if choices else {"type": "string", "maxLength": 1}
    return {
        "type": "array",
        # passages above the threshold were found: at least one citation (an unverifiable one is marked, not hidden)
        "minItems": 1 if choices else 0,
        "maxItems": min(MAX_CITATIONS, len(choices)),
        "description": f"先引用依据：{description}" if choices else "没有资料，留空。",
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": [field],
            "properties": {field: value},
        },
    }


def listing(shown: list[PassageSentence], by: By = CHOOSE_BY) -> str:
    """The retrieved passages as the model reads them under the question: one sentence a line, those it may cite
    numbered."""
    if not shown:
        return "【资料】知识库中没有与此问题相关的资料。citations 留空。"
    how = "填直接回答问题的那一句的编号" if by == "id" else "原样选取直接回答问题的那一句"
    parts = [
        "【资料】以下是知识库中检索到的片段，每句前的 [数字] 是该句的编号。"
        f"回答请依据它们，并在 citations 中{how}（标题没有编号，不能引用）："
    ]
    chunk = None
    for s in shown:
        if s.chunk is not chunk:
            chunk = s.chunk
            parts.append(f"\n[片段 {chunk.id}]（{chunk.file} 第 {chunk.page} 页）")
        parts.append(f"[{s.id}] {s.text}" if s.id is not None else s.text)
    return "\n".join(parts)


def cited_task(
    task: Task,
    hits: list[Hit],
    collection: str,
    question: str = "",
    by: By = CHOOSE_BY,
    offer: int = OFFERED,
    avoid: Callable[[str], bool] | None = None,
    ranker: Ranker | None = None,
    pair_margin: float = 0.0,
) -> Task:
    """The task as it answers from a knowledge base: schema with citations, passages as context, citation check.
    `avoid` keeps sentences from being offered (the service: those naming a prescription drug, which the drug
    check would redact in the quote, so that it no longer is the sentence the schema allows)."""
    shown = sentences(hits, question, offer, avoid, ranker, pair_margin)
    schema = copy.deepcopy(task.schema)
    # citations come first: the model picks its evidence before it answers (quote, then answer), and a small
    # model asked for them last tends to close the answer with an empty list
    schema["properties"] = {"citations": citation_schema(shown, by), **schema["properties"]}
    schema["required"] = ["citations", *schema.get("required", [])]
    own = task.context
    passages = listing(shown, by)

    def context(question: str) -> str:
        extra = own(question) if own is not None else ""
        return f"{extra}\n\n{passages}" if extra else passages

    return dataclasses.replace(
        task,
        prompts=dataclasses.replace(task.prompts, schema=schema),
        checks=(*task.checks, CitationCheck(hits, collection, shown)),
        context=context,
    )


class CitationCheck(BaseCheck):
    """Each citation names an offered sentence; the app fills chunk, quote, file, page and offsets from it, and
    the quote is then located inside its chunk (and only there): the report says which are verified."""

    name = "citations"
    rules = ("citation_unverified", "citation_not_offered", "kb_nothing", "citations_verified")

    def __init__(self, hits: list[Hit], collection: str, offered: list[PassageSentence] | None = None) -> None:
        self.collection = collection
        self.chunks = {h.chunk.id: h.chunk for h in hits}
        offered = sentences(hits) if offered is None else offered
        self.by_id = {s.id: s for s in offered if s.id is not None}
        self.by_text: dict[str, PassageSentence] = {}
        for s in offered:  # a sentence repeated in two passages (chunk overlap) cites the better-ranked one
            if s.id is not None:
                self.by_text.setdefault(s.text, s)

    def choice(self, item: dict[str, Any]) -> PassageSentence | None:
        """The offered sentence a citation names (by number or by text), None when it names none."""
        if "sentence" in item:
            return self.by_id.get(str(item["sentence"]))
        return self.by_text.get(str(item.get("quote", "")))

    def verify(self, citations: Any) -> list[dict[str, Any]]:
        """Every citation with its chunk, quote, file, page, page offsets and whether its quote was found in its
        chunk."""
        out = []
        for item in citations if isinstance(citations, list) else []:
            if not isinstance(item, dict):
                continue
            chosen = self.choice(item)
            chunk = None if chosen is None else self.chunks.get(chosen.chunk.id)
            row: dict[str, Any] = {"chunk": None, "quote": str(item.get("quote", "")), "file": None, "page": None,
                                   "start": None, "end": None, "verified": False, "match": "not_offered"}  # fmt: skip
            if "sentence" in item:
                row["sentence"] = str(item["sentence"])
            if chosen is not None and chunk is not None:
                # the quote is the chosen sentence, copied by the app; locating it in its chunk is the check that
                # what is shown as verified really is there (page offsets)
                found = locate(chosen.text, chunk.text, chunk.start)
                row.update(chunk=chunk.id, quote=chosen.text, sentence=chosen.id, file=chunk.file, page=chunk.page)
                row.update(match=found.status, verified=found.verified)
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
            if row["match"] == "not_offered":
                named = row.get("sentence") or row["quote"][:60]
                findings.append(Finding("citation_not_offered", f"citation of {named!r}, which was not offered"))
            elif not row["verified"]:
                findings.append(
                    Finding(
                        "citation_unverified",
                        f"quote not found in chunk {row['chunk']}: {row['quote'][:60]!r}",
                        problem="citations 中引用的句子在其片段中找不到，请从【资料】中选择直接回答问题的句子"
                        if retry
                        else None,
                    )
                )
        return findings

    def inspect(self, ctx: CheckContext, candidate: Candidate) -> list[Finding]:
        if candidate.data is None or not self.chunks:
            return []
        rows = self.verify(candidate.data.get("citations"))
        # only unverified quotes are worth a retry here (a sentence not offered is a schema error, retried there);
        # the not-offered finding comes once, from repair
        return [f for f in self._findings(rows, retry=True) if f.problem]

    def once(self, citations: Any) -> tuple[Any, int]:
        """The citations with a sentence cited again left out (the grammar cannot forbid repeats), and how many
        were: the same sentence shown twice would count as two pieces of evidence."""
        if not isinstance(citations, list):
            return citations, 0
        kept, seen = [], set()
        for item in citations:
            chosen = self.choice(item) if isinstance(item, dict) else None
            key = None if chosen is None else (chosen.chunk.file, chosen.chunk.page, chosen.start)
            if key is not None and key in seen:
                continue
            seen.add(key)
            kept.append(item)
        return kept, len(citations) - len(kept)

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        repairs: list[str] = []
        citations, repeated = self.once(data.get("citations"))
        if repeated:
            data = {**data, "citations": citations}
            repairs.append(f"left out {repeated} citation(s) repeating a sentence already cited")
        rows = self.verify(citations)
        ctx.notes["citations"] = rows
        ctx.notes["collection"] = self.collection
        findings = self._findings(rows, retry=False)
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
