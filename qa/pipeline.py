"""The one answer pipeline: generate → checks → re-ask with the problems → repair/redact → fit → answer.

It runs a task's checks after the checks every task gets, streams text through the checks' stream filters (so
what is shown never spells a forbidden name), and builds the validation report from the checks that ran.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from typing import Any

from .answers import Answer, Prompt, StreamEvent, add_stats, params_dict, usage_of
from .backends.base import Backend
from .checks import (
    Candidate,
    Check,
    CheckContext,
    Finding,
    InputRule,
    Repair,
    SchemaCheck,
    common_checks,
    common_input_rules,
)
from .metrics import Metrics
from .readability import readability_checks
from .tasks.base import Task
from .types import GenerationRequest, GenerationStats, SamplingParams
from .validation import DrugList, RuleHit, ValidationReport, fit_to_schema

log = logging.getLogger(__name__)


class AnswerPipeline:
    """Turns a prepared prompt into a checked answer for a task, on one backend."""

    def __init__(
        self, backend: Backend, drugs: DrugList, repair_attempts: int, metrics: Metrics, triage: Any = None
    ) -> None:
        self.backend = backend
        self.triage = triage  # qa.triage.Triage, or None: tasks that ask for triage get the rules only
        self.repair_attempts = repair_attempts
        self.metrics = metrics
        # the readability checks run after the common ones and before a task's own, so what a task inserts on
        # purpose (an emergency instruction) is never trimmed as a repeat
        self._common = [*common_checks(drugs), *readability_checks()]
        self._schema = next(c for c in self._common if isinstance(c, SchemaCheck))
        self._common_rules = common_input_rules(drugs)

    def checks(self, task: Task) -> list[Check]:
        """The checks an answer of this task goes through, in order."""
        return [*self._common, *task.checks]

    def input_rules(self, task: Task) -> list[InputRule]:
        """The rules run on this task's questions."""
        return [*self._common_rules, *task.input_rules]

    def context(self, task: Task, question: str, prompt: Prompt) -> CheckContext:
        """What the checks know about this question: the input rules' findings and the prompt the model saw."""
        facts = {rule.name: rule.assess(question) for rule in self.input_rules(task)}
        if task.triage and self.triage is not None:
            try:
                facts["triage"] = self.triage.assess(question)
            except Exception:  # noqa: BLE001 - the red-flag rules still run; an answer must not fail on triage
                log.exception("triage failed; the answer goes on with the red-flag rules only")
        ctx = CheckContext(task.name, question, task.schema, prompt.system_text, facts=facts)
        example = task.prompts.example
        if example is not None and any(m["content"] == example[1] for m in prompt.messages[1:3]):
            ctx.notes["example_answer"] = example[1]  # copying the example is repeating it (repetition check)
            ctx.notes["example_question"] = example[0]  # its subject words (example_transplant)
        if task.prompts.fallbacks:
            ctx.notes["fallbacks"] = task.prompts.fallbacks  # what a required field that only repeats becomes
        # the re-ask message without its problems: a sentence copying it is no answer (reask_echo)
        ctx.notes["repair_text"] = task.prompts.render(task.prompts.repair_template, problems="")
        return ctx

    def run(
        self,
        task: Task,
        prompt: Prompt,
        params: SamplingParams,
        stop_event: threading.Event,
        totals: GenerationStats,
    ) -> Iterator[StreamEvent]:
        """Stream the attempts' (filtered) text, then one final event with the checked Answer."""
        question = prompt.question
        checks = self.checks(task)
        ctx = self.context(task, question, prompt)
        report = ValidationReport(checks=[c.name for c in checks])
        messages = prompt.messages
        dropped = prompt.dropped_turns
        finish_reason = "stop"
        candidate = Candidate.parse("")
        for attempt in range(1, self.repair_attempts + 2):
            report.attempts = attempt
            stream = self.backend.stream(GenerationRequest(messages, params, task.schema, stop_event))
            filters = [f for c in checks if (f := c.stream_filter(ctx)) is not None]
            raw = shown = ""
            try:
                for chunk in stream:
                    raw += chunk
                    safe = chunk
                    for f in filters:
                        safe = f.feed(safe)
                    if safe:
                        shown += safe
                        yield StreamEvent("partial", attempt, text=shown, dropped_turns=dropped)
            finally:
                stream.close()
            add_stats(totals, stream.stats)
            finish_reason = stream.stats.finish_reason or "stop"
            if finish_reason == "cancelled":
                report.fired.append(RuleHit("cancelled", "generation was stopped by the user", attempt))
                candidate = Candidate.parse(raw, truncated=True)
                for check in checks:  # for what later checks need to know; a stopped answer is not reported on
                    check.inspect(ctx, candidate)
                break
            candidate = Candidate.parse(raw, truncated=finish_reason == "length")
            findings: list[Finding] = [f for check in checks for f in check.inspect(ctx, candidate)]
            report.fired += [RuleHit(f.rule, f.message, attempt) for f in findings]
            problems = [f.problem for f in findings if f.problem]
            if not problems or attempt > self.repair_attempts:
                break
            log.info("answer failed checks on attempt %d; regenerating with the problems fed back", attempt)
            report.repairs.append(f"regenerated (attempt {attempt + 1}) after: {report.fired[-1].message}")
            messages = [
                *messages,
                {"role": "assistant", "content": raw},
                task.prompts.repair_message("；".join(problems)),
            ]
        data = candidate.data
        if data is None and finish_reason != "cancelled":
            data = self.salvage(checks, ctx, report)
        if data is not None:
            done = self.repair(checks, ctx, data)
            data = done.data
            report.fired += [RuleHit(f.rule, f.message, report.attempts) for f in done.findings]
            report.repairs += done.repairs
            # a drug class or an inserted instruction can be longer than what it replaced
            data, trimmed = fit_to_schema(data, task.schema)
            report.repairs += trimmed
        for hit in report.fired:
            self.metrics.rules.inc(rule=hit.rule)
        final_ok = data is not None and not self._schema.errors(task.schema, data)
        report.passed = final_ok and not any(h.rule == "cancelled" for h in report.fired)
        usage = usage_of(totals)
        answer = Answer(
            task=task.name,
            question=question,
            data=data,
            raw=self.filtered(checks, ctx, candidate.raw),
            report=report,
            model=self.backend.info.to_dict(),
            params=params_dict(params),
            usage=usage,
            dropped_turns=dropped,
            citations=ctx.notes.get("citations"),  # the citation check's verdicts (knowledge-base answers)
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

    @staticmethod
    def salvage(checks: list[Check], ctx: CheckContext, report: ValidationReport) -> dict[str, Any] | None:
        """The first answer a check can write itself when no attempt parsed, noted in the report; else None."""
        for check in checks:
            data = check.salvage(ctx)
            if data is not None:
                message = f"the model's answer did not parse after {report.attempts} attempt(s); {check.name} wrote it"
                report.fired.append(RuleHit("salvaged", message, report.attempts))
                report.repairs.append(f"wrote the answer from the {check.name} check (the model's did not parse)")
                return data
        return None

    @staticmethod
    def repair(checks: list[Check], ctx: CheckContext, data: dict[str, Any]) -> Repair:
        """Every check's repair pass over a parsed answer, in order."""
        total = Repair(data)
        for check in checks:
            done = check.repair(ctx, total.data)
            total.data = done.data
            total.findings += done.findings
            total.repairs += done.repairs
        return total

    @staticmethod
    def filtered(checks: list[Check], ctx: CheckContext, text: str) -> str:
        """A whole text through every check's stream filter, as it would have been shown."""
        for check in checks:
            f = check.stream_filter(ctx)
            if f is not None:
                text = f.feed(text) + f.finish()
        return text
