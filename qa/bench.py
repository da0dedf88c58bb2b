"""Benchmark: every speed figure in one run, on this machine.

- speed: each local backend's bare decoding (its own unconstrained greedy loop) against the app's
  schema-constrained streaming path, same prompt, same token count (the live backend, plus transformers float32
  and bf16 where the CPU has bf16 dot products, for comparison);
- users: aggregate tokens/s and each user's time to first token with 1, 2 and 4 users at once (the same answers
  in every case, so only the concurrency changes);
- cache: a hit's latency against the miss that stored it;
- start: a warm start of the server process to ready.
"""

from __future__ import annotations

import gc
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .backends.base import Backend
from .errors import ConfigurationError
from .service import QAService
from .settings import Settings
from .types import GenerationRequest

Print = Callable[[str], None]
USERS = (1, 2, 4)


def machine() -> str:
    """CPU model, the flags that decide the fast paths, and the cores this process may use."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    model = re.search(r"^model name\s*:\s*(.*)$", text, re.M)
    flags = sorted(set(re.findall(r"\b(avx2|avx512f|avx512_bf16|amx_bf16|amx_tile)\b", text)))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    name = model.group(1) if model else platform.processor() or platform.machine()
    return f"{name}; {cores} cores; flags: {' '.join(flags) or 'none of avx2/avx512/amx'}"


def run_all(
    settings: Settings, task: str, question: str, max_new_tokens: int, runs: int, compare: bool, out: Print = print
) -> None:
    """Print every figure, section by section, as it is measured."""
    from .backends import create_backend
    from .wiring import build_service

    out(f"machine           {machine()}")
    out(f"load average      {_loadavg()} (1 min) at the start; other programs running make every figure lower")
    plain = settings.model_copy(update={"answer_cache": False})
    backend = create_backend(plain)
    started = time.perf_counter()
    backend.load()
    out(f"model load        {time.perf_counter() - started:6.2f} s in this process ({backend.info.describe()})")
    service = build_service(plain, backend)
    live = measure_paths(service, backend, task, question, max_new_tokens, runs)
    out(speed_line(backend.info.device, live))
    rows = {"live": live}
    if compare and type(backend).__name__ != "TransformersBackend":
        from .backends.transformers_backend import cpu_supports_bf16

        dtypes = ["float32"] + (["bfloat16"] if cpu_supports_bf16() else [])
        for dtype in dtypes:
            other = settings.model_copy(update={"answer_cache": False, "backend": "transformers", "dtype": dtype})
            torch_backend = create_backend(other)
            torch_backend.load()
            figures = measure_paths(
                build_service(other, torch_backend), torch_backend, task, question, max_new_tokens, max(1, runs - 1)
            )
            out(speed_line(f"transformers {dtype}", figures))
            rows[dtype] = figures
            del torch_backend
            gc.collect()
    out(
        f"ratio constrained/unconstrained {live['app'] / live['bare']:6.3f} (live backend, best/best; "
        f"goals >= 0.95, and >= 0.8 of llama.cpp's unconstrained speed)"
    )
    for dtype in ("float32", "bfloat16"):
        if dtype in rows:
            out(
                f"ratio live/transformers {dtype:8s} {live['app'] / rows[dtype]['app']:6.2f}x (app path against app path)"
            )

    parallel = int(getattr(backend, "parallel", 1))
    questions = list(service.task(task).examples[:4]) or [question]
    while len(questions) < max(USERS):
        questions.append(question)
    base = None
    for users in USERS:
        figures = concurrent_users(service, task, questions, users, max_new_tokens)
        base = base or figures["tokens_per_s"]
        out(
            f"users {users}           {figures['tokens_per_s']:6.2f} tokens/s together ({figures['tokens_per_s'] / base:4.2f}x one "
            f"user; {figures['tokens']} tokens in {figures['seconds']:.1f} s); first token median "
            f"{figures['first_median']:.2f} s, worst {figures['first_max']:.2f} s"
            + ("" if users <= parallel else f" [the backend decodes {parallel} at a time]")
        )

    fresh = build_service(settings.model_copy(update={"answer_cache": True, "cache_url": "memory://"}), backend)
    out(cache_report(cache_figures(fresh, task, question, max_new_tokens)))
    close = getattr(backend, "close", None)
    if close is not None:
        close()  # free the memory before the server process loads its own copy
    del service, fresh, backend
    gc.collect()
    out(start_report(warm_start(settings)))


def measure_paths(
    service: QAService, backend: Backend, task: str, question: str, max_new_tokens: int, runs: int
) -> dict[str, Any]:
    """Best-of-`runs` tokens/s of the bare path and the app's constrained path (interleaved), first token, tokens."""
    bare = getattr(backend, "bare_generate", None)
    if bare is None:
        raise ConfigurationError("bench needs a local backend (llamacpp or transformers)")
    service.warm_up()
    params = service.params(task, 0.0, 1.0, max_new_tokens)  # greedy: both paths do the same work per token
    messages = service.prepare(task, question, params).messages
    schema = service.task(task).schema
    bare(messages, 8)  # warm-up: first calls pay for allocator and kernel set-up
    # interleave the two paths so drift in machine load hits both alike; the app path decides the token count
    app_rates, bare_rates, ttfts = [], [], []
    tokens = 0
    for _ in range(runs):
        stream = backend.stream(GenerationRequest(messages=messages, params=params, schema=schema))
        for _chunk in stream:
            pass
        stats = stream.stats
        tokens = stats.completion_tokens
        app_rates.append(stats.completion_tokens / stats.total_s)
        ttfts.append(stats.first_token_s or 0.0)
        n, seconds = bare(messages, tokens)
        bare_rates.append(n / seconds)
    return {
        "bare": max(bare_rates),
        "app": max(app_rates),
        "median_ratio": statistics.median(app_rates) / statistics.median(bare_rates),
        "first_token_s": statistics.median(ttfts),
        "tokens": tokens,
        "prompt_tokens": backend.count_tokens(messages),
        "runs": runs,
    }


