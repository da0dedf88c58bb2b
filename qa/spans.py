"""Where a quoted span sits in its source: exact, then normalised, then a bounded fuzzy match — inside one window
of the source only (a knowledge-base chunk, a record sentence), never the whole document.

Offsets are code-point indices into the stored text (`qa.documents.normalise` output). Browsers index UTF-16;
the page converts once when it highlights.

Used by the knowledge base's citation check and by record extraction's evidence check.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Status = Literal["exact", "normalised", "fuzzy", "ungrounded"]
STATUSES: tuple[Status, ...] = ("exact", "normalised", "fuzzy", "ungrounded")

# fuzzy matching is quadratic-ish in the window: longer windows or quotes are not fuzzily searched at all
MAX_FUZZY_WINDOW = 4000
MAX_FUZZY_QUOTE = 400
MIN_FUZZY_QUOTE = 4
_SPACE = re.compile(r"\s+")
# sentence ends: Chinese and Western stops, and line breaks (a record's lines are often fragments)
_SENTENCE_END = re.compile(r"[。！？!?；;]+[”’」』)\]]*|\.(?=\s|$)|\n+")


@dataclass(frozen=True)
class SpanMatch:
    """Where a quote was found: status, code-point start/end in the source (None when ungrounded), and for fuzzy
    matches the similarity score (0–100)."""

    status: Status
    start: int | None = None
    end: int | None = None
    score: float = 100.0

    @property
    def verified(self) -> bool:
        """True when the quote was found (exactly, normalised or fuzzily above the threshold)."""
        return self.status != "ungrounded"


@dataclass(frozen=True)
class Sentence:
    """One numbered sentence of a source text with its code-point offsets (text[start:end] is the sentence)."""

    id: int  # 1-based
    start: int
    end: int
    text: str


def split_sentences(text: str, max_chars: int = 300) -> list[Sentence]:
    """Numbered sentences of a text, with offsets; blank runs are skipped and a sentence longer than max_chars is
    cut into pieces (at a comma when there is one) so a single id never covers a whole paragraph."""
    out: list[Sentence] = []
    begin = 0
    for m in _SENTENCE_END.finditer(text):
        _add(text, begin, m.end(), max_chars, out)
        begin = m.end()
    _add(text, begin, len(text), max_chars, out)
    return out


def _add(text: str, start: int, end: int, max_chars: int, out: list[Sentence]) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    while end - start > max_chars:
        piece = text[start : start + max_chars]
        cut = max(piece.rfind("，"), piece.rfind(","), piece.rfind("、"), piece.rfind(" "))
        stop = start + (cut + 1 if cut > max_chars // 3 else max_chars)
        _add(text, start, stop, max_chars, out)
        start = stop
        while start < end and text[start].isspace():
            start += 1
    if end > start:
        out.append(Sentence(len(out) + 1, start, end, text[start:end]))


def _normal_char(ch: str) -> str:
    """One character as the normalised comparison sees it: NFKC, case-folded; whitespace removed."""
    if ch.isspace():
        return ""
    return unicodedata.normalize("NFKC", ch).casefold()


def _normalised_with_map(text: str) -> tuple[str, list[int]]:
    """The text with every character normalised, and for each output character the index of its source char."""
    chars: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        for out in _normal_char(ch):
            chars.append(out)
            where.append(i)
    return "".join(chars), where


def locate(quote: str, source: str, offset: int = 0, min_score: float = 85.0, fuzzy: bool = True) -> SpanMatch:
    """Find a quote inside one source window; offsets are returned relative to the whole text (`offset` is the
    window's start there). Exact first, then ignoring whitespace/width/case, then fuzzy (rapidfuzz, score ≥
    min_score, windows and quotes above the bounds are not fuzzily searched; `fuzzy=False` skips that step)."""
    quote = quote.strip()
    if not quote or not source:
        return SpanMatch("ungrounded")
    at = source.find(quote)
    if at >= 0:
        return SpanMatch("exact", offset + at, offset + at + len(quote))
    norm_source, where = _normalised_with_map(source)
    norm_quote = "".join(_normal_char(c) for c in quote)
    if norm_quote:
        at = norm_source.find(norm_quote)
        if at >= 0:
            start, end = where[at], where[at + len(norm_quote) - 1] + 1
            return SpanMatch("normalised", offset + start, offset + end)
    if (
        not fuzzy
        or len(norm_quote) < MIN_FUZZY_QUOTE
        or len(norm_quote) > MAX_FUZZY_QUOTE
        or len(norm_source) > MAX_FUZZY_WINDOW
        or not norm_source
    ):
        return SpanMatch("ungrounded")
    from rapidfuzz import fuzz  # lazily: most quotes are exact

    found = fuzz.partial_ratio_alignment(norm_quote, norm_source, score_cutoff=min_score)
    if found is None or found.dest_end <= found.dest_start:
        return SpanMatch("ungrounded")
    start, end = where[found.dest_start], where[found.dest_end - 1] + 1
    return SpanMatch("fuzzy", offset + start, offset + end, round(found.score, 1))
