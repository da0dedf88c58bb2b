"""Checks: small named plugins that inspect an answer, repair what they can, and say what they did.

A check sees each generated candidate (`inspect`: findings with a `problem` make the pipeline re-ask the model
with the problems fed back), may filter the streamed text (`stream_filter`), and gets one `repair` pass over the
final parsed answer. Every finding names a rule the check declares in `rules`, so the validation report's list
of checks is the list of checks that ran, and a rule can only fire from a check that is listed.

The checks every task gets live here (JSON, schema, forbidden drug names, prompt leak, injection); a task adds
its own (red flags, dosage, promises, arithmetic) in its module under `qa/tasks/`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from jsonschema import Draft202012Validator

from .validation import _CJK, DrugList, DrugMatch, StreamRedactor, map_strings, string_fields


@dataclass(frozen=True)
class Finding:
    """One rule that fired: its name, a message for the report, and (when a retry could fix it) the problem
    fed back to the model."""

    rule: str
    message: str
    problem: str | None = None


@dataclass
class Candidate:
    """One generated answer: the raw text, its parse (None when it is not JSON), and whether it was cut off."""

    raw: str
    data: dict[str, Any] | None
    truncated: bool = False
    parse_error: str | None = None

    @classmethod
    def parse(cls, raw: str, truncated: bool = False) -> Candidate:
        """Parse raw model text; a non-object or broken JSON leaves data None with the reason."""
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            return cls(raw, None, truncated, exc.msg)
        if not isinstance(data, dict):
            return cls(raw, None, truncated, "not a JSON object")
        return cls(raw, data, truncated)


@dataclass
class CheckContext:
    """What checks may read about one question: the task's schema, the prompt the model saw, the question and
    what the input rules found in it. `notes` carries facts one check leaves for later ones (e.g. drug names)."""

    task: str
    question: str
    schema: dict[str, Any]
    system_prompt: str
    facts: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def zh(self) -> bool:
        """True when the question is Chinese, so inserted text should be too."""
        return bool(_CJK.search(self.question))


@dataclass
class Repair:
    """What one check's repair pass did: the answer after it, the rules that fired, the repairs made."""

    data: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)


class StreamFilter(Protocol):
    """Filters streamed text: `feed(chunk)` returns what is safe to show now, `finish()` the rest."""

    def feed(self, chunk: str) -> str: ...

    def finish(self) -> str: ...


@runtime_checkable
class Check(Protocol):
    """A named check on answers."""

    name: str
    rules: tuple[str, ...]

    def inspect(self, ctx: CheckContext, candidate: Candidate) -> list[Finding]:
        """Findings on one candidate; those with a problem make the pipeline re-ask."""
        ...

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        """Fix the final parsed answer where possible."""
        ...

    def stream_filter(self, ctx: CheckContext) -> StreamFilter | None:
        """A filter for the streamed text, or None."""
        ...

    def salvage(self, ctx: CheckContext) -> dict[str, Any] | None:
        """An answer of the check's own when no attempt of the model's parsed (the app's own calculation, say), or
        None; the other checks' repairs still run on it and the report says it was salvaged (a check that can
        salvage declares the rule "salvaged")."""
        ...


class BaseCheck:
    """Defaults for a check that only inspects or only repairs."""

    name = ""
    rules: tuple[str, ...] = ()

    def inspect(self, ctx: CheckContext, candidate: Candidate) -> list[Finding]:
        """No findings."""
        return []

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        """No change."""
        return Repair(data)

    def stream_filter(self, ctx: CheckContext) -> StreamFilter | None:
        """No filter."""
        return None

    def salvage(self, ctx: CheckContext) -> dict[str, Any] | None:
        """Nothing to offer when the model's answer did not parse."""
        return None


@runtime_checkable
class InputRule(Protocol):
    """Looks at the user's question before generation; its result goes to `CheckContext.facts[name]`."""

    name: str

    def assess(self, question: str) -> Any:
        """What the rule found in the question."""
        ...


def substitute(data: dict[str, Any], replacements: list[tuple[re.Pattern[str], str]]) -> tuple[dict[str, Any], int]:
    """A copy of a flat answer with each pattern replaced in every string field, and how many replacements."""
    count = 0

    def fix(text: str) -> str:
        nonlocal count
        for pattern, replacement in replacements:
            text, n = pattern.subn(replacement, text)
            count += n
        return text

    return each_string(data, fix), count


def each_string(data: dict[str, Any], fn: Any, keys: tuple[str, ...] | None = None) -> dict[str, Any]:
    """A copy of a flat answer with fn applied to its string fields and the strings in its list fields (only the
    fields named in `keys`, in that order, when given)."""
    out = dict(data)
    for key in data if keys is None else keys:
        value = out.get(key)
        if isinstance(value, str):
            out[key] = fn(value)
        elif isinstance(value, list):
            out[key] = [fn(v) if isinstance(v, str) else v for v in value]
    return out


