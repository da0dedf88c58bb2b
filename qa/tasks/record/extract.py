"""Record extraction: a long medical record in, structured fields out, every value tied to the words it came from.

Grounding by construction: the record is split into numbered sentences (`qa.spans.split_sentences`) and each
generation runs under a schema built for its window of sentences, in which every value carries
`evidence: {sentence: <enum of the window's sentence ids>, quote}` — the grammar cannot write a sentence id that
is not there. The `evidence` check then finds the quote inside the cited sentence only (`qa.spans.locate`: exact,
normalised, bounded fuzzy, else ungrounded) and gives every field start/end code-point offsets into the stored
(NFKC) record text. Ungrounded fields are kept and shown as unverified, never dropped.

A record longer than the context is read in overlapping windows of whole sentences; the windows' fields are merged
in order, and a later window's value whose span overlaps one already kept for the same field is left out (first
pass wins).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from ...answers import Answer, StreamEvent, add_stats, params_dict, usage_of
from ...documents import normalise
from ...errors import InputError, PromptError
from ...spans import STATUSES, Sentence, locate, split_sentences
from ...types import ChatMessage, GenerationRequest, GenerationStats, SamplingParams
from ...validation import DrugList, RuleHit, StreamRedactor, ValidationReport, map_strings
from ..base import PromptSet
from .view import export_json, export_markdown, render_extraction

log = logging.getLogger(__name__)

EVIDENCE = "evidence"
QUOTE_MAX = 120  # a quote is the few words of one value, not a sentence copied whole
DEFAULT_MAX_ITEMS = 10
# a user's field schema: small, plain, closed (checked before anything is compiled or generated)
USER_SCHEMA_MAX_BYTES = 16_000
USER_SCHEMA_MAX_DEPTH = 5
USER_SCHEMA_MAX_FIELDS = 30
USER_SCHEMA_MAX_ITEMS = 20
USER_SCHEMA_MAX_LENGTH = 500
_KEYWORDS = {
    "type",
    "properties",
    "required",
    "additionalProperties",
    "items",
    "enum",
    "title",
    "description",
    "maxLength",
    "minLength",
    "maxItems",
    "minItems",
    "minimum",
    "maximum",
}
_TYPES = {"string", "integer", "number", "boolean", "object", "array"}
_FIELD_NAME = re.compile(r"^[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]{0,39}$")
CHECKS = ("json", "schema", "evidence", "forbidden_drugs")
RULES = ("json", "schema", "truncated", "ungrounded", "evidence_moved", "fuzzy_evidence", "forbidden_drugs", "windows")

# what the task returns (the API's response_schema and the CLI's JSON)
RESPONSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["fields", "record", "counts"],
    "properties": {
        "fields": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "value", "quote", "start", "end", "status", "sentence"],
                "properties": {
                    "name": {"type": "string"},
                    "value": {},
                    "quote": {"type": "string"},
                    "start": {"type": ["integer", "null"]},
                    "end": {"type": ["integer", "null"]},
                    "status": {"enum": list(STATUSES)},
                    "sentence": {"type": "integer"},
                    "score": {"type": "number"},
                },
            },
        },
        "record": {"type": "object"},
        "counts": {"type": "object"},
    },
}


# ---- schemas --------------------------------------------------------------------------------------------------------
def check_field_schema(value: Any) -> dict[str, Any]:
    """A user's field schema (JSON text or a parsed object), bounded, validated and closed; InputError (code
    `bad_schema`) naming what is wrong. The app adds the evidence to every field itself."""

    def bad(message: str) -> InputError:
        return InputError(f"字段 schema 无效 / invalid field schema: {message}", param="schema", code="bad_schema")

    if isinstance(value, (bytes, str)):
        size = len(value if isinstance(value, bytes) else value.encode("utf-8"))
        if size > USER_SCHEMA_MAX_BYTES:
            raise bad(f"{size:,} bytes is more than the limit of {USER_SCHEMA_MAX_BYTES:,}")
        try:
            value = json.loads(value)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise bad(f"not valid JSON ({exc})") from None
    elif len(json.dumps(value, ensure_ascii=False).encode("utf-8")) > USER_SCHEMA_MAX_BYTES:
        raise bad(f"more than {USER_SCHEMA_MAX_BYTES:,} bytes")
    if not isinstance(value, dict):
        raise bad("the schema must be a JSON object")
    try:
        Draft202012Validator.check_schema(value)
    except SchemaError as exc:
        raise bad(f"not a valid JSON Schema: {exc.message}") from None
    _check_node(value, "$", 0, bad)
    if value.get("type") != "object":
        raise bad("$: the top level must be an object of fields")
    if len(value["properties"]) > USER_SCHEMA_MAX_FIELDS:
        raise bad(f"$: at most {USER_SCHEMA_MAX_FIELDS} fields, not {len(value['properties'])}")
    for name, prop in value["properties"].items():
        if prop.get("type") == "array" and prop["items"].get("type") == "array":
            raise bad(f"$.{name}: a list of lists is not supported")
    return value


def _check_node(node: Any, where: str, depth: int, bad: Callable[[str], InputError]) -> None:
    if depth > USER_SCHEMA_MAX_DEPTH:
        raise bad(f"{where}: nested deeper than {USER_SCHEMA_MAX_DEPTH} levels")
    if not isinstance(node, dict):
        raise bad(f"{where}: every schema must be an object")
    unknown = sorted(set(node) - _KEYWORDS)
    if unknown:
        raise bad(f"{where}: keywords not allowed here: {', '.join(unknown)} (allowed: {', '.join(sorted(_KEYWORDS))})")
    kind = node.get("type")
    if not isinstance(kind, str) or kind not in _TYPES:
        raise bad(f"{where}: type must be one of {', '.join(sorted(_TYPES))} (one type, not a list)")
    if kind == "object":
        props = node.get("properties")
        if not isinstance(props, dict) or not props:
            raise bad(f"{where}: an object needs properties")
        if node.get("additionalProperties") is not False:
            raise bad(f"{where}: objects must be closed (additionalProperties: false)")
        if set(node.get("required", [])) != set(props):
            raise bad(f"{where}: every property must be required")
        for name, prop in props.items():
            if not _FIELD_NAME.match(name):
                raise bad(f"{where}: property name {name!r} must be letters, digits or _ (at most 40)")
            if name == EVIDENCE and depth == 0:
                raise bad(f"{where}: '{EVIDENCE}' is added by the app; use another name")
            _check_node(prop, f"{where}.{name}", depth + 1, bad)
    elif kind == "array":
        if "items" not in node:
            raise bad(f"{where}: an array needs items")
        if node.get("maxItems", 0) > USER_SCHEMA_MAX_ITEMS:
            raise bad(f"{where}: maxItems at most {USER_SCHEMA_MAX_ITEMS}")
        _check_node(node["items"], f"{where}[]", depth + 1, bad)
    elif kind == "string" and node.get("maxLength", 0) > USER_SCHEMA_MAX_LENGTH:
        raise bad(f"{where}: maxLength at most {USER_SCHEMA_MAX_LENGTH}")


def _bounded(node: dict[str, Any]) -> dict[str, Any]:
    """A value schema as the grammar gets it: strings and lists bounded, so one field cannot run to the limit."""
    node = dict(node)
    kind = node.get("type")
    if kind == "string" and "enum" not in node:
        node.setdefault("maxLength", 200)
    elif kind == "array":
        node["items"] = _bounded(node["items"])
        node.setdefault("maxItems", DEFAULT_MAX_ITEMS)
    elif kind == "object":
        node["properties"] = {k: _bounded(v) for k, v in node["properties"].items()}
    return node


def evidence_schema(sentence_ids: list[int]) -> dict[str, Any]:
    """The evidence every value carries: a sentence id from this list only, and the words quoted from it."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["sentence", "quote"],
        "properties": {
            "sentence": {"type": "integer", "enum": list(sentence_ids)},
            "quote": {"type": "string", "minLength": 1, "maxLength": QUOTE_MAX},
        },
    }


