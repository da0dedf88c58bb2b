"""The remote engine backend against a real OpenAI-compatible server: a second instance of this app on loopback."""

from __future__ import annotations

import json
import threading
from types import SimpleNamespace

import gradio as gr
import openai
import pytest

from qa.auth import ApiKeys
from qa.backends.fake import FakeBackend
from qa.backends.openai_backend import OpenAIBackend, estimate_tokens
from qa.errors import GenerationError, ModelLoadError, UpstreamError
from qa.server import create_app
from qa.settings import Settings
from qa.types import GenerationRequest, GenerationStats, SamplingParams, TextStream
from qa.wiring import build_service

from .helpers import FINANCE_OK, MEDICAL_OK, dumps, free_port, make_api
from .live import serving
from .pages import RAW_JSON, page_ask

UPSTREAM_KEY = "sk-upstream-key"


class BreaksOff(FakeBackend):
    """Streams a little and then fails, when told to."""

    def __init__(self):
        super().__init__()
        self.fail = False

    def stream(self, request):
        if not self.fail:
            return super().stream(request)
        stats = GenerationStats()

        def chunks():
            yield '{"summary": "'
            raise GenerationError("the GPU fell over")

        return TextStream(chunks(), stats)


@pytest.fixture(scope="module")
def upstream(tmp_path_factory):
    """The engine: this app with the fake backend, serving qa-raw, behind an API key."""
    settings, backend, service = make_api(tmp_path_factory.mktemp("up"), backend=BreaksOff(), queue_size=8)
    with serving(create_app(service, settings, keys=ApiKeys([UPSTREAM_KEY]))) as url:
        yield SimpleNamespace(url=url, backend=backend)


@pytest.fixture(autouse=True)
def reset(request):
    """Every test gets the shared upstream engine as new."""
    if "upstream" in request.fixturenames:
        backend = request.getfixturevalue("upstream").backend
        backend.reset()
        backend.fail = False
    yield


def remote_settings(tmp_path, url, **overrides):
    values = dict(
        base_url=url + "/v1",
        remote_model="qa-raw",
        remote_api_key=UPSTREAM_KEY,
        remote_context_length=4096,
        remote_timeout_s=10,
        rate_limit_per_minute=0,
    )
    return Settings(backend="openai", cache_dir=tmp_path, **{**values, **overrides})


@pytest.fixture
def remote(tmp_path, upstream):
    service = build_service(remote_settings(tmp_path, upstream.url))
    service.warm_up()
    return service


def test_answers_through_the_engine_under_the_domain_schema(remote, upstream):
    upstream.backend.script([dumps(MEDICAL_OK)])
    answer = remote.answer("medical", "头痛伴低烧", remote.params("medical", temperature=0.2, max_new_tokens=300))
    assert answer.ok and answer.data == MEDICAL_OK
    sent = upstream.backend.requests[-1]
    assert sent.schema == remote.task("medical").schema  # response_format json_schema reached the engine
    assert sent.messages[0] == {"role": "system", "content": remote.task("medical").system_prompt()}
    assert (sent.params.temperature, sent.params.max_new_tokens) == (0.2, 300)
    # token counts are the engine's own (stream_options.include_usage), not the local estimate
    assert answer.usage["prompt_tokens"] == upstream.backend.count_tokens(sent.messages)
    assert answer.usage["completion_tokens"] == len(dumps(MEDICAL_OK))
    assert answer.model["source"] == "remote" and answer.model["device"] == upstream.url + "/v1"


def test_model_info_names_the_engine(remote, upstream):
    info = remote.model_info()
    assert (info.name, info.source, info.context_length) == ("qa-raw", "remote", 4096)
    assert upstream.url in info.describe()


def test_the_page_handler_answers_through_the_engine(remote, upstream):
    upstream.backend.script([dumps(FINANCE_OK)])
    outputs = page_ask(remote, "finance", "什么是市盈率？", 0.3, 0.9, 256)
    payload = json.loads(outputs[-1][RAW_JSON])
    assert payload["validation"]["passed"] is True and payload["answer"] == FINANCE_OK
    assert len(outputs) > 3  # streamed through both servers


def test_the_api_answers_through_the_engine(tmp_path, upstream):
    settings = remote_settings(tmp_path, upstream.url)
    service = build_service(settings)
    service.warm_up()
    upstream.backend.script([dumps(MEDICAL_OK)])
    with serving(create_app(service, settings, keys=ApiKeys([]))) as url:
        client = openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0, timeout=20)
        done = client.chat.completions.create(model="qa-medical", messages=[{"role": "user", "content": "头痛"}])
        assert json.loads(done.choices[0].message.content) == MEDICAL_OK
        assert done.model_extra["validation"]["passed"] is True
        chunks = list(
            client.chat.completions.create(
                model="qa-medical", messages=[{"role": "user", "content": "头痛"}], stream=True
            )
        )
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert json.loads(text) == MEDICAL_OK
        # the engine breaking off is a 502, not a crash, and the server keeps serving
        upstream.backend.fail = True
        with pytest.raises(openai.InternalServerError) as err:
            client.chat.completions.create(model="qa-medical", messages=[{"role": "user", "content": "头痛"}])
        assert err.value.status_code == 502 and "GPU fell over" in err.value.message
        upstream.backend.fail = False
        assert client.chat.completions.create(model="qa-finance", messages=[{"role": "user", "content": "x"}]).choices


