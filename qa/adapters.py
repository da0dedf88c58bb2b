"""LoRA adapters: open and identify one (a PEFT directory or a GGUF LoRA file), check it against the live model's
layer shapes, and convert a PEFT adapter to llama.cpp's GGUF LoRA format (once, cached by content hash).

Everything here reads file headers with the standard library; torch, safetensors tensors and gguf are imported
inside the functions that need them, so `import app` stays light.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import ConfigurationError, ModelLoadError
from .gguf import read_header

log = logging.getLogger(__name__)

CONFIG_FILE = "adapter_config.json"
WEIGHTS_FILE = "adapter_model.safetensors"
PEFT_FORMAT = f"a PEFT LoRA directory ({CONFIG_FILE} + {WEIGHTS_FILE}, as PeftModel.save_pretrained writes it)"
# bump when the converter's output changes, so cached conversions are rebuilt
CONVERTER_VERSION = 1
# architectures whose llama.cpp conversion copies attention and MLP weights unchanged (no q/k permutation, no
# fused tensors), so an adapter's A/B matrices carry over as they are; others are refused rather than misconverted
GGUF_ARCHITECTURES = ("qwen2", "qwen3")
_CHUNK = 8 << 20

Shape = tuple[int, int]  # (out_features, in_features), as torch's nn.Linear.weight


@dataclass(frozen=True)
class Adapter:
    """One adapter on disk and its identity: the folder (or file) name and the sha256 of its weights."""

    path: Path
    kind: Literal["peft", "gguf"]
    name: str
    sha256: str
    config: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def weights(self) -> Path:
        """The file whose bytes are the adapter (hashed for its identity)."""
        return self.path / WEIGHTS_FILE if self.kind == "peft" else self.path

    @property
    def short_sha(self) -> str:
        """The first 12 hex digits of the weights' sha256."""
        return self.sha256[:12]

    @property
    def base_model(self) -> str:
        """The base model the adapter says it was trained on ('' when it does not say)."""
        return str(self.config.get("base_model_name_or_path") or "")


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def open_adapter(path: Path | str) -> Adapter:
    """The adapter at path, with its format checked; ConfigurationError saying what is wrong or missing."""
    path = Path(path).expanduser()
    if not path.exists():
        raise ConfigurationError(f"adapter {path} does not exist; --adapter (QA_ADAPTER) takes {PEFT_FORMAT}")
    if path.is_file():
        if path.suffix.lower() == ".gguf" or _is_gguf(path):
            return Adapter(path=path, kind="gguf", name=path.stem, sha256=file_sha256(path))
        raise ConfigurationError(f"adapter {path} is a file but not a GGUF LoRA; --adapter takes {PEFT_FORMAT}")
    config_path = path / CONFIG_FILE
    if not config_path.is_file():
        raise ConfigurationError(f"adapter folder {path} has no {CONFIG_FILE}; --adapter takes {PEFT_FORMAT}")
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigurationError(f"{config_path} is not readable JSON ({exc})") from exc
    if not isinstance(config, dict):
        raise ConfigurationError(f"{config_path} must hold a JSON object")
    peft_type = str(config.get("peft_type", "")).upper()
    if peft_type != "LORA":
        raise ConfigurationError(f"{config_path} describes a {peft_type or 'unknown'} adapter; only LoRA is supported")
    rank = config.get("r")
    if isinstance(rank, bool) or not isinstance(rank, int) or rank < 1:
        raise ConfigurationError(f"{config_path}: r (the LoRA rank) must be a positive whole number, got {rank!r}")
    weights = path / WEIGHTS_FILE
    if not weights.is_file():
        hint = " (adapter_model.bin is the old pickle format: save with safe_serialization=True)"
        found = hint if (path / "adapter_model.bin").is_file() else ""
        raise ConfigurationError(f"adapter folder {path} has no {WEIGHTS_FILE}{found}")
    return Adapter(path=path, kind="peft", name=path.name, sha256=file_sha256(weights), config=config)