def is_list_field(prop: dict[str, Any]) -> bool:
    """True for a field that holds several values (an array in the field schema)."""
    return prop.get("type") == "array"


def extraction_schema(fields: dict[str, Any], sentence_ids: list[int]) -> dict[str, Any]:
    """The schema one generation runs under: every field a list of {evidence, value} (a single-valued field at
    most one), evidence first so the model picks its words before it writes the value."""
    evidence = evidence_schema(sentence_ids)
    props: dict[str, Any] = {}
    for name, prop in fields["properties"].items():
        many = is_list_field(prop)
        value = prop["items"] if many else prop
        value = {k: v for k, v in _bounded(value).items() if k not in ("title", "description")}
        props[name] = {
            "type": "array",
            "maxItems": prop.get("maxItems", DEFAULT_MAX_ITEMS) if many else 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": [EVIDENCE, "value"],
                "properties": {EVIDENCE: evidence, "value": value},
            },
        }
    return {"type": "object", "additionalProperties": False, "required": list(props), "properties": props}


def describe_fields(fields: dict[str, Any]) -> str:
    """The field list for the prompt: each field's meaning and whether it holds one value or several."""
    lines = []
    for name, prop in fields["properties"].items():
        many = is_list_field(prop)
        value = prop["items"] if many else prop
        how = f"最多 {prop.get('maxItems', DEFAULT_MAX_ITEMS)} 条" if many else "最多 1 条"
        if value.get("type") == "object":
            how += "，value 是对象，含 " + "、".join(value["properties"])
        elif value.get("enum"):
            how += "，value 取 " + "/".join(str(v) for v in value["enum"])
        label = prop.get("description") or prop.get("title") or ""
        lines.append(f"- {name}（{how}）：{label}")
    return "\n".join(lines)


