"""Forbidden prescription-drug names (found however they are disguised, redacted even mid-stream), the
validation report, and helpers over parsed answers."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import PromptError

# Characters that render as nothing: removing them defeats "阿\u200b莫西林"-style evasions.
_INVISIBLE = {
    "\u00ad",
    "\u180e",
    "\u200b",
    "\u200c",
    "\u200d",
    "\u200e",
    "\u200f",
    "\u2060",
    "\u2061",
    "\u2062",
    "\u2063",
    "\u2064",
    "\ufeff",
}
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[a-z0-9]+")
_TRAILING_WORD = re.compile(r"[A-Za-z\uff21-\uff3a\uff41-\uff5a]+$")


def _is_latin_letter(text: str, i: int) -> bool:
    if not 0 <= i < len(text):
        return False
    folded = unicodedata.normalize("NFKC", text[i]).casefold()
    return bool(folded) and "a" <= folded[0] <= "z"


def normalize_with_map(text: str) -> tuple[str, list[int]]:
    """NFKC + casefold, dropping invisible characters, whitespace, punctuation and symbols; with source indexes."""
    out: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text):
        # punctuation and symbols go too: "阿-莫-西-林" and "a.m.o.x.i.l" must read as the names they spell
        if ch in _INVISIBLE or ch.isspace() or unicodedata.category(ch)[0] in "CPSZ":
            continue
        for folded in unicodedata.normalize("NFKC", ch).casefold():
            if folded.isspace():
                continue
            out.append(folded)
            index.append(i)
    return "".join(out), index


def normalize(text: str) -> str:
    """The normalized form names and answers are compared in."""
    return normalize_with_map(text)[0]


@dataclass(frozen=True)
class Drug:
    """One listed prescription drug: its names and its class in both languages."""

    names: tuple[str, ...]
    class_en: str
    class_zh: str


@dataclass(frozen=True)
class DrugMatch:
    """A listed name found in a text, with its span in the original text."""

    name: str
    found: str
    start: int
    end: int
    replacement: str


class DrugList:
    """Finds listed prescription-drug names in text, however they are disguised by width, case or spacing."""

    def __init__(self, drugs: list[Drug]) -> None:
        self.drugs = drugs
        self._by_key: dict[str, Drug] = {}
        for drug in drugs:
            for name in drug.names:
                key = normalize(name)
                if key:
                    self._by_key[key] = drug
        # longest first, so "insulin glargine" wins over a shorter overlapping name
        keys = sorted(self._by_key, key=len, reverse=True)
        # proper prefixes of names: a streamed tail equal to one of these may still become a name
        self.prefixes = {k[:i] for k in keys for i in range(1, len(k))}
        self.longest_key = len(keys[0]) if keys else 0
        self._pattern = re.compile("|".join(re.escape(k) for k in keys)) if keys else None
        # the list's identity: an edited list gives another version, so cached answers checked against the old
        # one are not replayed
        listed = [[d.names, d.class_en, d.class_zh] for d in drugs]
        self.version = hashlib.sha256(json.dumps(listed, ensure_ascii=False).encode("utf-8")).hexdigest()

    @classmethod
    def parse(cls, text: str, where: str = "the drug list") -> DrugList:
        """Read the CSV list (generic_en, generic_zh, brands_en, brands_zh, class_en, class_zh)."""
        rows = list(csv.DictReader(io.StringIO(text)))
        needed = {"generic_en", "generic_zh", "brands_en", "brands_zh", "class_en", "class_zh"}
        if not rows or not needed <= set(rows[0]):
            raise PromptError(f"{where} must be a CSV with columns {', '.join(sorted(needed))}")
        drugs = []
        for row in rows:
            names = [row["generic_en"], row["generic_zh"], *row["brands_en"].split("|"), *row["brands_zh"].split("|")]
            names = tuple(n.strip() for n in names if n and n.strip())
            if names:
                drugs.append(Drug(names=names, class_en=row["class_en"].strip(), class_zh=row["class_zh"].strip()))
        return cls(drugs)

    @classmethod
    def load(cls, path: Path) -> DrugList:
        """Read the CSV list from a file."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise PromptError(f"forbidden drug list not found: {path}") from exc
        return cls.parse(text, str(path))

    def find(self, text: str) -> list[DrugMatch]:
        """Every listed name in text, with spans in the original (un-normalized) text."""
        if self._pattern is None or not text:
            return []
        norm, index = normalize_with_map(text)
        matches = []
        for m in self._pattern.finditer(norm):
            drug = self._by_key[m.group()]
            start, end = index[m.start()], index[m.end() - 1] + 1
            if _LATIN.fullmatch(m.group()) and (_is_latin_letter(text, start - 1) or _is_latin_letter(text, end)):
                continue  # inside a longer word: "specialist" is not "Cialis"
            found = text[start:end]
            # answer in Chinese → Chinese class name, English answer → English class name
            replacement = drug.class_zh if _CJK.search(text) else drug.class_en
            matches.append(DrugMatch(name=m.group(), found=found, start=start, end=end, replacement=replacement))
        return matches

    def redact(self, text: str) -> tuple[str, list[DrugMatch]]:
        """Replace every listed name by its drug class."""
        matches = self.find(text)
        for m in reversed(matches):
            text = text[: m.start] + m.replacement + text[m.end :]
        return text, matches


