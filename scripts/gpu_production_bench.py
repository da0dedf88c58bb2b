"""The production path on a CUDA GPU at the production model's size: load time, GPU memory and constrained tokens/s.

usage: QA_TEST_TOKENIZER=TOKENIZER_DIR python scripts/gpu_production_bench.py WORK_DIR [--modes bf16,4bit,8bit]

No weights can be downloaded where this runs, so it builds a random-weight Qwen2 with Qwen2.5-7B-Instruct's shape
(28 layers, hidden 3584, 28 heads / 4 KV heads, MLP 18944, vocabulary 152064) around the embedded model's tokenizer
(`scripts/save_test_tokenizer.py` writes TOKENIZER_DIR), saves it to WORK_DIR as a local model folder (about 15 GB),
and loads that folder through the app's transformers backend as `--model FOLDER` does — bf16, bitsandbytes 4-bit
(nf4, double quantisation) and 8-bit. For each it prints the load time, the GPU memory the weights hold, and
schema-constrained greedy decoding of the medical answer schema: one row alone (first token, tokens/s) and 8 rows at
once (the scheduler batches them; tokens/s together). Random weights say nothing about answer quality; the cost of a
token does not depend on the weights' values, and the grammar still forces every answer into the schema (checked).
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from pathlib import Path

from jsonschema import Draft202012Validator

from qa.backends.transformers_backend import TransformersBackend
from qa.settings import Settings
from qa.types import GenerationRequest, SamplingParams

HERE = Path(__file__).resolve().parent
SCHEMA = json.loads((HERE.parent / "qa/tasks/medical/medical.schema.json").read_text("utf-8"))
MODES = {
    "bf16": {"dtype": "bfloat16"},
    "4bit": {"quantization": "4bit"},
    "8bit": {"quantization": "8bit"},
}
QUESTIONS = [
    "最近三天头痛，伴有低烧，需要去医院吗？",
    "孩子两岁，这两天咳嗽有痰，晚上咳得厉害，要紧吗？",
    "体检发现尿酸偏高，平时饮食要注意什么？",
    "经常失眠多梦，白天没精神，怎么调理？",
    "胃胀反酸一个多月了，吃完饭更明显，是胃炎吗？",
    "血压140/90，需要吃药吗？",
    "膝盖上下楼梯时疼，休息后好转，是什么原因？",
    "皮肤起红疹很痒，抓了以后更多，怎么办？",
]


def build_folder(work: Path, tokenizer_dir: Path) -> Path:
    """Write a random-weight Qwen2 of the 7B shape, in bf16, with the tokenizer, unless it is there already."""
    import torch
    from transformers import AutoTokenizer, GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    folder = work / "qwen2-7b-shape-random"
    if (folder / "config.json").exists():
        return folder
    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    config = Qwen2Config(
        vocab_size=152064,
        hidden_size=3584,
        intermediate_size=18944,
        num_hidden_layers=28,
        num_attention_heads=28,
        num_key_value_heads=4,
        max_position_embeddings=32768,
        rope_theta=1_000_000.0,
        rms_norm_eps=1e-6,
        tie_word_embeddings=False,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    started = time.perf_counter()
    with torch.device("cuda"):
        model = Qwen2ForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(folder)
    GenerationConfig(eos_token_id=[tokenizer.eos_token_id]).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    del model
    torch.cuda.empty_cache()
    print(f"built {folder} in {time.perf_counter() - started:.1f} s", flush=True)
    return folder


def request(question: str, max_new_tokens: int) -> GenerationRequest:
    """One medical question under the medical answer schema, greedy."""
    messages = [
        {"role": "system", "content": "你是谨慎的医疗问答助手，只输出符合给定 JSON 结构的回答。"},
        {"role": "user", "content": question},
    ]
    return GenerationRequest(messages=messages, params=SamplingParams(0.0, 1.0, max_new_tokens), schema=SCHEMA)


def run_rows(backend: TransformersBackend, requests: list[GenerationRequest]) -> tuple[float, list]:
    """Stream every request from its own thread; (seconds for all, [(text, stats)])."""
    results: list = [None] * len(requests)

    def one(i: int) -> None:
        stream = backend.stream(requests[i])
        results[i] = ("".join(stream), stream.stats)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(requests))]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, results


def _problem(text: str) -> str:
    """Why a finished answer is not a valid medical answer ('' when it is)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return f"{exc.msg} at {exc.pos}: {text[max(0, exc.pos - 12) : exc.pos + 4]!r}"
    errors = list(Draft202012Validator(SCHEMA).iter_errors(data))
    return errors[0].message if errors else ""