def numbered(sentences: list[Sentence]) -> str:
    """The sentences as the model reads them: `[id] text`, one a line."""
    return "\n".join(f"[{s.id}] {s.text}" for s in sentences)


# ---- windows ------------------------------------------------------------------------------------------------------
def windows(
    costs: list[int], budget: int, overlap: int, sizes: list[int] | None = None, max_chars: int | None = None
) -> list[tuple[int, int]]:
    """Consecutive [start, end) runs of sentences whose token costs fit the budget (and whose characters stay
    within max_chars), each starting `overlap` sentences before the previous one ended (always moving on by at
    least one); a sentence larger than the budget alone makes a window of its own (the caller refuses it)."""
    out: list[tuple[int, int]] = []
    start = 0
    while start < len(costs):
        end, used, chars = start, 0, 0
        while end < len(costs) and (
            end == start
            or (used + costs[end] <= budget and (max_chars is None or sizes is None or chars + sizes[end] <= max_chars))
        ):
            used += costs[end]
            chars += sizes[end] if sizes is not None else 0
            end += 1
        out.append((start, end))
        if end >= len(costs):
            break
        start = max(end - overlap, start + 1)
    return out


# ---- results ------------------------------------------------------------------------------------------------------
@dataclass
class Field:
    """One extracted value with its evidence and where that evidence is in the record."""

    name: str
    value: Any
    quote: str
    sentence: int
    status: str
    start: int | None
    end: int | None
    score: float = 100.0
    window: int = 1
    cited: int | None = None  # the sentence the model named, when the quote was found in another one

    def to_dict(self) -> dict[str, Any]:
        """The output form: name, value, quote, start, end, status, sentence (and the fuzzy score)."""
        out = {
            "name": self.name,
            "value": self.value,
            "quote": self.quote,
            "start": self.start,
            "end": self.end,
            "status": self.status,
            "sentence": self.sentence,
        }
        if self.status == "fuzzy":
            out["score"] = self.score
        if self.cited is not None:
            out["cited_sentence"] = self.cited
        return out


