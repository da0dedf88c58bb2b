"""Measure the llama.cpp backend on this CPU: llama.cpp's own unconstrained greedy decoding against the backend's
schema-constrained streaming path, same prompt, same token count; and check the constrained answers.

    .venv/bin/python scripts/measure_llamacpp.py [--tokens 256] [--runs 2] [--domain medical]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jsonschema import Draft202012Validator  # noqa: E402

from qa.backends.llamacpp_backend import LlamaCppBackend  # noqa: E402
from qa.settings import Settings  # noqa: E402
from qa.tasks import builtin_tasks  # noqa: E402
from qa.types import GenerationRequest, SamplingParams  # noqa: E402

QUESTIONS = {
    "medical": "最近三天头痛，伴有低烧，需要去医院吗？",
    "finance": "什么是市盈率？怎样判断一家公司的市盈率高不高？",
}


def cpu_seconds() -> tuple[float, float]:
    """(all CPUs' busy seconds, this process's CPU seconds): their difference is what other programs used."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = sum(fields) - fields[3] - fields[4]  # minus idle and iowait
    t = os.times()
    return busy / os.sysconf("SC_CLK_TCK"), t.user + t.system


class Others:
    """Measures how many CPUs other programs kept busy meanwhile (contention makes 2-thread decoding collapse)."""

    def __enter__(self) -> Others:
        self.start, self.wall = cpu_seconds(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        (busy, own), wall = cpu_seconds(), time.perf_counter()
        self.cpus = max(0.0, (busy - self.start[0]) - (own - self.start[1])) / (wall - self.wall)

    def __str__(self) -> str:
        return f"[others used {self.cpus:.2f} CPUs]"


def cpu_flags() -> str:
    text = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.*)$", text, re.M)
    flags = sorted(set(re.findall(r"\b(avx512_bf16|avx512f|avx2|amx_bf16)\b", text)))
    return f"{model.group(1) if model else platform.processor()}; flags: {' '.join(flags)}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=256)
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--domain", default="medical")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--question", default=None, help="default: the domain's example question")
    args = ap.parse_args()

    settings = Settings(backend="transformers", threads=args.threads)
    domain = builtin_tasks(settings.prompts_dir).get(args.domain).prompts
    schema = domain.schema
    messages = domain.build_messages(args.question or QUESTIONS[args.domain])
    backend = LlamaCppBackend(settings)
    started = time.perf_counter()
    backend.load()
    backend.prepare_schema(schema)
    print(f"cpu               {cpu_flags()}")
    print(f"model             {backend.info.describe()}  (load + grammar {time.perf_counter() - started:.1f} s)")
    print(f"prompt            {backend.count_tokens(messages)} tokens ({args.domain})")
    backend.bare_generate(messages, 8)  # warm-up
    backend.forget_prompt()  # cold prompt: time to first token includes evaluating the whole prompt
    cold = backend.stream(GenerationRequest(messages=messages, params=SamplingParams(0.0, 1.0, 1), schema=schema))
    list(cold)
    print(f"cold first token  {cold.stats.first_token_s:.2f} s (whole prompt evaluated; warm runs reuse it)")
    print(f"load average      {open('/proc/loadavg').read().split()[0]} (1 min) before the runs")

    validator = Draft202012Validator(schema)
    for run in range(1, args.runs + 1):
        # unconstrained: llama.cpp's greedy sampler, exactly args.tokens tokens
        with Others() as others:
            n, seconds = backend.bare_generate(messages, args.tokens)
        print(
            f"run {run} llama.cpp unconstrained greedy   {n / seconds:6.2f} tok/s ({n} tokens, {seconds:.2f} s) {others}"
        )
        # the backend, unconstrained (python sampling loop, no grammar)
        params = SamplingParams(0.0, 1.0, args.tokens)
        for label, sch in (("backend unconstrained greedy", None), ("backend constrained greedy", schema)):
            with Others() as others:
                stream = backend.stream(GenerationRequest(messages=messages, params=params, schema=sch))
                text = "".join(stream)
            st = stream.stats
            decode = (st.completion_tokens - 1) / (st.total_s - st.first_token_s) if st.first_token_s else 0.0
            print(
                f"run {run} {label:31s} {st.tokens_per_s:6.2f} tok/s ({st.completion_tokens} tokens, {st.total_s:.2f} s, "
                f"first token {st.first_token_s:.3f} s, decode-only {decode:.2f} tok/s, {st.finish_reason}) {others}"
            )
            if sch is not None:
                check(text, validator, schema)
        # sampled at the domain defaults, as the app runs it
        params = SamplingParams(domain.defaults["temperature"], domain.defaults["top_p"], args.tokens)
        with Others() as others:
            stream = backend.stream(GenerationRequest(messages=messages, params=params, schema=schema))
            text = "".join(stream)
        st = stream.stats
        print(
            f"run {run} backend constrained T={params.temperature} p={params.top_p} {st.tokens_per_s:6.2f} tok/s "
            f"({st.completion_tokens} tokens, {st.finish_reason}) {others}"
        )
        check(text, validator, schema)


def check(text: str, validator: Draft202012Validator, schema: dict) -> None:
    try:
        data = json.loads(text)
    except ValueError as exc:
        print(f"    JSON: does not parse ({exc}); {len(text)} chars (cut by the token budget?)")
        return
    errors = [e.message for e in validator.iter_errors(data)]
    lengths = {k: (len(v) if isinstance(v, str) else [len(x) for x in v]) for k, v in data.items() if k != "urgent"}
    limits = {
        k: p.get("maxLength") or (p.get("maxItems"), p.get("items", {}).get("maxLength"))
        for k, p in schema["properties"].items()
        if k in lengths
    }
    print(f"    JSON ok; schema {'valid' if not errors else errors}; lengths {lengths}; limits {limits}")
    print(f"    {text[:200]}{'…' if len(text) > 200 else ''}")


if __name__ == "__main__":
    main()
