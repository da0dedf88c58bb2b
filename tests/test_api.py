"""The OpenAI-compatible API over real HTTP (uvicorn on loopback, fake backend), through the official client."""

from __future__ import annotations

import json
import logging
import threading
from types import SimpleNamespace

import httpx
import openai
import pytest
from starlette.testclient import TestClient

from qa.auth import ApiKeys
from qa.backends.fake import FakeBackend
from qa.errors import InputError
from qa.server import create_app
from qa.settings import Settings
from qa.wiring import build_service

from .helpers import FINANCE_OK, MEDICAL_OK, dumps, make_api, wait_for
from .live import serving
from .pages import page_ask

KEY = "sk-test-0123456789"


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    settings, backend, service = make_api(tmp_path_factory.mktemp("api"))
    with serving(create_app(service, settings)) as url:
        yield SimpleNamespace(url=url, backend=backend, service=service)


@pytest.fixture(autouse=True)
def fresh_backend(request):
    """Every test gets the shared fake backend as new: default script, no delay, no requests from other tests
    (so `requests[-1]` is always this test's own request)."""
    if "api" in request.fixturenames:
        request.getfixturevalue("api").backend.reset()
    yield


def client(url, key="unused"):
    return openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0, timeout=20)


def post(url, body, timeout=20, **kwargs):
    return httpx.post(url + "/v1/chat/completions", json=body, timeout=timeout, **kwargs)


def ask_body(question="头痛两天了", model="qa-medical", **extra):
    return {"model": model, "messages": [{"role": "user", "content": question}], **extra}


# ---- the official client, happy paths ------------------------------------------------------------


def test_models_lists_one_id_per_domain_and_the_raw_model(api):
    models = client(api.url).models.list()
    assert [m.id for m in models.data] == ["qa-medical", "qa-finance", "qa-record", "qa-raw"]
    medical = models.data[0].model_extra
    assert medical["task"] == "medical" and medical["response_schema"] == api.service.task("medical").schema


def test_completion_carries_the_validated_json_and_its_report(api):
    api.backend.script([dumps(FINANCE_OK)])
    done = client(api.url).chat.completions.create(
        model="qa-finance", messages=[{"role": "user", "content": "什么是市盈率？"}], temperature=0.2, max_tokens=256
    )
    assert done.object == "chat.completion" and done.model == "qa-finance"
    assert json.loads(done.choices[0].message.content) == FINANCE_OK
    assert done.choices[0].finish_reason == "stop"
    assert done.model_extra["validation"]["passed"] is True
    assert done.usage.completion_tokens > 0 and done.usage.total_tokens > done.usage.prompt_tokens
    sent = api.backend.requests[-1]
    assert sent.schema == api.service.task("finance").schema  # constrained by the domain's schema
    assert (sent.params.temperature, sent.params.max_new_tokens) == (0.2, 256)


