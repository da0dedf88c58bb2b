"""The llama.cpp backend on the embedded GGUF: schema-constrained answers validate, and Stop stops."""

from __future__ import annotations

import importlib.util
import json
import threading
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from qa.settings import Settings
from qa.tasks import builtin_tasks
from qa.types import GenerationRequest, SamplingParams

from .helpers import real_model_settings

pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(
        importlib.util.find_spec("llama_cpp") is None,
        reason="llama_cpp is not importable: build and install it once with scripts/build_llama.sh",
    ),
]

SCHEMA: dict[str, Any] = builtin_tasks().get("medical").schema
SYSTEM = (
    "你是一名谨慎的健康科普助手。只输出一个 JSON 对象，字段：summary（总体回答）、analysis（原因分析，1-4 条）、"
    "suggestions（建议，1-4 条）、urgent（是否需要立即就医，布尔值）。"
)


def messages(question: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]


@pytest.fixture(scope="module")
def backend():
    from qa.backends.llamacpp_backend import LlamaCppBackend

    # one thread: on a busy 2-core CI box two llama.cpp threads stall on each other (5 vs 28 tokens/s measured)
    backend = LlamaCppBackend(Settings(**real_model_settings(backend="llamacpp", threads=1)))
    backend.load()
    return backend


def test_info_names_llamacpp_and_quantization(backend):
    info = backend.info
    assert info.name.startswith("Qwen2.5") and info.source == "embedded"
    assert "llama.cpp" in info.device and "1 thread," in info.device and "batch of" in info.device
    assert info.quantization not in {"", "none"}
    assert backend.context_length == info.context_length > 0


def test_count_tokens_uses_the_chat_template(backend):
    msgs = messages("你好")
    text = backend.render(msgs)
    assert text.startswith("<|im_start|>system\n") and text.endswith("<|im_start|>assistant\n")
    # each special marker is one token, not its characters
    assert backend.count_tokens(msgs) < len(text) // 2


@pytest.mark.parametrize("temperature", [0.0, 0.7])
def test_constrained_answer_validates(backend, temperature):
    request = GenerationRequest(
        messages=messages("最近三天头痛，伴有低烧，需要去医院吗？"),
        params=SamplingParams(temperature, 0.9, 768),
        schema=SCHEMA,
    )
    stream = backend.stream(request)
    chunks = list(stream)
    text = "".join(chunks)
    assert "\ufffd" not in text  # characters split across tokens are joined, never shown half-decoded
    data = json.loads(text)
    assert not list(Draft202012Validator(SCHEMA).iter_errors(data))
    stats = stream.stats
    assert stats.finish_reason == "stop" and stats.prompt_tokens > 20
    assert 10 < stats.completion_tokens < 768 and stats.first_token_s is not None and stats.total_s > 0


def test_max_length_is_enforced_by_the_grammar(backend):
    """A schema far tighter than the model wants to write: the grammar cuts every string at its bound."""
    tight = json.loads(json.dumps(SCHEMA))
    tight["properties"]["summary"]["maxLength"] = 5
    tight["properties"]["analysis"]["maxItems"] = 1
    tight["properties"]["analysis"]["items"]["maxLength"] = 3
    request = GenerationRequest(
        messages=messages("请详细解释高血压的常见原因、危险信号和日常管理方法，越详细越好。"),
        params=SamplingParams(0.0, 1.0, 512),
        schema=tight,
    )
    data = json.loads("".join(backend.stream(request)))
    assert not list(Draft202012Validator(tight).iter_errors(data))
    assert len(data["summary"]) <= 5 and len(data["analysis"]) == 1 and len(data["analysis"][0]) <= 3


def test_stop_event_stops_promptly_and_frees_the_model(backend):
    stop = threading.Event()
    request = GenerationRequest(
        messages=messages("详细介绍高血压。"), params=SamplingParams(0.0, 1.0, 512), schema=None, stop_event=stop
    )
    stream = backend.stream(request)
    next(stream)
    stop.set()
    rest = list(stream)
    # it ended at the stop, not at max_new_tokens (512)
    assert stream.stats.finish_reason == "cancelled" and stream.stats.completion_tokens < 50 and len(rest) < 5
    # the model is free again: a new generation runs to its token budget, and its own event stays unset
    follow_request = GenerationRequest(messages=messages("详细介绍高血压。"), params=SamplingParams(0.0, 1.0, 64))
    follow = backend.stream(follow_request)
    assert "".join(follow)
    assert follow.stats.finish_reason == "length" and follow.stats.completion_tokens == 64
    assert not follow_request.stop_event.is_set()