def verify(
    name: str,
    item: dict[str, Any],
    sentences: dict[int, Sentence],
    window: int = 1,
    shown: list[Sentence] | None = None,
) -> Field:
    """The evidence check for one value: its quote located inside the cited sentence (exact, normalised, fuzzy).

    A quote that is not in the cited sentence but is, exactly or normalised, in another sentence the model was
    shown (`shown`: its window) is moved to the nearest such sentence and keeps `cited` = the id the model wrote,
    so the report says so: a small model copies the example's sentence numbers while quoting the right words, and
    the words are what a clinician checks. There is no fuzzy search outside the cited sentence."""
    evidence = item.get(EVIDENCE) or {}
    sid = evidence.get("sentence")
    quote = str(evidence.get("quote", ""))
    sentence = sentences.get(sid) if isinstance(sid, int) else None
    if sentence is None:  # a grammar makes this impossible; an engine without one might still write it
        return Field(name, item.get("value"), quote, sid if isinstance(sid, int) else 0, "ungrounded", None, None, 0.0)
    found = locate(quote, sentence.text, sentence.start)
    if not found.verified and shown:
        moved = []
        for other in shown:
            if other.id == sid:
                continue
            match = locate(quote, other.text, other.start, fuzzy=False)
            if match.verified:
                moved.append((abs(other.id - sid), other.id, match))
        if moved:
            _, new_id, match = min(moved, key=lambda m: (m[0], m[1]))
            return Field(
                name, item.get("value"), quote, new_id, match.status, match.start, match.end, match.score, window, sid
            )
    return Field(name, item.get("value"), quote, sid, found.status, found.start, found.end, found.score, window)


def merge(kept: list[Field], new: list[Field], single: set[str]) -> tuple[list[Field], int]:
    """Add a later window's fields: first pass wins on an overlapping span of the same field, on the same
    unlocated value, and on a single-valued field already filled; returns the fields and how many were left out."""
    left_out = 0
    out = list(kept)
    for f in new:
        same = [k for k in out if k.name == f.name]
        if f.name in single and same:
            left_out += 1
        elif f.start is not None and any(
            k.start is not None and k.end is not None and f.end is not None and k.start < f.end and f.start < k.end
            for k in same
        ):
            left_out += 1
        elif f.start is None and any(k.start is None and k.value == f.value for k in same):
            left_out += 1
        else:
            out.append(f)
    return out, left_out


def counts(fields: list[Field]) -> dict[str, int]:
    """Fields per verification status."""
    return {s: sum(f.status == s for f in fields) for s in STATUSES}


# ---- the extractor ------------------------------------------------------------------------------------------------
@dataclass
class Window:
    """One generation's share of the record: sentence ids and the schema built for them."""

    number: int
    sentences: list[Sentence]
    schema: dict[str, Any]
    messages: list[ChatMessage] = field(default_factory=list)