def test_the_engine_breaking_off_mid_answer_is_an_upstream_error(remote, upstream):
    upstream.backend.fail = True
    with pytest.raises(UpstreamError, match="GPU fell over"):
        remote.answer("medical", "头痛", remote.params("medical"))


def test_stop_closes_the_connection_and_the_engine_stops(remote, upstream):
    upstream.backend.hold()  # the engine's answer cannot finish: only the closed connection can stop it
    stop = threading.Event()
    events = remote.stream("medical", "头痛", remote.params("medical"), stop_event=stop)
    for event in events:
        if event.kind == "partial":
            stop.set()
        if event.kind == "final":
            break
    assert event.finish_reason == "cancelled"
    engine_request = upstream.backend.requests[-1]
    assert engine_request.stop_event.wait(timeout=10)


@pytest.mark.parametrize(
    "overrides,fragment",
    [
        ({"base_url": "http://127.0.0.1:{dead}/v1"}, "cannot reach the remote engine"),
        ({"remote_model": "Qwen/Qwen2.5-7B-Instruct"}, "serves qa-medical, qa-finance, qa-record, qa-raw"),
        ({"remote_api_key": "sk-wrong"}, "401"),
    ],
)
def test_load_says_what_is_wrong(tmp_path, upstream, overrides, fragment):
    overrides = {k: v.format(dead=free_port()) for k, v in overrides.items()}
    backend = OpenAIBackend(remote_settings(tmp_path, upstream.url, **overrides))
    with pytest.raises(ModelLoadError, match=fragment):
        backend.load()


def test_a_dead_engine_is_a_clear_error_in_the_service_the_page_and_the_api(tmp_path):
    settings = remote_settings(tmp_path, f"http://127.0.0.1:{free_port()}")
    backend = OpenAIBackend(settings)
    backend._checked = True  # as if it had been up at start
    service = build_service(settings, backend)
    with pytest.raises(UpstreamError, match="lost the remote engine"):
        service.answer("medical", "头痛", service.params("medical"))
    with pytest.raises(gr.Error, match="remote engine"):
        page_ask(service, "medical", "头痛", 0.3, 0.9, 256)
    with serving(create_app(service, settings, keys=ApiKeys([]))) as url:
        client = openai.OpenAI(base_url=url + "/v1", api_key="x", max_retries=0, timeout=20)
        with pytest.raises(openai.InternalServerError) as err:
            client.chat.completions.create(model="qa-medical", messages=[{"role": "user", "content": "头痛"}])
        assert err.value.status_code == 502 and err.value.body["code"] == "upstream_error"


def test_payload_asks_for_strict_json_schema_streaming_with_usage(tmp_path):
    backend = OpenAIBackend(remote_settings(tmp_path, "http://engine:8000", remote_model="Qwen/Qwen2.5-7B-Instruct"))
    schema = {"type": "object"}
    body = backend.payload(GenerationRequest([{"role": "user", "content": "x"}], SamplingParams(0.3, 0.9, 128), schema))
    assert body["model"] == "Qwen/Qwen2.5-7B-Instruct" and body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": schema, "strict": True},
    }
    assert (body["max_tokens"], body["temperature"], body["top_p"]) == (128, 0.3, 0.9)
    assert "Authorization" in backend._headers() and UPSTREAM_KEY not in repr(backend.info)


def test_token_estimate_is_not_below_the_characters():
    messages = [{"role": "system", "content": "系统" * 50}, {"role": "user", "content": "What is a P/E ratio?"}]
    assert estimate_tokens(messages) >= sum(len(m["content"]) for m in messages)


@pytest.mark.model
def test_the_real_model_answers_through_a_second_server(tmp_path, real_service, real_backend):
    """The engine serves the real embedded model (qa-raw, xgrammar under the forwarded schema)."""
    settings = Settings(backend="fake", raw_model=True, rate_limit_per_minute=0, queue_size=4)
    with serving(create_app(real_service, settings, keys=ApiKeys([]))) as url:
        service = build_service(
            # a real model on a busy 2-core CI machine can take longer than the fake engines' 10 s to say anything;
            # this test is about the answer, not the engine's speed
            remote_settings(
                tmp_path,
                url,
                remote_api_key=None,
                remote_context_length=real_backend.context_length,
                remote_timeout_s=300,
            )
        )
        service.warm_up()
        answer = service.answer("medical", "最近三天头痛，伴有低烧，需要去医院吗？", service.params("medical"))
        assert answer.ok, answer.report.to_dict()
        assert set(answer.data) >= {"summary", "analysis", "suggestions", "urgent"}
        assert answer.usage["completion_tokens"] > 0


def test_an_error_after_the_stream_started_reaches_the_client_as_an_error_event(upstream):
    upstream.backend.fail = True
    engine = openai.OpenAI(base_url=upstream.url + "/v1", api_key=UPSTREAM_KEY, max_retries=0, timeout=20)
    stream = engine.chat.completions.create(model="qa-raw", messages=[{"role": "user", "content": "x"}], stream=True)
    received = []
    with pytest.raises(openai.APIError, match="GPU fell over"):
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == '{"summary": "'  # what was streamed before the failure
