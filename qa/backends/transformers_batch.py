"""Continuous batching for the transformers backend: several users' answers decoded together on one model.

One scheduler thread owns the model. A new row's prompt is evaluated alone (its own KV cache), its first token
sampled, and its cache joined to the batch's: every row's cache is left-padded to the longest, and an attention
mask hides the padding. Each step then runs one forward pass with one token per row, at each row's own
position, and every row samples its next token under its own grammar mask. A row that ends, is stopped or whose
consumer leaves is cut out of the cache at the step boundary (and padding no row needs any more is trimmed);
the other rows never notice. Rows, sampling and grammar handling are shared with the llama.cpp scheduler
(`batching.Row`), so an answer follows the same rules on either backend.
"""

from __future__ import annotations

import logging
from typing import Any

from .batching import Row, StepLoop

log = logging.getLogger(__name__)


class TorchScheduler(StepLoop):
    """Owns a transformers causal LM and decodes up to `rows` generations together, one token each per step."""

    def __init__(self, model: Any, rows: int, name: str = "qa-transformers") -> None:
        import torch

        super().__init__(name)
        self._torch = torch
        self.model = model
        self.rows = rows
        self.device = model.device
        self._cache: Any = None  # the batch's KV cache: one row per entry of self._order
        self._mask: Any = None  # [rows, cached positions]: 1 where a row has a token, 0 for left padding
        self._order: list[Row] = []
        self._start()

    # ---- the scheduler thread ---------------------------------------------------------------------
    def _has_room(self) -> bool:
        return len(self._active) < self.rows

    def _place(self, row: Row) -> None:
        """Evaluate the row's prompt alone, sample its first token, and join its cache to the batch's."""
        try:
            row.start_grammar()
            cache, logits = self.prefill(row.prompt)
            row.fed = len(row.prompt)
            going = row.sample(logits)
        except Exception as exc:  # this row's prompt or grammar failed; the rows in the batch go on
            log.warning("a generation failed before joining the batch: %s", exc)
            row.finish("cancelled", exc)
            return
        self._count_step(1)
        if not going:  # its first token ended it (an end token, or a budget of one)
            row.finish("")
            return
        self._join(row, cache)
        self._active.append(row)

    def prefill(self, prompt: list[int]) -> tuple[Any, Any]:
        """(KV cache, float32 numpy logits of the next token) after evaluating the prompt alone."""
        from transformers import DynamicCache

        torch = self._torch
        ids = torch.tensor([prompt], dtype=torch.long, device=self.device)
        with torch.inference_mode():
            out = self.model(
                input_ids=ids, past_key_values=DynamicCache(config=self.model.config), use_cache=True, logits_to_keep=1
            )
        return out.past_key_values, out.logits[0, -1].float().cpu().numpy()

    def _join(self, row: Row, cache: Any) -> None:
        torch = self._torch
        length = len(row.prompt)
        mask = torch.ones(1, length, dtype=torch.long, device=self.device)
        if self._cache is None:
            self._cache, self._mask, self._order = cache, mask, [row]
            return
        width = max(self._mask.shape[1], length)
        for mine, new in zip(self._cache.layers, cache.layers, strict=True):
            mine.keys = torch.cat([_pad_left(mine.keys, width), _pad_left(new.keys, width)])
            mine.values = torch.cat([_pad_left(mine.values, width), _pad_left(new.values, width)])
        pad = torch.nn.functional.pad
        self._mask = torch.cat([pad(self._mask, (width - self._mask.shape[1], 0)), pad(mask, (width - length, 0))])
        self._order.append(row)

    def _step(self) -> None:
        """One forward pass: the last sampled token of every row, each at its own position."""
        for row in list(self._active):
            if row.stopped():
                self._release(row, "cancelled")
        self._compact()
        if not self._active:
            return
        rows = list(self._order)
        logits = self.forward([row.next_token for row in rows], [row.pos for row in rows])
        self._count_step(len(rows))
        for i, row in enumerate(rows):
            row.next_token = None
            try:
                going = row.sample(logits[i])
            except Exception as exc:  # this row's grammar or sampling failed; the others go on
                self._release(row, "", failure=exc)
                continue
            if not going:
                self._release(row, "")
        self._compact()

    def forward(self, tokens: list[int], positions: list[int]) -> Any:
        """Evaluate one token per row of the batch's cache, each at its position; float32 numpy logits per row."""
        torch = self._torch
        ids = torch.tensor([[token] for token in tokens], dtype=torch.long, device=self.device)
        where = torch.tensor([[pos] for pos in positions], dtype=torch.long, device=self.device)
        self._mask = torch.nn.functional.pad(self._mask, (0, 1), value=1)
        with torch.inference_mode():
            out = self.model(
                input_ids=ids,
                attention_mask=self._mask,
                position_ids=where,
                past_key_values=self._cache,
                use_cache=True,
            )
        self._cache = out.past_key_values
        return out.logits[:, -1].float().cpu().numpy()

    def _compact(self) -> None:
        """Cut rows that left out of the cache, then the left padding no remaining row needs."""
        keep = [i for i, row in enumerate(self._order) if row in self._active]
        if len(keep) == len(self._order):
            return
        if not keep:
            self._reset()
            return
        torch = self._torch
        index = torch.tensor(keep, dtype=torch.long, device=self.device)
        self._mask = self._mask.index_select(0, index)
        # columns before the first position any remaining row uses are padding for all of them
        first = int(self._mask.any(dim=0).long().argmax())
        self._mask = self._mask[:, first:]
        for layer in self._cache.layers:
            layer.keys = layer.keys.index_select(0, index)[:, :, first:]
            layer.values = layer.values.index_select(0, index)[:, :, first:]
        self._order = [self._order[i] for i in keep]

    def _free_row(self, row: Row) -> None:
        pass  # its cache rows are cut by _compact at the step boundary

    def _reset(self) -> None:
        self._cache = self._mask = None
        self._order = []


def _pad_left(tensor: Any, width: int) -> Any:
    """A [batch, heads, positions, dim] cache tensor left-padded with zeros to `width` positions."""
    import torch

    missing = width - tensor.shape[-2]
    return torch.nn.functional.pad(tensor, (0, 0, missing, 0)) if missing else tensor
