"""Benchmark: bare model.generate against the app's constrained streaming path, same prompt and token count."""

from __future__ import annotations

import platform
import statistics
import time
from typing import Any

from .backends.base import Backend
from .errors import ConfigurationError
from .service import QAService
from .types import GenerationRequest


def run_bench(service: QAService, backend: Backend, task: str, question: str, max_new_tokens: int, runs: int) -> str:
    """Time both paths `runs` times each on the service's backend and return a printable report."""
    bare = getattr(backend, "bare_generate", None)
    if bare is None:
        raise ConfigurationError("bench needs the transformers backend (--backend transformers)")
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
    best_app, best_bare = max(app_rates), max(bare_rates)
    info = backend.info
    lines = [
        f"model             {info.describe()}",
        f"machine           {platform.machine()} · {platform.processor() or platform.system()} · torch threads {_threads()}",
        f"prompt            {backend.count_tokens(messages)} tokens ({task}); generated {tokens} tokens; best of {runs}",
        f"bare generate     {best_bare:6.2f} tokens/s",
        f"app stream        {best_app:6.2f} tokens/s (schema-constrained, streamed)",
        f"ratio app/bare    {best_app / best_bare:6.3f} (best/best; median/median {statistics.median(app_rates) / statistics.median(bare_rates):.3f})",
        f"first token       {statistics.median(ttfts):6.3f} s (median, app path)",
    ]
    return "\n".join(lines)


def cache_figures(service: QAService, task: str, question: str, max_new_tokens: int) -> dict[str, Any]:
    """Time one greedy question twice through the service, a miss (a real generation) and then its cache hit.

    The service should have an empty cache (the bench entry gives it its own memory:// one). Goal: ratio <= 0.01;
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


def _threads() -> int:
    import torch

    return torch.get_num_threads()
