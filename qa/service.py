"""The question-answering service: input checks, prompting, constrained generation, validation and repair."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .backends.base import Backend
from .errors import InputError
from .prompts import Domain
from .safety import OutputRules, assess
from .types import ChatMessage, GenerationRequest, GenerationStats, SamplingParams
from .validation import AnswerChecker, DrugList, RuleHit, StreamRedactor, ValidationReport, fit_to_schema

log = logging.getLogger(__name__)

_COMMON_CHECKS = ["json", "schema", "forbidden_drugs", "prompt_leak", "injection"]
ALL_CHECKS = {
    "medical": [*_COMMON_CHECKS, "red_flag", "dosage"],
    "finance": [*_COMMON_CHECKS, "finance_promise", "finance_guarantee", "arithmetic"],
}
MAX_SYSTEM_PROMPT_CHARS = 8000


@dataclass
class Prompt:
    """The chat messages for one question, what they cost, and how many old turns had to be left out."""

    messages: list[ChatMessage]
    prompt_tokens: int
    dropped_turns: int = 0
    system_prompt: str | None = None  # the caller's own system prompt, None for the domain's default


@dataclass
class Answer:
    """A finished, validated answer with everything needed to show or export it."""

    domain: str
    question: str
    data: dict[str, Any] | None
    raw: str
    report: ValidationReport
    model: dict[str, Any]
    params: dict[str, Any]
    usage: dict[str, Any] = field(default_factory=dict)
    dropped_turns: int = 0

    @property
    def ok(self) -> bool:
        """True when the answer parsed and passed the schema (forbidden names, if any, were redacted)."""
        return self.report.passed

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: the answer, its validation report, model and parameters."""
        return {
            "domain": self.domain,
            "question": self.question,
            "answer": self.data,
            "raw": self.raw,
            "validation": self.report.to_dict(),
            "model": self.model,
            "params": self.params,
            "usage": self.usage,
            "dropped_turns": self.dropped_turns,
        }


@dataclass
class StreamEvent:
    """A progress event: text so far of the current attempt, or the final answer."""

    kind: Literal["partial", "final"]
    attempt: int
    text: str = ""
    answer: Answer | None = None
    dropped_turns: int = 0  # earlier turns left out of the prompt to fit the context