def test_closing_the_stream_stops_the_generation(backend):
    request = GenerationRequest(
        messages=messages("详细介绍糖尿病。"), params=SamplingParams(0.0, 1.0, 512), schema=SCHEMA
    )
    stream = backend.stream(request)
    next(stream)
    stream.close()
    assert stream.stats.finish_reason == "cancelled" and stream.stats.completion_tokens < 50


def test_reused_prompt_cache_gives_the_same_answer_as_a_fresh_start(backend):
    """Whole prompt chunks shared with the last question are reused; answers stay bit-for-bit reproducible."""
    params = SamplingParams(0.0, 1.0, 64)
    system = SYSTEM + "\nJSON Schema：" + json.dumps(SCHEMA, ensure_ascii=False)  # a few hundred shared tokens

    def answer(question: str) -> tuple[str, int]:
        msgs = [{"role": "system", "content": system}, {"role": "user", "content": question}]
        stream = backend.stream(GenerationRequest(messages=msgs, params=params, schema=SCHEMA))
        return "".join(stream), stream.stats.cached_prompt_tokens

    backend.forget_prompt()
    fresh, cold = answer("最近三天头痛，伴有低烧，需要去医院吗？")
    answer("孩子发烧39度怎么办？")  # shares the system prompt: its whole chunks are reused by the next question
    again, reused = answer("最近三天头痛，伴有低烧，需要去医院吗？")
    assert again == fresh
    assert cold == 0 and reused >= 128


def keyed_schema(key: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {key: {"type": "string", "maxLength": 30}},
        "required": [key],
        "additionalProperties": False,
    }


