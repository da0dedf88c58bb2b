"""Benchmark: bare model.generate against the app's constrained streaming path, same prompt and token count."""

from __future__ import annotations

import platform
import statistics

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


def _threads() -> int:
    import torch

    return torch.get_num_threads()
