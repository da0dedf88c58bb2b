"""Continuous batching for the llama.cpp backend: several users' answers decoded together on one model.

One scheduler thread owns the llama.cpp context (contexts are not thread-safe). Each generation is a `Row` with
its own KV-cache sequence, grammar matcher, sampler state and output queue. At every step the scheduler admits
waiting rows into free sequences, then runs one `llama_decode` holding one token for every row that is answering
and one prompt chunk of a row that is still reading its prompt; each row that got logits then samples its next
token under its own grammar mask and streams the text to its own consumer. A row whose consumer stops or leaves
is dropped at the next step boundary; the other rows never notice. With one sequence this is exactly the
one-at-a-time backend.

Prompts are evaluated in chunks at fixed positions (multiples of `chunk`) and each sequence remembers the whole
chunks it holds, so a new prompt placed on a sequence reuses the chunks it shares with that sequence's last
prompt (the system prompt, a follow-up question, a repair attempt). Reusing only whole chunks keeps an answer
identical to a fresh start.
"""

from __future__ import annotations

import codecs
import logging
import os
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from ..errors import GenerationError
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


class Scheduler:
    """Owns a llama.cpp context with `n_seq` sequences and decodes its rows together, one step at a time."""

    def __init__(
        self, ctx: Any, n_seq: int, chunk: int, n_vocab: int, reuse_prefix: bool = True, name: str = "qa-llamacpp"
    ) -> None:
        import llama_cpp

        self._llama = llama_cpp
        self._ctx = ctx
        self._mem = llama_cpp.llama_get_memory(ctx)
        self.n_seq = n_seq
        self.chunk = chunk
        self._reuse_prefix = reuse_prefix
        self.n_vocab = n_vocab
        self._capacity = chunk + n_seq  # one prompt chunk and one token per row
        self._batch = llama_cpp.llama_batch_init(self._capacity, 0, 1)
        self._n = 0
        self._kept: list[list[int]] = [[] for _ in range(n_seq)]  # whole prompt chunks each sequence holds
        self._used = [0] * n_seq  # when each sequence was last given a prompt (0: never), for least-recently-used
        self._clock = 0
        self._free = list(range(n_seq))
        self._active: list[Row] = []
        self._waiting: deque[Any] = deque()
        self._inbox: queue.Queue[Any] = queue.Queue()
        # decode calls so far, the rows they carried, and the most rows one step carried (tests, the benchmark)
        self.steps = 0
        self.rows_decoded = 0
        self.peak_rows = 0
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    # ---- called from other threads ----------------------------------------------------------------
    def submit(self, row: Row) -> None:
        """Queue a row; it joins the batch at the next step boundary with a free sequence."""
        self._inbox.put(row)

    def call(self, fn: Callable[[Scheduler], Any]) -> Any:
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
        self._llama.llama_batch_free(self._batch)

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
                except Exception as exc:  # a failed decode: every row in it ends with the error, nothing hangs
                    log.exception("batched decode failed")
                    self._fail_all(exc)
        finally:
            self._fail_all(GenerationError("the model was shut down"), waiting=True)

    def _admit(self) -> None:
        """Drop rows stopped while waiting, run a job when the batch is empty, place rows on free sequences."""
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
            if not self._free:
                return
            if self._copy_soon(item):
                continue
            self._waiting.remove(item)
            self._place(item)

    def _copy_soon(self, row: Row) -> bool:
        """True when a row still reading its prompt is evaluating chunks this row shares and no sequence holds yet:
        placed after them, the row copies them instead of evaluating them again (users of one task arriving
        together on a cold cache share the system prompt's evaluation)."""
        if not self._reuse_prefix:
            return False
        cached = max(self._shared(seq, row.prompt) for seq in range(self.n_seq))
        for other in self._active:
            if other.reading:
                common = self._aligned(len(os.path.commonprefix([other.prompt, row.prompt])), row.prompt)
                if common > cached and other.fed < common:
                    return True
        return False

    def _place(self, row: Row) -> None:
        """Give the row a free sequence holding as many of its whole prompt chunks as any sequence holds."""
        seq, keep = self.reuse(row.prompt, self._free)
        self._free.remove(seq)
        row.seq, row.fed = seq, keep
        row.stats.cached_prompt_tokens = keep
        row.start_grammar()
        self._active.append(row)

    def reuse(self, prompt: list[int], candidates: list[int]) -> tuple[int, int]:
        """(sequence, tokens kept): the candidate to evaluate this prompt on, holding the most whole chunks of it.

        When another sequence (busy or not) holds more of them than any candidate, its cache is copied over
        first: users of one task share the system prompt, so only their own question is evaluated. A copy is
        exact (the same KV values), so answers stay those of a fresh start.
        """
        shared = {seq: self._shared(seq, prompt) for seq in range(self.n_seq)}
        # the candidate holding most of the prompt; on a tie the least recently used one, so a prompt that shares
        # nothing (the other task's system prompt) does not evict a cache that later questions would reuse
        dst = max(candidates, key=lambda seq: (shared[seq], -self._used[seq], -seq))
        self._clock += 1
        self._used[dst] = self._clock
        src = max(range(self.n_seq), key=lambda seq: (shared[seq], seq == dst))
        keep = shared[dst]
        if shared[src] > keep:
            # a whole-sequence copy (the per-row KV streams copy only whole), then cut back to the shared chunks
            self._llama.llama_memory_seq_cp(self._mem, src, dst, -1, -1)
            self._kept[dst] = list(self._kept[src])
            keep = shared[src]
        self._llama.llama_memory_seq_rm(self._mem, dst, keep, -1)
        self._kept[dst] = self._kept[dst][:keep]
        return dst, keep

    def _shared(self, seq: int, prompt: list[int]) -> int:
        """Leading whole chunks of the prompt that the sequence holds (at least one token is left to evaluate, so
        the last one's logits exist)."""
        if not self._reuse_prefix:
            return 0
        return self._aligned(len(os.path.commonprefix([self._kept[seq], prompt])), prompt)

    def _aligned(self, common: int, prompt: list[int]) -> int:
        """Whole chunks within `common` tokens, leaving at least the prompt's last token to evaluate."""
        return min(common, len(prompt) - 1) // self.chunk * self.chunk

    def forget(self) -> None:
        """Empty the KV cache (scheduler thread only): the next prompts are evaluated whole."""
        self._llama.llama_memory_clear(self._mem, True)
        self._kept = [[] for _ in range(self.n_seq)]
        self._used = [0] * self.n_seq

    def _step(self) -> None:
        """One decode: a token for every answering row, one prompt chunk for the first row still reading."""
        for row in list(self._active):
            if row.stopped():
                self._release(row, "cancelled")
        if not self._active:
            return
        self._n = 0
        outputs: list[tuple[int, Row]] = []  # batch index with logits -> row
        for row in self._active:
            if row.next_token is not None:
                outputs.append((self.add(row.next_token, row.pos, row.seq, True), row))
        reader = next((r for r in self._active if r.reading), None)
        chunk_end = 0
        if reader is not None:
            start = reader.fed
            chunk_end = min((start // self.chunk + 1) * self.chunk, len(reader.prompt))
            for pos in range(start, chunk_end):
                index = self.add(reader.prompt[pos], pos, reader.seq, pos == len(reader.prompt) - 1)
            if chunk_end == len(reader.prompt):
                outputs.append((index, reader))
        self.decode()
        self.steps += 1
        self.rows_decoded += len(outputs)
        self.peak_rows = max(self.peak_rows, len(outputs))
        if reader is not None:
            if (chunk_end - reader.fed) == self.chunk:  # a whole chunk at an aligned position: reusable later
                self._kept[reader.seq] = reader.prompt[:chunk_end]
            reader.fed = chunk_end
        for index, row in outputs:
            row.next_token = None
            try:
                going = row.sample(self.logits(index))
            except Exception as exc:  # this row's grammar or sampling failed; the others go on
                self._release(row, "", failure=exc)
                continue
            if not going:
                self._release(row, "")

    def _release(self, row: Row, reason: str, failure: BaseException | None = None) -> None:
        """Take the row out of the batch and free its sequence (its whole prompt chunks stay for reuse)."""
        if row in self._active:
            self._active.remove(row)
            self._free.append(row.seq)
            self._free.sort()
        row.finish(reason or "cancelled", failure)

    def _fail_all(self, exc: BaseException, waiting: bool = False) -> None:
        for row in list(self._active):
            self._release(row, "", failure=exc)
        self.forget()  # the cache may no longer hold what the sequences think they hold
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

    # ---- batch primitives (scheduler thread; also used by jobs) ------------------------------------
    def add(self, token: int, pos: int, seq: int, logits: bool) -> int:
        """Put one token into the batch being built; its index there."""
        b, i = self._batch, self._n
        b.token[i] = token
        b.pos[i] = pos
        b.n_seq_id[i] = 1
        b.seq_id[i][0] = seq
        b.logits[i] = logits
        self._n += 1
        return i

    def decode(self) -> None:
        """Evaluate the batch that was built."""
        self._batch.n_tokens = self._n
        self._n = 0
        code = self._llama.llama_decode(self._ctx, self._batch)
        if code != 0:
            raise GenerationError(f"llama.cpp could not evaluate the batch (llama_decode returned {code})")

    def logits(self, index: int) -> Any:
        """The logits of the batch's token at `index`: a view of llama.cpp's buffer, valid until the next decode."""
        import numpy as np

        ptr = self._llama.llama_get_logits_ith(self._ctx, index)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,))

    def eval_prompt(self, seq: int, prompt: list[int], start: int) -> None:
        """Evaluate prompt[start:] on one sequence, chunk by chunk, in a job (nothing else is in the batch)."""
        for begin in range(start, len(prompt), self.chunk):
            end = min(begin + self.chunk, len(prompt))
            for pos in range(begin, end):
                self.add(prompt[pos], pos, seq, pos == len(prompt) - 1)
            self.decode()
            if end - begin == self.chunk:
                self._kept[seq] = prompt[:end]


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