def test_stream_deltas_add_up_to_the_validated_content(api):
    api.backend.script([dumps(MEDICAL_OK)])
    chunks = list(
        client(api.url).chat.completions.create(
            model="qa-medical",
            messages=[{"role": "user", "content": "头痛伴低烧"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finals = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(finals) == 1 and finals[0].choices[0].finish_reason == "stop"
    assert finals[0].model_extra["validated_content"] == text and json.loads(text) == MEDICAL_OK
    assert finals[0].model_extra["validation"]["passed"] is True
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    assert len(chunks) > 5  # it really streamed


def test_stream_ends_with_done_on_the_wire(api):
    with httpx.stream("POST", api.url + "/v1/chat/completions", json=ask_body(stream=True), timeout=20) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [line for line in r.iter_lines() if line]
    assert events[-1] == "data: [DONE]" and all(e.startswith("data: ") for e in events)


def test_earlier_turns_become_history_and_a_system_message_replaces_the_prompt(api):
    client(api.url).chat.completions.create(
        model="qa-medical",
        messages=[
            {"role": "system", "content": "你是一名儿科科普助手。"},
            {"role": "user", "content": "孩子发烧怎么办？"},
            {"role": "assistant", "content": dumps(MEDICAL_OK)},
            {"role": "user", "content": [{"type": "text", "text": "那需要去医院吗？"}]},
        ],
    )
    sent = api.backend.requests[-1].messages
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[0]["content"] == "你是一名儿科科普助手。"
    assert "孩子发烧怎么办" in sent[1]["content"] and sent[2]["content"] == dumps(MEDICAL_OK)
    assert "那需要去医院吗" in sent[3]["content"]


def test_red_flag_rules_still_run_under_a_client_system_prompt(api):
    done = client(api.url).chat.completions.create(
        model="qa-medical",
        messages=[
            {"role": "system", "content": "随便聊聊。"},
            {"role": "user", "content": "我爸突然说话含糊不清，嘴角歪了"},
        ],
    )
    assert json.loads(done.choices[0].message.content)["urgent"] is True
    assert "red_flag" in {hit["rule"] for hit in done.model_extra["validation"]["fired"]}


@pytest.mark.parametrize(
    "response_format",
    [
        {"type": "json_object"},
        {"type": "text"},
        "domain schema",
    ],
)
def test_domain_models_accept_json_object_or_their_own_schema(api, response_format):
    if response_format == "domain schema":
        schema = api.service.task("medical").schema
        response_format = {"type": "json_schema", "json_schema": {"name": "a", "schema": schema, "strict": True}}
    done = client(api.url).chat.completions.create(
        model="qa-medical", messages=[{"role": "user", "content": "头痛"}], response_format=response_format
    )
    assert done.model_extra["validation"]["passed"] is True
    assert api.backend.requests[-1].schema == api.service.task("medical").schema


def test_raw_model_decodes_under_the_callers_schema_with_the_callers_messages(api):
    schema = {"type": "object", "properties": {"summary": {"type": "string"}}, "required": ["summary"]}
    messages = [{"role": "system", "content": "只输出 JSON。"}, {"role": "user", "content": "总结一下"}]
    done = client(api.url).chat.completions.create(
        model="qa-raw",
        messages=messages,
        response_format={"type": "json_schema", "json_schema": {"name": "s", "schema": schema, "strict": True}},
    )
    sent = api.backend.requests[-1]
    assert sent.messages == messages and sent.schema == schema
    assert "summary" in json.loads(done.choices[0].message.content)
    assert "validation" not in done.model_extra
    client(api.url).chat.completions.create(model="qa-raw", messages=messages, response_format={"type": "json_object"})
    assert api.backend.requests[-1].schema == {"type": "object"}
    client(api.url).chat.completions.create(model="qa-raw", messages=messages)
    assert api.backend.requests[-1].schema is None


# ---- bad input: the right status and OpenAI's error shape, and the server stays up -------------------

LONG = "头痛" * 2000  # within the character limit, beyond the fake model's 4096-token context


@pytest.mark.parametrize(
    "body,status,param,code",
    [
        ({"messages": [{"role": "user", "content": "x"}]}, 400, "model", "missing_required_parameter"),
        ({"model": 7, "messages": [{"role": "user", "content": "x"}]}, 400, "model", "missing_required_parameter"),
        (ask_body(model="gpt-4o"), 404, "model", "model_not_found"),
        ({"model": "qa-medical"}, 400, "messages", "missing_required_parameter"),
        ({"model": "qa-medical", "messages": []}, 400, "messages", "invalid_value"),
        ({"model": "qa-medical", "messages": "头痛"}, 400, "messages", "invalid_value"),
        ({"model": "qa-medical", "messages": ["头痛"]}, 400, "messages", "invalid_value"),
        ({"model": "qa-medical", "messages": [{"role": "tool", "content": "x"}]}, 400, "messages", "invalid_value"),
        ({"model": "qa-medical", "messages": [{"role": "user", "content": 123}]}, 400, "messages", "invalid_value"),
        ({"model": "qa-medical", "messages": [{"role": "user"}]}, 400, "messages", "invalid_value"),
        (
            {
                "model": "qa-medical",
                "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}],
            },
            400,
            "messages",
            "invalid_value",
        ),
        (
            {
                "model": "qa-medical",
                "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}],
            },
            400,
            "messages",
            "invalid_value",
        ),
        (
            {"model": "qa-raw", "messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]},
            400,
            "messages",
            "invalid_value",
        ),
        (
            {
                "model": "qa-medical",
                "messages": [
                    {"role": "user", "content": "a"},
                    {"role": "system", "content": "b"},
                    {"role": "user", "content": "c"},
                ],
            },
            400,
            "messages",
            "invalid_value",
        ),
        (
            {"model": "qa-medical", "messages": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]},
            400,
            "messages",
            "invalid_value",
        ),
        ({"model": "qa-medical", "messages": [{"role": "system", "content": "s"}]}, 400, "messages", "invalid_value"),
        (ask_body(question="   "), 400, "messages", "invalid_value"),
        (ask_body(question=LONG), 400, "messages", "context_length_exceeded"),
        (ask_body(temperature=1.6), 400, "temperature", "invalid_value"),
        (ask_body(temperature=-0.1), 400, "temperature", "invalid_value"),
        (ask_body(temperature="hot"), 400, "temperature", "invalid_value"),
        (ask_body(temperature=True), 400, "temperature", "invalid_value"),
        (ask_body(top_p=0), 400, "top_p", "invalid_value"),
        (ask_body(top_p=1.5), 400, "top_p", "invalid_value"),
        (ask_body(max_tokens=10), 400, "max_tokens", "invalid_value"),
        (ask_body(max_tokens=10**6), 400, "max_tokens", "invalid_value"),
        (ask_body(max_tokens=100.5), 400, "max_tokens", "invalid_value"),
        (ask_body(max_tokens="100"), 400, "max_tokens", "invalid_value"),
        (ask_body(max_completion_tokens=10), 400, "max_completion_tokens", "invalid_value"),
        (ask_body(max_tokens=100, max_completion_tokens=200), 400, "max_completion_tokens", "invalid_value"),
        (ask_body(n=2), 400, "n", "unsupported_value"),
        (ask_body(n="1"), 400, "n", "invalid_value"),
        (ask_body(stream="yes"), 400, "stream", "invalid_value"),
        (ask_body(stream_options=[]), 400, "stream_options", "invalid_value"),
        (ask_body(response_format={"type": "xml"}), 400, "response_format", "invalid_value"),
        (ask_body(response_format="json"), 400, "response_format", "invalid_value"),
        (ask_body(response_format={"type": "json_schema"}), 400, "response_format", "invalid_value"),
        (
            ask_body(
                response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
            ),
            400,
            "response_format",
            "unsupported_schema",
        ),
        (
            ask_body(
                model="qa-raw", response_format={"type": "json_schema", "json_schema": {"schema": {"type": "nope"}}}
            ),
            400,
            "response_format",
            "invalid_value",
        ),
        ([ask_body()], 400, None, "invalid_json"),
        ("头痛", 400, None, "invalid_json"),
    ],
)
def test_bad_input_gets_its_status_in_openai_shape(api, body, status, param, code):
    r = post(api.url, body)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert (error["param"], error["code"]) == (param, code)
    assert error["message"] and error["type"] == "invalid_request_error"


def test_limits_are_named_in_the_message(api):
    error = post(api.url, ask_body(max_tokens=10)).json()["error"]
    assert "64" in error["message"] and "2048" in error["message"] and "max_tokens" in error["message"]
    error = post(api.url, ask_body(temperature=1.6)).json()["error"]
    assert "1.5" in error["message"]
    error = post(api.url, ask_body(question=LONG, max_tokens=512)).json()["error"]
    # the limit (context 4096 minus max_tokens 512) and the prompt's own size
    assert "3584" in error["message"] and "4096" in error["message"]
    assert any(int(w) > 3584 for w in error["message"].replace(";", " ").split() if w.isdigit())


@pytest.mark.parametrize(
    "content,headers,status,code",
    [
        (b"not json at all", {"Content-Type": "application/json"}, 400, "invalid_json"),
        (b"\xff\xfe{", {"Content-Type": "application/json"}, 400, "invalid_json"),
        # a lone surrogate escape parses as a str that cannot be UTF-8 (once a 500 from the error reply echoing it)
        (b'{"model": "\\ud800", "messages": []}', {"Content-Type": "application/json"}, 400, "invalid_json"),
        (
            json.dumps(ask_body(question="\udfff头痛")).encode(),
            {"Content-Type": "application/json"},
            400,
            "invalid_json",
        ),
        (json.dumps(ask_body()).encode(), {"Content-Type": "text/plain"}, 415, "unsupported_media_type"),
        (json.dumps(ask_body()).encode(), {}, 415, "unsupported_media_type"),
        (
            b'{"model": "qa-medical", "pad": "' + b"x" * 70_000 + b'"}',
            {"Content-Type": "application/json"},
            413,
            "request_too_large",
        ),
    ],
)
def test_malformed_bodies_are_refused(api, content, headers, status, code):
    r = httpx.post(api.url + "/v1/chat/completions", content=content, headers=headers, timeout=20)
    assert r.status_code == status
    assert r.json()["error"]["code"] == code


def test_unknown_paths_and_methods_answer_in_openai_shape(api):
    for method, path in (("GET", "/v1/nope"), ("GET", "/v1/chat/completions"), ("DELETE", "/v1/models")):
        r = httpx.request(method, api.url + path, timeout=10)
        assert r.status_code in (404, 405) and "error" in r.json(), (method, path)


def test_a_surrogate_pair_is_valid_unicode_and_answered(api):
    r = httpx.post(
        api.url + "/v1/chat/completions",
        content=json.dumps(ask_body(question="头痛 \U0001f600 怎么办")).encode(),  # ensure_ascii: \ud83d\ude00
        headers={"Content-Type": "application/json"},
        timeout=20,
    )
    assert r.status_code == 200, r.text


def test_unknown_fields_are_ignored(api):
    r = post(api.url, ask_body(user="u1", seed=3, presence_penalty=0.5, logit_bias={}, tools=[]))
    assert r.status_code == 200


@pytest.mark.parametrize("number", [b"1e400", b"NaN", b"-Infinity"])
def test_non_finite_numbers_are_refused(api, number):
    content = b'{"model": "qa-medical", "messages": [{"role": "user", "content": "x"}], "temperature": ' + number + b"}"
    r = httpx.post(api.url + "/v1/chat/completions", content=content, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "temperature"


def test_server_stays_up_after_bad_input(api):
    for body in ([1], {"model": "qa-medical", "messages": [{}]}, {"model": None}):
        post(api.url, body)
    assert httpx.get(api.url + "/health").json()["status"] == "ok"
    assert post(api.url, ask_body()).status_code == 200


@pytest.mark.parametrize(
    "kwargs,exception,status",
    [
        ({"model": "qa-medical", "temperature": 5.0}, openai.BadRequestError, 400),
        ({"model": "qa-medical", "max_tokens": 1}, openai.BadRequestError, 400),
        ({"model": "qa-medical", "n": 3}, openai.BadRequestError, 400),
        ({"model": "gpt-4o"}, openai.NotFoundError, 404),
    ],
)
def test_the_client_raises_its_own_exceptions(api, kwargs, exception, status):
    with pytest.raises(exception) as err:
        client(api.url).chat.completions.create(messages=[{"role": "user", "content": "头痛"}], **kwargs)
    assert err.value.status_code == status
    assert err.value.body["param"] is not None and err.value.body["code"]


def test_request_id_is_echoed_or_made(api):
    r = post(api.url, ask_body(), headers={"X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    made = post(api.url, ask_body(), headers={"X-Request-ID": "bad id\twith spaces"}).headers["x-request-id"]
    assert made != "bad id\twith spaces" and len(made) == 32
    assert httpx.get(api.url + "/health").headers["x-request-id"]


# ---- cancellation, queueing ----------------------------------------------------------------------


def test_a_client_leaving_mid_stream_stops_its_generation(api):
    api.backend.hold()  # after its first chunk the answer waits: only a stop can end it
    with httpx.stream("POST", api.url + "/v1/chat/completions", json=ask_body(stream=True), timeout=20) as r:
        for line in r.iter_lines():
            if '"content"' in line and '"content": ""' not in line:
                break  # the first real text: now hang up
    request = api.backend.requests[-1]
    assert wait_for(request.stop_event.is_set, timeout=10)
    assert wait_for(lambda: api.service.gate_state()["active"] == 0, timeout=10)


def test_a_client_leaving_a_plain_request_stops_its_generation(api):
    api.backend.hold()
    with pytest.raises(httpx.ReadTimeout):
        post(api.url, ask_body(), timeout=0.5)
    assert wait_for(lambda: api.backend.requests and api.backend.requests[-1].stop_event.is_set(), timeout=10)
    assert wait_for(lambda: api.service.gate_state()["active"] == 0, timeout=10)


def test_a_full_queue_gets_503_with_retry_after(api):
    api.backend.delay_s = 0.1
    streams = []

    def hold():
        with httpx.stream("POST", api.url + "/v1/chat/completions", json=ask_body(stream=True), timeout=20) as r:
            streams.append(r.status_code)
            for _ in r.iter_lines():
                pass

    threads = [threading.Thread(target=hold) for _ in range(2)]
    threads[0].start()
    assert wait_for(lambda: api.service.gate_state()["active"] == 1)
    threads[1].start()
    assert wait_for(lambda: api.service.gate_state()["waiting"] == 1)
    r = post(api.url, ask_body())
    assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1
    assert r.json()["error"]["code"] == "busy"
    with pytest.raises(openai.InternalServerError) as err:
        client(api.url).chat.completions.create(model="qa-medical", messages=[{"role": "user", "content": "x"}])
    assert err.value.status_code == 503
    for t in threads:
        t.join(timeout=20)
    assert streams == [200, 200]


# ---- metrics from both edges ---------------------------------------------------------------------


def sample(metrics_text, line_start):
    lines = [line for line in metrics_text.splitlines() if line.startswith(line_start)]
    return float(lines[0].rsplit(" ", 1)[1]) if lines else 0.0


def test_metrics_count_api_and_ui_requests(api):
    before = httpx.get(api.url + "/metrics").text
    post(api.url, ask_body(model="qa-finance", question="什么是市盈率？"))
    page_ask(api.service, "finance", "什么是市净率？", 0.3, 0.9, 256)
    post(api.url, ask_body(temperature=9))
    after = httpx.get(api.url + "/metrics").text
    for line in (
        'qa_requests_total{domain="finance",channel="api",status="ok"}',
        'qa_requests_total{domain="finance",channel="ui",status="ok"}',
        'qa_request_duration_seconds_count{domain="finance",channel="api"}',
        'qa_time_to_first_token_seconds_count{domain="finance",channel="ui"}',
        'qa_api_responses_total{status="400"}',
    ):
        assert sample(after, line) == sample(before, line) + 1, line
    line = 'qa_tokens_per_second_count{domain="finance"}'
    assert sample(after, line) == sample(before, line) + 2  # one api, one ui
    grown = sample(after, 'qa_generated_tokens_total{domain="finance"}') - sample(
        before, 'qa_generated_tokens_total{domain="finance"}'
    )
    assert grown > 0
    for gauge in ("qa_queue_depth 0", "qa_inflight_generations 0", "qa_model_ready 1"):
        assert gauge in after.splitlines()


# ---- access control --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def locked(tmp_path_factory):
    settings, backend, service = make_api(tmp_path_factory.mktemp("locked"), rate_limit_per_minute=3)
    app = create_app(service, settings, keys=ApiKeys([KEY, "sk-other"]))
    with serving(app) as url:
        yield SimpleNamespace(url=url, backend=backend, service=service)


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": KEY}, {"Authorization": "Basic " + KEY}]
)
def test_without_a_valid_key_the_api_says_401(locked, headers):
    for r in (post(locked.url, ask_body(), headers=headers), httpx.get(locked.url + "/v1/models", headers=headers)):
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "invalid_api_key"
        assert KEY not in r.text
    assert httpx.get(locked.url + "/health").status_code == 200  # health stays public


def test_the_client_with_a_wrong_key_gets_authentication_error(locked):
    with pytest.raises(openai.AuthenticationError) as err:
        client(locked.url, key="sk-wrong").models.list()
    assert err.value.status_code == 401
    assert [m.id for m in client(locked.url, key=KEY).models.list().data] == [
        "qa-medical",
        "qa-finance",
        "qa-record",
        "qa-raw",
    ]


def test_rate_limit_per_key_then_429_with_retry_after(locked):
    good = client(locked.url, key=KEY)
    for _ in range(3):
        good.chat.completions.create(model="qa-medical", messages=[{"role": "user", "content": "头痛"}])
    with pytest.raises(openai.RateLimitError) as err:
        good.chat.completions.create(model="qa-medical", messages=[{"role": "user", "content": "头痛"}])
    assert err.value.status_code == 429 and int(err.value.response.headers["retry-after"]) >= 1
    # another key has its own budget
    other = client(locked.url, key="sk-other")
    assert other.chat.completions.create(model="qa-medical", messages=[{"role": "user", "content": "x"}]).choices


# ---- loading in the background ------------------------------------------------------------------------


class SlowLoad(FakeBackend):
    def __init__(self):
        super().__init__()
        self.release = threading.Event()

    def load(self):
        self.release.wait(timeout=30)
        super().load()


def test_requests_during_loading_are_refused_with_retry_after_then_work(tmp_path):
    settings = Settings(backend="fake", cache_dir=tmp_path, rate_limit_per_minute=0)
    backend = SlowLoad()
    service = build_service(settings, backend)
    loader = service.start_warm_up()
    with TestClient(create_app(service, settings)) as http:
        r = http.get("/ready")
        assert r.status_code == 503 and r.json()["status"] == "loading" and r.headers["retry-after"]
        assert http.get("/health").status_code == 200
        r = http.post("/v1/chat/completions", json=ask_body())
        assert r.status_code == 503 and r.headers["retry-after"]
        assert r.json()["error"]["code"] == "model_loading"
        # the page's handler says so too, instead of hanging
        with pytest.raises(Exception, match="loading|加载"):
            page_ask(service, "medical", "头痛", 0.3, 0.9, 256)
        backend.release.set()
        loader.join(timeout=10)
        assert http.get("/ready").status_code == 200
        assert http.post("/v1/chat/completions", json=ask_body()).status_code == 200


@pytest.mark.parametrize("log_prompts", [False, True])
def test_prompt_text_is_logged_only_when_asked(tmp_path, caplog, log_prompts):
    settings, _, service = make_api(tmp_path, log_prompts=log_prompts)
    with TestClient(create_app(service, settings)) as http, caplog.at_level(logging.INFO, logger="qa.api"):
        assert http.post("/v1/chat/completions", json=ask_body("私密问题：我的血压 150/95")).status_code == 200
    record = next(r for r in caplog.records if r.getMessage() == "chat request")
    assert record.fields["prompt_chars"] > 0 and record.fields["request_id"]
    logged = json.dumps([r.__dict__.get("fields") for r in caplog.records], ensure_ascii=False)
    assert ("私密问题" in logged) is log_prompts


def test_an_oversized_request_through_the_client_is_413(api):
    with pytest.raises(openai.APIStatusError) as err:
        client(api.url).chat.completions.create(
            model="qa-medical", messages=[{"role": "user", "content": "x" * 70_000}]
        )
    assert err.value.status_code == 413 and err.value.body["code"] == "request_too_large"


def test_a_schema_the_grammar_compiler_refuses_is_a_400(tmp_path):
    import xgrammar as xgr

    from qa.api import api_error
    from qa.backends.grammar import GrammarCache

    # the cache both local backends compile through, over a tiny vocabulary: no model needed
    grammars = GrammarCache(xgr.GrammarCompiler(xgr.TokenizerInfo(["a", "{", "}", '"', ":", ","])))
    with pytest.raises(InputError) as err:
        grammars.get({"type": "object", "properties": {"a": {"$ref": "#/nowhere"}}})
    assert err.value.param == "response_format" and "nowhere" in str(err.value) and ".cc:" not in str(err.value)
    error = api_error(err.value)
    assert (error.status, error.param) == (400, "response_format")


def test_a_backend_crash_is_a_500_in_openai_shape_without_internals(api):
    def crash(request):
        raise RuntimeError("secret internal detail")

    api.backend.script(crash)
    r = post(api.url, ask_body())
    assert r.status_code == 500
    assert r.json()["error"]["code"] == "internal_error" and "secret" not in r.text
    api.backend.script(None)
    assert post(api.url, ask_body()).status_code == 200
