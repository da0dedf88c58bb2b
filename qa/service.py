"""The question-answering service: input checks, prompting, constrained generation, validation and repair."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .backends.base import Backend
from .errors import BusyError, InputError, ModelLoadError, NotReadyError, QAError
from .limits import Gate
from .metrics import Metrics
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
RAW_DEFAULTS = {"temperature": 0.7, "top_p": 0.8, "max_new_tokens": 1024}  # Qwen2.5's own sampling defaults


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
    answer: Answer | None = None  # None on a raw generation's final event
    dropped_turns: int = 0  # earlier turns left out of the prompt to fit the context
    finish_reason: str = ""  # final events: stop, length or cancelled (of the last attempt)
    usage: dict[str, Any] = field(default_factory=dict)  # final events: tokens and timings


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
        metrics: Metrics | None = None,
        gate: Gate | None = None,
    ) -> None:
        self.backend = backend
        self.domains = domains
        self.drugs = drugs
        self.max_question_chars = max_question_chars
        self.max_new_tokens_limit = max_new_tokens_limit
        self.repair_attempts = repair_attempts
        self.metrics = metrics or Metrics()
        self.gate = gate or Gate(slots=1, queue_size=16)
        self._checkers = {name: AnswerChecker(d.schema, drugs) for name, d in domains.items()}
        self._rules = {name: OutputRules(d.system_prompt()) for name, d in domains.items()}
        # cold: loads on first use; loading: warm-up running (requests get NotReadyError); ready; failed
        self._state = "cold"
        self._load_error: BaseException | None = None
        self._state_lock = threading.Lock()
        self.metrics.gauge("qa_queue_depth", "Requests waiting for a generation slot.", lambda: self.gate.waiting)
        self.metrics.gauge("qa_inflight_generations", "Generations running now.", lambda: self.gate.active)
        self.metrics.gauge("qa_model_ready", "1 once the model is loaded and warm.", lambda: self.ready)

    def rule_counts(self) -> dict[str, int]:
        """How often each validation rule fired since start, for metrics."""
        return {labels[0]: int(count) for labels, count in self.metrics.rules.values().items()}

    @property
    def state(self) -> str:
        """cold, loading, ready or failed."""
        with self._state_lock:
            return self._state

    @property
    def ready(self) -> bool:
        """True once warm_up has finished."""
        return self.state == "ready"

    def _set_state(self, state: str, error: BaseException | None = None) -> None:
        with self._state_lock:
            self._state = state
            self._load_error = error

    def _check_ready(self) -> None:
        """Refuse work while a background warm-up runs, or after it failed."""
        state = self.state
        if state == "loading":
            raise NotReadyError("模型正在加载，请稍后再试。 The model is still loading; try again in a few seconds.")
        if state == "failed":
            raise ModelLoadError(f"the model did not load: {self._load_error}")

    def start_warm_up(self, on_done: Callable[[BaseException | None], None] | None = None) -> threading.Thread:
        """Warm up on a background thread; requests get NotReadyError until it is done; on_done gets its error."""
        self._set_state("loading")

        def run() -> None:
            error: BaseException | None = None
            try:
                self.warm_up()
            except BaseException as exc:  # handed to on_done, which decides (the server exits)
                error = exc
                if not isinstance(exc, QAError):
                    log.exception("warm-up failed")
            if on_done is not None:
                on_done(error)

        thread = threading.Thread(target=run, name="qa-warm-up", daemon=True)
        thread.start()
        return thread

    def warm_up(self) -> None:
        """Load the model and compile every domain schema before the first request."""
        self._set_state("loading")
        try:
            self._warm_up()
        except BaseException as exc:
            self._set_state("failed", exc)
            raise
        self._set_state("ready")

    def _warm_up(self) -> None:
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

    def raw_params(self, temperature: Any = None, top_p: Any = None, max_new_tokens: Any = None) -> SamplingParams:
        """Validated sampling parameters for a raw generation (no domain), Qwen2.5's defaults filling gaps."""
        return SamplingParams.create(
            RAW_DEFAULTS["temperature"] if temperature is None else temperature,
            RAW_DEFAULTS["top_p"] if top_p is None else top_p,
            min(RAW_DEFAULTS["max_new_tokens"], self.max_new_tokens_limit)
            if max_new_tokens is None
            else max_new_tokens,
            self.max_new_tokens_limit,
            min_new_tokens=1,  # a bare engine: no answer schema that needs room (warm-ups ask for a few tokens)
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
            code="context_length_exceeded",
        )

    def stream(
        self,
        domain: str,
        question: Any,
        params: SamplingParams,
        stop_event: threading.Event | None = None,
        history: Any = None,
        system_prompt: Any = None,
        channel: str = "ui",
    ) -> Iterator[StreamEvent]:
        """Generate, check and repair an answer, yielding the text as it grows and then the final Answer."""
        label = domain if domain in self.domains else "unknown"
        stop_event = stop_event or threading.Event()
        return self._measured(
            label,
            channel,
            lambda totals: self._answer_events(domain, question, params, stop_event, history, system_prompt, totals),
        )

    def stream_raw(
        self,
        messages: Any,
        params: SamplingParams,
        schema: dict[str, Any] | None = None,
        stop_event: threading.Event | None = None,
        channel: str = "api",
    ) -> Iterator[StreamEvent]:
        """The bare backend on the caller's own messages (optionally schema-constrained): no prompt, no validators."""
        stop_event = stop_event or threading.Event()
        return self._measured(
            "raw", channel, lambda totals: self._raw_events(messages, params, schema, stop_event, totals)
        )

    def _measured(
        self, domain: str, channel: str, run: Callable[[GenerationStats], Iterator[StreamEvent]]
    ) -> Iterator[StreamEvent]:
        """Pass the events through, counting the request, its latency, first text, tokens and outcome."""
        started = time.perf_counter()
        totals = GenerationStats()
        status = "cancelled"  # what is left when the caller walks away before the final event
        first = True
        try:
            for event in run(totals):
                if first and event.kind == "partial":
                    self.metrics.ttft.observe(time.perf_counter() - started, domain=domain, channel=channel)
                    first = False
                if event.kind == "final":
                    status = _status(event)
                yield event
        except InputError:
            status = "rejected"
            raise
        except BusyError:
            status = "busy"
            raise
        except NotReadyError:
            status = "not_ready"
            raise
        except GeneratorExit:
            raise
        except BaseException:
            status = "error"
            raise
        finally:
            self.metrics.requests.inc(domain=domain, channel=channel, status=status)
            if status not in ("rejected", "busy", "not_ready"):
                self.metrics.latency.observe(time.perf_counter() - started, domain=domain, channel=channel)
            if totals.completion_tokens:
                self.metrics.tokens.inc(totals.completion_tokens, domain=domain)
                if totals.total_s > 0:
                    self.metrics.tokens_per_s.observe(totals.tokens_per_s, domain=domain)

    def _raw_events(
        self,
        messages: Any,
        params: SamplingParams,
        schema: dict[str, Any] | None,
        stop_event: threading.Event,
        totals: GenerationStats,
    ) -> Iterator[StreamEvent]:
        self._check_ready()
        checked = check_messages(messages)
        self.backend.load()
        context = self.backend.context_length
        budget = context - params.max_new_tokens
        used = self.backend.count_tokens(checked)
        if used > budget:
            raise InputError(
                f"The messages take {used} tokens; the limit is {budget} (context {context} minus max_tokens"
                f" {params.max_new_tokens}).",
                param="messages",
                code="context_length_exceeded",
            )
        with self.gate.slot(stop_event) as admitted:
            if not admitted:
                return
            stream = self.backend.stream(GenerationRequest(checked, params, schema, stop_event))
            text = ""
            try:
                for chunk in stream:
                    text += chunk
                    yield StreamEvent("partial", 1, text=text)
            finally:
                stream.close()
        _add_stats(totals, stream.stats)
        yield StreamEvent(
            "final", 1, text=text, finish_reason=stream.stats.finish_reason or "stop", usage=_usage(stream.stats)
        )

    def _answer_events(
        self,
        domain: str,
        question: Any,
        params: SamplingParams,
        stop_event: threading.Event,
        history: Any,
        system_prompt: Any,
        totals: GenerationStats,
    ) -> Iterator[StreamEvent]:
        self._check_ready()
        prompt = self.prepare(domain, question, params, history, system_prompt)
        with self.gate.slot(stop_event) as admitted:
            if admitted:
                yield from self._generate_answer(domain, question, params, stop_event, prompt, totals)

    def _generate_answer(
        self,
        domain: str,
        question: str,
        params: SamplingParams,
        stop_event: threading.Event,
        prompt: Prompt,
        totals: GenerationStats,
    ) -> Iterator[StreamEvent]:
        messages = prompt.messages
        dropped = prompt.dropped_turns
        spec = self.domains[domain]
        checker = self._checkers[domain]
        # the leak guard protects whichever system prompt the model actually saw
        rules = self._rules[domain] if prompt.system_prompt is None else OutputRules(prompt.system_prompt)
        assessment = assess(domain, question, self.drugs)
        report = ValidationReport(checks=ALL_CHECKS[domain])
        raw = ""
        finish_reason = "stop"
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
            finish_reason = stream.stats.finish_reason or "stop"
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
        for hit in report.fired:
            self.metrics.rules.inc(rule=hit.rule)
        final_ok = data is not None and not checker.check_data(data)
        report.passed = bool(final_ok) and not any(h.rule == "cancelled" for h in report.fired)
        usage = _usage(totals)
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
        yield StreamEvent(
            "final",
            report.attempts,
            text=answer.raw,
            answer=answer,
            dropped_turns=dropped,
            finish_reason=finish_reason,
            usage=usage,
        )

    def answer(
        self,
        domain: str,
        question: Any,
        params: SamplingParams,
        history: Any = None,
        system_prompt: Any = None,
        channel: str = "cli",
    ) -> Answer:
        """Run a whole question to its validated answer."""
        final = None
        events = self.stream(domain, question, params, history=history, system_prompt=system_prompt, channel=channel)
        for event in events:
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