class QAService:
    """Answers questions for each domain through one backend; stateless apart from the backend it is given."""

    def __init__(
        self,
        backend: Backend,
        domains: dict[str, Domain],
        drugs: DrugList,
        max_question_chars: int,
        max_new_tokens_limit: int,
        repair_attempts: int = 1,
    ) -> None:
        self.backend = backend
        self.domains = domains
        self.drugs = drugs
        self.max_question_chars = max_question_chars
        self.max_new_tokens_limit = max_new_tokens_limit
        self.repair_attempts = repair_attempts
        self._checkers = {name: AnswerChecker(d.schema, drugs) for name, d in domains.items()}
        self._rules = {name: OutputRules(d.system_prompt()) for name, d in domains.items()}
        self._rule_counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()

    def rule_counts(self) -> dict[str, int]:
        """How often each validation rule fired since start, for metrics."""
        with self._counts_lock:
            return dict(self._rule_counts)

    def warm_up(self) -> None:
        """Load the model and compile every domain schema before the first request."""
        self.backend.load()
        prepare = getattr(self.backend, "prepare_schema", None)
        if prepare is not None:
            for domain in self.domains.values():
                prepare(domain.schema)
        # one tiny constrained generation: the first generate() of a process pays for kernel set-up, and the
        # first visitor should not (measured here: first token 5 s cold, 1.5 s warm)
        spec = next(iter(self.domains.values()))
        request = GenerationRequest(spec.build_messages("你好"), SamplingParams(0.0, 1.0, 4), spec.schema)
        stream = self.backend.stream(request)
        try:
            for _ in stream:
                pass
        finally:
            stream.close()

    def domain(self, name: str) -> Domain:
        """The domain by name, or InputError."""
        try:
            return self.domains[name]
        except KeyError:
            raise InputError(
                f"unknown domain {name!r}; choose one of {', '.join(self.domains)}", param="domain"
            ) from None

    def params(
        self, domain: str, temperature: Any = None, top_p: Any = None, max_new_tokens: Any = None
    ) -> SamplingParams:
        """Validated sampling parameters, the domain's defaults filling what is not given."""
        defaults = self.domain(domain).defaults
        return SamplingParams.create(
            defaults["temperature"] if temperature is None else temperature,
            defaults["top_p"] if top_p is None else top_p,
            defaults["max_new_tokens"] if max_new_tokens is None else max_new_tokens,
            self.max_new_tokens_limit,
        )

    def prepare(
        self,
        domain: str,
        question: Any,
        params: SamplingParams,
        history: Any = None,
        system_prompt: Any = None,
    ) -> Prompt:
        """Check the input and build the prompt, leaving out the oldest turns that do not fit; InputError if it cannot."""
        spec = self.domain(domain)
        if not isinstance(question, str):
            raise InputError("the question must be text", param="question")
        question = question.strip()
        if not question:
            raise InputError("请输入问题（问题不能为空）。 The question is empty.", param="question")
        if len(question) > self.max_question_chars:
            raise InputError(
                f"问题过长：{len(question)} 个字符，上限为 {self.max_question_chars} 个字符。"
                f" The question has {len(question)} characters; the limit is {self.max_question_chars}.",
                param="question",
            )
        custom = check_system_prompt(system_prompt)
        turns = check_history(history)
        self.backend.load()
        context = self.backend.context_length
        budget = context - params.max_new_tokens
        for dropped in range(len(turns) + 1):
            kept = [m for turn in turns[dropped:] for m in turn]
            messages = spec.build_messages(question, custom, kept)
            used = self.backend.count_tokens(messages)
            if used <= budget:
                if dropped:
                    log.info("left %d of %d earlier turns out of the prompt to fit the context", dropped, len(turns))
                return Prompt(messages, used, dropped, custom)
        overhead = self.backend.count_tokens(spec.build_messages("", custom))
        raise InputError(
            f"问题过长：提示共 {used} 个 token，超过上限 {budget}（模型上下文 {context} − 最大生成 {params.max_new_tokens}）。"
            f"问题本身最多约 {max(budget - overhead, 0)} 个 token，请缩短问题或调低最大生成长度。"
            f" The prompt takes {used} tokens; the limit is {budget} (context {context} minus max_new_tokens"
            f" {params.max_new_tokens}).",
            param="question",
        )

    def stream(
        self,
        domain: str,
        question: Any,
        params: SamplingParams,
        stop_event: threading.Event | None = None,
        history: Any = None,
        system_prompt: Any = None,
    ) -> Iterator[StreamEvent]:
        """Generate, check and repair an answer, yielding the text as it grows and then the final Answer."""
        prompt = self.prepare(domain, question, params, history, system_prompt)
        messages = prompt.messages
        dropped = prompt.dropped_turns
        spec = self.domains[domain]
        checker = self._checkers[domain]
        # the leak guard protects whichever system prompt the model actually saw
        rules = self._rules[domain] if prompt.system_prompt is None else OutputRules(prompt.system_prompt)
        stop_event = stop_event or threading.Event()
        assessment = assess(domain, question, self.drugs)
        report = ValidationReport(checks=ALL_CHECKS[domain])
        totals = GenerationStats()
        raw = ""
        result = None
        for attempt in range(1, self.repair_attempts + 2):
            report.attempts = attempt
            request = GenerationRequest(messages=messages, params=params, schema=spec.schema, stop_event=stop_event)
            stream = self.backend.stream(request)
            raw = ""
            shown = ""
            redactor = StreamRedactor(self.drugs)  # what is streamed out never spells a listed name
            try:
                for chunk in stream:
                    raw += chunk
                    safe = redactor.feed(chunk)
                    if safe:
                        shown += safe
                        yield StreamEvent("partial", attempt, text=shown, dropped_turns=dropped)
            finally:
                stream.close()
            _add_stats(totals, stream.stats)
            if stream.stats.finish_reason == "cancelled":
                report.fired.append(RuleHit("cancelled", "generation was stopped by the user", attempt))
                result = checker.check(raw, truncated=True)
                break
            result = checker.check(raw, truncated=stream.stats.finish_reason == "length")
            for error in result.schema_errors:
                report.fired.append(RuleHit("schema", error, attempt))
            if result.drug_matches:
                # the report is shown to the user, so it names the drug classes, never the drugs
                classes = "、".join(sorted({m.replacement for m in result.drug_matches}))
                count = len(result.drug_matches)
                report.fired.append(
                    RuleHit("forbidden_drugs", f"{count} prescription drug name(s): {classes}", attempt)
                )
            if result.ok or attempt > self.repair_attempts:
                break
            log.info("answer failed checks on attempt %d; regenerating with the problems fed back", attempt)
            report.repairs.append(f"regenerated (attempt {attempt + 1}) after: {report.fired[-1].message}")
            messages = [*messages, {"role": "assistant", "content": raw}, spec.repair_message(result.problems())]
        assert result is not None
        data = result.data
        if data is not None and result.drug_matches:
            data, redacted = checker.redact(data)
            for m in redacted:
                report.repairs.append(f"replaced a prescription drug name with its class {m.replacement!r}")
        if data is not None:
            data, hits, repairs = rules.apply(
                domain, question, assessment, data, mentions_drug=bool(result.drug_matches)
            )
            report.fired += [RuleHit(rule, message, report.attempts) for rule, message in hits]
            report.repairs += repairs
            # a drug class or an inserted instruction can be longer than what it replaced
            data, trimmed = fit_to_schema(data, spec.schema)
            report.repairs += trimmed
        with self._counts_lock:
            self._rule_counts.update(hit.rule for hit in report.fired)
        final_ok = data is not None and not checker.check_data(data)
        report.passed = bool(final_ok) and not any(h.rule == "cancelled" for h in report.fired)
        usage = {
            "prompt_tokens": totals.prompt_tokens,
            "completion_tokens": totals.completion_tokens,
            "seconds": round(totals.total_s, 3),
            "first_token_s": None if totals.first_token_s is None else round(totals.first_token_s, 3),
            "tokens_per_s": round(totals.tokens_per_s, 2),
        }
        answer = Answer(
            domain=domain,
            question=question.strip(),
            data=data,
            raw=self.drugs.redact(raw)[0],
            report=report,
            model=self.backend.info.to_dict(),
            params=asdict(params),
            usage=usage,
            dropped_turns=dropped,
        )
        yield StreamEvent("final", report.attempts, text=answer.raw, answer=answer, dropped_turns=dropped)

    def answer(
        self, domain: str, question: Any, params: SamplingParams, history: Any = None, system_prompt: Any = None
    ) -> Answer:
        """Run a whole question to its validated answer."""
        final = None
        for event in self.stream(domain, question, params, history=history, system_prompt=system_prompt):
            if event.kind == "final":
                final = event.answer
        assert final is not None
        return final


