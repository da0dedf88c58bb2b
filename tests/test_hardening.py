"""Issue 17: what a hostile client tried against a loopback server (fake backend). Each case answered wrongly
before the hardening: a 500, a stalled event loop, a reset instead of a 413, an unguarded surface."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from types import SimpleNamespace

import httpx
import pytest

from qa.backends.fake import FakeBackend
from qa.server import create_app

from .helpers import make_api
from .live import serving
from .pages import page_ask_http


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    settings, backend, service = make_api(
        tmp_path_factory.mktemp("hard"), max_body_bytes=1_048_576, queue_size=4, max_upload_bytes=1_048_576
    )
    with serving(create_app(service, settings)) as url:
        yield SimpleNamespace(url=url, backend=backend, service=service, settings=settings)


def chat(url, body, **kwargs):
    return httpx.post(url + "/v1/chat/completions", json=body, timeout=30, **kwargs)


def nested(depth: int) -> dict:
    schema: dict = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"a": schema}}
    return schema


# ---- 500 → 400: each a clear error naming the problem ----------------------------------------------------------
BAD_BODIES = {
    "a list as role": {"model": "qa-medical", "messages": [{"role": ["user"], "content": "hi"}]},
    "a 400-digit max_tokens": {
        "model": "qa-medical",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": int("9" * 400),
    },
    "a schema nested 100 deep": {
        "model": "qa-raw",
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": nested(100)}},
    },
    "a schema with 3,000 properties": {
        "model": "qa-raw",
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "x",
                "schema": {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(3000)}},
            },
        },
    },
    "a schema with 20,000 properties": {
        "model": "qa-raw",
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {
                "name": "x",
                "schema": {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(20_000)}},
            },
        },
    },
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_hostile_bodies_get_a_400_not_a_500(api, case):
    response = chat(api.url, BAD_BODIES[case])
    assert response.status_code == 400, response.text
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_json_nested_1000_deep_is_a_400(api):
    body = '{"model": "qa-medical", "messages": ' + "[" * 1000 + "]" * 1000 + "}"
    response = httpx.post(
        api.url + "/v1/chat/completions", content=body, headers={"Content-Type": "application/json"}, timeout=30
    )
    assert response.status_code == 400, response.text
    assert "deep" in response.json()["error"]["message"]


def test_too_many_history_turns_is_a_400_before_any_token_is_counted(api):
    turns = [
        {"role": r, "content": "x"} for _ in range(api.settings.max_history_turns + 1) for r in ("user", "assistant")
    ]
    counted = []
    real = api.backend.count_tokens
    api.backend.count_tokens = lambda messages: counted.append(len(messages)) or real(messages)
    try:
        response = chat(api.url, {"model": "qa-medical", "messages": [*turns, {"role": "user", "content": "q"}]})
    finally:
        del api.backend.count_tokens
    assert response.status_code == 400, response.text
    assert "turns" in response.json()["error"]["message"] and counted == []


def test_history_budgeting_counts_each_turn_once_and_compiles_each_template_once(tmp_path, monkeypatch):
    """800 turns used to cost 161 s: the prompt was rebuilt and counted again per step and a template compiled per
    message. Now the tokens counted stay within a few times the prompt's own, and templates compile once."""
    from qa.tasks import base

    counted = []

    class Counting(FakeBackend):
        def count_tokens(self, messages):
            counted.append(sum(len(m["content"]) for m in messages))
            return super().count_tokens(messages)

    settings, backend, service = make_api(tmp_path, backend=Counting(context_length=20_000))
    getattr(base, "compile_template", SimpleNamespace(cache_clear=lambda: None)).cache_clear()
    compiled = []
    real_from_string = base._ENV.from_string
    monkeypatch.setattr(base._ENV, "from_string", lambda t: compiled.append(t) or real_from_string(t))
    history = [{"role": r, "content": "问" * 150} for _ in range(200) for r in ("user", "assistant")]
    prompt = service.prepare("medical", "最后的问题", service.params("medical"), history=history)
    assert (
        0 < prompt.dropped_turns < 200
        and prompt.prompt_tokens <= backend.context_length - service.params("medical").max_new_tokens
    )
    whole = sum(len(m["content"]) for m in history)
    assert sum(counted) <= 4 * whole, f"counted {sum(counted)} characters for a {whole}-character history"
    assert len(compiled) <= 3  # system, user (and repair) templates: not one per message


