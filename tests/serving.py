"""The one way tests start the app as a separate process: ./start.sh (as README says) or `python -m qa serve`
(when a test reads the process's own output), on a free loopback port. In-process servers are tests/live.py."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from qa.settings import REPO_ROOT

from .helpers import free_port, stop_process


def spawn(
    *args: str, env: dict[str, str] | None = None, start_sh: bool = True, output: Any = subprocess.PIPE
) -> tuple[subprocess.Popen, str]:
    """Start the server process on 127.0.0.1:<free port>; (process, base URL). Output goes to `output`."""
    port = free_port()
    command = ["./start.sh", *args] if start_sh else [sys.executable, "-m", "qa", "serve", *args]
    proc = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO_ROOT,
        env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})},
        stdout=output,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return proc, f"http://127.0.0.1:{port}"


@contextmanager
def running_server(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> Iterator[str]:
    """./start.sh ARGS on 127.0.0.1:<free port>; yields the base URL once /ready says the model is loaded."""
    log = tempfile.NamedTemporaryFile("w+", prefix="qa-server-", suffix=".log", delete=False)
    proc, url = spawn(*args, env=env, output=log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}:\n{open(log.name).read()[-3000:]}")
            try:
                # the server listens at once and loads the model in the background; /ready is 503 until then
                urllib.request.urlopen(url + "/ready", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start:\n{open(log.name).read()[-3000:]}") from None
                time.sleep(0.5)
        yield url
    finally:
        stop_process(proc)
        log.close()
        os.unlink(log.name)
