"""The production loading path (a local Qwen2 model folder, as Qwen2.5-7B-Instruct is deployed) on a random-weight
Qwen2 with the real Qwen tokenizer: it loads, reports itself, and serves batched schema-constrained answers.

No weights can be downloaded here, so the model is built in the test: tiny on a CPU, and the same code on CUDA
(bf16, bitsandbytes 4-bit and 8-bit, device_map) where a GPU is present. Random weights say nothing about answer
quality; the grammar still forces every answer into its schema, which is what is checked.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from qa.settings import Settings
from qa.types import GenerationRequest, SamplingParams

from .helpers import DIGIT, stream_together

pytestmark = pytest.mark.model

LABEL = {
    "type": "object",
    "properties": {"label": {"type": "string", "enum": ["内科", "外科", "儿科"]}, "ok": {"type": "boolean"}},
    "required": ["label", "ok"],
    "additionalProperties": False,
}


def _cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def _embedded_tokenizer(request) -> tuple[Any, int]:
    """The embedded model's tokenizer and vocabulary size: from QA_TEST_TOKENIZER's folder where it names one (a GPU
    machine that runs only these cases need not install the 0.5B model: `scripts/save_test_tokenizer.py` writes the
    folder), else from the embedded model itself."""
    folder = os.environ.get("QA_TEST_TOKENIZER")
    if folder:
        from transformers import AutoTokenizer

        meta = json.loads((Path(folder) / "vocab_size.json").read_text("utf-8"))
        return AutoTokenizer.from_pretrained(folder), int(meta["vocab_size"])
    backend = request.getfixturevalue("transformers_backend")
    backend.load()
    return backend.tokenizer, backend._vocab_size


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory, request) -> Path:
    """A random-weight Qwen2 (2 layers, hidden 64) saved with the embedded model's own tokenizer."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    tokenizer, vocab_size = _embedded_tokenizer(request)
    torch.manual_seed(0)
    config = Qwen2Config(
        vocab_size=vocab_size,
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
    )
    model = Qwen2ForCausalLM(config)
    folder = tmp_path_factory.mktemp("qwen2-random")
    model.save_pretrained(folder)
    GenerationConfig(eos_token_id=[tokenizer.eos_token_id]).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


CASES = [
    # device_map "cpu" keeps the model on the CPU on a machine with a GPU too (on one without, it is what "auto" does)
    pytest.param({"dtype": "float32", "device_map": "cpu"}, id="cpu-float32"),
    pytest.param({"dtype": "bfloat16", "device_map": "cpu"}, id="cpu-bfloat16"),
    pytest.param({"dtype": "bfloat16"}, id="cuda-bfloat16", marks=pytest.mark.cuda),
    pytest.param({"quantization": "4bit"}, id="cuda-4bit", marks=pytest.mark.cuda),
    pytest.param({"quantization": "8bit"}, id="cuda-8bit", marks=pytest.mark.cuda),
]


@pytest.mark.parametrize("overrides", CASES)
def test_a_local_qwen2_folder_serves_batched_constrained_answers(model_folder, overrides, request):
    from qa.backends.transformers_backend import TransformersBackend

    cuda = "cuda" in request.node.callspec.id
    if cuda and not _cuda():
        pytest.skip("no CUDA GPU on this machine: the GPU cases run where one is present")
    if not cuda and overrides.get("quantization"):
        pytest.fail("bitsandbytes cases are CUDA cases")
    settings = Settings(
        backend="transformers", model=str(model_folder), model_source="production", max_batch=3, seed=0, **overrides
    )
    backend = TransformersBackend(settings)
    backend.load()
    try:
        info = backend.info
        assert info.source == "production" and info.name == str(model_folder)
        assert ("cuda" in info.device) is cuda
        assert info.quantization == overrides.get("quantization", "none")
        if "dtype" in overrides:
            assert info.dtype == overrides["dtype"]
        assert backend.identity()["weights"]["model"] == str(model_folder)
        prompts = [
            ([{"role": "user", "content": "数字"}], DIGIT),
            ([{"role": "user", "content": "科室"}], LABEL),
            ([{"role": "system", "content": "JSON"}, {"role": "user", "content": "数字？"}], DIGIT),
        ]
        results = stream_together(
            backend,
            [GenerationRequest(messages=m, params=SamplingParams(0.0, 1.0, 32), schema=s) for m, s in prompts],
        )
        for (text, stats), schema in zip(results, [DIGIT, LABEL, DIGIT], strict=True):
            assert stats.finish_reason == "stop", text
            assert not list(Draft202012Validator(schema).iter_errors(json.loads(text)))
        assert backend.scheduler_counts()[2] == 3  # the rows shared forward passes
    finally:
        backend.close()