def test_health_answers_while_a_schema_is_being_checked(api, monkeypatch):
    """A schema check used to run on the event loop (a 20,000-property schema froze /health for 9.9 s): here the
    check is held until /health has answered, which it can only do if the check runs elsewhere."""
    from qa import chat_request

    entered, release = threading.Event(), threading.Event()
    real = chat_request.Draft202012Validator.check_schema

    def held(schema):
        entered.set()
        release.wait(15)
        return real(schema)

    monkeypatch.setattr(chat_request.Draft202012Validator, "check_schema", held)
    body = {
        "model": "qa-raw",
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
    }
    results = []
    worker = threading.Thread(target=lambda: results.append(chat(api.url, body).status_code))
    worker.start()
    try:
        assert entered.wait(10)
        health = httpx.get(api.url + "/health", timeout=5)  # the old loop was blocked here until release
        assert health.status_code == 200
    finally:
        release.set()
        worker.join(20)
    assert results == [200]


# ---- bodies too large: a readable 413 on every path, even for a client that writes its whole body first ---------
def post_with_urllib(url, size, content_type="application/json"):
    """urllib writes the whole body before it reads anything: a server that answers early and closes resets it."""
    request = urllib.request.Request(url, data=b" " * size, headers={"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.parametrize(
    ("path", "size"),
    [
        ("/v1/chat/completions", 1_200_000),  # a little over the API's 1 MiB
        ("/v1/chat/completions", 4_500_000),
        ("/gradio_api/queue/join", 4_500_000),  # a page handler: no limit before
        ("/gradio_api/upload", 4_500_000),
    ],
)
def test_a_too_large_body_gets_a_readable_413(api, path, size):
    status, body = post_with_urllib(api.url + path, size)
    assert status == 413, body[:300]
    assert b"larger than" in body


def test_uploads_are_bounded_and_off_when_the_setting_says_so(api, tmp_path):
    files = {"files": ("a.txt", b"hello", "text/plain")}
    response = httpx.post(api.url + "/gradio_api/upload", files=files, timeout=10)
    assert response.status_code == 200, response.text  # the 资料库 panel takes documents, within the limit
    settings, _, service = make_api(tmp_path, max_upload_bytes=0)
    with serving(create_app(service, settings)) as url:
        response = httpx.post(url + "/gradio_api/upload", files=files, timeout=10)
    assert response.status_code == 403, response.text


@pytest.mark.parametrize(
    "path",
    [
        "/gradio_api/file=http://intranet-host.invalid/secret",
        "/gradio_api/file=https://example.com/",
        "/gradio_api/file=//example.com/x",
        "/gradio_api/proxy=https://example.com/",
    ],
)
def test_the_file_route_fetches_nothing_remote(api, path, monkeypatch):
    import socket

    looked_up = []
    real = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: looked_up.append(host) or real(host, *a, **k))
    response = httpx.get(api.url + path, timeout=10)
    assert [h for h in looked_up if h not in ("127.0.0.1", "localhost")] == []
    assert response.status_code == 404, response.text


# ---- one access policy for the whole port -------------------------------------------------------------------------
LOGIN = ("doctor", "s3cret-pass")


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """A page login configured (no API keys): before, /v1 and /metrics stayed open behind it."""
    settings, backend, service = make_api(
        tmp_path_factory.mktemp("guarded"), auth_users=f"{LOGIN[0]}:{LOGIN[1]}", login_max_failures=3
    )
    with serving(create_app(service, settings)) as url:
        yield SimpleNamespace(url=url, backend=backend, service=service, settings=settings)


def login(url, user, password, client=None):
    client = client or httpx.Client(base_url=url, timeout=10)
    return client, client.post("/login", data={"username": user, "password": password})


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/models"),
        ("POST", "/v1/chat/completions"),
        ("GET", "/metrics"),
        ("GET", "/gradio_api/info"),
        ("GET", "/config"),
        ("POST", "/gradio_api/upload"),
        ("GET", "/gradio_api/file=/etc/hostname"),
        ("POST", "/gradio_api/queue/join"),
    ],
)
def test_a_login_guards_every_surface(guarded, method, path):
    body = {"model": "qa-medical", "messages": [{"role": "user", "content": "头痛"}]} if path.startswith("/v1/") else {}
    response = httpx.request(method, guarded.url + path, json=body, timeout=10)
    assert response.status_code == 401, (path, response.status_code, response.text[:200])