class Extractor:
    """Runs record extraction for a task: windows, one constrained generation each, evidence check, merge."""

    response_schema = RESPONSE_SCHEMA
    check_names = CHECKS
    rules = RULES

    def __init__(self, prompts: PromptSet, example: tuple[str, dict[str, Any]] | None) -> None:
        self.prompts = prompts
        self.example = example
        if example is not None:  # fail at load, not at the first record, if the example does not fit its schema
            sentences = split_sentences(example[0])
            schema = extraction_schema(prompts.schema, [s.id for s in sentences])
            errors = [e.message for e in Draft202012Validator(schema).iter_errors(example[1])]
            if errors:
                raise PromptError(f"record example does not satisfy its extraction schema: {'; '.join(errors[:3])}")
            bad = [
                f"{name}: {item[EVIDENCE]['quote']}"
                for name, items in example[1].items()
                for item in items
                if locate(item[EVIDENCE]["quote"], sentences[item[EVIDENCE]["sentence"] - 1].text).status != "exact"
            ]
            if bad:
                raise PromptError(f"record example quotes not found in their sentences: {'; '.join(bad)}")

    @staticmethod
    def render(text: str, data: dict[str, Any]) -> str:
        """The page's HTML of an extraction (escaped): the highlighted record and the table of fields."""
        return render_extraction(text, data)

    @staticmethod
    def export(kind: str, text: str, data: dict[str, Any], extra: dict[str, Any] | None = None) -> tuple[str, str]:
        """An extraction as a download: (text, suffix) for kind json (fields, offsets and the stored record) or md."""
        if kind == "json":
            return export_json(text, data, extra), ".json"
        return export_markdown(text, data), ".md"

    @staticmethod
    def check_field_schema(value: Any) -> dict[str, Any]:
        """A caller's field schema, checked and bounded (see check_field_schema)."""
        return check_field_schema(value)

    @staticmethod
    def check_record(value: Any, max_chars: int) -> str:
        """The record as stored (NFKC, the form every offset indexes); InputError when it is not text, empty or
        longer than max_chars."""
        if not isinstance(value, str):
            raise InputError("the record must be text", param="record")
        text = normalise(value)
        if not text:
            raise InputError(
                "请粘贴或上传病历（病历不能为空）。 The record is empty.", param="record", code="empty_document"
            )
        if len(text) > max_chars:
            raise InputError(
                f"病历过长：{len(text)} 个字符，上限为 {max_chars} 个字符。 The record has {len(text)} characters; "
                f"the limit is {max_chars}.",
                param="record",
                code="record_too_long",
            )
        return text

    def system_prompt(self, fields: dict[str, Any]) -> str:
        """The system prompt with the field list spelled out from the field schema."""
        return self.prompts.render(self.prompts.system_template, answer_format=describe_fields(fields))

    def messages(self, fields: dict[str, Any], sentences: list[Sentence], example: bool) -> list[ChatMessage]:
        """Chat messages for one window: system prompt, the example exchange (default fields only), the record."""
        out: list[ChatMessage] = [{"role": "system", "content": self.system_prompt(fields)}]
        if example and self.example is not None:
            shown = numbered(split_sentences(self.example[0]))
            out.append({"role": "user", "content": self.prompts.render(self.prompts.user_template, question=shown)})
            out.append({"role": "assistant", "content": json.dumps(self.example[1], ensure_ascii=False)})
        out.append(
            {"role": "user", "content": self.prompts.render(self.prompts.user_template, question=numbered(sentences))}
        )
        return out

    def plan(
        self,
        text: str,
        fields: dict[str, Any] | None,
        count_tokens: Callable[[list[ChatMessage]], int],
        budget: int,
        overlap: int = 2,
        max_chars: int | None = None,
    ) -> list[Window]:
        """The record's windows: as many whole sentences as fit the prompt budget (tokens), overlapping by a few
        sentences; InputError when the record has no text or one sentence alone cannot fit."""
        fields = fields or self.prompts.schema
        sentences = split_sentences(text)
        if not sentences:
            raise InputError("病历为空 / the record has no text", param="record", code="empty_document")
        example = fields is self.prompts.schema
        base = count_tokens(self.messages(fields, [], example))
        if base >= budget and example:
            example, base = False, count_tokens(self.messages(fields, [], False))
        room = budget - base
        if room <= 0:
            raise InputError(
                f"上下文不足以放下提取提示 / the context ({budget} tokens for the prompt) cannot hold the extraction "
                f"prompt ({base} tokens); lower max_new_tokens or use a model with a longer context",
                param="record",
                code="context_length_exceeded",
            )
        empty = count_tokens([{"role": "user", "content": ""}])
        costs = [count_tokens([{"role": "user", "content": f"[{s.id}] {s.text}"}]) - empty + 1 for s in sentences]
        too_big = next((s for s, c in zip(sentences, costs, strict=True) if c > room), None)
        if too_big is not None:
            raise InputError(
                f"第 {too_big.id} 句过长，放不进上下文 / sentence {too_big.id} alone takes more than the {room} tokens a "
                "window has; lower max_new_tokens or use a model with a longer context",
                param="record",
                code="context_length_exceeded",
            )
        out = []
        for n, (a, b) in enumerate(windows(costs, room, overlap, [len(s.text) for s in sentences], max_chars), start=1):
            part = sentences[a:b]
            msgs = self.messages(fields, part, example)
            while count_tokens(msgs) > budget and len(part) > 1:  # the estimate was short: one sentence fewer
                part = part[:-1]
                msgs = self.messages(fields, part, example)
            out.append(Window(n, part, extraction_schema(fields, [s.id for s in part]), msgs))
        # a window cut shorter above leaves sentences out only if the next window did not start before them
        covered = {s.id for w in out for s in w.sentences}
        missing = [s for s in sentences if s.id not in covered]
        for s in missing:
            msgs = self.messages(fields, [s], example)
            out.append(Window(len(out) + 1, [s], extraction_schema(fields, [s.id]), msgs))
        return out

    def run(
        self,
        task: str,
        text: str,
        plan: list[Window],
        fields: dict[str, Any] | None,
        backend: Any,
        drugs: DrugList,
        params: SamplingParams,
        stop_event: threading.Event,
        totals: GenerationStats,
    ) -> Iterator[StreamEvent]:
        """Generate each window under its schema, streaming the (drug-name filtered) text, then one final event
        whose answer holds the verified, merged fields."""
        fields = fields or self.prompts.schema
        single = {name for name, prop in fields["properties"].items() if not is_list_field(prop)}
        report = ValidationReport(checks=list(CHECKS), attempts=1)
        everything = {s.id: s for w in plan for s in w.sentences}
        kept: list[Field] = []
        left_out = 0
        raw_parts: list[str] = []
        shown = ""
        redactor = StreamRedactor(drugs)
        finish_reason = "stop"
        parsed_all = True
        for window in plan:
            if window.number > 1:
                shown += redactor.feed("\n")
            stream = backend.stream(GenerationRequest(window.messages, params, window.schema, stop_event))
            raw = ""
            try:
                for chunk in stream:
                    raw += chunk
                    safe = redactor.feed(chunk)
                    if safe:
                        shown += safe
                        yield StreamEvent("partial", 1, text=shown)  # one logical attempt: the API streams it whole
            finally:
                stream.close()
            add_stats(totals, stream.stats)
            raw_parts.append(raw)
            finish_reason = stream.stats.finish_reason or "stop"
            if finish_reason == "cancelled":
                report.fired.append(RuleHit("cancelled", "extraction was stopped by the user", window.number))
                parsed_all = False
                break
            data = self._parse(raw, window, finish_reason, report)
            if data is None:
                parsed_all = False
                continue
            found = [
                verify(name, item, everything, window.number, window.sentences)
                for name in fields["properties"]
                for item in data.get(name, [])
                if isinstance(item, dict)
            ]
            kept, dropped = merge(kept, found, single)
            left_out += dropped
        shown += redactor.finish()
        order = {name: i for i, name in enumerate(fields["properties"])}
        kept.sort(key=lambda f: (order[f.name], f.start if f.start is not None else 1 << 60))
        out_fields, redacted = self._redact(kept, drugs)
        if redacted:
            report.fired.append(
                RuleHit("forbidden_drugs", f"{redacted} drug name(s) in extracted values or quotes", len(plan))
            )
            report.repairs.append(f"replaced {redacted} drug name(s) with their drug class in values and quotes")
        ungrounded = [f.name for f in kept if f.status == "ungrounded"]
        if ungrounded:
            report.fired.append(
                RuleHit(
                    "ungrounded",
                    f"{len(ungrounded)} field(s) whose quote is not in the cited sentence (shown as unverified): "
                    + ", ".join(ungrounded),
                    len(plan),
                )
            )
        moved = [f"{f.name} ({f.cited}→{f.sentence})" for f in kept if f.cited is not None]
        if moved:
            report.fired.append(
                RuleHit(
                    "evidence_moved",
                    f"{len(moved)} field(s) quoted words of another sentence than the one cited; their span points "
                    "at where the words are: " + ", ".join(moved),
                    len(plan),
                )
            )
        fuzzy = [f.name for f in kept if f.status == "fuzzy"]
        if fuzzy:
            report.fired.append(RuleHit("fuzzy_evidence", "quote only fuzzily matched: " + ", ".join(fuzzy), len(plan)))
        if len(plan) > 1:
            report.fired.append(
                RuleHit(
                    "windows",
                    f"the record was read in {len(plan)} overlapping windows; {left_out} repeated value(s) from the "
                    "overlaps left out (first pass wins)",
                    len(plan),
                )
            )
        report.passed = parsed_all
        result = {
            "fields": out_fields,
            "record": {
                "chars": len(text),
                "sentences": len(everything),
                "windows": len(plan),
                "merged_out": left_out,
                "schema": "default" if fields is self.prompts.schema else "user",
            },
            "counts": counts(kept),
        }
        usage = usage_of(totals)
        answer = Answer(
            task=task,
            question=text,
            data=result,
            raw=shown,
            report=report,
            model=backend.info.to_dict(),
            params=params_dict(params),
            usage=usage,
        )
        yield StreamEvent("final", 1, text=shown, answer=answer, finish_reason=finish_reason, usage=usage)

    @staticmethod
    def _parse(raw: str, window: Window, finish_reason: str, report: ValidationReport) -> dict[str, Any] | None:
        """One window's output as data, or None with the reason in the report; an answer cut off by the token
        limit keeps its complete items (the last one, perhaps cut inside its quote, is left out)."""
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            if finish_reason == "length":
                salvaged = _salvage(raw, window.schema)
                kept = sum(len(v) for v in salvaged.values())
                report.fired.append(
                    RuleHit(
                        "truncated",
                        f"window {window.number}: cut off by the token limit; kept its {kept} complete item(s)",
                        window.number,
                    )
                )
                return salvaged
            report.fired.append(RuleHit("json", f"window {window.number}: not valid JSON ({exc.msg})", window.number))
            return None
        errors = [e.message for e in Draft202012Validator(window.schema).iter_errors(data)]
        if errors:
            report.fired.append(RuleHit("schema", f"window {window.number}: {'; '.join(errors[:3])}", window.number))
            return None
        return data

    @staticmethod
    def _redact(fields: list[Field], drugs: DrugList) -> tuple[list[dict[str, Any]], int]:
        """Fields as shown: prescription-drug names in values and quotes replaced by their class (offsets still
        point at the record's own words)."""
        total = 0

        def clean(text: str) -> str:
            nonlocal total
            fixed, found = drugs.redact(text)
            total += len(found)
            return fixed

        out = []
        for f in fields:
            row = f.to_dict()
            row["value"] = map_strings(row["value"], clean)
            row["quote"] = clean(row["quote"])
            out.append(row)
        return out, total


