"""LoRA adapters (--adapter): checked at load, applied on both local backends, named in the model info.

The adapters are made here with peft itself on small random Qwen2 models: the fast tests use tiny shapes, the
model tests the embedded model's shapes (hidden 896, 14 heads, 2 KV heads) on its first two layers.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from qa import adapters
from qa.backends.fake import FakeBackend
from qa.backends.transformers_backend import TransformersBackend
from qa.cli import build_parser
from qa.errors import ConfigurationError, ModelLoadError
from qa.settings import Settings
from qa.types import ModelInfo
from qa.ui import model_line
from qa.wiring import build_service

from .helpers import real_model_settings

TINY = {"hidden": 64, "heads": 4, "kv_heads": 2}  # q_proj 64x64, v_proj 32x64
EMBEDDED = {"hidden": 896, "heads": 14, "kv_heads": 2}  # Qwen2.5-0.5B: q_proj 896x896, v_proj 128x896
MESSAGES = [{"role": "user", "content": "1+1="}]


def tiny_model(hidden: int = 64, heads: int = 4, kv_heads: int = 2, layers: int = 2, seed: int = 0) -> Any:
    """A random-weight Qwen2 causal LM, small enough to build in milliseconds."""
    import torch
    from transformers import Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(seed)
    config = Qwen2Config(
        hidden_size=hidden,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        num_hidden_layers=layers,
        intermediate_size=32,
        vocab_size=64,
    )
    return Qwen2ForCausalLM(config).eval()


def make_adapter(
    out: Path,
    *,
    b_std: float = 0.05,
    rank: int = 4,
    layers: int = 2,
    base: str = "Qwen/Qwen2.5-Coder-0.5B-Instruct",
    seed: int = 0,
    **shape: int,
) -> Path:
    """A saved PEFT LoRA on q_proj/v_proj of the first `layers` layers; B ~ N(0, b_std) (0: the no-op adapter)."""
    import torch
    from peft import LoraConfig, get_peft_model

    model = tiny_model(layers=layers, seed=seed, **(shape or TINY))
    model.name_or_path = base
    config = LoraConfig(
        r=rank, lora_alpha=2 * rank, target_modules=["q_proj", "v_proj"], layers_to_transform=list(range(layers))
    )
    peft_model = get_peft_model(model, config)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "lora_B" in name:  # peft initialises B to zero: the adapter would change nothing
                param.normal_(0.0, b_std) if b_std else param.zero_()
    # no embedding check: it would look the base model up on the hub
    peft_model.save_pretrained(out, save_embedding_layers=False)
    return out


def tiny_logits(model: Any) -> Any:
    import torch

    with torch.inference_mode():
        return model(torch.tensor([[1, 5, 9, 13, 2]])).logits[0, -1].clone()


# ---- opening and checking ------------------------------------------------------------------------
def _no_config(path: Path) -> None:
    path.mkdir()


def _bad_json(path: Path) -> None:
    path.mkdir()
    (path / "adapter_config.json").write_text("{not json")


def _prefix_tuning(path: Path) -> None:
    path.mkdir()
    (path / "adapter_config.json").write_text(json.dumps({"peft_type": "PREFIX_TUNING"}))


def _rank_zero(path: Path) -> None:
    path.mkdir()
    (path / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 0}))


def _no_weights(path: Path) -> None:
    path.mkdir()
    (path / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 4}))
    (path / "adapter_model.bin").write_bytes(b"pickle")


def _text_file(path: Path) -> None:
    path.write_text("not an adapter")


@pytest.mark.parametrize(
    "make,message",
    [
        (None, "does not exist"),
        (_no_config, "has no adapter_config.json"),
        (_bad_json, "not readable JSON"),
        (_prefix_tuning, "PREFIX_TUNING adapter; only LoRA"),
        (_rank_zero, "r (the LoRA rank) must be a positive whole number"),
        (_no_weights, "has no adapter_model.safetensors (adapter_model.bin is the old pickle format"),
        (_text_file, "not a GGUF LoRA"),
    ],
)
def test_bad_adapter_paths_are_configuration_errors(tmp_path, make, message):
    path = tmp_path / "adapter"
    if make is not None:
        make(path)
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        adapters.open_adapter(path)


def test_identity_is_the_folder_name_and_the_weights_hash(tmp_path):
    one = adapters.open_adapter(make_adapter(tmp_path / "style-a"))
    other = adapters.open_adapter(make_adapter(tmp_path / "style-b", seed=1))
    weights = (tmp_path / "style-a" / "adapter_model.safetensors").read_bytes()
    assert (one.name, one.kind, one.sha256) == ("style-a", "peft", hashlib.sha256(weights).hexdigest())
    assert one.short_sha == one.sha256[:12] and one.sha256 != other.sha256
    assert one.base_model == "Qwen/Qwen2.5-Coder-0.5B-Instruct"


def _linear_shapes(model: Any) -> dict[str, tuple[int, int]]:
    import torch

    return {n: (m.out_features, m.in_features) for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}


def test_shapes_are_checked_against_the_live_model(tmp_path):
    adapter = adapters.open_adapter(make_adapter(tmp_path / "a"))
    assert adapters.check_shapes(adapter, _linear_shapes(tiny_model()).get, "tiny") == 4  # q and v of 2 layers
    wider = _linear_shapes(tiny_model(hidden=128))
    with pytest.raises(
        ModelLoadError, match=r"does not fit the model tiny: model.layers.0.self_attn.q_proj is 128x128"
    ):
        adapters.check_shapes(adapter, wider.get, "tiny")
    shallower = _linear_shapes(tiny_model(layers=1))
    with pytest.raises(ModelLoadError, match=r"modifies model.layers.1.self_attn.q_proj, a layer the model tiny"):
        adapters.check_shapes(adapter, shallower.get, "tiny")


def test_rank_in_the_config_must_match_the_weights(tmp_path):
    path = make_adapter(tmp_path / "a", rank=4)
    config = json.loads((path / "adapter_config.json").read_text())
    (path / "adapter_config.json").write_text(json.dumps({**config, "r": 8}))
    adapter = adapters.open_adapter(path)
    with pytest.raises(ModelLoadError, match=r"says rank r=8 but model.layers.0.self_attn.q_proj has rank 4"):
        adapters.check_shapes(adapter, _linear_shapes(tiny_model()).get, "tiny")


def test_another_base_model_name_only_warns(tmp_path, caplog):
    adapter = adapters.open_adapter(make_adapter(tmp_path / "a", base="meta-llama/Llama-3.2-1B"))
    adapters.warn_if_other_base(adapter, ["Qwen2.5-Coder-0.5B-Instruct"])
    assert "trained on meta-llama/Llama-3.2-1B" in caplog.text
    caplog.clear()
    same = adapters.open_adapter(make_adapter(tmp_path / "b", base="/models/Qwen2.5-Coder-0.5B-Instruct-Q4_K_M.gguf"))
    adapters.warn_if_other_base(same, ["Qwen2.5-Coder-0.5B-Instruct"])
    assert caplog.text == ""


# ---- transformers backend (tiny model in place of the real one) -----------------------------------
def _backend_with_tiny_model(tmp_path: Path, adapter: Path | None, monkeypatch, **model_shape: int):
    """A TransformersBackend whose model load puts a tiny random model in place (no tokenizer: load() is stopped
    after the adapter, which is all these tests need)."""
    backend = TransformersBackend(
        Settings(backend="transformers", model_source="embedded", adapter=adapter, cache_dir=tmp_path / "cache")
    )

    def fake_load(torch: Any) -> None:
        backend.model = tiny_model(**(model_shape or TINY))
        backend._info = ModelInfo(name="tiny", source="embedded", dtype="float32", device="cpu")

    monkeypatch.setattr(backend, "_load_embedded", fake_load)
    return backend


def test_a_nonzero_adapter_changes_the_logits_and_a_zero_one_does_not(tmp_path, monkeypatch):
    import torch

    base = tiny_logits(tiny_model())
    for b_std, changed in [(0.5, True), (0.0, False)]:
        path = make_adapter(tmp_path / f"b{b_std}", b_std=b_std)
        backend = _backend_with_tiny_model(tmp_path, path, monkeypatch)
        monkeypatch.setattr(backend, "_setup_grammar", lambda: None)  # the tiny model has no tokenizer
        backend.load()
        logits = tiny_logits(backend.model)
        assert (not torch.equal(logits, base)) is changed
        # merged into the weights (no quantization): the plain model class, no PEFT wrapper per layer
        assert type(backend.model).__name__ == "Qwen2ForCausalLM"
        info = backend.info
        assert (info.adapter, info.adapter_sha256) == (f"b{b_std}", adapters.open_adapter(path).short_sha)
        assert f"adapter b{b_std} ({info.adapter_sha256})" in info.describe()


def test_an_adapter_for_another_model_fails_cleanly_and_leaves_nothing_loaded(tmp_path, monkeypatch):
    path = make_adapter(tmp_path / "wide", hidden=128, heads=4, kv_heads=2)
    backend = _backend_with_tiny_model(tmp_path, path, monkeypatch)
    with pytest.raises(ModelLoadError, match="adapter wide does not fit the model tiny"):
        backend.load()
    assert backend.model is None and backend.info.source == "not loaded"


def test_a_gguf_adapter_on_transformers_is_refused_before_loading(tmp_path, monkeypatch):
    lora = tmp_path / "style.gguf"
    lora.write_bytes(b"GGUF" + bytes(20))
    backend = TransformersBackend(Settings(backend="transformers", model_source="embedded", adapter=lora))
    monkeypatch.setattr(backend, "_load_embedded", lambda torch: pytest.fail("the model should not load"))
    with pytest.raises(ConfigurationError, match="only the llama.cpp backend reads"):
        backend.load()


# ---- PEFT -> GGUF LoRA for llama.cpp ----------------------------------------------------------------
def _tiny_gguf_base(hidden: int = 64, arch: str = "qwen2") -> adapters.GgufBase:
    shapes = {}
    for i in range(2):
        shapes[f"blk.{i}.attn_q.weight"] = (hidden, hidden)  # ne order: (in, out)
        shapes[f"blk.{i}.attn_v.weight"] = (hidden, 32)
    return adapters.GgufBase(arch=arch, n_blocks=2, shapes=shapes)


def test_peft_adapter_converts_to_llamacpp_lora_once(tmp_path):
    from gguf import GGUFReader
    from safetensors.numpy import load_file

    adapter = adapters.open_adapter(make_adapter(tmp_path / "a"))
    out = adapters.gguf_lora(adapter, _tiny_gguf_base(), tmp_path / "cache", "tiny")
    assert out.parent == tmp_path / "cache" / "lora" and out.name.startswith("a-")
    values, shapes = adapters.gguf_header(out)
    assert values["general.type"] == "adapter" and values["adapter.type"] == "lora"
    assert values["general.architecture"] == "qwen2"
    assert shapes["blk.1.attn_v.weight.lora_a"] == (64, 4) and shapes["blk.1.attn_v.weight.lora_b"] == (4, 32)
    saved = load_file(str(adapter.weights))
    tensors = {t.name: np.asarray(t.data) for t in GGUFReader(out).tensors}
    a = saved["base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight"]
    b = saved["base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight"]
    np.testing.assert_array_equal(tensors["blk.1.attn_v.weight.lora_a"], a)
    np.testing.assert_allclose(tensors["blk.1.attn_v.weight.lora_b"], b * (8 / 4), rtol=1e-6)  # alpha / r folded in
    adapters.check_gguf_lora(adapters.open_adapter(out), _tiny_gguf_base(), "tiny")  # llama.cpp's layout
    # cached by content: the second call converts nothing
    stamp = out.stat().st_mtime_ns
    assert adapters.gguf_lora(adapter, _tiny_gguf_base(), tmp_path / "cache", "tiny") == out
    assert out.stat().st_mtime_ns == stamp


def test_llamacpp_lora_checks(tmp_path):
    adapter = adapters.open_adapter(make_adapter(tmp_path / "a"))
    with pytest.raises(ModelLoadError, match="does not fit the model tiny"):
        adapters.gguf_lora(adapter, _tiny_gguf_base(hidden=128), tmp_path / "cache", "tiny")
    with pytest.raises(ConfigurationError, match="supported for qwen2, qwen3 models, not llama"):
        adapters.gguf_lora(adapter, _tiny_gguf_base(arch="llama"), tmp_path / "cache", "tiny")
    converted = adapters.open_adapter(adapters.gguf_lora(adapter, _tiny_gguf_base(), tmp_path / "cache", "tiny"))
    assert converted.kind == "gguf"
    with pytest.raises(ModelLoadError, match="is for the qwen2 architecture, the model tiny is llama"):
        adapters.check_gguf_lora(converted, _tiny_gguf_base(arch="llama"), "tiny")
    with pytest.raises(ModelLoadError, match="does not fit the model tiny"):
        adapters.check_gguf_lora(converted, _tiny_gguf_base(hidden=128), "tiny")


# ---- settings, command line, page and /health -----------------------------------------------------
def test_adapter_setting_flag_and_environment(tmp_path, monkeypatch):
    args = build_parser().parse_args(["ask", "--task", "medical", "--adapter", str(tmp_path), "q"])
    assert args.adapter == str(tmp_path)
    monkeypatch.setenv("QA_ADAPTER", str(tmp_path))
    assert Settings().adapter == tmp_path
    with pytest.raises(ValueError, match="a remote engine serves its own adapters"):
        Settings(backend="openai", base_url="http://engine/v1", remote_model="m", adapter=tmp_path)


class _AdaptedFake(FakeBackend):
    @property
    def info(self) -> ModelInfo:
        return ModelInfo(
            name="fake",
            source="fake backend",
            dtype="none",
            device="cpu",
            adapter="style",
            adapter_sha256="0123456789ab",
        )


def test_page_and_health_name_the_adapter(settings):
    from qa.server import create_app

    service = build_service(settings, _AdaptedFake())
    service.warm_up()
    assert "adapter style (0123456789ab)" in model_line(service)
    with TestClient(create_app(service, settings)) as client:
        model = client.get("/health").json()["model"]
    assert (model["adapter"], model["adapter_sha256"]) == ("style", "0123456789ab")
    assert "adapter" not in FakeBackend().info.describe()


# ---- the real embedded model -----------------------------------------------------------------------
def _real_settings(**overrides: Any) -> Settings:
    return Settings(**real_model_settings(**overrides))


@pytest.fixture(scope="module")
def real_adapters(tmp_path_factory) -> dict[str, Path]:
    """A non-zero and a zero adapter with the embedded model's shapes, on its first two layers."""
    folder = tmp_path_factory.mktemp("adapters")
    return {
        "style": make_adapter(folder / "style", b_std=0.05, **EMBEDDED),
        "zero": make_adapter(folder / "zero", b_std=0.0, **EMBEDDED),
    }