class StepClock:
    """Seconds spent in the three parts of a decoding step, by wrapping them: the model's forward pass (logits
    to the CPU included), the grammar's token mask, and the rest of sampling (penalties, the pick, streaming)."""

    def __init__(self) -> None:
        self.seconds = {"forward": 0.0, "grammar_mask": 0.0, "sample_total": 0.0}

    def wrap(self, owner: type, name: str, key: str) -> None:
        """Time every call of owner.name under key."""
        inner = getattr(owner, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return inner(*args, **kwargs)
            finally:
                self.seconds[key] += time.perf_counter() - started

        setattr(owner, name, timed)

    def install(self) -> None:
        """Wrap the scheduler's forward pass, a row's sampling, and xgrammar's mask filling."""
        import xgrammar as xgr

        from qa.backends.batching import Row
        from qa.backends.transformers_batch import TorchScheduler

        self.wrap(TorchScheduler, "forward", "forward")
        self.wrap(Row, "sample", "sample_total")
        self.wrap(xgr.GrammarMatcher, "fill_next_token_bitmask", "grammar_mask")


def _generate_speed(backend: TransformersBackend, tokens: int = 64) -> float:
    """transformers' own greedy generate on the same weights, unconstrained, one row: the baseline for a step."""
    import torch

    ids = backend.tokenizer("你好", return_tensors="pt").input_ids.to(backend.model.device)
    backend.model.generate(ids, max_new_tokens=4, do_sample=False)
    torch.cuda.synchronize()
    started = time.perf_counter()
    backend.model.generate(ids, max_new_tokens=tokens, min_new_tokens=tokens, do_sample=False)
    torch.cuda.synchronize()
    return round(tokens / (time.perf_counter() - started), 1)


def forward_variants(backend: TransformersBackend, steps: int = 48) -> dict:
    """ms per one-row decoding step of the bare model in three ways: as the app's scheduler calls it (a growing 2-D
    attention mask, explicit positions, the logits copied to the CPU), without the mask and positions, and without
    the copy — to find where a step's time goes (greedy, the same prompt, a fresh cache each)."""
    import torch

    model = backend.model
    ids = backend.tokenizer(QUESTIONS[2] * 3, return_tensors="pt").input_ids.to(model.device)
    sync = torch.cuda.synchronize if model.device.type == "cuda" else (lambda: None)

    def run(mask: bool, copy: bool) -> float:
        with torch.inference_mode():
            out = model(input_ids=ids, use_cache=True)
            cache, token, length = out.past_key_values, int(out.logits[0, -1].argmax()), ids.shape[1]
            attention = torch.ones((1, length), dtype=torch.long, device=model.device)
            sync()
            started = time.perf_counter()
            for i in range(steps):
                step = torch.tensor([[token]], device=model.device)
                if mask:
                    attention = torch.nn.functional.pad(attention, (0, 1), value=1)
                    where = torch.tensor([[length + i]], device=model.device)
                    out = model(
                        input_ids=step,
                        attention_mask=attention,
                        position_ids=where,
                        past_key_values=cache,
                        use_cache=True,
                    )
                else:
                    out = model(input_ids=step, past_key_values=cache, use_cache=True)
                cache = out.past_key_values
                last = out.logits[:, -1]
                token = int(last.float().cpu().numpy()[0].argmax()) if copy else int(last[0].argmax())
            sync()
        return round((time.perf_counter() - started) / steps * 1000, 2)

    run(True, True)  # warm-up
    return {
        "scheduler_like_ms": run(True, True),
        "no_mask_ms": run(False, True),
        "no_copy_ms": run(True, False),
        "neither_ms": run(False, False),
        "scheduler_like_again_ms": run(True, True),
    }


def measure(
    folder: Path, mode: str, max_new_tokens: int, clock: StepClock | None = None, device_map: str = "auto"
) -> dict:
    """Load the folder in one mode and measure it."""
    import torch

    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    settings = Settings(
        backend="transformers",
        model=str(folder),
        model_source="production",
        max_batch=8,
        seed=0,
        device_map=device_map,
        **MODES[mode],
    )
    backend = TransformersBackend(settings)
    started = time.perf_counter()
    backend.load()
    load_s = time.perf_counter() - started
    weights_gib = torch.cuda.memory_allocated() / 2**30
    try:
        run_rows(backend, [request(QUESTIONS[0], 16)])  # warm-up: kernels, grammar compile
        hf_tokens_per_s = _generate_speed(backend)
        variants = forward_variants(backend) if clock is not None else {}
        if clock is not None:
            clock.seconds = dict.fromkeys(clock.seconds, 0.0)
        one_s, one = run_rows(backend, [request(QUESTIONS[1], max_new_tokens)])
        one_parts = {
            k: round(v / max(1, one[0][1].completion_tokens) * 1000, 2)
            for k, v in (clock or StepClock()).seconds.items()
        }
        many_s, many = run_rows(backend, [request(q, max_new_tokens) for q in QUESTIONS])
        stopped = [text for text, stats in one + many if stats.finish_reason == "stop"]
        broken = [problem for text in stopped if (problem := _problem(text))]
        return {
            "mode": mode,
            "device_map": device_map,
            "device": backend.info.device,
            "attention": getattr(backend.model.config, "_attn_implementation", "?"),
            "hooked_modules": sum(hasattr(m, "_hf_hook") for m in backend.model.modules()),
            "load_s": round(load_s, 1),
            "weights_gib": round(weights_gib, 2),
            "peak_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2),
            "one_tokens": one[0][1].completion_tokens,
            "one_first_token_s": round(one[0][1].first_token_s or 0.0, 3),
            "one_tokens_per_s": round(one[0][1].completion_tokens / one_s, 1),
            "one_ms_per_token": {"wall": round(one_s / max(1, one[0][1].completion_tokens) * 1000, 2), **one_parts},
            "hf_generate_tokens_per_s": hf_tokens_per_s,
            "forward_variants": variants,
            "eight_tokens": sum(s.completion_tokens for _, s in many),
            "eight_tokens_per_s": round(sum(s.completion_tokens for _, s in many) / many_s, 1),
            "batched_steps": backend.scheduler_counts(),
            "stopped": f"{len(stopped)}/{len(one) + len(many)} (the rest reached the token budget)",
            "stopped_but_not_valid": broken,
        }
    finally:
        backend.close()


def main() -> None:
    """Build the folder once, then measure each mode and print one JSON line per mode."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("work", type=Path)
    parser.add_argument("--modes", default="bf16,4bit,8bit")
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--torch-threads", type=int, default=0, help="torch.set_num_threads for the run (0: leave it)")
    parser.add_argument("--device-maps", default="auto", help="comma-separated QA_DEVICE_MAP values to compare")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="split one row's time per token into its parts; time the bare model's step four ways",
    )
    args = parser.parse_args()
    clock = StepClock() if args.profile else None
    if clock is not None:
        clock.install()
    import torch

    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    print(
        f"GPU {torch.cuda.get_device_name(0)}; torch {torch.__version__}; {torch.get_num_threads()} threads", flush=True
    )
    folder = build_folder(args.work, Path(os.environ["QA_TEST_TOKENIZER"]))
    for mode in args.modes.split(","):
        for device_map in args.device_maps.split(","):
            figures = measure(folder, mode, args.max_new_tokens, clock, device_map)
            print(json.dumps(figures, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
