"""Rows decoded together on one model: what every batching scheduler shares.

A `Row` is one generation (its prompt, sampler, grammar matcher, repetition penalty, token budget and output
queue); a `StepLoop` is the thread that owns a model and runs its rows one step at a time, admitting new rows at
step boundaries and running jobs (benchmarks, cache resets) only when no row is in the batch. The llama.cpp and
transformers schedulers are StepLoops; each says how a row is placed and what one step evaluates.
"""

from __future__ import annotations

import codecs
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from ..errors import GenerationError, InputError
from ..types import GenerationRequest, GenerationStats, SamplingParams
from .prose import ProseNgrams

log = logging.getLogger(__name__)

END = object()  # end of a row's chunk queue
_STOP = object()  # tells the scheduler thread to exit
# sampling looks only at tokens whose scaled logit is within this of the best: the rest together weigh under
# vocab * e^-30 (about 1e-8 for 152k tokens), below float32's resolution of the probabilities that transformers sums
_LOGIT_WINDOW = 30.0


class Vocab:
    """What sampling needs to know about the model's tokens."""

    def __init__(self, n_vocab: int, pieces: list[bytes], stop_ids: frozenset[int]) -> None:
        self.n_vocab = n_vocab
        self.pieces = pieces
        self.stop_ids = stop_ids


class Row:
    """One generation in the batch: its prompt, sampler and grammar state, and the queue its text goes to.

    The scheduler thread alone calls `sample`, `emit` and `finish`; the consumer thread reads `chunks` and sets
    `left` when it closes the stream, then waits for `finished`.
    """

    def __init__(
        self,
        request: GenerationRequest,
        prompt: list[int],
        grammar: Any,
        stats: GenerationStats,
        vocab: Vocab,
        budget: int,
        seed: int | None,
        repetition_penalty: float,
        started: float,
        no_repeat_ngram: int = 0,
        prose_penalty: float = 1.0,
    ) -> None:
        import numpy as np

        self.request = request
        self.prompt = prompt
        self.grammar = grammar
        self.stats = stats
        self.vocab = vocab
        self.budget = budget
        self.penalty = repetition_penalty
        self.started = started
        self.chunks: queue.Queue[Any] = queue.Queue()
        self.left = threading.Event()  # the consumer closed the stream (ours, so the caller's event stays unset)
        self.finished = threading.Event()  # the scheduler is done with the row and its sequence is free
        self.failure: BaseException | None = None
        self.seq = -1  # KV-cache sequence while placed
        self.fed = 0  # prompt tokens in the KV cache
        self.next_token: int | None = None  # sampled, still to be evaluated at position `pos`
        self.pos = 0
        self.rng = np.random.default_rng(seed)
        # transformers' repetition penalty covers prompt and answer
        self.seen = np.zeros(vocab.n_vocab, dtype=bool)
        self.seen_ids = np.unique(np.asarray(prompt, dtype=np.int64))
        self.seen[self.seen_ids] = True
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.matcher: Any = None
        self.bitmask: Any = None
        self.prose = ProseNgrams(vocab.pieces, no_repeat_ngram)
        self.prose_penalty = prose_penalty

    def stopped(self) -> bool:
        """The caller asked to stop, or the consumer left."""
        return self.request.stop_event.is_set() or self.left.is_set()

    @property
    def reading(self) -> bool:
        """Still evaluating its prompt."""
        return self.fed < len(self.prompt)

    def start_grammar(self) -> None:
        """A fresh matcher for the row's grammar (created on the scheduler thread, used only there)."""
        if self.grammar is not None and self.matcher is None:
            import xgrammar as xgr

            self.matcher = xgr.GrammarMatcher(self.grammar)
            self.bitmask = xgr.allocate_token_bitmask(1, self.vocab.n_vocab)

    def sample(self, logits: Any) -> bool:
        """Pick the next token from this row's logits (changed in place), stream its text; False when finished."""
        import numpy as np

        if self.penalty != 1.0:
            values = logits[self.seen_ids]
            logits[self.seen_ids] = np.where(values > 0, values / self.penalty, values * self.penalty)
        if self.prose_penalty != 1.0 and self.prose.in_string and self.prose.words:
            # inside a string only: the words the answer's prose already used, never the prompt's or the syntax
            used = np.asarray(self.prose.words, dtype=np.int64)
            values = logits[used]
            logits[used] = np.where(values > 0, values / self.prose_penalty, values * self.prose_penalty)
        if self.matcher is not None:
            import torch
            import xgrammar as xgr

            self.matcher.fill_next_token_bitmask(self.bitmask)
            xgr.apply_token_bitmask_inplace(torch.from_numpy(logits).unsqueeze(0), self.bitmask)
        banned = self.prose.banned()
        if banned:  # after the mask, and only while an allowed token survives the ban
            kept = logits[banned].copy()
            logits[banned] = -np.inf
            if not np.isfinite(logits).any():
                logits[banned] = kept
        token = sample_token(logits, self.request.params, self.rng)
        if token in self.vocab.stop_ids:
            self.finish("stop")
            return False
        if self.matcher is not None and not self.matcher.accept_token(token):
            raise GenerationError(f"token {token} was generated outside the answer grammar")
        self.stats.completion_tokens += 1
        self.prose.accept(token)
        if not self.seen[token]:
            self.seen[token] = True
            self.seen_ids = np.append(self.seen_ids, token)
        self.emit(self.decoder.decode(self.vocab.pieces[token]))
        if self.stats.completion_tokens >= self.budget:
            self.finish("length")
            return False
        self.next_token = token
        self.pos = len(self.prompt) + self.stats.completion_tokens - 1
        return True

    def emit(self, text: str) -> None:
        """Hand text to the consumer."""
        if text:
            if self.stats.first_token_s is None:
                self.stats.first_token_s = time.perf_counter() - self.started
            self.chunks.put(text)

    def finish(self, reason: str, failure: BaseException | None = None) -> None:
        """End the row: flush a half-decoded character, record why, wake the consumer."""
        if self.finished.is_set():
            return
        self.emit(self.decoder.decode(b"", final=True))
        if not self.stats.finish_reason:
            self.stats.finish_reason = reason  # type: ignore[assignment]
        self.failure = failure
        self.next_token = None
        self.chunks.put(END)
        self.finished.set()


