"""A fast, deterministic backend for tests and UI work: replays scripted answers in small chunks."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import ConfigurationError
from ..types import ChatMessage, GenerationRequest, GenerationStats, ModelInfo, TextStream

Responder = Callable[[GenerationRequest], str]


def load_responses(path: Path) -> list[str]:
    """A JSON list of answers from a file (objects are serialized); ConfigurationError when unusable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigurationError(f"cannot read fake responses from {path}: {exc}") from exc
    if not isinstance(data, list) or not data:
        raise ConfigurationError(f"{path} must hold a non-empty JSON list of answers")
    return [item if isinstance(item, str) else json.dumps(item, ensure_ascii=False) for item in data]


def default_answer(request: GenerationRequest) -> str:
    """A schema-shaped answer for either domain that quotes the question, so each session sees its own."""
    props = (request.schema or {}).get("properties", {})
    question = next((m["content"] for m in reversed(request.messages) if m["role"] == "user"), "")
    answer: dict[str, object] = {
        "summary": f"这是测试后端对“{question[:40]}”给出的示例回答。",
        "analysis": ["示例分析一。", "示例分析二。"],
        "suggestions": ["示例建议。"],
    }
    if "urgent" in props:
        answer["urgent"] = False
    if "calculations" in props:
        answer["calculations"] = []
    if "risk_notice" in props:
        answer["risk_notice"] = "示例风险提示：投资有风险。"
    if "citations" in props:  # a knowledge-base answer: the first sentence offered (none when nothing was found)
        fields = props["citations"].get("items", {}).get("properties", {})
        answer["citations"] = [{k: v["enum"][0]} for k, v in fields.items() if v.get("enum")][:1]
    return json.dumps(answer, ensure_ascii=False)


class FakeBackend:
    """Replays `responses` in order (the last one repeats), or calls a responder function."""

    def __init__(
        self,
        responses: list[str] | Responder | None = None,
        chunk_chars: int = 6,
        delay_s: float = 0.0,
        context_length: int = 4096,
    ) -> None:
        self._responses: list[str] | Responder = default_answer
        self._served = 0  # answers given since the script was set
        self._scripts = 0  # scripts set so far: a new script is a new "model" to the answer cache
        self.script(responses)
        self.chunk_chars = chunk_chars
        self.delay_s = delay_s
        self._context_length = context_length
        self.requests: list[GenerationRequest] = []
        self.loaded = False
        self.seed: int | None = None  # as a real backend's: a fixed seed makes sampled answers repeatable
        # what identity() reports as the weights: unique to this instance, since a fake's answers come from its script,
        # not the prompt (another process's cached answers must never replay here); a test may set it
        self.weights = f"fake-{uuid.uuid4().hex}"
        self._lock = threading.Lock()
        self._running = threading.Event()  # cleared by hold(): after its first chunk a generation waits
        self._running.set()

    def hold(self) -> None:
        """Generations pause after their first chunk until release() or their stop event: a test can then see that
        something stopped a generation, since it cannot have finished on its own."""
        self._running.clear()

    def release(self) -> None:
        """Let held generations go on."""
        self._running.set()

    def script(self, responses: list[str] | Responder | None) -> None:
        """Answer the next requests with these (in order, the last one repeating), a responder, or the default."""
        if isinstance(responses, list) and not responses:
            raise ValueError("a fake script needs at least one answer")
        self._responses = responses if responses is not None else default_answer
        self._served = 0
        self._scripts += 1

    def reset(self) -> None:
        """The default script, no delay, no requests recorded: as new, for a backend shared between tests."""
        self.script(None)
        self.delay_s = 0.0
        self.release()
        self.requests.clear()
        self.seed = None

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(
            name="fake", source="fake backend", dtype="none", device="cpu", context_length=self._context_length
        )

    @property
    def context_length(self) -> int:
        return self._context_length

    def identity(self) -> dict[str, object]:
        """The answer cache's view of this backend: its name, weights, seed and repetition penalty."""
        weights = {"id": self.weights, "script": self._scripts}
        return {"backend": "fake", "weights": weights, "seed": self.seed, "repetition_penalty": 1.0}

    def load(self) -> None:
        self.loaded = True

    def count_tokens(self, messages: list[ChatMessage]) -> int:
        # one token per character plus a little template overhead: close enough for limit tests
        return sum(len(m["content"]) + 4 for m in messages) + 2

    def _next_response(self, request: GenerationRequest) -> str:
        if callable(self._responses):
            self._served += 1
            return self._responses(request)
        index = min(self._served, len(self._responses) - 1)
        self._served += 1
        return self._responses[index]

    def stream(self, request: GenerationRequest) -> TextStream:
        stats = GenerationStats()
        return TextStream(self._run(request, stats), stats)

    def _run(self, request: GenerationRequest, stats: GenerationStats) -> Iterator[str]:
        # the lock covers the script's bookkeeping only: as many generations stream at once as the caller's gate
        # admits (a batching backend's rows), so a test can hold several of them mid-answer together
        with self._lock:
            self.requests.append(request)
            text = self._next_response(request)
        start = time.perf_counter()
        stats.prompt_tokens = self.count_tokens(request.messages)
        limit = request.params.max_new_tokens
        stats.finish_reason = "length" if len(text) > limit else "stop"
        text = text[:limit]
        for i in range(0, len(text), self.chunk_chars):
            while i and not self._running.wait(0.01) and not request.stop_event.is_set():
                pass
            if request.stop_event.is_set():
                stats.finish_reason = "cancelled"
                break
            if self.delay_s:
                time.sleep(self.delay_s)
            if stats.first_token_s is None:
                stats.first_token_s = time.perf_counter() - start
            chunk = text[i : i + self.chunk_chars]
            stats.completion_tokens += len(chunk)
            stats.total_s = time.perf_counter() - start
            yield chunk
        stats.total_s = time.perf_counter() - start
