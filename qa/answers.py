"""What the pipeline produces: the prompt it built, streamed events, and the finished, validated answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .types import ChatMessage, GenerationStats, SamplingParams
from .validation import ValidationReport


@dataclass
class Prompt:
    """The chat messages for one question, what they cost, and how many old turns had to be left out."""

    messages: list[ChatMessage]
    prompt_tokens: int
    dropped_turns: int = 0
    system_prompt: str | None = None  # the caller's own system prompt, None for the task's default
    question: str = ""  # the checked question

    @property
    def system_text(self) -> str:
        """The system prompt the model actually sees."""
        return self.messages[0]["content"] if self.messages and self.messages[0]["role"] == "system" else ""


@dataclass
class Answer:
    """A finished, validated answer with everything needed to show, export or rate it."""

    task: str
    question: str
    data: dict[str, Any] | None
    raw: str
    report: ValidationReport
    model: dict[str, Any]
    params: dict[str, Any]
    usage: dict[str, Any] = field(default_factory=dict)
    dropped_turns: int = 0
    cache: str = "off"  # the answer cache: hit (replayed), miss, skip (not deterministic), error (unreachable), off
    # knowledge-base answers: each citation with file, page, offsets and whether its quote was found in its chunk
    citations: list[dict[str, Any]] | None = None

    @property
    def ok(self) -> bool:
        """True when the answer parsed and passed the schema (forbidden names, if any, were redacted)."""
        return self.report.passed

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: the answer, its validation report, model and parameters."""
        return {
            "task": self.task,
            "question": self.question,
            "answer": self.data,
            "raw": self.raw,
            "validation": self.report.to_dict(),
            "model": self.model,
            "params": self.params,
            "usage": self.usage,
            "dropped_turns": self.dropped_turns,
            "cache": self.cache,
            **({"citations": self.citations} if self.citations is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        """The answer to_dict() wrote (a cached one)."""
        return cls(
            task=data["task"],
            question=data["question"],
            data=data["answer"],
            raw=data["raw"],
            report=ValidationReport.from_dict(data["validation"]),
            model=data["model"],
            params=data["params"],
            usage=data.get("usage", {}),
            dropped_turns=data.get("dropped_turns", 0),
            cache=data.get("cache", "off"),
            citations=data.get("citations"),
        )


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


def usage_of(stats: GenerationStats) -> dict[str, Any]:
    """Token counts and timings as reported with an answer."""
    return {
        "prompt_tokens": stats.prompt_tokens,
        "completion_tokens": stats.completion_tokens,
        "seconds": round(stats.total_s, 3),
        "first_token_s": None if stats.first_token_s is None else round(stats.first_token_s, 3),
        "tokens_per_s": round(stats.tokens_per_s, 2),
    }


def add_stats(total: GenerationStats, part: GenerationStats) -> None:
    """Add one attempt's stats to the request's totals."""
    total.prompt_tokens += part.prompt_tokens
    total.completion_tokens += part.completion_tokens
    total.total_s += part.total_s
    if total.first_token_s is None:
        total.first_token_s = part.first_token_s


def params_dict(params: SamplingParams) -> dict[str, Any]:
    """Sampling parameters as reported with an answer."""
    return asdict(params)
