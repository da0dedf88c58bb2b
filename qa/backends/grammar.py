"""The compiled answer grammars of one model's vocabulary, shared by the local backends."""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import OrderedDict
from typing import Any

from ..errors import InputError

log = logging.getLogger(__name__)
_CONTROL = re.compile(rb"[\x00-\x1f]")


class GrammarCache:
    """Compiles a JSON Schema with xgrammar once per process and hands back the same grammar after."""

    # schemas made for one question (a knowledge-base answer's offered quotes, a finance question's figures, a
    # caller's qa-raw schema) would otherwise pile up for the life of the process: keep the most recently used
    LIMIT = 64

    def __init__(self, compiler: Any, limit: int = LIMIT) -> None:
        self._compiler = compiler  # an xgrammar GrammarCompiler over the backend's vocabulary
        self._grammars: OrderedDict[str, Any] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    @classmethod
    def for_vocab(cls, pieces: list[bytes], vocab_size: int, stop_ids: list[int]) -> GrammarCache:
        """A cache over a compiler for this vocabulary: each token's bytes (empty for tokens never to be chosen)."""
        import xgrammar as xgr

        # JSON forbids raw control characters inside strings, and answers have no free whitespace outside them, so a
        # token holding one (a tab, a newline, ESC) is never part of a valid answer; yet xgrammar's rule for a string
        # with minLength/maxLength (every answer schema) admits them, and a tab or an ESC then breaks the answer's
        # JSON (a re-ask) or reaches a terminal through the CLI's stream. Given as empty pieces, the grammar never
        # picks them; the caller's own pieces (what a token streams) are left as they are.
        pieces = [b"" if _CONTROL.search(piece) else piece for piece in pieces]
        info = xgr.TokenizerInfo(
            pieces, xgr.VocabType.RAW, vocab_size=vocab_size, stop_token_ids=stop_ids, add_prefix_space=False
        )
        return cls(xgr.GrammarCompiler(info))

    def get(self, schema: dict[str, Any]) -> Any:
        """The compiled grammar for a schema; InputError when xgrammar cannot use it (a caller's qa-raw schema)."""
        key = json.dumps(schema, sort_keys=True, ensure_ascii=False)
        with self._lock:
            grammar = self._grammars.get(key)
            if grammar is not None:
                self._grammars.move_to_end(key)
            else:
                started = time.perf_counter()
                # no free whitespace: the model cannot pad an answer with endless blanks
                # compile the schema as written: property order in the file is the order the model writes
                try:
                    grammar = self._compiler.compile_json_schema(
                        json.dumps(schema, ensure_ascii=False), any_whitespace=False, strict_mode=True
                    )
                except RuntimeError as exc:
                    reason = re.sub(r"^\[[^\]]*\]\s*\S+:\d+:\s*", "", str(exc)).strip()
                    raise InputError(
                        f"the JSON schema cannot be used for constrained decoding: {reason}", param="response_format"
                    ) from exc
                self._grammars[key] = grammar
                while len(self._grammars) > self._limit:
                    self._grammars.popitem(last=False)
                log.info("compiled answer grammar in %.2f s", time.perf_counter() - started)
            return grammar
