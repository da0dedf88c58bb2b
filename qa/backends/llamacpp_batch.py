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

import os
from typing import Any

from ..errors import GenerationError
from .batching import END, Row, StepLoop, Vocab, sample_token

__all__ = ["END", "Row", "Scheduler", "Vocab", "sample_token"]


class Scheduler(StepLoop):
    """Owns a llama.cpp context with `n_seq` sequences and decodes its rows together, one step at a time."""

    def __init__(
        self, ctx: Any, n_seq: int, chunk: int, n_vocab: int, reuse_prefix: bool = True, name: str = "qa-llamacpp"
    ) -> None:
        import llama_cpp

        super().__init__(name)
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
        self._start()

    def close(self) -> None:
        """Finish every row as cancelled, stop the thread, free the batch."""
        super().close()
        self._llama.llama_batch_free(self._batch)

    # ---- the scheduler thread ---------------------------------------------------------------------
    def _has_room(self) -> bool:
        return bool(self._free)

    def _defer(self, row: Row) -> bool:
        return self._copy_soon(row)

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
        self._count_step(len(outputs))
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

    def _free_row(self, row: Row) -> None:
        # the sequence's whole prompt chunks stay for reuse
        self._free.append(row.seq)
        self._free.sort()

    def _reset(self) -> None:
        self.forget()

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