def test_rows_decoded_together_keep_their_own_grammar_budget_and_stop(backend):
    """Four users at once: each row follows its own schema or token budget, and one user's Stop leaves the rest."""
    stop = threading.Event()
    requests = [
        GenerationRequest(messages("用一句话介绍高血压。"), SamplingParams(0.0, 1.0, 256), keyed_schema("alpha")),
        GenerationRequest(messages("用一句话介绍糖尿病。"), SamplingParams(0.7, 0.9, 256), keyed_schema("beta")),
        GenerationRequest(messages("详细介绍感冒。"), SamplingParams(0.0, 1.0, 40)),
        GenerationRequest(messages("详细介绍胃炎。"), SamplingParams(0.0, 1.0, 400), stop_event=stop),
    ]
    steps_before, rows_before, _ = backend.scheduler_counts()
    streams = [backend.stream(r) for r in requests]
    # each stream joins the batch when first read; none can finish within its first chunk, so all four overlap
    texts = [next(s) for s in streams]
    stop.set()
    results: dict[int, str] = {}

    def drain(i: int) -> None:
        results[i] = texts[i] + "".join(streams[i])

    threads = [threading.Thread(target=drain, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, key in ((0, "alpha"), (1, "beta")):
        data = json.loads(results[i])
        assert list(data) == [key] and not list(Draft202012Validator(requests[i].schema).iter_errors(data))
        assert streams[i].stats.finish_reason == "stop"
    assert streams[2].stats.finish_reason == "length" and streams[2].stats.completion_tokens == 40
    assert streams[3].stats.finish_reason == "cancelled" and streams[3].stats.completion_tokens < 50
    assert not any(r.stop_event.is_set() for r in requests[:3])
    steps, rows, peak = backend.scheduler_counts()
    assert peak == 4 and (rows - rows_before) > 1.5 * (steps - steps_before)  # rows shared decode steps


def test_one_row_at_a_time_with_max_batch_1():
    """--max-batch 1 serves one generation at a time: a second request starts decoding only after the first ends."""
    from qa.backends.llamacpp_backend import LlamaCppBackend

    single = LlamaCppBackend(Settings(**real_model_settings(backend="llamacpp", threads=1, max_batch=1)))
    single.load()
    try:
        assert "batch of 1" in single.info.device
        first = single.stream(GenerationRequest(messages("详细介绍感冒。"), SamplingParams(0.0, 1.0, 24)))
        second = single.stream(GenerationRequest(messages("详细介绍胃炎。"), SamplingParams(0.0, 1.0, 24)))
        next(first)
        out: list[str] = []
        reader = threading.Thread(target=lambda: out.append("".join(second)))
        reader.start()
        "".join(first)
        reader.join()
        assert first.stats.completion_tokens == second.stats.completion_tokens == 24 and out[0]
        steps, rows, peak = single.scheduler_counts()
        assert peak == 1 and rows == 2 * 24  # never two rows in one step
    finally:
        single.close()


def test_a_new_row_copies_the_shared_system_prompt_from_a_busy_row(backend):
    """Two users of one task at once: the second row starts from the first row's cached system prompt."""
    system = SYSTEM + "\nJSON Schema：" + json.dumps(SCHEMA, ensure_ascii=False)  # a few hundred shared tokens

    def request(question: str, tokens: int) -> GenerationRequest:
        msgs = [{"role": "system", "content": system}, {"role": "user", "content": question}]
        return GenerationRequest(messages=msgs, params=SamplingParams(0.0, 1.0, tokens))

    backend.forget_prompt()
    "".join(backend.stream(request("孩子发烧39度怎么办？", 4)))  # leaves the system prompt's chunks on one row
    busy = backend.stream(request("详细介绍高血压。", 200))
    next(busy)  # the row that holds the system prompt is now answering
    second = backend.stream(request("最近三天头痛，伴有低烧，需要去医院吗？", 24))
    text = "".join(second)
    busy.close()
    assert text and second.stats.finish_reason == "length"
    assert second.stats.cached_prompt_tokens >= 128 and second.stats.prompt_tokens > second.stats.cached_prompt_tokens


def test_another_tasks_prompt_does_not_evict_the_cached_system_prompt(backend):
    """Questions alternating between two tasks each reuse their own task's system prompt."""
    systems = {
        "a": SYSTEM + "\nJSON Schema：" + json.dumps(SCHEMA, ensure_ascii=False),
        "b": "你是一名谨慎的理财知识助手，不推荐具体产品。" * 12,
    }

    def cached(task: str, question: str) -> int:
        msgs = [{"role": "system", "content": systems[task]}, {"role": "user", "content": question}]
        stream = backend.stream(GenerationRequest(messages=msgs, params=SamplingParams(0.0, 1.0, 4)))
        "".join(stream)
        return stream.stats.cached_prompt_tokens

    backend.forget_prompt()
    assert cached("a", "孩子发烧39度怎么办？") == 0
    assert cached("b", "什么是基金定投？") == 0
    assert cached("a", "最近三天头痛，需要去医院吗？") >= 128
    assert cached("b", "年化收益率是什么意思？") >= 128


def test_users_arriving_together_on_a_cold_cache_evaluate_the_shared_prompt_once(backend):
    """Four users of one task at once, nothing cached: one row evaluates the system prompt, the others copy it."""
    system = (SYSTEM + "\nJSON Schema：" + json.dumps(SCHEMA, ensure_ascii=False)) * 2  # about a dozen chunks
    questions = ["孩子发烧39度怎么办？", "最近三天头痛，需要去医院吗？", "晚上总是失眠怎么办？", "胃疼两天怎么办？"]
    streams = [
        backend.stream(
            GenerationRequest(
                messages=[{"role": "system", "content": system}, {"role": "user", "content": q}],
                params=SamplingParams(0.0, 1.0, 4),
            )
        )
        for q in questions
    ]
    backend.forget_prompt()
    threads = [threading.Thread(target=lambda s=s: "".join(s)) for s in streams]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cached = sorted(s.stats.cached_prompt_tokens for s in streams)
    assert cached[0] == 0 and all(c >= 512 for c in cached[1:]), cached
    assert all(s.stats.finish_reason == "length" for s in streams)