def speed_line(label: str, f: dict[str, Any]) -> str:
    """One backend's speed figures as a bench line."""
    return (
        f"speed {label}: bare {f['bare']:6.2f} tokens/s, app {f['app']:6.2f} tokens/s (constrained, streamed), "
        f"app/bare {f['app'] / f['bare']:.3f} (median {f['median_ratio']:.3f}), first token {f['first_token_s']:.2f} s; "
        f"{f['prompt_tokens']}-token prompt, {f['tokens']} tokens, best of {f['runs']}"
    )


def concurrent_users(
    service: QAService, task: str, questions: list[str], users: int, max_new_tokens: int
) -> dict[str, Any]:
    """All the questions answered by `users` callers at once (each takes the next unanswered one): tokens/s
    together, and each answer's time to first token from when its caller asked."""
    params = service.params(task, 0.0, 1.0, max_new_tokens)
    todo = list(enumerate(questions))
    lock = threading.Lock()
    firsts: list[float] = []
    tokens: list[int] = []
    errors: list[BaseException] = []

    def caller() -> None:
        while True:
            with lock:
                if not todo:
                    return
                _, q = todo.pop(0)
            asked = time.perf_counter()
            first = None
            try:
                for event in service.stream(task, q, params, channel="cli"):
                    if first is None and event.kind == "partial":
                        first = time.perf_counter() - asked
                    if event.kind == "final" and event.answer is not None:
                        with lock:
                            tokens.append(int(event.answer.usage.get("completion_tokens", 0)))
                            firsts.append(first if first is not None else time.perf_counter() - asked)
            except BaseException as exc:  # reported below
                errors.append(exc)
                return

    started = time.perf_counter()
    threads = [threading.Thread(target=caller, name=f"bench-user-{i}") for i in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    if errors:
        raise errors[0]
    return {
        "users": users,
        "tokens": sum(tokens),
        "seconds": seconds,
        "tokens_per_s": sum(tokens) / seconds,
        "first_median": statistics.median(firsts),
        "first_max": max(firsts),
    }


def cache_figures(service: QAService, task: str, question: str, max_new_tokens: int) -> dict[str, Any]:
    """Time one greedy question twice through the service, a miss (a real generation) and then its cache hit.

    The service should have an empty cache (the bench gives it its own memory:// one). Goal: ratio <= 0.01;
    hit_s and ratio are None when the answer was not cached (`cache` says what each ask was).
    """
    service.warm_up()
    params = service.params(task, 0.0, 1.0, max_new_tokens)  # greedy: deterministic, so cacheable
    timed = []
    for _ in range(2):
        started = time.perf_counter()
        answer = service.answer(task, question, params, channel="cli")
        timed.append((time.perf_counter() - started, answer.cache))
    (miss_s, first), (hit_s, second) = timed
    replayed = (first, second) == ("miss", "hit")
    # without a replay (a failed or truncated answer is never cached) there is no hit to time: say why, go on
    return {
        "miss_s": miss_s,
        "hit_s": hit_s if replayed else None,
        "ratio": hit_s / miss_s if replayed else None,
        "goal": 0.01,
        "cache": [first, second],
    }


def cache_report(figures: dict[str, Any]) -> str:
    """The cache figures as bench lines."""
    if figures["ratio"] is None:
        return (
            f"cache             no replay to time: the two asks were {' then '.join(figures['cache'])} (a failed or"
            " truncated answer is never cached; try a larger --max-new-tokens)"
        )
    return "\n".join(
        [
            f"cache miss        {figures['miss_s']:9.4f} s (a generation, checks included)",
            f"cache hit         {figures['hit_s']:9.6f} s (replayed)",
            f"ratio hit/miss    {figures['ratio']:9.6f} (goal <= {figures['goal']})",
        ]
    )


def warm_start(settings: Settings, limit_s: float = 300.0) -> dict[str, Any]:
    """Seconds from starting `python -m qa serve` (model files already prepared) until /ready answers 200."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(
        QA_BACKEND=settings.backend,
        QA_CACHE_DIR=str(settings.cache_dir),
        QA_MAX_BATCH=str(settings.max_batch),
        QA_LOG_FILE="",
        QA_ANSWER_CACHE="false",
        GRADIO_ANALYTICS_ENABLED="False",
    )
    if settings.threads:
        env["QA_THREADS"] = str(settings.threads)
    command = [sys.executable, "-m", "qa", "serve", "--host", "127.0.0.1", "--port", str(port)]
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ready = None
    try:
        while time.perf_counter() - started < limit_s and proc.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/ready", timeout=2) as r:  # noqa: S310
                    if r.status == 200:
                        ready = time.perf_counter() - started
                        break
            except OSError:
                pass
            time.sleep(0.1)
    finally:
        proc.terminate()
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
    return {"ready_s": ready, "goal_s": 15.0, "error": None if ready else (err or "")[-500:]}


def start_report(figures: dict[str, Any]) -> str:
    """The warm-start figure as a bench line."""
    if figures["ready_s"] is None:
        return f"warm start        the server did not become ready: {figures['error']}"
    return f"warm start        {figures['ready_s']:6.2f} s from `python -m qa serve` to /ready (goal <= {figures['goal_s']:.0f} s)"


def _loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"