def _salvage(raw: str, schema: dict[str, Any]) -> dict[str, list[Any]]:
    """The complete items of an answer cut off mid-way: every item that satisfies its field's item schema, less the
    last one written (its quote may have been cut short and would still match as a prefix)."""
    from ...render import partial_json

    data = partial_json(raw) or {}
    out: dict[str, list[Any]] = {}
    last: tuple[str, Any] | None = None
    for name, prop in schema["properties"].items():
        items = data.get(name)
        if not isinstance(items, list):
            continue
        check = Draft202012Validator(prop["items"])
        out[name] = [item for item in items if not list(check.iter_errors(item))]
        if items:
            last = (name, items[-1])
    if last is not None and out[last[0]] and out[last[0]][-1] is last[1]:
        out[last[0]] = out[last[0]][:-1]  # the item being written when the limit came: complete-looking, maybe cut
    return out


def load_example(data: Any, where: str) -> tuple[str, dict[str, Any]] | None:
    """The optional `record_example` of the prompt file: a record text and its answer in the extraction form."""
    if data is None:
        return None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("record"), str)
        or not isinstance(data.get("answer"), dict)
    ):
        raise PromptError(f"{where}: record_example must have a record (text) and an answer (a mapping)")
    return data["record"], data["answer"]


__all__ = [
    "Extractor",
    "Field",
    "check_field_schema",
    "describe_fields",
    "evidence_schema",
    "extraction_schema",
    "merge",
    "verify",
    "windows",
]
