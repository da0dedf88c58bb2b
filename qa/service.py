"""The service facade: what the page, the API, the CLI and the server may ask of the app, and nothing more.

Inputs are checked (`qa.inputs`), the prompt is fitted to the context, a slot is taken at the gate, and the
answer pipeline (`qa.pipeline`) does the rest; every request is counted in the metrics.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from . import __version__
from .answers import Answer, Prompt, StreamEvent, add_stats, params_dict, usage_of
from .backends.base import Backend
from .cache import CachedAnswers, KeyParts, code_digest, digest, model_identity, replay, storable
from .errors import BusyError, CancelledError, InputError, NotReadyError
from .inputs import check_history, check_messages, check_question, check_system_prompt, fit_context
from .lifecycle import Lifecycle
from .limits import Gate
from .metrics import Metrics
from .pipeline import AnswerPipeline
from .tasks import Task, TaskRegistry
from .types import GenerationRequest, GenerationStats, ModelInfo, SamplingParams
from .validation import DrugList, DrugMatch

RAW_DEFAULTS = {"temperature": 0.7, "top_p": 0.8, "max_new_tokens": 1024}  # Qwen2.5's own sampling defaults


class QAService:
    """Answers questions for each task through one backend; stateless apart from the backend it is given."""

    def __init__(
        self,
        backend: Backend,
        tasks: TaskRegistry,
        drugs: DrugList,
        max_question_chars: int,
        max_new_tokens_limit: int,
        repair_attempts: int = 1,
        metrics: Metrics | None = None,
        gate: Gate | None = None,
        cache: CachedAnswers | None = None,
        triage: Any = None,
        max_history_turns: int | None = None,
        kb: Any = None,
        max_record_chars: int = 100_000,
        record_overlap: int = 2,
        record_window_chars: int | None = None,
    ) -> None:
        self._backend = backend
        self._kb = kb  # qa.kb.KnowledgeBase or None (no knowledge base configured)
        self._max_record_chars = max_record_chars
        self._record_overlap = record_overlap
        self._record_window_chars = record_window_chars
        self._triage = triage  # qa.triage.Triage or None (triage off: rules only, no departments, no embeddings)
        self._max_history_turns = max_history_turns
        self._tasks = tasks
        self._drugs = drugs
        self._max_question_chars = max_question_chars
        self._max_new_tokens_limit = max_new_tokens_limit
        self._metrics = metrics or Metrics()
        self._gate = gate or Gate(slots=1, queue_size=16)
        self._answers = cache or CachedAnswers(metrics=self._metrics)  # default: no cache
        self._code = code_digest() if self._answers.enabled else ""
        self._pipeline = AnswerPipeline(backend, drugs, repair_attempts, self._metrics, triage)
        self._lifecycle = Lifecycle(self._warm_up)
        self._metrics.gauge("qa_queue_depth", "Requests waiting for a generation slot.", lambda: self._gate.waiting)
        self._metrics.gauge("qa_inflight_generations", "Generations running now.", lambda: self._gate.active)
        self._metrics.gauge("qa_model_ready", "1 once the model is loaded and warm.", lambda: self.ready)

    # ---- model and lifecycle ------------------------------------------------------------------------------------
    def model_info(self) -> ModelInfo:
        """What is live: model, dtype, device."""
        return self._backend.info

    @property
    def max_new_tokens_limit(self) -> int:
        """The largest max_new_tokens a request may ask for."""
        return self._max_new_tokens_limit

    @property
    def state(self) -> str:
        """cold, loading, ready or failed."""
        return self._lifecycle.state

    @property
    def ready(self) -> bool:
        """True once warm_up has finished."""
        return self.state == "ready"

    def gate_state(self) -> dict[str, int]:
        """Generations running now, callers waiting for a slot, and how many may run at once."""
        return {"active": self._gate.active, "waiting": self._gate.waiting, "slots": self._gate.slots}

    def busy(self) -> bool:
        """True while a generation runs or waits for a slot."""
        return self._gate.busy()

    def warm_up(self) -> None:
        """Load the model and compile every task's schema before the first request."""
        self._lifecycle.warm_up()

    def start_warm_up(self, on_done: Callable[[BaseException | None], None] | None = None) -> threading.Thread:
        """Warm up on a background thread; requests get NotReadyError until it is done; on_done gets its error."""
        return self._lifecycle.start_warm_up(on_done)

    def _warm_up(self) -> None:
        if self._triage is not None:
            self._triage.load()  # embedder and triage model: the first question should not pay for them
        self._backend.load()
        prepare = getattr(self._backend, "prepare_schema", None)
        if prepare is not None:
            for task in self._tasks:
                prepare(task.schema)
        # one tiny constrained generation: the first generate() of a process pays for kernel set-up, and the
        # first visitor should not (measured here: first token 5 s cold, 1.5 s warm)
        task = next(iter(self._tasks))
        request = GenerationRequest(task.prompts.build_messages("你好"), SamplingParams(0.0, 1.0, 4), task.schema)
        stream = self._backend.stream(request)
        try:
            for _ in stream:
                pass
        finally:
            stream.close()

    # ---- tasks and parameters -----------------------------------------------------------------------------------
    def tasks(self) -> list[Task]:
        """The tasks served, in tab order."""
        return list(self._tasks)

    def task(self, name: str) -> Task:
        """A task by name, or InputError."""
        return self._tasks.get(name)

    def check_names(self, task: str) -> list[str]:
        """The checks an answer of this task goes through, in order."""
        spec = self.task(task)
        if spec.extractor is not None:
            return list(spec.extractor.check_names)
        return [c.name for c in self._pipeline.checks(spec)]

    def params(
        self, task: str, temperature: Any = None, top_p: Any = None, max_new_tokens: Any = None
    ) -> SamplingParams:
        """Validated sampling parameters, the task's defaults filling what is not given."""
        defaults = self.task(task).defaults
        return SamplingParams.create(
            defaults["temperature"] if temperature is None else temperature,
            defaults["top_p"] if top_p is None else top_p,
            defaults["max_new_tokens"] if max_new_tokens is None else max_new_tokens,
            self._max_new_tokens_limit,
        )

    def raw_params(self, temperature: Any = None, top_p: Any = None, max_new_tokens: Any = None) -> SamplingParams:
        """Validated sampling parameters for a raw generation (no task), Qwen2.5's defaults filling gaps."""
        return SamplingParams.create(
            RAW_DEFAULTS["temperature"] if temperature is None else temperature,
            RAW_DEFAULTS["top_p"] if top_p is None else top_p,
            min(RAW_DEFAULTS["max_new_tokens"], self._max_new_tokens_limit)
            if max_new_tokens is None
            else max_new_tokens,
            self._max_new_tokens_limit,
            min_new_tokens=1,  # a bare engine: no answer schema that needs room (warm-ups ask for a few tokens)
        )

    def find_drugs(self, text: str) -> list[DrugMatch]:
        """Listed prescription-drug names in a text."""
        return self._drugs.find(text)

    # ---- triage and embeddings (no LLM) ----------------------------------------------------------------------------
    def triage_on(self, task: str | None = None) -> bool:
        """True when triage is available (and, given a task, when that task's questions go through it)."""
        return self._triage is not None and (task is None or self.task(task).triage)

    def _need_triage(self) -> Any:
        if self._triage is None:
            raise InputError("triage is off (QA_TRIAGE_EMBEDDER=off)", param="input", code="triage_off")
        return self._triage

    def _texts(self, value: Any, limit: int = 2048) -> list[str]:
        items = value if isinstance(value, list) else [value]
        if not items:
            raise InputError("input is an empty list", param="input")
        if len(items) > limit:
            raise InputError(f"at most {limit} inputs per request, not {len(items)}", param="input")
        try:
            return [check_question(item, self._max_question_chars) for item in items]
        except InputError as exc:  # the field is `input` here, not a chat question
            raise InputError(str(exc), param="input") from None

    def triage(self, texts: Any) -> list[Any]:
        """Triage one text or a list of texts: emergency (rules or classifier), category, department, reasons."""
        triage = self._need_triage()
        checked = self._texts(texts)
        if isinstance(texts, str):
            return [triage.assess(checked[0])]  # remembered: the page asks before the answer, the pipeline reuses it
        return triage.assess_many(checked)

    def embedding_model(self) -> str:
        """The embedder's id (the `model` of /v1/embeddings)."""
        return str(self._need_triage().embedder.name)

    def embed(self, texts: Any, kind: str = "query") -> tuple[list[list[float]], int]:
        """Sentence vectors (L2-normalised) for one text or a list, and the tokens the embedder read."""
        embedder = self._need_triage().embedder
        if kind not in ("query", "passage"):
            raise InputError("input_type must be query or passage", param="input_type")
        checked = self._texts(texts)
        vectors = embedder.embed(checked, kind)
        tokens = sum(embedder.count_tokens(t, kind) for t in checked)
        return vectors.tolist(), tokens

    def train_triage(
        self, department_csv: str, where: str, out: Any, emergency_csv: str | None = None, intent_csv: str | None = None
    ) -> Any:
        """Retrain the triage model on a department CSV (text,department) and write it to `out`; the model."""
        from pathlib import Path

        from .triage import train_model
        from .triage.engine import EMERGENCY_BANK, INTENT_SET, packaged_text

        triage = self._need_triage()
        model = train_model(
            triage.embedder,
            emergency_csv if emergency_csv is not None else packaged_text(EMERGENCY_BANK),
            department_csv,
            where=("emergency bank", where, "intent set"),
            intent_csv=intent_csv if intent_csv is not None else packaged_text(INTENT_SET),
        )
        model.save(Path(out))
        return model

    # ---- knowledge base -------------------------------------------------------------------------------------------
    def _need_kb(self) -> Any:
        if self._kb is None:
            raise InputError("the knowledge base is off (QA_KB_URL=off)", param="collection", code="kb_off")
        return self._kb

    def kb_on(self) -> bool:
        """True when a knowledge base is configured."""
        return self._kb is not None

    def kb_add(self, collection: Any, name: Any, data: Any) -> dict[str, Any]:
        """Store one uploaded file in a collection (created when missing; a file of the same name is replaced)."""
        if not isinstance(name, str) or not name.strip():
            raise InputError("the file needs a name (its type is read from the suffix)", param="file")
        return self._need_kb().add(collection, name, data).to_dict()

    def kb_files(self, collection: Any) -> list[dict[str, Any]]:
        """A collection's files with their page and chunk counts."""
        return [r.to_dict() for r in self._need_kb().files(collection)]

    def kb_collections(self) -> list[dict[str, Any]]:
        """Every collection with its file and chunk counts."""
        return self._need_kb().collections()

    def kb_remove(self, collection: Any, names: list[str] | None = None) -> list[str]:
        """Remove files from a collection (all of them when none are named); the names removed."""
        return self._need_kb().remove(collection, names)

    def kb_retrieve(self, collection: Any, query: Any, k: int = 5, mode: str = "fused") -> list[dict[str, Any]]:
        """The debug view of retrieval: top k chunks with fused, BM25 and dense scores and ranks."""
        from .kb import retrieve

        if not isinstance(k, int) or not 1 <= k <= 50:
            raise InputError("k must be an integer from 1 to 50", param="k")
        return retrieve(self._need_kb(), collection, check_question(query, self._max_question_chars), k, mode)  # type: ignore[arg-type]

    def kb_page(self, collection: Any, file: str, page: int) -> str | None:
        """A stored page's text (to show a cited passage within its page)."""
        return self._need_kb().page(collection, file, page)

    def _cited(self, spec: Task, question: Any, collection: str) -> Task:
        """The task answering from a collection: the passages retrieved for the question, cited and verified."""
        from .kb import check_collection
        from .kb.cite import cited_task

        kb = self._need_kb()
        collection = check_collection(collection)
        if not kb.files(collection):
            raise InputError(
                f"the knowledge base {collection!r} has no documents; add some first", param="collection",
                code="not_found",
            )  # fmt: skip
        question = check_question(question, self._max_question_chars)
        hits = kb.relevant(collection, question, kb.top_k)
        ranker = kb.sentence_ranker(collection, [h.chunk for h in hits])
        # a sentence naming a prescription drug is never offered as a quote: the drug check would redact it
        return cited_task(
            spec, hits, collection, question, offer=kb.cite_offer, ranker=ranker, pair_margin=kb.cite_pair_margin,
            avoid=lambda text: bool(self._drugs.find(text)),
        )  # fmt: skip

    # ---- metrics --------------------------------------------------------------------------------------------------
    def rule_counts(self) -> dict[str, int]:
        """How often each validation rule fired since start, for metrics."""
        return {labels[0]: int(count) for labels, count in self._metrics.rules.values().items()}

    def metrics_text(self) -> str:
        """All metrics in Prometheus text format."""
        return self._metrics.render()

    def add_gauge(self, name: str, help_text: str, read: Callable[[], float]) -> None:
        """Expose one more gauge (the server's own state) with the service's metrics."""
        self._metrics.gauge(name, help_text, read)

    def count_api_response(self, status: int) -> None:
        """Count one /v1 response by status."""
        self._metrics.api_responses.inc(status=str(status))

    # ---- answer cache ---------------------------------------------------------------------------------------------
    def cache_status(self) -> dict[str, Any]:
        """The answer cache: kind, where, and ok/down/off."""
        return self._answers.status()

    def close_cache(self) -> None:
        """Close the answer cache's connections and files."""
        self._answers.close()

    def cache_key(self, task: str, prompt: Prompt, params: SamplingParams, spec: Task | None = None) -> str | None:
        """The answer cache's key for a prepared prompt, or None when its answer may differ from run to run
        (sampling without a fixed seed) or the cache is off."""
        if not self._answers.enabled:
            return None
        spec = spec or self.task(task)
        model = model_identity(self._backend)
        seed = model.pop("seed", None)
        penalty = model.pop("repetition_penalty", None)
        if not params.greedy and seed is None:
            return None
        render = getattr(self._backend, "render", None)
        prompts = spec.prompts
        return KeyParts(
            backend=str(model.pop("backend")),
            model=model,
            task=spec.name,
            schema=digest(spec.schema),
            templates=digest([prompts.system_template, prompts.user_template, prompts.repair_template]),
            # what the model reads: the chat-templated text where the backend can render it
            prompt=render(prompt.messages) if callable(render) else prompt.messages,
            sampling={
                **params_dict(params),
                "seed": seed,
                "repetition_penalty": penalty,
                "repair_attempts": self._pipeline.repair_attempts,
            },
            checks=tuple(
                [f"check:{c.name}" for c in self._pipeline.checks(spec)]
                + [f"input:{r.name}" for r in self._pipeline.input_rules(spec)]
                # a retrained triage model or another threshold can change urgent: another answer
                + ([f"triage:{self._triage.identity()}"] if spec.triage and self._triage is not None else [])
            ),
            drugs=self._drugs.version,
            code=f"{__version__}+{self._code[:16]}",
        ).key()

    # ---- answering ------------------------------------------------------------------------------------------------
    def prepare(
        self,
        task: str,
        question: Any,
        params: SamplingParams,
        history: Any = None,
        system_prompt: Any = None,
        stop_event: threading.Event | None = None,
        spec: Task | None = None,
    ) -> Prompt:
        """Check the input and build the prompt, leaving out the oldest turns that do not fit; InputError if it cannot."""
        spec = spec or self.task(task)
        question = check_question(question, self._max_question_chars)
        custom = check_system_prompt(system_prompt)
        turns = check_history(history, self._max_history_turns)
        self._backend.load()
        context = self._backend.context_length
        budget = context - params.max_new_tokens
        count = self._backend.count_tokens
        asked = spec.model_question(question)
        # the example exchange shows the answer's form to a first question; a question the task adds context to
        # (finance: its figures, listed with a worked calculation) follows that instead, since a small model
        # copies the example's empty calculations
        example = asked == question
        cancelled = stop_event.is_set if stop_event is not None else None
        fitted = fit_context(
            count,
            lambda kept: spec.prompts.build_messages(asked, custom, kept, example=example),
            turns,
            budget,
            cancelled,
        )
        if fitted is None and example:  # the example helps a first question; it is not worth refusing one for
            build = spec.prompts.build_messages
            fitted = fit_context(
                count, lambda kept: build(asked, custom, kept, example=False), turns, budget, cancelled
            )
        if fitted is not None:
            messages, used, dropped = fitted
            return Prompt(messages, used, dropped, custom, question)
        used = count(spec.prompts.build_messages(asked, custom, example=False))
        overhead = count(spec.prompts.build_messages("", custom, example=False))
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
        task: str,
        question: Any,
        params: SamplingParams,
        stop_event: threading.Event | None = None,
        history: Any = None,
        system_prompt: Any = None,
        channel: str = "ui",
        collection: str | None = None,
    ) -> Iterator[StreamEvent]:
        """Generate, check and repair an answer, yielding the text as it grows and then the final Answer; with a
        knowledge-base collection the answer cites the passages retrieved for the question."""
        label = task if isinstance(task, str) and task in self._tasks else "unknown"
        stop_event = stop_event or threading.Event()

        def run(totals: GenerationStats) -> Iterator[StreamEvent]:
            self._lifecycle.check_ready()
            spec = self.task(task)
            if spec.extractor is not None:  # a document task: the question is the record (earlier turns unused)
                yield from self._extract_events(spec, question, None, params, stop_event, totals)
                return
            if collection:
                spec = self._cited(spec, question, collection)
            try:
                with self._gate.place():  # fitting a long history counts against the queue, and stops with it
                    prompt = self.prepare(task, question, params, history, system_prompt, stop_event, spec)
            except CancelledError:
                return
            spec = spec.for_question(prompt.question)  # after the input checks: the question is a bounded string
            key = self.cache_key(task, prompt, params, spec)
            result, cached = self._answers.lookup(key)
            if cached is not None:  # a replay needs no model: no slot is taken
                cached.dropped_turns = prompt.dropped_turns  # the same messages can come from a longer history
                yield from replay(cached)
                return
            with self._gate.slot(stop_event) as admitted:
                if admitted:
                    for event in self._pipeline.run(spec, prompt, params, stop_event, totals):
                        if event.kind == "final" and event.answer is not None:
                            event.answer.cache = result
                            if key is not None and storable(event):
                                self._answers.store_answer(key, event.answer)
                        yield event

        return self._measured(label, channel, run)

    def extract(
        self,
        task: str,
        record: Any,
        params: SamplingParams,
        schema: Any = None,
        stop_event: threading.Event | None = None,
        channel: str = "cli",
    ) -> Iterator[StreamEvent]:
        """Extract fields from a record with a document task (its own field schema, or the caller's: JSON text or
        an object, checked and bounded), streaming the text, then the final Answer whose data holds the fields."""
        label = task if isinstance(task, str) and task in self._tasks else "unknown"
        stop_event = stop_event or threading.Event()

        def run(totals: GenerationStats) -> Iterator[StreamEvent]:
            self._lifecycle.check_ready()
            spec = self.task(task)
            if spec.extractor is None:
                raise InputError(f"task {task!r} does not extract fields from a record", param="task")
            fields = spec.extractor.check_field_schema(schema) if schema is not None else None
            yield from self._extract_events(spec, record, fields, params, stop_event, totals)

        return self._measured(label, channel, run)

    def check_field_schema(self, task: str, schema: Any) -> dict[str, Any]:
        """A caller's field schema for a document task, checked (InputError code bad_schema when unusable)."""
        spec = self.task(task)
        if spec.extractor is None:
            raise InputError(f"task {task!r} does not extract fields from a record", param="task")
        return spec.extractor.check_field_schema(schema)

    def _extract_events(
        self,
        spec: Task,
        record: Any,
        fields: dict[str, Any] | None,
        params: SamplingParams,
        stop_event: threading.Event,
        totals: GenerationStats,
    ) -> Iterator[StreamEvent]:
        extractor = spec.extractor
        text = extractor.check_record(record, self._max_record_chars)
        self._backend.load()
        budget = self._backend.context_length - params.max_new_tokens
        with self._gate.place():  # planning tokenizes the whole record: it counts against the queue
            plan = extractor.plan(
                text, fields, self._backend.count_tokens, budget, self._record_overlap, self._record_window_chars
            )
        with self._gate.slot(stop_event) as admitted:
            if admitted:
                yield from extractor.run(
                    spec.name, text, plan, fields, self._backend, self._drugs, params, stop_event, totals
                )

    def stream_raw(
        self,
        messages: Any,
        params: SamplingParams,
        schema: dict[str, Any] | None = None,
        stop_event: threading.Event | None = None,
        channel: str = "api",
    ) -> Iterator[StreamEvent]:
        """The bare backend on the caller's own messages (optionally schema-constrained): no prompt, no checks."""
        stop_event = stop_event or threading.Event()
        return self._measured(
            "raw", channel, lambda totals: self._raw_events(messages, params, schema, stop_event, totals)
        )

    def answer(
        self,
        task: str,
        question: Any,
        params: SamplingParams,
        history: Any = None,
        system_prompt: Any = None,
        channel: str = "cli",
        collection: str | None = None,
    ) -> Answer:
        """Run a whole question to its validated answer (citing a knowledge-base collection when one is given)."""
        final = None
        events = self.stream(
            task, question, params, history=history, system_prompt=system_prompt, channel=channel, collection=collection
        )
        for event in events:
            if event.kind == "final":
                final = event.answer
        assert final is not None
        return final

    def _raw_events(
        self,
        messages: Any,
        params: SamplingParams,
        schema: dict[str, Any] | None,
        stop_event: threading.Event,
        totals: GenerationStats,
    ) -> Iterator[StreamEvent]:
        self._lifecycle.check_ready()
        checked = check_messages(messages)
        self._backend.load()
        context = self._backend.context_length
        budget = context - params.max_new_tokens
        used = self._backend.count_tokens(checked)
        if used > budget:
            raise InputError(
                f"The messages take {used} tokens; the limit is {budget} (context {context} minus max_tokens"
                f" {params.max_new_tokens}).",
                param="messages",
                code="context_length_exceeded",
            )
        with self._gate.slot(stop_event) as admitted:
            if not admitted:
                return
            stream = self._backend.stream(GenerationRequest(checked, params, schema, stop_event))
            text = ""
            try:
                for chunk in stream:
                    text += chunk
                    yield StreamEvent("partial", 1, text=text)
            finally:
                stream.close()
        add_stats(totals, stream.stats)
        yield StreamEvent(
            "final", 1, text=text, finish_reason=stream.stats.finish_reason or "stop", usage=usage_of(stream.stats)
        )

    def _measured(
        self, label: str, channel: str, run: Callable[[GenerationStats], Iterator[StreamEvent]]
    ) -> Iterator[StreamEvent]:
        """Pass the events through, counting the request, its latency, first text, tokens and outcome."""
        metrics = self._metrics
        started = time.perf_counter()
        totals = GenerationStats()
        status = "cancelled"  # what is left when the caller walks away before the final event
        first = True
        try:
            for event in run(totals):
                if first and event.kind == "partial":
                    metrics.ttft.observe(time.perf_counter() - started, domain=label, channel=channel)
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
            metrics.requests.inc(domain=label, channel=channel, status=status)
            if status not in ("rejected", "busy", "not_ready"):
                metrics.latency.observe(time.perf_counter() - started, domain=label, channel=channel)
            if totals.completion_tokens:
                metrics.tokens.inc(totals.completion_tokens, domain=label)
                if totals.total_s > 0:
                    metrics.tokens_per_s.observe(totals.tokens_per_s, domain=label)


def _status(event: StreamEvent) -> str:
    """ok, invalid (failed validation) or cancelled, for the request counter."""
    if event.finish_reason == "cancelled":
        return "cancelled"
    if event.answer is not None and not event.answer.ok:
        return "invalid"
    return "ok"