# ---- the checks every task gets -------------------------------------------------------------------------------
class JsonCheck(BaseCheck):
    """The answer must be one JSON object (a cut-off answer says so)."""

    name = "json"
    rules = ("json",)

    def inspect(self, ctx: CheckContext, candidate: Candidate) -> list[Finding]:
        if candidate.data is not None:
            return []
        if candidate.truncated:
            reason = "回答在达到最大生成长度时被截断，JSON 不完整"
        else:
            reason = f"回答不是合法的 JSON（{candidate.parse_error}）"
        return [Finding("json", reason, problem=reason)]


class SchemaCheck(BaseCheck):
    """The parsed answer must satisfy the task's JSON Schema."""

    name = "schema"
    rules = ("schema",)

    def __init__(self) -> None:
        # id → (the schema itself, its validator): keeping the schema alive means its id cannot be reused by another
        self._validators: dict[int, tuple[dict[str, Any], Draft202012Validator]] = {}

    def errors(self, schema: dict[str, Any], data: Any) -> list[str]:
        """Schema errors of a parsed answer, each as 'path: message'."""
        cached = self._validators.get(id(schema))
        if cached is None or cached[0] is not schema:
            cached = self._validators[id(schema)] = (schema, Draft202012Validator(schema))
        validator = cached[1]
        return [
            f"{'/'.join(str(p) for p in err.absolute_path) or '(root)'}: {err.message}"
            for err in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
        ]

    def inspect(self, ctx: CheckContext, candidate: Candidate) -> list[Finding]:
        if candidate.data is None:
            return []
        return [Finding("schema", e, problem=e) for e in self.errors(ctx.schema, candidate.data)]


class ForbiddenDrugsCheck(BaseCheck):
    """No prescription-drug name, in the stream or the answer: re-ask, then replace each by its drug class."""

    name = "forbidden_drugs"
    rules = ("forbidden_drugs", "drug_request")

    def __init__(self, drugs: DrugList) -> None:
        self.drugs = drugs

    def inspect(self, ctx: CheckContext, candidate: Candidate) -> list[Finding]:
        texts = string_fields(candidate.data) if candidate.data is not None else [candidate.raw]
        matches = [m for text in texts for m in self.drugs.find(text)]
        ctx.notes["drug_matches"] = matches  # later checks (dosage) need to know the answer named a drug
        if not matches:
            return []
        # the report is shown to the user, so it names the drug classes, never the drugs
        classes = "、".join(sorted({m.replacement for m in matches}))
        names = "、".join(sorted({m.found for m in matches}))
        return [
            Finding(
                "forbidden_drugs",
                f"{len(matches)} prescription drug name(s): {classes}",
                problem=f"写出了处方药名称（{names}），只能写药物类别",
            )
        ]

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        found: list[DrugMatch] = []

        def fix(text: str) -> str:
            fixed, matches = self.drugs.redact(text)
            found.extend(matches)
            return fixed

        fixed = map_strings(data, fix)
        findings = []
        asked: list[DrugMatch] = ctx.facts.get("drug_request") or []
        if asked:
            # the report is shown to the user: it names the classes, never the drugs (not even those they typed)
            classes = "、".join(sorted({m.replacement for m in asked}))
            findings.append(
                Finding("drug_request", f"the question names prescription drug(s) ({classes}); answered by class only")
            )
        return Repair(
            fixed,
            findings,
            repairs=[f"replaced a prescription drug name with its class {m.replacement!r}" for m in found],
        )

    def stream_filter(self, ctx: CheckContext) -> StreamFilter:
        return StreamRedactor(self.drugs)  # what is streamed out never spells a listed name


class PromptLeakCheck(BaseCheck):
    """The system prompt stays private: any field repeating 16+ characters of it is replaced."""

    name = "prompt_leak"
    rules = ("prompt_leak",)
    shingle = 16

    def __init__(self) -> None:
        self._cache: dict[str, set[str]] = {}

    def _shingles(self, prompt: str) -> set[str]:
        found = self._cache.get(prompt)
        if found is None:
            text = re.sub(r"\s+", "", prompt)
            found = {text[i : i + self.shingle] for i in range(max(0, len(text) - self.shingle + 1))}
            if len(self._cache) > 64:  # custom prompts come and go; keep a few
                self._cache.clear()
            self._cache[prompt] = found
        return found

    def leaks(self, prompt: str, text: str) -> bool:
        """True when text repeats a run of the prompt (16 characters or more)."""
        shingles = self._shingles(prompt)
        flat = re.sub(r"\s+", "", text)
        return any(flat[i : i + self.shingle] in shingles for i in range(max(0, len(flat) - self.shingle + 1)))

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        # the leak guard protects whichever system prompt the model actually saw
        leaked = False
        placeholder = "（此处内容涉及内部设定，已省略）" if ctx.zh else "(omitted: internal instructions)"

        def guard(text: str) -> str:
            nonlocal leaked
            if self.leaks(ctx.system_prompt, text):
                leaked = True
                return placeholder
            return text

        fixed = each_string(data, guard)
        if not leaked:
            return Repair(fixed)
        return Repair(
            drop_placeholder_items(ctx, fixed, placeholder),
            [Finding("prompt_leak", "the answer repeated the system prompt")],
            ["removed text copied from the system prompt"],
        )


