"""Issue 17: what a hostile client tried against a loopback server (fake backend). Each case answered wrongly
before the hardening: a 500, a stalled event loop, a reset instead of a 413, an unguarded surface."""

from __future__ import annotations

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


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    settings, backend, service = make_api(tmp_path_factory.mktemp("hard"), max_body_bytes=1_048_576, queue_size=4)
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


def test_uploads_are_off_when_no_component_needs_them(api):
    files = {"files": ("a.txt", b"hello", "text/plain")}
    response = httpx.post(api.url + "/gradio_api/upload", files=files, timeout=10)
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