def _transformers_first_logits(backend: Any) -> np.ndarray:
    import torch

    backend.load()
    with torch.inference_mode():
        inputs = backend._encode(MESSAGES)
        return backend.model(**inputs).logits[0, -1].float().numpy()


@pytest.fixture(scope="module")
def transformers_logits(transformers_backend, real_adapters) -> dict[str | None, np.ndarray]:
    """First-token logits of the embedded model on transformers: bare, and with each adapter."""
    logits: dict[str | None, np.ndarray] = {None: _transformers_first_logits(transformers_backend)}
    for name, path in real_adapters.items():
        backend = TransformersBackend(_real_settings(backend="transformers", adapter=path))
        logits[name] = _transformers_first_logits(backend)
        assert backend.info.adapter == name
        backend.close()  # one extra copy of the model at a time
    return logits


@pytest.mark.model
def test_transformers_adapter_changes_logits_and_zero_adapter_does_not(transformers_logits):
    base = transformers_logits[None]
    assert np.abs(transformers_logits["style"] - base).max() > 0.01
    np.testing.assert_array_equal(transformers_logits["zero"], base)  # merged W + 0 is W exactly


def _llamacpp_first_logits(adapter: Path | None) -> tuple[np.ndarray, ModelInfo]:
    from qa.backends.llamacpp_backend import LlamaCppBackend

    backend = LlamaCppBackend(_real_settings(backend="llamacpp", threads=1, adapter=adapter))
    backend.load()
    try:
        return backend.prompt_logits(MESSAGES), backend.info
    finally:
        backend.close()


def _top(logits: np.ndarray, k: int = 5) -> set[int]:
    return {int(i) for i in np.argsort(-logits)[:k]}


@pytest.mark.model
@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="llama_cpp is not importable")
def test_llamacpp_applies_the_converted_adapter(real_adapters, transformers_logits):
    base, _ = _llamacpp_first_logits(None)
    adapted, info = _llamacpp_first_logits(real_adapters["style"])
    again, _ = _llamacpp_first_logits(real_adapters["style"])
    assert info.adapter == "style" and info.adapter_sha256 == adapters.open_adapter(real_adapters["style"]).short_sha
    assert np.abs(adapted - base).max() > 0.01
    np.testing.assert_array_equal(adapted, again)
    # the GGUF is quantized and transformers runs its dequantized copy: compare loosely. The adapter moves the
    # logits the same way on both backends, and the likeliest tokens agree.
    hf_delta = transformers_logits["style"] - transformers_logits[None]
    assert float(np.corrcoef(adapted - base, hf_delta)[0, 1]) > 0.5
    assert len(_top(adapted) & _top(transformers_logits["style"])) >= 3
