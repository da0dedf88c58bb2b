"""The server process as deployed (fake backend): it drains on SIGTERM and stops when the model cannot load."""

import json
import signal
import socket
import threading
import time

import httpx
import pytest

from .helpers import free_port, wait_for
from .serving import spawn


def start(*args, tmp_path):
    """`python -m qa serve` (its output is read by the tests) with a log file in tmp_path."""
    return spawn(*args, "--log-file", str(tmp_path / "server.log"), start_sh=False)


def wait_ready(proc, url, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"server exited: {proc.stdout.read()}")
        try:
            if httpx.get(url + "/ready", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    pytest.fail("server did not become ready")


@pytest.fixture
def stop_at_end():
    procs = []
    yield procs.append
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def test_sigterm_lets_running_streams_finish_and_refuses_new_requests(tmp_path, stop_at_end):
    proc, url = start("--backend", "fake", "--fake-delay-s", "0.1", "--shutdown-grace-s", "20", tmp_path=tmp_path)
    stop_at_end(proc)
    wait_ready(proc, url)
    lines = []
    body = {"model": "qa-medical", "stream": True, "messages": [{"role": "user", "content": "头痛"}]}

    def stream():
        with httpx.stream("POST", url + "/v1/chat/completions", json=body, timeout=30) as r:
            lines.extend(line for line in r.iter_lines() if line)

    reader = threading.Thread(target=stream)
    reader.start()
    assert wait_for(lambda: len(lines) >= 3, timeout=30), "the stream never started"
    proc.send_signal(signal.SIGTERM)
    assert wait_for(lambda: httpx.get(url + "/health", timeout=5).json()["draining"], timeout=10)
    refused = httpx.post(url + "/v1/chat/completions", json={**body, "stream": False}, timeout=10)
    assert refused.status_code == 503 and refused.headers["retry-after"]
    assert refused.json()["error"]["code"] == "shutting_down"
    assert httpx.get(url + "/ready", timeout=5).status_code == 503
    assert httpx.get(url + "/health", timeout=5).json()["draining"] is True
    reader.join(timeout=30)
    assert lines[-1] == "data: [DONE]"
    final = json.loads(lines[-2][len("data: ") :])
    assert final["choices"][0]["finish_reason"] == "stop" and final["validation"]["passed"] is True
    assert proc.wait(timeout=20) == 0
    log = [json.loads(line) for line in (tmp_path / "server.log").read_text().splitlines()]
    assert any(e["msg"] == "chat done" and e.get("finish_reason") == "stop" for e in log)
    assert not any("头痛" in json.dumps(e, ensure_ascii=False) for e in log)  # no prompt text by default


def test_a_model_that_cannot_load_stops_the_server_with_a_message(tmp_path, stop_at_end):
    dead = f"http://127.0.0.1:{free_port()}/v1"
    proc, _ = start("--backend", "openai", "--base-url", dead, "--remote-model", "m", tmp_path=tmp_path)
    stop_at_end(proc)
    assert proc.wait(timeout=60) == 2
    output = proc.stdout.read()
    assert "cannot reach the remote engine" in output and "Traceback" not in output


def test_sigterm_while_the_model_loads_stops_cleanly_and_says_so(tmp_path, stop_at_end):
    # an engine that accepts connections and never answers: the model stays "loading"
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    dead = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
    try:
        proc, url = start(
            "--backend", "openai", "--base-url", dead, "--remote-model", "m", "--remote-timeout-s", "120",
            tmp_path=tmp_path,
        )  # fmt: skip
        stop_at_end(proc)

        def loading():
            try:
                return httpx.get(url + "/health", timeout=2).json()["model_state"] == "loading"
            except httpx.HTTPError:
                return False

        assert wait_for(loading, timeout=60)
        assert httpx.get(url + "/ready", timeout=5).status_code == 503
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert "stopped before the model finished loading" in proc.stdout.read()
    finally:
        silent.close()