def _is_gguf(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == b"GGUF"


# ---- the PEFT weights ---------------------------------------------------------------------------
def safetensors_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """Tensor name -> shape from a safetensors header alone (no tensor data is read)."""
    try:
        with path.open("rb") as f:
            (size,) = struct.unpack("<Q", f.read(8))
            if size > 100 << 20:
                raise ValueError(f"header of {size} bytes")
            header = json.loads(f.read(size))
        return {name: tuple(int(d) for d in meta["shape"]) for name, meta in header.items() if name != "__metadata__"}
    except (OSError, ValueError, KeyError, TypeError, struct.error) as exc:
        raise ModelLoadError(f"{path} is not a readable safetensors file ({exc})") from exc


_LORA_KEY = re.compile(r"^(?:base_model\.model\.)?(?P<module>.+)\.lora_(?P<part>[AB])(?:\.[^.]+)?\.weight$")


@dataclass(frozen=True)
class LoraPair:
    """The saved names and shapes of one layer's A (rank x in) and B (out x rank) matrices."""

    a_key: str
    a: tuple[int, ...]
    b_key: str
    b: tuple[int, ...]


def lora_pairs(adapter: Adapter) -> dict[str, LoraPair]:
    """Module name (as in the base model, e.g. model.layers.0.self_attn.q_proj) -> its A/B matrices.

    Other tensors (DoRA magnitudes, embedding LoRA, modules_to_save) are left to PEFT on the transformers path.
    """
    parts: dict[str, dict[str, tuple[str, tuple[int, ...]]]] = {}
    for key, shape in safetensors_shapes(adapter.weights).items():
        match = _LORA_KEY.match(key)
        if match:
            parts.setdefault(match["module"], {})[match["part"]] = (key, shape)
    if not parts:
        raise ModelLoadError(f"{adapter.weights} holds no LoRA weights (no *.lora_A.weight / *.lora_B.weight)")
    pairs = {}
    for module, ab in sorted(parts.items()):
        missing = {"A", "B"} - set(ab)
        if missing:
            raise ModelLoadError(f"adapter {adapter.name} is incomplete: {module} has no lora_{missing.pop()} weight")
        pairs[module] = LoraPair(ab["A"][0], ab["A"][1], ab["B"][0], ab["B"][1])
    return pairs


def check_shapes(adapter: Adapter, base_shape: Callable[[str], Shape | None], model_name: str) -> int:
    """Check every A/B pair against the rank and the base layer it modifies; returns the number of layers.

    base_shape(module) gives the live model's (out_features, in_features) for a module name, None when the model
    has no such layer. Raises ModelLoadError naming the first layer that does not fit.
    """
    rank = int(adapter.config.get("r", 0) or 0)
    per_module_rank = bool(adapter.config.get("rank_pattern"))
    trained_on = f" (it names {adapter.base_model!r} as its base)" if adapter.base_model else ""
    pairs = lora_pairs(adapter)
    for module, pair in pairs.items():
        a, b = pair.a, pair.b
        if len(a) != 2 or len(b) != 2 or a[0] != b[1]:
            raise ModelLoadError(
                f"adapter {adapter.name}: {module} has lora_A {list(a)} and lora_B {list(b)}, which are not the "
                "two halves of one low-rank matrix (A is rank x in, B is out x rank)"
            )
        if rank and not per_module_rank and a[0] != rank:
            raise ModelLoadError(
                f"adapter {adapter.name}: {CONFIG_FILE} says rank r={rank} but {module} has rank {a[0]}; "
                "the config and the weights are from different adapters"
            )
        base = base_shape(module)
        if base is None:
            raise ModelLoadError(
                f"adapter {adapter.name} modifies {module}, a layer the model {model_name} does not have; "
                f"the adapter was trained for another base model{trained_on}"
            )
        if (b[0], a[1]) != tuple(base):
            raise ModelLoadError(
                f"adapter {adapter.name} does not fit the model {model_name}: {module} is {base[0]}x{base[1]} in the "
                f"model but {b[0]}x{a[1]} in the adapter; the adapter was trained for another base model{trained_on}"
            )
    return len(pairs)


_QUANT_SUFFIX = re.compile(r"[-_.](?:i?q\d[\w]*|f16|f32|bf16|fp16|gguf)$")


def _comparable(name: str) -> str:
    base = name.rstrip("/").rsplit("/", 1)[-1].lower().removesuffix(".gguf")
    while (stripped := _QUANT_SUFFIX.sub("", base)) != base:
        base = stripped
    return base


def warn_if_other_base(adapter: Adapter, live_names: list[str]) -> None:
    """Log a warning when the adapter names a base model other than the live one.

    Only a warning: names are hub ids, local paths or GGUF file names and cannot be compared reliably (the embedded
    model is a renamed conversion); the shape check is what refuses an adapter that cannot work.
    """
    if not adapter.base_model:
        log.info("adapter %s does not name its base model; its layer shapes were checked", adapter.name)
        return
    wanted = _comparable(adapter.base_model)
    if any(_comparable(name) == wanted for name in live_names if name):
        return
    log.warning(
        "adapter %s was trained on %s, but the live model is %s; the layer shapes fit, so it is loaded anyway: "
        "check that this is the right adapter",
        adapter.name,
        adapter.base_model,
        " / ".join(n for n in live_names if n),
    )


# ---- llama.cpp: GGUF LoRA -----------------------------------------------------------------------
@dataclass(frozen=True)
class GgufBase:
    """What a LoRA needs to know about a base GGUF: its architecture, depth and 2-D tensor shapes (ne order)."""

    arch: str
    n_blocks: int
    shapes: dict[str, tuple[int, ...]]


def read_gguf_base(path: Path) -> GgufBase:
    """Architecture, block count and tensor shapes of a base GGUF, from its header."""
    try:
        values, shapes = gguf_header(path)
    except (OSError, ValueError, struct.error) as exc:
        raise ModelLoadError(f"could not read the GGUF header of {path} ({exc})") from exc
    arch = str(values.get("general.architecture", ""))
    blocks = values.get(f"{arch}.block_count", 0)
    return GgufBase(arch=arch, n_blocks=int(blocks) if isinstance(blocks, int) else 0, shapes=shapes)


def gguf_header(path: Path) -> tuple[dict[str, Any], dict[str, tuple[int, ...]]]:
    """A GGUF's scalar and string metadata (arrays skipped) and its tensor shapes (ne order), header only."""
    values, tensors = read_header(path)
    return values, {name: tensor.shape for name, tensor in tensors.items()}


def check_gguf_lora(adapter: Adapter, base: GgufBase, model_name: str) -> None:
    """Check a GGUF LoRA file against the base GGUF: adapter type, architecture and every A/B shape."""
    try:
        values, tensors = gguf_header(adapter.path)
    except (OSError, ValueError, struct.error) as exc:
        raise ModelLoadError(f"adapter {adapter.path} is not a readable GGUF file ({exc})") from exc
    kind, lora, arch = (str(values.get(key, "")) for key in ("general.type", "adapter.type", "general.architecture"))
    if kind != "adapter" or lora != "lora":
        raise ConfigurationError(
            f"{adapter.path} is a GGUF {kind or 'file'} but not a LoRA adapter (general.type=adapter, "
            f"adapter.type=lora); give a GGUF LoRA or {PEFT_FORMAT}"
        )
    if arch != base.arch:
        raise ModelLoadError(
            f"adapter {adapter.name} is for the {arch or 'unknown'} architecture, the model {model_name} is {base.arch}"
        )
    for name, a in tensors.items():
        if not name.endswith(".lora_a"):
            continue
        target = name.removesuffix(".lora_a")
        if target.startswith("token_embd."):  # stored transposed (llama.cpp's llm_build_inp_embd): llama.cpp checks it
            continue
        b = tensors.get(target + ".lora_b") or ()
        model = base.shapes.get(target)
        # ne order: A is (in, rank), B is (rank, out), the model's weight (in, out)
        if model is None or not len(a) == len(b) == len(model) == 2 or (a[0], b[1]) != model or a[1] != b[0]:
            raise ModelLoadError(
                f"adapter {adapter.name} does not fit the model {model_name}: {target} "
                f"{'is missing from the model' if model is None else 'has another shape'}; "
                "the adapter was made for another base model"
            )


def gguf_lora(adapter: Adapter, base: GgufBase, cache_dir: Path, model_name: str) -> Path:
    """A GGUF LoRA for llama.cpp: the adapter itself when it is one, else the PEFT adapter converted once.

    The conversion is cached in cache_dir/lora under a hash of the weights, the config, the architecture and
    the converter version, so a changed adapter is converted again and an unchanged one never is.
    """
    if adapter.kind == "gguf":
        check_gguf_lora(adapter, base, model_name)
        return adapter.path
    if base.arch not in GGUF_ARCHITECTURES:
        raise ConfigurationError(
            f"converting a PEFT adapter for llama.cpp is supported for {', '.join(GGUF_ARCHITECTURES)} models, not "
            f"{base.arch}; convert it with llama.cpp's convert_lora_to_gguf.py and pass the .gguf to --adapter"
        )
    names = _gguf_names(base)
    check_shapes(adapter, lambda module: _gguf_shape(base, names(module)), model_name)
    key = hashlib.sha256(
        json.dumps(
            [adapter.sha256, adapter.config, base.arch, base.n_blocks, CONVERTER_VERSION], sort_keys=True
        ).encode()
    ).hexdigest()[:16]
    target = cache_dir / "lora" / f"{adapter.name}-{key}.gguf"
    if target.is_file():
        return target
    log.info("converting adapter %s to a GGUF LoRA for llama.cpp (once): %s", adapter.name, target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # a unique partial name and an atomic rename: two processes converting at once both end with a whole file
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
        try:
            peft_to_gguf(adapter, base, names, partial)
            partial.replace(target)
        finally:
            partial.unlink(missing_ok=True)
    except OSError as exc:
        raise ModelLoadError(
            f"could not write the converted adapter in {target.parent} ({exc.strerror or exc}); "
            "set --cache-dir / QA_CACHE_DIR to a writable folder"
        ) from exc
    return target


def _gguf_names(base: GgufBase) -> Callable[[str], str | None]:
    import gguf

    arch = next((a for a, n in gguf.MODEL_ARCH_NAMES.items() if n == base.arch), None)
    if arch is None:
        raise ConfigurationError(f"the gguf package does not know the architecture {base.arch}")
    mapping = gguf.get_tensor_name_map(arch, base.n_blocks)

    def name(module: str) -> str | None:
        # e.g. model.layers.3.self_attn.q_proj -> blk.3.attn_q.weight
        return mapping.get_name(module + ".weight", try_suffixes=(".weight",))

    return name


def _gguf_shape(base: GgufBase, name: str | None) -> Shape | None:
    shape = base.shapes.get(name) if name else None
    if shape is None or len(shape) != 2:
        return None
    return shape[1], shape[0]  # ne order (in, out) -> torch's (out, in)


def _scales(adapter: Adapter, pairs: dict[str, LoraPair]) -> dict[str, float]:
    """PEFT's per-layer LoRA scale: lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora."""
    config = adapter.config
    if config.get("use_dora"):
        raise ConfigurationError(f"adapter {adapter.name} is a DoRA adapter, which llama.cpp cannot apply")
    if config.get("alpha_pattern") or config.get("fan_in_fan_out") or config.get("lora_bias"):
        raise ConfigurationError(
            f"adapter {adapter.name} uses alpha_pattern, fan_in_fan_out or lora_bias, which this converter does not "
            "handle; convert it with llama.cpp's convert_lora_to_gguf.py and pass the .gguf to --adapter"
        )
    alpha = float(config.get("lora_alpha", config.get("r", 1)))
    rslora = bool(config.get("use_rslora"))
    return {m: alpha / (math.sqrt(p.a[0]) if rslora else p.a[0]) for m, p in pairs.items()}


def peft_to_gguf(adapter: Adapter, base: GgufBase, names: Callable[[str], str | None], out: Path) -> None:
    """Write the PEFT adapter as a GGUF LoRA in llama.cpp's layout: <base tensor>.lora_a / .lora_b."""
    import gguf
    import numpy as np
    from safetensors import safe_open

    pairs = lora_pairs(adapter)
    scales = _scales(adapter, pairs)
    weights = adapter.weights
    with safe_open(str(weights), framework="pt") as f:
        keys = set(f.keys())
        used: set[str] = set()
        tensors: list[tuple[str, Any, Any]] = []
        for module, pair in pairs.items():
            target = names(module)
            if target is None:
                raise ModelLoadError(f"adapter {adapter.name}: no llama.cpp tensor corresponds to {module}")
            used.update((pair.a_key, pair.b_key))
            # float32 keeps the adapter exact (LoRA weights are small); PEFT's scale is folded into B, and alpha 0
            # below tells llama.cpp to apply B*A as is (its own scale would be alpha / rank for one alpha only)
            a = f.get_tensor(pair.a_key).float().numpy()
            b = (f.get_tensor(pair.b_key).float() * scales[module]).numpy()
            tensors.append((target, np.ascontiguousarray(a), np.ascontiguousarray(b)))
        extra = sorted(keys - used)
        if extra:
            raise ConfigurationError(
                f"adapter {adapter.name} has weights other than LoRA A/B matrices (e.g. {extra[0]}: embedding "
                "LoRA, DoRA or modules_to_save), which this converter does not handle; convert it with llama.cpp's "
                "convert_lora_to_gguf.py and pass the .gguf to --adapter"
            )
    writer = gguf.GGUFWriter(str(out), base.arch)
    writer.add_type(gguf.GGUFType.ADAPTER)
    writer.add_string(gguf.Keys.Adapter.TYPE, "lora")
    writer.add_float32(gguf.Keys.Adapter.LORA_ALPHA, 0.0)
    writer.add_string("general.name", adapter.name)
    for target, a, b in tensors:
        writer.add_tensor(target + ".lora_a", a)
        writer.add_tensor(target + ".lora_b", b)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
