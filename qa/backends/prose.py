"""No-repeat n-grams for the prose inside an answer's JSON strings, for the local backends' constrained decoding.

A plain no-repeat n-gram rule would also ban the JSON syntax the grammar needs (`", "`, `"],`), so this one
follows the answer byte by byte: only tokens written inside a string count, across all the answer's strings (so
an item cannot copy the summary either), and a token that contains a quote is never banned (the string can
always close). The caller applies the ban after the grammar mask and only when an allowed token survives it.
It also keeps the Chinese word tokens the prose has used (`words`), for a repetition penalty on the prose alone:
the plain penalty covers the prompt and the JSON syntax too, so it cannot be raised without bending both.
"""

from __future__ import annotations

from collections.abc import Sequence


class ProseNgrams:
    """Tracks one answer's prose tokens and says which next tokens would repeat an n-gram of them."""

    def __init__(self, pieces: Sequence[bytes], n: int) -> None:
        self.pieces = pieces
        self.n = n
        self.in_string = False
        self.escaped = False
        self.run: list[int] = []  # prose tokens of the string being written
        self.follow: dict[tuple[int, ...], set[int]] = {}  # (n-1 tokens) → tokens that followed them
        self.words: list[int] = []  # prose tokens holding a letter or a character, once each, in order
        self._word_set: set[int] = set()

    def banned(self) -> list[int]:
        """Tokens that would complete an n-gram the answer's prose already holds (empty outside a string)."""
        if self.n < 2 or not self.in_string or len(self.run) < self.n - 1:
            return []
        found = self.follow.get(tuple(self.run[len(self.run) - self.n + 1 :]))
        if not found:
            return []
        return [t for t in found if b'"' not in self.pieces[t] and b"\\" not in self.pieces[t]]

    def accept(self, token: int) -> None:
        """Record the token the model wrote."""
        piece = self.pieces[token] if 0 <= token < len(self.pieces) else b""
        inside = self.in_string
        for byte in piece:  # multi-byte UTF-8 never contains these ASCII bytes, so bytes are safe to scan
            if not self.in_string:
                if byte == 0x22:  # a string opens
                    self.in_string, self.run = True, []
            elif self.escaped:
                self.escaped = False
            elif byte == 0x5C:
                self.escaped = True
            elif byte == 0x22:  # the string closes
                self.in_string = False
        if inside and self.in_string and piece:
            self.run.append(token)
            # punctuation and spaces recur in any prose, and numbers, figure references (F1, R2C3) and calculation
            # programs must recur exactly: only tokens with a non-ASCII word character (Chinese) count as used
            if token not in self._word_set and _has_word(piece):
                self._word_set.add(token)
                self.words.append(token)
            if self.n >= 2 and len(self.run) >= self.n:
                gram = self.run[-self.n :]
                self.follow.setdefault(tuple(gram[:-1]), set()).add(gram[-1])


def _has_word(piece: bytes) -> bool:
    """The token's text holds a non-ASCII letter or character (Chinese), not only ASCII, punctuation or spaces."""
    return any(ord(ch) > 127 and ch.isalnum() for ch in piece.decode("utf-8", errors="ignore"))
