"""The embedded model on the transformers backend (the production path: GPUs, bf16 CPUs) through the app's code."""

import threading

import pytest

from qa.backends.transformers_backend import cpu_dtype_name
from qa.types import GenerationRequest

from .helpers import real_model_settings

pytestmark = pytest.mark.model


@pytest.mark.parametrize(
    "domain,question",
    [
        ("medical", "最近三天头痛，伴有低烧，需要去医院吗？"),
        ("finance", "什么是市盈率？怎样判断一家公司的市盈率高不高？"),
    ],
)
def test_constrained_answer_validates(transformers_service, domain, question):
    params = transformers_service.params(domain, temperature=0.3, max_new_tokens=768)
    answer = transformers_service.answer(domain, question, params)
    assert answer.ok, answer.report
    assert set(answer.data) == set(transformers_service.task(domain).schema["required"])
    assert answer.model["source"] == "embedded" and answer.model["device"] == "cpu"
    assert answer.usage["completion_tokens"] > 10
    # the model really wrote the JSON: the stored raw text parses to the same structure
    first_key = next(iter(transformers_service.task(domain).schema["properties"]))
    assert answer.raw.startswith(f'{{"{first_key}":')  # the grammar keeps the schema's key order


def test_live_model_info_is_reported(transformers_service):
    info = transformers_service.model_info()
    # --dtype auto picks by this CPU's flags (each flag set is tested in test_embedded.py); QA_TEST_DTYPE names one
    setting = real_model_settings(backend="transformers").get("dtype", "auto")
    assert info.name.startswith("Qwen2.5") and info.dtype == cpu_dtype_name(setting)
    assert info.context_length == 8192


def test_stop_frees_the_model_quickly(transformers_service, transformers_backend):
    backend = transformers_backend
    messages = transformers_service.prepare(
        "medical", "详细介绍高血压。", transformers_service.params("medical")
    ).messages
    params = transformers_service.params("medical", temperature=0.0, max_new_tokens=512)
    stop = threading.Event()
    stream = backend.stream(GenerationRequest(messages=messages, params=params, schema=None, stop_event=stop))
    next(stream)
    stop.set()
    rest = list(stream)
    # it ended at the stop, not at max_new_tokens (512): a few tokens were already in flight at most
    assert stream.stats.completion_tokens < 100 and len(rest) < 20
    # the lock was released: a new generation starts and finishes
    short = transformers_service.params("medical", temperature=0.0, max_new_tokens=64)
    follow_request = GenerationRequest(messages=messages, params=short, schema=None)
    follow = backend.stream(follow_request)
    assert "".join(follow)
    # finishing does not mark the caller's request as stopped: a repair attempt may reuse the same event
    assert not follow_request.stop_event.is_set()
    assert stream.stats.finish_reason == "cancelled"
    assert follow.stats.finish_reason == "length" and follow.stats.completion_tokens == 64


def test_the_grammar_never_puts_a_control_token_inside_an_answer(transformers_service, transformers_backend):
    import xgrammar as xgr

    tokenizer = transformers_backend.tokenizer
    matcher = xgr.GrammarMatcher(transformers_backend.compiled_grammar(transformers_service.task("medical").schema))
    for token in tokenizer.encode('{"summary": "头痛', add_special_tokens=False):
        assert matcher.accept_token(token)
    mask = xgr.allocate_token_bitmask(1, transformers_backend._vocab_size)
    matcher.fill_next_token_bitmask(mask)

    def allowed(token: int) -> bool:
        return bool((int(mask[0][token // 32]) >> (token % 32)) & 1)

    control = [tokenizer.convert_tokens_to_ids(t) for t in ("<|im_start|>", "<|im_end|>", "<|endoftext|>")]
    padding = [i for i in range(len(tokenizer)) if tokenizer.convert_ids_to_tokens(i).startswith("[PAD")][:50]
    assert not [t for t in control + padding if allowed(t)]
    assert allowed(tokenizer.encode("痛", add_special_tokens=False)[0])  # ordinary text still is