def test_a_login_opens_the_api_to_its_user(guarded):
    body = {"model": "qa-medical", "messages": [{"role": "user", "content": "头痛"}]}
    basic = httpx.post(guarded.url + "/v1/chat/completions", json=body, auth=LOGIN, timeout=30)
    assert basic.status_code == 200, basic.text
    bearer = httpx.get(
        guarded.url + "/v1/models", headers={"Authorization": f"Bearer {LOGIN[0]}:{LOGIN[1]}"}, timeout=10
    )
    assert bearer.status_code == 200
    client, response = login(guarded.url, *LOGIN)
    assert response.status_code == 200
    assert client.get("/metrics").status_code == 200  # the page's login cookie is a login too
    assert client.get("/gradio_api/info").status_code == 200


def test_the_login_page_carries_no_api_description_or_system_prompt(guarded):
    page = httpx.get(guarded.url + "/", timeout=10)
    assert page.status_code == 200 and "auth_required" in page.text
    for task in guarded.service.tasks():
        assert task.prompts.system_prompt()[:40] not in page.text
    assert "/chat" not in page.text.split("window.gradio_api_info", 1)[1][:500]


def test_failed_logins_are_throttled_per_user_and_per_client(guarded):
    for _ in range(guarded.settings.login_max_failures):
        _, response = login(guarded.url, "nurse", "wrong")
        assert response.status_code == 400
    _, response = login(guarded.url, "nurse", "wrong")
    assert response.status_code == 429 and "Too many failed logins" in response.json()["detail"]
    # the same client is locked out for other names too (its failures are counted per address)
    _, response = login(guarded.url, *LOGIN)
    assert response.status_code == 429


# ---- the page: generic errors, draining, bounded sessions, no browser history, no export files left ----------------
def test_page_clients_get_generic_error_text_with_an_id_in_the_log(api, caplog):
    def broken(request):
        raise RuntimeError("secret-internal-detail at /srv/qa/model.bin")

    api.backend.script(broken)
    try:
        with caplog.at_level("ERROR", logger="qa.ui"):
            status, message = page_ask_http(api.url, "头痛怎么办")
    finally:
        api.backend.reset()
    assert status == 200 and message is not None and message["success"] is False
    assert "secret-internal-detail" not in json.dumps(message, ensure_ascii=False)
    shown = message["output"]["error"]
    error_id = shown.split("id ")[1].split(")")[0]
    assert any(error_id in r.getMessage() and r.exc_info for r in caplog.records)


def test_sigterm_drains_the_page_like_the_api(tmp_path):
    from qa.api import ServerState

    settings, backend, service = make_api(tmp_path)
    state = ServerState()
    with serving(create_app(service, settings, state=state)) as url:
        assert page_ask_http(url, "头痛")[0] == 200
        state.draining = True
        status, _ = page_ask_http(url, "头痛")
        assert status == 503


def test_page_sessions_are_bounded(tmp_path):
    settings, backend, service = make_api(tmp_path, max_sessions=10)
    app = create_app(service, settings)
    with serving(app) as url:
        for _ in range(14):
            assert page_ask_http(url, "头痛")[1]["success"] is True
        holder = next(r.app for r in app.routes if getattr(r, "path", None) == "").get_blocks().state_holder
        assert 0 < len(holder.session_data) <= 10


def test_browser_question_history_is_off_by_default(api):
    assert httpx.get(api.url + "/gradio_api/runs", timeout=10).status_code == 404
    assert httpx.get(api.url + "/config", timeout=10).json().get("run_history") in (False, None)