@dataclass
class RuleHit:
    """One rule that fired on one attempt."""

    rule: str
    message: str
    attempt: int


@dataclass
class ValidationReport:
    """What was checked on an answer, what fired, and what was repaired."""

    checks: list[str] = field(default_factory=list)  # the names of the checks that ran
    fired: list[RuleHit] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    attempts: int = 0
    passed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidationReport:
        """The report to_dict() wrote."""
        return cls(
            checks=list(data["checks"]),
            fired=[RuleHit(**hit) for hit in data["fired"]],
            repairs=list(data["repairs"]),
            attempts=int(data["attempts"]),
            passed=bool(data["passed"]),
        )


def string_fields(data: Any) -> list[str]:
    """Every string in a parsed answer."""
    if isinstance(data, str):
        return [data]
    if isinstance(data, list):
        return [s for item in data for s in string_fields(item)]
    if isinstance(data, dict):
        return [s for value in data.values() for s in string_fields(value)]
    return []


def map_strings(data: Any, fn: Any) -> Any:
    """A copy of data with fn applied to every string."""
    if isinstance(data, str):
        return fn(data)
    if isinstance(data, list):
        return [map_strings(item, fn) for item in data]
    if isinstance(data, dict):
        return {key: map_strings(value, fn) for key, value in data.items()}
    return data


class StreamRedactor:
    """Redacts listed names from a growing text, holding back only a tail that could still become a name.

    `feed(chunk)` returns the text that is now safe to show; `finish()` returns the rest. Nothing returned ever
    contains a listed name, even when a name arrives split over several chunks or disguised by spacing.
    """

    def __init__(self, drugs: DrugList) -> None:
        self.drugs = drugs
        self.raw = ""
        self._emitted = 0  # characters of the redacted safe prefix already returned

    def _safe_end(self) -> int:
        """Index in raw before which no name can still start."""
        norm, index = normalize_with_map(self.raw)
        end = len(self.raw)
        for length in range(min(len(norm), self.drugs.longest_key), 0, -1):
            if norm[-length:] in self.drugs.prefixes:
                end = index[len(norm) - length]
                break
        # a trailing Latin word may still grow ("Amoxil" → "Amoxilx" is no longer a name), so it waits too
        word = _TRAILING_WORD.search(self.raw[:end])
        end = word.start() if word else end
        # never cut through a name already complete: its redaction must come out whole
        for match in self.drugs.find(self.raw):
            if match.start < end < match.end:
                end = match.start
        return end

    def _emit(self, end: int) -> str:
        redacted, _ = self.drugs.redact(self.raw[:end])
        out = redacted[self._emitted :]
        self._emitted = max(self._emitted, len(redacted))
        return out

    def feed(self, chunk: str) -> str:
        """Add a chunk; return newly safe text."""
        self.raw += chunk
        return self._emit(self._safe_end())

    def finish(self) -> str:
        """The held-back tail, redacted."""
        return self._emit(len(self.raw))


def fit_to_schema(data: dict[str, Any], schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Trim strings and lists that repairs made longer than the schema allows; returns what was trimmed."""
    trimmed: list[str] = []

    def cut(text: str, limit: int | None, where: str) -> str:
        if limit is not None and len(text) > limit:
            trimmed.append(f"shortened {where} to {limit} characters")
            return text[: limit - 1] + "…"
        return text

    fitted = dict(data)
    for key, prop in schema.get("properties", {}).items():
        value = fitted.get(key)
        if isinstance(value, str):
            fitted[key] = cut(value, prop.get("maxLength"), key)
        elif isinstance(value, list):
            limit = prop.get("maxItems")
            if limit is not None and len(value) > limit:
                trimmed.append(f"kept the first {limit} items of {key}")
                value = value[:limit]
            item_limit = prop.get("items", {}).get("maxLength")
            fitted[key] = [cut(v, item_limit, f"{key}[{i}]") if isinstance(v, str) else v for i, v in enumerate(value)]
    return fitted, trimmed
