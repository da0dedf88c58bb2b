"""The remote-engine backend against the stream shapes real engines send. The chunk layouts follow streams
published in the engines' own trackers (vLLM: vllm-project/vllm#19662 and #13087 — a role-only first delta,
empty deltas, `stop_reason` beside `finish_reason`, a trailing usage chunk with no choices; SGLang:
sgl-project/sglang#19895 — `system_fingerprint`, the role repeated in every delta, `reasoning_content: null`;
llama.cpp's llama-server: openai-php/client#780 and strands-agents/harness-sdk#3955 — `choices` first, a
top-level `timings` object on every chunk, an empty delta with the finish reason, then usage, then [DONE]).
The answer text is our own; only the framing is the engines'."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from qa.backends.openai_backend import OpenAIBackend
from qa.settings import Settings
from qa.types import GenerationRequest, SamplingParams

from .helpers import MEDICAL_OK, dumps

ANSWER = dumps(MEDICAL_OK)
PIECES = [ANSWER[i : i + 7] for i in range(0, len(ANSWER), 7)]
BASE = {"id": "chatcmpl-0a1b", "object": "chat.completion.chunk", "created": 1763800000, "model": "qwen"}


def vllm(finish: str) -> list[dict[str, Any]]:
    choice = {"index": 0, "logprobs": None, "finish_reason": None}
    chunks = [{**BASE, "choices": [{**choice, "delta": {"role": "assistant", "content": ""}}]}]
    chunks.append({**BASE, "choices": [{**choice, "delta": {"content": ""}}]})
    chunks += [{**BASE, "choices": [{**choice, "delta": {"content": p}}]} for p in PIECES]
    end = {**choice, "delta": {"content": ""}, "finish_reason": finish, "stop_reason": None}
    chunks.append({**BASE, "choices": [end]})
    chunks.append(
        {**BASE, "choices": [], "usage": {"prompt_tokens": 321, "completion_tokens": 45, "total_tokens": 366}}
    )
    return chunks


def sglang(finish: str) -> list[dict[str, Any]]:
    base = {**BASE, "system_fingerprint": "default"}
    choice = {"index": 0, "logprobs": None, "finish_reason": None}
    delta = {"role": "assistant", "reasoning_content": None}
    chunks = [{**base, "choices": [{**choice, "delta": {**delta, "content": p}}]} for p in PIECES]
    chunks.append({**base, "choices": [{**choice, "delta": {**delta, "content": ""}, "finish_reason": finish}]})
    chunks.append(
        {**base, "choices": [], "usage": {"prompt_tokens": 321, "completion_tokens": 45, "total_tokens": 366}}
    )
    return chunks


def llama_server(finish: str) -> list[dict[str, Any]]:
    timings = {"prompt_n": 321, "prompt_ms": 251.5, "predicted_n": 45, "predicted_ms": 1119.7}
    frame = {"created": 1763800000, "id": "chatcmpl-qC6l", "model": "model.gguf", "system_fingerprint": "b9554"}
    chunks = [
        {"choices": [{"finish_reason": None, "index": 0, "delta": {"content": p}}], **frame,
         "object": "chat.completion.chunk", "timings": timings}
        for p in PIECES
    ]  # fmt: skip
    chunks.append({"choices": [{"finish_reason": finish, "index": 0, "delta": {}}], **frame,
                   "object": "chat.completion.chunk", "timings": timings})  # fmt: skip
    chunks.append({"choices": [], **frame, "object": "chat.completion.chunk",
                   "usage": {"completion_tokens": 45, "prompt_tokens": 321, "total_tokens": 366}})  # fmt: skip
    return chunks


ENGINES = {"vllm": vllm, "sglang": sglang, "llama-server": llama_server}


def replay(chunks: list[dict[str, Any]], seen: list[dict[str, Any]]) -> httpx.MockTransport:
    """An engine that lists its model and answers every chat request with these chunks."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json={"object": "list", "data": [{"id": "qwen", "object": "model"}]})
        seen.append(json.loads(request.content))
        body = "".join(f"data: {json.dumps(c, ensure_ascii=False)}\n\n" for c in chunks) + "data: [DONE]\n\n"
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body.encode())

    return httpx.MockTransport(handle)


def backend_for(chunks: list[dict[str, Any]], seen: list[dict[str, Any]]) -> OpenAIBackend:
    settings = Settings(backend="openai", base_url="http://engine.test/v1", remote_model="qwen")
    return OpenAIBackend(settings, transport=replay(chunks, seen))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("finish,expected", [("stop", "stop"), ("length", "length")])
def test_each_engines_stream_gives_the_text_usage_and_finish_reason(engine, finish, expected):
    seen: list[dict[str, Any]] = []
    backend = backend_for(ENGINES[engine](finish), seen)
    backend.load()
    request = GenerationRequest(
        [{"role": "user", "content": "头痛"}], SamplingParams(0.3, 0.9, 256), {"type": "object"}
    )
    stream = backend.stream(request)
    text = "".join(stream)
    assert text == ANSWER
    assert stream.stats.finish_reason == expected
    assert (stream.stats.prompt_tokens, stream.stats.completion_tokens) == (321, 45)
    assert seen[0]["stream"] is True and seen[0]["response_format"]["json_schema"]["schema"] == {"type": "object"}


def test_an_engine_that_sends_no_usage_is_estimated():
    chunks = [c for c in vllm("stop") if c["choices"]]  # no trailing usage chunk
    backend = backend_for(chunks, [])
    stream = backend.stream(GenerationRequest([{"role": "user", "content": "头痛"}], SamplingParams(0.3, 0.9, 256)))
    assert "".join(stream) == ANSWER
    assert stream.stats.completion_tokens > 0 and stream.stats.prompt_tokens >= len("头痛")
