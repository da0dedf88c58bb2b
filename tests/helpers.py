"""Test helpers shared by the test modules: canned answers, a bounded wait, a free port, an API test service."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qa.backends.fake import FakeBackend
from qa.settings import Settings
from qa.wiring import build_service

MEDICAL_OK = {
    "summary": "头痛伴低烧多与感冒等感染有关。",
    "analysis": ["常见于病毒性上呼吸道感染。"],
    "suggestions": ["多休息、多饮水，观察体温。"],
    "urgent": False,
}
FINANCE_OK = {
    "calculations": [],
    "summary": "市盈率是股价与每股收益之比。",
    "analysis": ["市盈率高可能意味着市场预期增长较快。"],
    "suggestions": ["结合行业平均水平比较。"],
    "risk_notice": "估值指标不能单独预测股价，投资有风险。",
}


def dumps(data: dict[str, Any]) -> str:
    """Compact JSON as the model writes it."""
    return json.dumps(data, ensure_ascii=False)


def make_api(tmp_path: Path, backend: Any = None, **overrides: Any):
    """Settings, fake backend and warm service for an API server (raw model on, no rate limit, small limits)."""
    values = dict(raw_model=True, rate_limit_per_minute=0, max_body_bytes=65536, queue_size=1)
    settings = Settings(backend="fake", cache_dir=tmp_path / "cache", **{**values, **overrides})
    backend = backend or FakeBackend()
    service = build_service(settings, backend)
    service.warm_up()
    return settings, backend, service


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, interval: float = 0.01) -> bool:
    """Poll until the condition holds; False after the timeout, which only guards against a hang."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def real_model_settings(**overrides: Any) -> dict[str, Any]:
    """Settings for the real embedded model in tests (QA_CACHE_DIR and QA_TEST_DTYPE honoured)."""
    kwargs: dict[str, Any] = {"model_source": "embedded", "seed": 1234, **overrides}
    # under `./start.sh test` (pytest-xdist) each worker gets its share of the cores: two models with two threads each
    # on a 2-core machine spin on each other (the real-model safety sample took 4x its one-process time)
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1 and "threads" not in overrides:
        kwargs["threads"] = max(1, (os.cpu_count() or 1) // workers)
    cache = os.environ.get("QA_CACHE_DIR")
    if cache:
        kwargs["cache_dir"] = Path(cache)
    # QA_TEST_DTYPE=float32 runs the torch model as a CPU without bf16 dot products would (an AVX2-only machine)
    dtype = os.environ.get("QA_TEST_DTYPE")
    if dtype:
        kwargs["dtype"] = dtype
    return kwargs


def stop_process(proc: subprocess.Popen, timeout: float = 20.0) -> None:
    """Terminate a child process, kill it if it does not exit within the timeout, and reap it."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


# a schema whose whole answer is a few tokens: batching tests check rows, not prose
DIGIT = {
    "type": "object",
    "properties": {"n": {"type": "integer", "minimum": 0, "maximum": 9}},
    "required": ["n"],
    "additionalProperties": False,
}


def stream_together(backend: Any, requests: list[Any], timeout: float = 600.0) -> list[tuple[str, Any]]:
    """Stream every request from its own thread so that all of them join the backend's batch at one step: the
    scheduler is held by a job until every row is queued. (text, stats) per request, in order."""
    import threading

    scheduler = backend._scheduler
    held, release = threading.Event(), threading.Event()

    def hold(_scheduler: Any) -> None:
        held.set()
        release.wait(timeout)

    holder = threading.Thread(target=scheduler.call, args=(hold,))
    holder.start()
    assert held.wait(timeout), "the scheduler never became free"
    results: list[Any] = [None] * len(requests)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            stream = backend.stream(requests[i])
            results[i] = ("".join(stream), stream.stats)
        except BaseException as exc:  # reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    while scheduler._inbox.qsize() < len(requests) and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    holder.join(timeout)
    for thread in threads:
        thread.join(timeout)
    assert not errors, errors
    assert all(r is not None for r in results), "a stream did not finish"
    return results


def assert_caught_everywhere(drugs: Any, checker: Any, text: str) -> None:
    """A drug name in `text` is redacted from the whole answer and from streams in chunks of 1-8 characters, and the
    independent leak checker reads it before redaction and not after."""
    from qa.eval.drug_eval import stream

    redacted, _ = drugs.redact(text)
    assert checker.leaks(text) and not checker.leaks(redacted)
    for size in range(1, 9):
        assert stream(drugs, text, size) == redacted, size


def assert_found_and_redacted(drugs: Any, text: str, found: str, drug: str) -> None:
    """The finder reads `found` as `drug` in `text`; redaction removes it, and streams in chunks of 1-8 characters
    give the redacted answer."""
    from qa.eval.drug_eval import stream

    assert (found, drug) in [(m.found, m.drug) for m in drugs.find(text)]
    redacted = drugs.redact(text)[0]
    assert found not in redacted
    for size in range(1, 9):
        assert stream(drugs, text, size) == redacted, size


def assert_untouched(drugs: Any, text: str, sizes: Any = range(1, 9)) -> None:
    """The finder reads no drug in `text`, whole or streamed in chunks of each of `sizes` characters."""
    from qa.eval.drug_eval import stream

    assert drugs.find(text) == []
    for size in sizes:
        assert stream(drugs, text, size) == text, size