def check_system_prompt(value: Any) -> str | None:
    """A caller's system prompt, stripped, or None for the default; InputError when it is not usable."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError("the system prompt must be text", param="system_prompt")
    value = value.strip()
    if not value:
        raise InputError("系统提示不能为空；可点“恢复默认”。 The system prompt is empty.", param="system_prompt")
    if len(value) > MAX_SYSTEM_PROMPT_CHARS:
        raise InputError(
            f"系统提示过长：{len(value)} 个字符，上限 {MAX_SYSTEM_PROMPT_CHARS}。"
            f" The system prompt has {len(value)} characters; the limit is {MAX_SYSTEM_PROMPT_CHARS}.",
            param="system_prompt",
        )
    return value


def check_history(history: Any) -> list[tuple[ChatMessage, ChatMessage]]:
    """Earlier turns as (user, assistant) pairs; InputError unless they alternate user/assistant with text."""
    if history is None:
        return []
    if not isinstance(history, list):
        raise InputError("history must be a list of messages", param="history")
    messages: list[ChatMessage] = []
    for i, m in enumerate(history):
        want = "user" if i % 2 == 0 else "assistant"
        if not isinstance(m, dict) or m.get("role") != want or not isinstance(m.get("content"), str):
            raise InputError(
                f"history[{i}] must be a {want} message with text content (turns alternate user, assistant)",
                param="history",
            )
        messages.append({"role": want, "content": m["content"]})
    if len(messages) % 2:
        raise InputError("history must end with an assistant message", param="history")
    return [(messages[i], messages[i + 1]) for i in range(0, len(messages), 2)]


def _add_stats(total: GenerationStats, part: GenerationStats) -> None:
    total.prompt_tokens += part.prompt_tokens
    total.completion_tokens += part.completion_tokens
    total.total_s += part.total_s
    if total.first_token_s is None:
        total.first_token_s = part.first_token_s