def field_bounds(schema: dict[str, Any], key: str) -> tuple[int | None, int]:
    """(maxLength of the field's strings, minItems of the list or 0)."""
    prop = schema.get("properties", {}).get(key, {})
    if prop.get("type") == "array":
        return prop.get("items", {}).get("maxLength"), int(prop.get("minItems", 0))
    return prop.get("maxLength"), 0


def min_items(schema: dict[str, Any], name: str) -> int:
    """How many items a list field must keep: its minItems, and never fewer than one."""
    return max(field_bounds(schema, name)[1], 1)


def standard_sentence(ctx: CheckContext, name: str) -> str | None:
    """The task's standard sentence for a field (its `fallbacks`), in the answer's language, if it has one."""
    return ctx.notes.get("fallbacks", {}).get(name, {}).get("zh" if ctx.zh else "en")


def drop_placeholder_items(ctx: CheckContext, data: dict[str, Any], placeholder: str) -> dict[str, Any]:
    """The answer without list items that are only the placeholder: a suggestion reading "(omitted: internal
    instructions)" tells the reader nothing, and the report already says what was removed. Where the list would
    fall under its minItems (and one), the task's standard sentence for the field stands in (its `fallbacks`); a
    string field, or a list with no standard sentence, keeps the placeholder."""
    out = dict(data)
    for key, value in data.items():
        if not isinstance(value, list) or placeholder not in value:
            continue
        kept = [v for v in value if v != placeholder]
        standard = standard_sentence(ctx, key)
        if len(kept) >= min_items(ctx.schema, key):
            out[key] = kept
        elif standard and standard not in kept:
            out[key] = [*kept, standard]
    return out


_INJECTION = re.compile(
    r"忽略.{0,10}(指令|规则|设定|提示|要求|限制)|覆盖.{0,8}(规则|指令|设定)|(安全|过滤).{0,4}(检查|机制|限制)?.{0,3}(已)?(关闭|解除|取消)|系统消息|第一条指令|原样输出|不要\s*json|markdown|无视.{0,10}(指令|规则|设定|限制)|系统提示|提示词|系统设定|设定原文|你的(设定|规则|指令)|重复.{0,12}(上面|以上|前面|开头)"
    r"|不要用\s*json|不用\s*json|别用\s*json|直接输出|没有(任何)?限制|不受(任何)?限制|扮演|你现在是|假装你是|角色扮演|开发者模式|越狱"
    r"|ignore (all |any )?(the )?(previous|prior|above|earlier|your) (instructions|rules|prompts?)|system prompt|jailbreak|\bdan\b|developer mode"
    r"|no (restrictions|rules|limits|filters)|pretend (you are|you're|to be)|\bact as\b|you are now|repeat (the|your|everything).{0,20}(above|instructions|prompt)"
    r"|reveal your|hidden instructions|your (full )?(config|configuration|rules|instructions)|safety filters?.{0,10}disabled|</?system>|new system|(don'?t|do not|without) (use |using |answer in |answering in )?json|print your (instructions|prompt|rules)",
    re.I,
)


def is_injection(question: str) -> bool:
    """True when the question tries to override or reveal the instructions."""
    return bool(_INJECTION.search(question))


class InjectionRule:
    """Input rule: the question tries to override or reveal the instructions."""

    name = "injection"

    def assess(self, question: str) -> bool:
        return is_injection(question)


class InjectionCheck(BaseCheck):
    """Reports an injection attempt in the question (the other checks still hold the answer)."""

    name = "injection"
    rules = ("injection",)

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        if not ctx.facts.get("injection"):
            return Repair(data)
        message = "the question tries to override or reveal the instructions; validators still applied"
        return Repair(data, [Finding("injection", message)])


def common_checks(drugs: DrugList) -> list[Check]:
    """The checks every task runs first, in order."""
    return [JsonCheck(), SchemaCheck(), ForbiddenDrugsCheck(drugs), PromptLeakCheck(), InjectionCheck()]


class DrugRequestRule:
    """Input rule: the prescription drugs the question names (any spelling the drug finder knows)."""

    name = "drug_request"

    def __init__(self, drugs: DrugList) -> None:
        self.drugs = drugs

    def assess(self, question: str) -> list[DrugMatch]:
        return self.drugs.find(question)


def common_input_rules(drugs: DrugList) -> list[InputRule]:
    """The input rules every task runs."""
    return [InjectionRule(), DrugRequestRule(drugs)]


_REFUSAL = re.compile(
    r"无法回答|不能回答|无法提供|不便回答|抱歉.{0,6}(无法|不能)|(I can'?t|I cannot|I'm unable to|I am unable to) (help|answer|provide)",
    re.I,
)


def is_refusal(data: dict[str, Any]) -> bool:
    """True when the answer declines to help rather than answering."""
    return bool(_REFUSAL.search(str(data.get("summary", ""))))


def rule_names(checks: Iterable[Check]) -> set[str]:
    """Every rule these checks can fire."""
    return {rule for check in checks for rule in check.rules}