class StepLoop:
    """A thread that owns a model and runs its rows in steps: subclasses say when there is room for a row, how a
    row is placed, what one step evaluates, and what freeing a row or resetting the model means."""

    def __init__(self, name: str) -> None:
        self._active: list[Row] = []
        self._waiting: deque[Any] = deque()
        self._inbox: queue.Queue[Any] = queue.Queue()
        # steps so far, the rows they carried, and the most rows one step carried (tests, the benchmark)
        self.steps = 0
        self.rows_decoded = 0
        self.peak_rows = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _start(self) -> None:
        """Start the thread (the subclass calls it once its own state is ready)."""
        self._thread.start()

    # ---- called from other threads ----------------------------------------------------------------
    def submit(self, row: Row) -> None:
        """Queue a row; it joins the batch at the next step boundary where there is room."""
        self._inbox.put(row)

    def stream(self, row: Row) -> Iterator[str]:
        """Submit the row and yield its text as it is decoded; its failure re-raised as a GenerationError."""
        self.submit(row)
        try:
            while True:
                item = row.chunks.get()
                if item is END:
                    break
                yield item
        finally:
            # runs on normal end, on an error, and when the consumer closes the stream (Stop): the scheduler drops
            # the row at its next step boundary, and we wait for that so the caller knows the model is free
            row.left.set()
            row.finished.wait()
            row.stats.total_s = time.perf_counter() - row.started
            if not row.stats.finish_reason:
                row.stats.finish_reason = "cancelled"
        if row.failure is not None:
            exc = row.failure
            if isinstance(exc, (InputError, GenerationError)):
                raise exc
            raise GenerationError(f"generation failed: {exc}") from exc

    def counts(self) -> tuple[int, int, int]:
        """(steps, rows those steps carried, most rows in one step) so far."""
        return self.steps, self.rows_decoded, self.peak_rows

    def call(self, fn: Callable[[Any], Any]) -> Any:
        """Run fn(scheduler) on the scheduler thread once no row is in the batch; its result or its exception."""
        done = threading.Event()
        box: dict[str, Any] = {}

        def job() -> None:
            try:
                box["result"] = fn(self)
            except BaseException as exc:  # re-raised in the caller's thread
                box["error"] = exc
            finally:
                done.set()

        self._inbox.put(job)
        done.wait()
        if "error" in box:
            raise box["error"]
        return box.get("result")

    def close(self) -> None:
        """Finish every row as cancelled and stop the thread."""
        self._inbox.put(_STOP)
        self._thread.join()

    # ---- the scheduler thread ---------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while True:
                idle = not self._active and not self._waiting
                items = [self._inbox.get()] if idle else []
                while True:
                    try:
                        items.append(self._inbox.get_nowait())
                    except queue.Empty:
                        break
                if _STOP in items:
                    return
                self._waiting.extend(items)
                try:
                    self._admit()
                    if self._active:
                        self._step()
                except Exception as exc:  # a failed step: every row in it ends with the error, nothing hangs
                    log.exception("batched decode failed")
                    self._fail_all(exc)
        finally:
            self._fail_all(GenerationError("the model was shut down"), waiting=True)

    def _admit(self) -> None:
        """Drop rows stopped while waiting, run a job when the batch is empty, place rows while there is room."""
        for item in list(self._waiting):
            if isinstance(item, Row) and item.stopped():
                self._waiting.remove(item)
                item.finish("cancelled")
        for item in list(self._waiting):
            if not isinstance(item, Row):  # a job: it waits for the batch to drain, and rows behind it wait too
                if self._active:
                    return
                self._waiting.remove(item)
                item()
                continue
            if not self._has_room():
                return
            if self._defer(item):
                continue
            self._waiting.remove(item)
            self._place(item)

    def _count_step(self, rows: int) -> None:
        self.steps += 1
        self.rows_decoded += rows
        self.peak_rows = max(self.peak_rows, rows)

    def _release(self, row: Row, reason: str, failure: BaseException | None = None) -> None:
        """Take the row out of the batch, free what it held, and end it."""
        if row in self._active:
            self._active.remove(row)
            self._free_row(row)
        row.finish(reason or "cancelled", failure)

    def _fail_all(self, exc: BaseException, waiting: bool = False) -> None:
        for row in list(self._active):
            self._release(row, "", failure=exc)
        self._reset()  # the model's cache may no longer hold what the rows think it holds
        if waiting:
            while self._waiting:
                item = self._waiting.popleft()
                if isinstance(item, Row):
                    item.finish("cancelled", exc)
            while True:
                try:
                    item = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if isinstance(item, Row):
                    item.finish("cancelled", exc)

    # ---- what a scheduler defines -----------------------------------------------------------------
    def _has_room(self) -> bool:
        raise NotImplementedError

    def _defer(self, row: Row) -> bool:
        """True to leave a row waiting this step although there is room (default: never)."""
        return False

    def _place(self, row: Row) -> None:
        raise NotImplementedError

    def _step(self) -> None:
        raise NotImplementedError

    def _free_row(self, row: Row) -> None:
        raise NotImplementedError

    def _reset(self) -> None:
        raise NotImplementedError


def sample_token(logits: Any, params: SamplingParams, rng: Any) -> int:
    """Greedy, or temperature then top-p (the order and the nucleus rule of transformers' warpers)."""
    import numpy as np

    if params.greedy:
        return int(np.argmax(logits))
    best = float(logits.max())
    candidates = np.flatnonzero(logits >= best - _LOGIT_WINDOW * params.temperature)  # masked tokens are -inf
    scaled = logits[candidates].astype(np.float64) / params.temperature
    probs = np.exp(scaled - scaled.max())
    probs /= probs.sum()
    if params.top_p < 1.0:
        order = np.argsort(-probs, kind="stable")
        mass = probs[order]
        before = np.cumsum(mass) - mass
        keep = before < params.top_p  # a token stays while the mass before it is under top_p (the best always does)
        candidates, probs = candidates[order[keep]], mass[keep]
    cumulative = np.cumsum(probs)
    pick = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    return int(candidates[min(pick, candidates.size - 1)])
