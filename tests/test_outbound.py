"""Nothing leaves the host: a real server process (python -m qa serve, fake backend) behind an outbound proxy that
records every connection, with every direct connection and name lookup in the process recorded too, through its
start-up and one page and API session (started both as `python -m qa serve` and as
`./start.sh` on an installed tree). Before the fix it called Gradio's analytics host and the model hub."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import urllib.request
from pathlib import Path

import httpx
import pytest

from .helpers import stop_process, wait_for
from .pages import page_ask_http
from .serving import spawn

HERE = Path(__file__).resolve().parent


class ProxyListener:
    """A local 'outbound proxy': accepts connections, records the request line, answers 403."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.seen: list[str] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(2)
                try:
                    self.seen.append(conn.recv(4096).split(b"\r\n", 1)[0].decode("latin-1"))
                    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                except OSError:
                    self.seen.append("(no request line)")

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize("start_sh", [False, True], ids=["python -m qa serve", "./start.sh"])
def test_start_up_and_a_session_make_no_outbound_connection(tmp_path, start_sh):
    proxy = ProxyListener()
    record = tmp_path / "outbound.jsonl"
    record.touch()
    env = {
        "PYTHONPATH": os.pathsep.join([str(HERE / "outbound"), os.environ.get("PYTHONPATH", "")]),
        "QA_OUTBOUND_LOG": str(record),
        "HTTP_PROXY": proxy.url,
        "HTTPS_PROXY": proxy.url,
        "ALL_PROXY": proxy.url,
        "http_proxy": proxy.url,
        "https_proxy": proxy.url,
        "NO_PROXY": "",
        "no_proxy": "",
        "GRADIO_ANALYTICS_ENABLED": "True",  # Gradio's default when unset: the app must turn it off itself
        "QA_BACKEND": "fake",
        "QA_CACHE_DIR": str(tmp_path / "cache"),
        "QA_LOG_FILE": "",
        "QA_FEEDBACK_FILE": str(tmp_path / "fb.jsonl"),
    }
    log = open(tmp_path / "server.log", "w+")
    proc, url = spawn(env=env, start_sh=start_sh, output=log)
    try:

        def ready() -> bool:
            try:
                return urllib.request.urlopen(url + "/ready", timeout=2).status == 200
            except OSError:
                return proc.poll() is not None

        assert wait_for(ready, timeout=120, interval=0.3) and proc.poll() is None, (tmp_path / "server.log").read_text()
        time.sleep(2)  # anything a start-up thread sends late would be sent by now
        assert httpx.get(url + "/", timeout=10).status_code == 200
        status, message = page_ask_http(url, "头痛两天了")
        assert status == 200 and message["success"] is True
        body = {"model": "qa-finance", "messages": [{"role": "user", "content": "什么是市盈率？"}]}
        assert httpx.post(url + "/v1/chat/completions", json=body, timeout=30).status_code == 200
        time.sleep(1)
    finally:
        stop_process(proc)
        proxy.close()
        log.close()
    loaded = Path(f"{record}.loaded")
    assert loaded.exists() and str(proc.pid) in loaded.read_text().split(), "the recorder was not loaded"
    attempts = [json.loads(line) for line in record.read_text().splitlines()]
    assert proxy.seen == [] and attempts == [], "\n".join(
        [*proxy.seen, *(f"{a['kind']} {a['target']}\n{a['stack']}" for a in attempts)]
    )
