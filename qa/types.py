"""Plain data types shared by the backends, the service and the edges."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypedDict

from .errors import InputError

TEMPERATURE_RANGE = (0.0, 1.5)
TOP_P_RANGE = (0.05, 1.0)
MIN_NEW_TOKENS = 64


class ChatMessage(TypedDict):
    """One chat-template message."""

    role: Literal["system", "user", "assistant"]
    content: str


def _number(name: str, value: Any) -> float:
    # bool is an int subclass; a JSON `true` is not a temperature
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{name} must be a finite number, got {value!r}", param=name)
    try:
        number = float(value)  # an int with hundreds of digits does not fit a float: refused, not a crash
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        shown = value if isinstance(value, float) or abs(value) < 10**30 else "a number too large"
        raise InputError(f"{name} must be a finite number, got {shown}", param=name)
    return number


@dataclass(frozen=True)
class SamplingParams:
    """Validated sampling parameters; temperature 0 means greedy decoding."""

    temperature: float
    top_p: float
    max_new_tokens: int

    @classmethod
    def create(
        cls,
        temperature: Any,
        top_p: Any,
        max_new_tokens: Any,
        max_new_tokens_limit: int,
        min_new_tokens: int = MIN_NEW_TOKENS,
    ) -> SamplingParams:
        """Check each value against its bounds and raise InputError naming the parameter."""
        t = _number("temperature", temperature)
        if not TEMPERATURE_RANGE[0] <= t <= TEMPERATURE_RANGE[1]:
            raise InputError(
                f"temperature must be between {TEMPERATURE_RANGE[0]} and {TEMPERATURE_RANGE[1]}, got {t}",
                param="temperature",
            )
        p = _number("top_p", top_p)
        if not TOP_P_RANGE[0] <= p <= TOP_P_RANGE[1]:
            raise InputError(f"top_p must be between {TOP_P_RANGE[0]} and {TOP_P_RANGE[1]}, got {p}", param="top_p")
        n = _number("max_new_tokens", max_new_tokens)
        if n != int(n) or not min_new_tokens <= n <= max_new_tokens_limit:
            raise InputError(
                f"max_new_tokens must be a whole number between {min_new_tokens} and {max_new_tokens_limit}, got {max_new_tokens}",
                param="max_new_tokens",
            )
        return cls(temperature=t, top_p=p, max_new_tokens=int(n))

    @property
    def greedy(self) -> bool:
        """True when sampling degenerates to argmax."""
        return self.temperature == 0.0


@dataclass(frozen=True)
class ModelInfo:
    """What is live: shown in the UI, /health and CLI output."""

    name: str
    source: str
    dtype: str
    device: str
    quantization: str = "none"
    context_length: int = 0
    # the LoRA adapter applied on top ("" for none) and the first 12 hex digits of its weights' sha256: answers
    # (and anything cached by model identity) differ with the adapter
    adapter: str = ""
    adapter_sha256: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON output."""
        return asdict(self)

    def describe(self) -> str:
        """One line for people."""
        quant = "" if self.quantization == "none" else f" · {self.quantization}"
        adapter = f" · adapter {self.adapter} ({self.adapter_sha256})" if self.adapter else ""
        return f"{self.name} ({self.source}){adapter} · {self.dtype} · {self.device}{quant} · context {self.context_length}"


@dataclass
class GenerationRequest:
    """Everything a backend needs for one generation."""

    messages: list[ChatMessage]
    params: SamplingParams
    schema: dict[str, Any] | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)


@dataclass
class GenerationStats:
    """Filled in by the backend while it streams."""

    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0  # of prompt_tokens, those reused from the model's cache instead of evaluated
    completion_tokens: int = 0
    finish_reason: Literal["stop", "length", "cancelled", ""] = ""
    first_token_s: float | None = None
    total_s: float = 0.0

    @property
    def tokens_per_s(self) -> float:
        """Decode throughput over the whole generation."""
        return self.completion_tokens / self.total_s if self.total_s > 0 else 0.0


class TextStream:
    """An iterator of text chunks whose stats are complete once it is exhausted."""

    def __init__(self, chunks: Iterator[str], stats: GenerationStats) -> None:
        self._chunks = chunks
        self.stats = stats

    def __iter__(self) -> TextStream:
        return self

    def __next__(self) -> str:
        return next(self._chunks)

    def close(self) -> None:
        """Stop the generation early and release the model."""
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
