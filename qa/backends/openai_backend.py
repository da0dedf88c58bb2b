"""Remote engine backend: an OpenAI-compatible server (vLLM, SGLang) decodes under the same JSON Schema."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx

from ..errors import ModelLoadError, UpstreamError
from ..types import ChatMessage, GenerationRequest, GenerationStats, ModelInfo, TextStream

if TYPE_CHECKING:
    from ..settings import Settings

log = logging.getLogger(__name__)

# no tokenizer here, so prompt size is estimated: one token per character plus a per-message allowance for the
# chat template. Qwen2.5's tokenizer needs about 0.7 tokens per Chinese character and 0.25 per English
# character, so this over-counts and a prompt we accept fits the engine's context; the engine's own count is
# what usage reports afterwards.
TOKENS_PER_MESSAGE = 8


def estimate_tokens(messages: list[ChatMessage]) -> int:
    """An upper estimate of the prompt tokens these messages take on the engine."""
    return sum(len(m["content"]) + TOKENS_PER_MESSAGE for m in messages) + TOKENS_PER_MESSAGE


class OpenAIBackend:
    """Streams chat completions from a remote OpenAI-compatible engine; many generations may run at once."""

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        """A client for the engine in settings; `transport` replaces the network (tests replay recorded engines)."""
        assert settings.base_url and settings.remote_model  # Settings refuses backend=openai without them
        self.base_url = settings.base_url.rstrip("/")
        self.model = settings.remote_model
        self.timeout_s = settings.remote_timeout_s
        self.repetition_penalty = settings.repetition_penalty
        self.seed = settings.seed
        self._api_key = settings.remote_api_key
        self._context = min(settings.remote_context_length, settings.max_context_tokens)
        self._client = httpx.Client(
            timeout=httpx.Timeout(self.timeout_s, connect=min(10.0, self.timeout_s)), transport=transport
        )
        self._checked = False

    @property
    def info(self) -> ModelInfo:
        return ModelInfo(
            name=self.model,
            source="remote",
            dtype="server-side",
            device=self.base_url,
            context_length=self._context,
        )

    @property
    def context_length(self) -> int:
        return self._context

    def identity(self) -> dict[str, Any]:
        """What decides its answers besides the prompt: the engine and the model name it serves (its weights are the
        engine's business), the seed and the repetition penalty."""
        return {
            "backend": "openai",
            "weights": {"model": self.model, "base_url": self.base_url},
            "seed": self.seed,
            "repetition_penalty": self.repetition_penalty,
        }

    def _headers(self) -> dict[str, str]:
        if self._api_key is None:
            return {}
        return {"Authorization": f"Bearer {self._api_key.get_secret_value()}"}

    def load(self) -> None:
        """Check that the engine answers and serves the model; ModelLoadError with the reason if not."""
        if self._checked:
            return
        url = f"{self.base_url}/models"
        try:
            response = self._client.get(url, headers=self._headers())
        except httpx.HTTPError as exc:
            raise ModelLoadError(
                f"cannot reach the remote engine at {self.base_url} ({type(exc).__name__}: {exc}); "
                "check --base-url and that the engine is running"
            ) from exc
        if response.status_code != 200:
            raise ModelLoadError(
                f"the remote engine at {self.base_url} answered GET /models with {response.status_code}: "
                f"{_error_message(response)}"
            )
        try:
            served = [m.get("id") for m in response.json().get("data", [])]
        except (ValueError, AttributeError) as exc:
            raise ModelLoadError(f"the remote engine at {self.base_url} sent a malformed model list") from exc
        if self.model not in served:
            raise ModelLoadError(
                f"the remote engine at {self.base_url} serves {', '.join(map(str, served)) or 'no models'}, "
                f"not {self.model!r}; check --remote-model"
            )
        self._checked = True
        log.info("remote engine ready: %s", self.info.describe())

    def count_tokens(self, messages: list[ChatMessage]) -> int:
        return estimate_tokens(messages)

    def payload(self, request: GenerationRequest) -> dict[str, Any]:
        """The chat-completions request body for one generation."""
        params = request.params
        body: dict[str, Any] = {
            "model": self.model,
            "messages": request.messages,
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": params.max_new_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            # not in OpenAI's API, but vLLM and SGLang take it, and a server that does not ignores it
            "repetition_penalty": self.repetition_penalty,
        }
        if self.seed is not None:
            body["seed"] = self.seed
        if request.schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": request.schema, "strict": True},
            }
        return body

    def stream(self, request: GenerationRequest) -> TextStream:
        stats = GenerationStats()
        return TextStream(self._stream(request, stats), stats)

    def _stream(self, request: GenerationRequest, stats: GenerationStats) -> Iterator[str]:
        started = time.perf_counter()
        url = f"{self.base_url}/chat/completions"
        finish = ""
        usage: dict[str, Any] = {}
        chunks = 0
        try:
            # leaving this block (end, error, or the consumer closing us on Stop) closes the connection, which is
            # how an OpenAI-compatible engine learns to abort the generation
            with self._client.stream("POST", url, json=self.payload(request), headers=self._headers()) as response:
                if response.status_code != 200:
                    response.read()
                    raise UpstreamError(
                        f"the remote engine at {self.base_url} answered {response.status_code}: "
                        f"{_error_message(response)}"
                    )
                for line in response.iter_lines():
                    if request.stop_event.is_set():
                        stats.finish_reason = "cancelled"
                        break
                    if not line.startswith("data:"):
                        continue
                    data = line[5:].strip()
                    if data == "[DONE]":
                        break
                    chunk = _parse_chunk(data, self.base_url)
                    usage = chunk.get("usage") or usage
                    for choice in chunk.get("choices") or []:
                        text = (choice.get("delta") or {}).get("content")
                        if text:
                            if stats.first_token_s is None:
                                stats.first_token_s = time.perf_counter() - started
                            chunks += 1
                            stats.completion_tokens = chunks  # engines send about one token per chunk
                            stats.total_s = time.perf_counter() - started
                            yield text
                        finish = choice.get("finish_reason") or finish
        except httpx.TimeoutException as exc:
            raise UpstreamError(
                f"the remote engine at {self.base_url} sent nothing for {self.timeout_s:g} s ({type(exc).__name__})"
            ) from exc
        except httpx.HTTPError as exc:
            raise UpstreamError(
                f"lost the remote engine at {self.base_url} ({type(exc).__name__}: {exc}); is it running?"
            ) from exc
        finally:
            stats.total_s = time.perf_counter() - started
        if stats.finish_reason == "cancelled":
            return
        if not finish:
            raise UpstreamError(f"the remote engine at {self.base_url} ended the answer without a finish reason")
        stats.finish_reason = "length" if finish == "length" else "stop"
        stats.prompt_tokens = int(usage.get("prompt_tokens") or estimate_tokens(request.messages))
        stats.completion_tokens = int(usage.get("completion_tokens") or chunks)


def _parse_chunk(data: str, base_url: str) -> dict[str, Any]:
    try:
        chunk = json.loads(data)
    except ValueError as exc:
        raise UpstreamError(f"the remote engine at {base_url} sent a malformed chunk: {data[:200]!r}") from exc
    if not isinstance(chunk, dict):
        raise UpstreamError(f"the remote engine at {base_url} sent a malformed chunk: {data[:200]!r}")
    if chunk.get("error"):
        error = chunk["error"]
        message = error.get("message") if isinstance(error, dict) else error
        raise UpstreamError(f"the remote engine at {base_url} broke off: {message}")
    return chunk


def _error_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
    except (ValueError, AttributeError):
        pass
    return response.text[:300] or response.reason_phrase
