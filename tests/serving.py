"""Start the app the way README says (./start.sh) on a free port, for tests that talk to it over HTTP."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

from qa.settings import REPO_ROOT

from .helpers import free_port


@contextmanager
def running_server(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> Iterator[str]:
    """./start.sh ARGS on 127.0.0.1:<free port>; yields the base URL once /ready says the model is loaded."""
    port = free_port()
    log = tempfile.NamedTemporaryFile("w+", prefix="qa-server-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        ["./start.sh", *args, "--host", "127.0.0.1", "--port", str(port)],
        cwd=REPO_ROOT,
        env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})},
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
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
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        os.unlink(log.name)