def test_exports_do_not_pile_up(tmp_path):
    import os

    from qa.conversation import Turn
    from qa.feedback import FeedbackLog
    from qa.ui import ChatHandlers, StopSwitch

    settings, backend, service = make_api(tmp_path)
    handlers = ChatHandlers(service, StopSwitch(), FeedbackLog(tmp_path / "fb.jsonl"), "medical")
    turns = [Turn("头痛", status="done")]
    first = handlers.export_json(turns, handlers.default_prompt, 0.3, 0.9, 256)
    old = os.path.dirname(first)
    os.utime(old, (0, 0))  # as if written long ago: Gradio has copied it for the download by now
    second = handlers.export_markdown(turns, handlers.default_prompt, 0.3, 0.9, 256)
    assert os.path.exists(second) and not os.path.exists(first)


def test_a_body_without_a_length_is_cut_off_at_the_limit_too(api):
    def chunks():
        for _ in range(40):
            yield b" " * 100_000  # 4 MB in chunks, no Content-Length: the limit is counted as it arrives

    response = httpx.post(
        api.url + "/gradio_api/queue/join", content=chunks(), headers={"Content-Type": "application/json"}, timeout=30
    )
    assert response.status_code == 413, response.text[:200]


def test_api_keys_guard_the_page_too_and_metrics_can_be_made_public(tmp_path):
    key = "sk-hardening-test-key"
    settings, backend, service = make_api(tmp_path, api_keys=key, metrics_public=True)
    with serving(create_app(service, settings)) as url:
        assert httpx.get(url + "/config", timeout=10).status_code == 401
        assert httpx.get(url + "/metrics", timeout=10).status_code == 200  # public by the setting
        assert httpx.get(url + "/v1/models", timeout=10).status_code == 401
        client, response = login(url, "anyone", key)  # a key is also the page's password
        assert response.status_code == 200 and client.get("/config").status_code == 200
        _, wrong = login(url, "anyone", "not-the-key")
        assert wrong.status_code == 400


def test_fitting_a_long_history_stops_when_the_client_leaves(tmp_path):
    stop = threading.Event()
    calls = []

    class Leaving(FakeBackend):
        def count_tokens(self, messages):
            calls.append(1)
            if len(calls) == 5:
                stop.set()  # the client disconnects while its history is being counted
            return super().count_tokens(messages)

    settings, backend, service = make_api(tmp_path, backend=Leaving(context_length=20_000))
    backend.requests.clear()
    history = [{"role": r, "content": "问" * 150} for _ in range(200) for r in ("user", "assistant")]
    events = list(service.stream("medical", "问题", service.params("medical"), stop_event=stop, history=history))
    assert events == [] and backend.requests == []  # nothing generated
    assert len(calls) <= 6  # and counting stopped at once


def test_requests_fitting_their_prompt_hold_a_place_in_the_queue():
    from qa.errors import BusyError
    from qa.limits import Gate

    gate = Gate(slots=1, queue_size=1)
    with gate.place():
        assert gate.busy()  # so SIGTERM's drain waits for it too
        with pytest.raises(BusyError), gate.place():
            pass
    assert not gate.busy()


@pytest.mark.model
def test_history_fitting_with_the_real_tokenizer_drops_the_fewest_turns_that_fit():
    """Per-turn counts are an estimate of the real chat template's tokens: with the embedded model's tokenizer and
    template the result still fits, and keeping one more turn would not."""
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama_cpp is not importable")
    from qa.backends.llamacpp_backend import LlamaCppBackend
    from qa.inputs import check_history, fit_context
    from qa.settings import Settings
    from qa.tasks import builtin_tasks

    from .helpers import real_model_settings

    backend = LlamaCppBackend(Settings(**real_model_settings(backend="llamacpp", threads=1, max_context_tokens=1024)))
    backend.load()
    prompts = builtin_tasks().get("medical").prompts
    texts = ["头痛两天，伴有低烧。", "Is 38.5°C a fever?", '{"summary": "多休息", "urgent": false}', "血压 150/95 mmHg"]
    history = [{"role": r, "content": texts[i % 4] * (1 + i % 3)} for i in range(120) for r in ("user", "assistant")]
    turns = check_history(history)
    build = lambda kept: prompts.build_messages("还需要做什么检查？", None, kept)  # noqa: E731
    budget = 900
    messages, used, dropped = fit_context(backend.count_tokens, build, turns, budget)
    assert 0 < dropped < len(turns)
    assert used == backend.count_tokens(messages) <= budget
    one_more = build([m for turn in turns[dropped - 1 :] for m in turn])
    assert backend.count_tokens(one_more) > budget