def check_messages(messages: Any) -> list[ChatMessage]:
    """Chat messages for a raw generation: system/user/assistant with text, ending with a user message."""
    if not isinstance(messages, list) or not messages:
        raise InputError("messages must be a non-empty list", param="messages")
    checked: list[ChatMessage] = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant"):
            raise InputError(f"messages[{i}] must have role system, user or assistant", param="messages")
        if not isinstance(m.get("content"), str):
            raise InputError(f"messages[{i}].content must be text", param="messages")
        checked.append({"role": m["role"], "content": m["content"]})
    if checked[-1]["role"] != "user":
        raise InputError("the last message must be a user message", param="messages")
    return checked


def _status(event: StreamEvent) -> str:
    """ok, invalid (failed validation) or cancelled, for the request counter."""
    if event.finish_reason == "cancelled":
        return "cancelled"
    if event.answer is not None and not event.answer.ok:
        return "invalid"
    return "ok"


def _usage(stats: GenerationStats) -> dict[str, Any]:
    return {
        "prompt_tokens": stats.prompt_tokens,
        "completion_tokens": stats.completion_tokens,
        "seconds": round(stats.total_s, 3),
        "first_token_s": None if stats.first_token_s is None else round(stats.first_token_s, 3),
        "tokens_per_s": round(stats.tokens_per_s, 2),
    }


def _add_stats(total: GenerationStats, part: GenerationStats) -> None:
    total.prompt_tokens += part.prompt_tokens
    total.completion_tokens += part.completion_tokens
    total.total_s += part.total_s
    if total.first_token_s is None:
        total.first_token_s = part.first_token_s
