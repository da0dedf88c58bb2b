"""Local transformers backend: the production Qwen2.5-7B (optionally bitsandbytes) or the embedded demo model."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import adapters, embedded
from ..errors import ConfigurationError, InputError, ModelLoadError
from ..types import ChatMessage, GenerationRequest, GenerationStats, ModelInfo, TextStream
from .base import files_stamp
from .batching import Row, Vocab
from .grammar import GrammarCache
from .transformers_batch import TorchScheduler

if TYPE_CHECKING:
    from ..settings import Settings

log = logging.getLogger(__name__)


def cpu_supports_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the CPU has native bf16 dot products (avx512_bf16 or AMX), where bf16 beats fp32."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return False
    flags = {flag for line in text.splitlines() if line.startswith("flags") for flag in line.split(":", 1)[-1].split()}
    return "avx512_bf16" in flags or "amx_bf16" in flags


def cpu_dtype_name(setting: str, cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The dtype for a CPU: the setting when it names one, else bf16 where the CPU has bf16 dot products."""
    if setting != "auto":
        return setting
    return "bfloat16" if cpu_supports_bf16(cpuinfo) else "float32"


_PAD = re.compile(r"^\[PAD\d+\]$")


def hidden_token_ids(tokenizer: Any, vocab_size: int) -> set[int]:
    """Token ids that are never answer text: special and added control tokens, and output rows past the vocabulary."""
    ids = set(getattr(tokenizer, "all_special_ids", []) or [])
    for token_id, token in (getattr(tokenizer, "added_tokens_decoder", {}) or {}).items():
        if getattr(token, "special", False):
            ids.add(int(token_id))
    ids.update(range(len(tokenizer), vocab_size))
    # a GGUF's unused rows arrive from transformers' GGUF reader as ordinary tokens named [PAD<n>]
    size = min(len(tokenizer), vocab_size)
    names = tokenizer.convert_ids_to_tokens(list(range(size)))
    ids.update(i for i, name in enumerate(names) if isinstance(name, str) and _PAD.match(name))
    return {i for i in ids if 0 <= i < vocab_size}


def _in_hub_cache(model: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    try:
        return isinstance(try_to_load_from_cache(model, "config.json"), str)
    except Exception:  # a local path or odd id is simply "not cached"
        return False


def resolve_source(settings: Settings, cuda: bool) -> str:
    """production or embedded: the embedded model serves when there is no CUDA and no local production copy."""
    if settings.model_source != "auto":
        return settings.model_source
    local = Path(settings.model).expanduser().is_dir() or _in_hub_cache(settings.model)
    return "production" if cuda or local or settings.quantization != "none" else "embedded"


class TransformersBackend:
    """Loads one model and serves schema-constrained streaming generations, up to max_batch of them together."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model: Any = None
        self.tokenizer: Any = None
        self._info: ModelInfo | None = None
        self._eos_ids: list[int] = []
        self._vocab_size = 0
        self._grammars: GrammarCache | None = None
        self._weights: dict[str, Any] = {}  # what was loaded, for identity()
        self._vocab: Vocab | None = None
        # one thread owns the model and decodes every generation, batched: requests join at step boundaries
        # instead of interleaving, and torch's OpenMP thread team stays warm (a fresh thread per request costs
        # ~10% speed)
        self._scheduler: TorchScheduler | None = None
        self._load_lock = threading.Lock()

    # ---- loading -------------------------------------------------------------------------------
    @property
    def info(self) -> ModelInfo:
        if self._info is None:
            return ModelInfo(name=self.settings.model, source="not loaded", dtype="-", device="-")
        return self._info

    @property
    def parallel(self) -> int:
        """Generations decoded together (the batch's rows)."""
        return self.settings.max_batch

    @property
    def context_length(self) -> int:
        return self.info.context_length

    def identity(self) -> dict[str, Any]:
        """What decides its answers besides the prompt: the weights (the embedded GGUF's sha256, the hub commit, or a
        local folder's file sizes and mtimes), the seed and the repetition penalty."""
        return {
            "backend": "transformers",
            "weights": self._weights or {"model": self.settings.model, "source": self.settings.model_source},
            "seed": self.settings.seed,
            "repetition_penalty": self.settings.repetition_penalty,
            "no_repeat_ngram": self.settings.no_repeat_ngram,
            "prose_repetition_penalty": self.settings.prose_repetition_penalty,
        }

    def load(self) -> None:
        with self._load_lock:
            if self.model is not None:
                return
            import torch

            if self.settings.threads:
                torch.set_num_threads(self.settings.threads)
            cuda = torch.cuda.is_available()
            if self.settings.quantization != "none" and not cuda:
                raise ConfigurationError(
                    f"--quantization {self.settings.quantization} needs a CUDA GPU for bitsandbytes and none was found; "
                    "use --quantization none on this machine, or see DEPLOYMENT.md for running on a GPU"
                )
            source = resolve_source(self.settings, cuda)
            if source == "embedded" and self.settings.quantization != "none":
                raise ConfigurationError("quantization applies to the production model, not the embedded demo model")
            # a wrong adapter path or format fails before minutes of model loading, its shapes after
            adapter = self._open_adapter()
            started = time.perf_counter()
            if source == "production":
                self._load_production(torch, cuda)
            else:
                self._load_embedded(torch)
            if adapter is not None:
                try:
                    self._apply_adapter(torch, adapter)
                except BaseException:
                    # PEFT changes the model in place: never leave a half-adapted model behind as "loaded"
                    self.model = self.tokenizer = self._info = None
                    raise
            self.model.eval()
            self._setup_grammar()
            self._scheduler = TorchScheduler(self.model, self.settings.max_batch)
            log.info("model ready in %.1f s: %s", time.perf_counter() - started, self.info.describe())

    def _open_adapter(self) -> adapters.Adapter | None:
        if self.settings.adapter is None:
            return None
        adapter = adapters.open_adapter(self.settings.adapter)
        if adapter.kind != "peft":
            raise ConfigurationError(
                f"the transformers backend loads {adapters.PEFT_FORMAT}; {adapter.path} is a GGUF LoRA, which only "
                "the llama.cpp backend reads (--backend llamacpp)"
            )
        return adapter

    def _apply_adapter(self, torch: Any, adapter: adapters.Adapter) -> None:
        """Check the adapter's layers against the live model, then apply it with PEFT."""
        info = self.info
        linears = {
            name: (int(module.out_features), int(module.in_features))
            for name, module in self.model.named_modules()
            if isinstance(module, torch.nn.Linear)
        }
        layers = adapters.check_shapes(adapter, linears.get, info.name)
        # the production model's name is the setting; the embedded one's is its own (the setting is not what runs)
        live = [info.name, str(getattr(self.model.config, "_name_or_path", ""))]
        adapters.warn_if_other_base(adapter, live + ([self.settings.model] if info.source == "production" else []))
        try:
            from peft import PeftModel
        except ImportError as exc:
            raise ConfigurationError(
                f"--adapter needs the peft package ({exc}); install the pinned requirements: "
                ".venv/bin/pip install -r requirements.txt"
            ) from exc
        try:
            model = PeftModel.from_pretrained(self.model, str(adapter.path), is_trainable=False)
            if self.settings.quantization == "none":
                # merged, the adapter costs nothing per token: unmerged, every adapted layer runs two extra small
                # matmuls plus PEFT's Python wrapper on each step, which on a CPU is a visible share of a small
                # model's decode time. Only one adapter is ever live, so nothing needs unmerging. Quantized
                # (bitsandbytes) weights stay unmerged: merging would re-quantize them and round the delta away.
                model = model.merge_and_unload()
        except Exception as exc:  # PEFT reports a bad file as ValueError, KeyError or RuntimeError
            raise ModelLoadError(f"the adapter {adapter.name} at {adapter.path} does not load: {exc}") from exc
        self.model = model
        self._info = replace(info, adapter=adapter.name, adapter_sha256=adapter.short_sha)
        log.info("adapter %s (%s) applied to %d layers", adapter.name, adapter.short_sha, layers)

    def _cpu_dtype(self, torch: Any) -> Any:
        return getattr(torch, cpu_dtype_name(self.settings.dtype))

    def _load_production(self, torch: Any, cuda: bool) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

        name = self.settings.model
        kwargs: dict[str, Any] = {"device_map": self.settings.device_map}
        if cuda:
            kwargs["dtype"] = "auto" if self.settings.dtype == "auto" else getattr(torch, self.settings.dtype)
        else:
            kwargs["dtype"] = self._cpu_dtype(torch)
        if self.settings.quantization == "4bit":
            kwargs["quantization_config"] = BitsAndBytesConfig(
                load_in_4bit=True,
                bnb_4bit_quant_type="nf4",
                bnb_4bit_compute_dtype=torch.bfloat16,
                bnb_4bit_use_double_quant=True,
            )
        elif self.settings.quantization == "8bit":
            kwargs["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(name)
            self.model = AutoModelForCausalLM.from_pretrained(name, **kwargs)
        except (OSError, ValueError) as exc:
            raise ModelLoadError(
                f"could not load the production model {name!r}: {exc}. Point --model (QA_MODEL) at a local copy "
                "of Qwen2.5-7B-Instruct, make sure the hub is reachable, or use --model-source embedded"
            ) from exc
        local = Path(name).expanduser()
        self._weights = {
            "model": name,
            "revision": getattr(self.model.config, "_commit_hash", None),
            **(files_stamp(local) if local.is_dir() else {}),
        }
        self._finish_info(name=name, source="production", torch=torch)

    def _load_embedded(self, torch: Any) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        dtype = self._cpu_dtype(torch)
        dtype_name = str(dtype).removeprefix("torch.")
        cache = self.settings.cache_dir.expanduser()
        folder = embedded.prepare(cache, dtype_name, lambda gguf, out: _convert_gguf(gguf, out, dtype))
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(folder)
            self.model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype)
        except Exception as exc:  # a damaged cache: rebuild once from the verified parts
            log.warning("converted embedded model at %s did not load (%s); rebuilding it", folder, exc)
            folder = embedded.prepare(cache, dtype_name, lambda gguf, out: _convert_gguf(gguf, out, dtype), force=True)
            try:
                self.tokenizer = AutoTokenizer.from_pretrained(folder)
                self.model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype)
            except Exception as again:
                raise ModelLoadError(
                    f"the embedded model at {folder} does not load ({again}); delete {cache} and start again"
                ) from again
        self._weights = {"sha256": embedded.GGUF_SHA256}
        self._finish_info(name=embedded.NAME, source="embedded", torch=torch)

    def _finish_info(self, name: str, source: str, torch: Any) -> None:
        param = next(self.model.parameters())
        device = str(param.device)
        if getattr(self.model, "hf_device_map", None):
            device = ",".join(sorted({str(d) for d in self.model.hf_device_map.values()}))
        context = min(
            int(getattr(self.model.config, "max_position_embeddings", 0) or 32768), self.settings.max_context_tokens
        )
        dtype = str(getattr(self.model, "dtype", param.dtype)).removeprefix("torch.")
        self._info = ModelInfo(
            name=name,
            source=source,
            dtype=dtype,
            device=device,
            quantization=self.settings.quantization,
            context_length=context,
        )
        eos = self.model.generation_config.eos_token_id
        ids = eos if isinstance(eos, list) else [eos] if eos is not None else []
        if self.tokenizer.eos_token_id is not None:
            ids.append(self.tokenizer.eos_token_id)
        self._eos_ids = sorted(set(int(i) for i in ids))
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    def _setup_grammar(self) -> None:
        import xgrammar as xgr

        # the mask must cover every row of the output layer, which can be wider than the tokenizer
        self._vocab_size = int(self.model.get_output_embeddings().weight.shape[0])
        hf = xgr.TokenizerInfo.from_huggingface(
            self.tokenizer, vocab_size=self._vocab_size, stop_token_ids=self._eos_ids
        )
        # xgrammar reads control tokens (<|im_start|>, <|endoftext|>) and the unused padding rows as plain text,
        # so a grammar would let them appear inside a JSON string; as empty pieces the grammar can never pick them
        vocab = [bytes(piece) if isinstance(piece, bytes) else str(piece).encode() for piece in hf.decoded_vocab]
        vocab += [b""] * (self._vocab_size - len(vocab))
        for token in hidden_token_ids(self.tokenizer, self._vocab_size):
            vocab[token] = b""
        self._grammars = GrammarCache.for_vocab(vocab, self._vocab_size, self._eos_ids)
        # the same pieces are the text each sampled token streams (control tokens stream nothing)
        self._vocab = Vocab(self._vocab_size, vocab, frozenset(self._eos_ids))

    def compiled_grammar(self, schema: dict[str, Any]) -> Any:
        """The compiled grammar for a schema, compiled once per process (after load())."""
        assert self._grammars is not None, "load() builds the grammar compiler"
        return self._grammars.get(schema)

    def prepare_schema(self, schema: dict[str, Any]) -> None:
        """Compile a schema ahead of the first request."""
        self.load()
        self.compiled_grammar(schema)

    # ---- generation ----------------------------------------------------------------------------
    def count_tokens(self, messages: list[ChatMessage]) -> int:
        self.load()
        return len(self._encode(messages)["input_ids"][0])

    def render(self, messages: list[ChatMessage]) -> str:
        """The chat-templated prompt text, generation prompt included."""
        self.load()
        return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)

    def _encode(self, messages: list[ChatMessage]) -> Any:
        return self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )

    def stream(self, request: GenerationRequest) -> TextStream:
        stats = GenerationStats()
        return TextStream(self._stream(request, stats), stats)

    def _stream(self, request: GenerationRequest, stats: GenerationStats) -> Iterator[str]:
        self.load()
        started = time.perf_counter()
        grammar = self.compiled_grammar(request.schema) if request.schema is not None else None
        prompt = [int(t) for t in self._encode(request.messages)["input_ids"][0]]
        stats.prompt_tokens = len(prompt)
        room = self.context_length - len(prompt)
        if room <= 0:
            raise InputError(
                f"the prompt takes {len(prompt)} tokens, more than the model's context of {self.context_length}",
                code="context_length_exceeded",
            )
        assert self._scheduler is not None and self._vocab is not None
        row = Row(
            request,
            prompt,
            grammar,
            stats,
            self._vocab,
            budget=min(request.params.max_new_tokens, room),
            seed=self.settings.seed,
            repetition_penalty=float(self.settings.repetition_penalty),
            started=started,
            no_repeat_ngram=self.settings.no_repeat_ngram if request.schema is not None else 0,
            prose_penalty=self.settings.prose_repetition_penalty if request.schema is not None else 1.0,
        )
        yield from self._scheduler.stream(row)

    def scheduler_counts(self) -> tuple[int, int, int]:
        """(decode steps, rows those steps carried, most rows in one step) since load."""
        return self._scheduler.counts() if self._scheduler is not None else (0, 0, 0)

    def close(self) -> None:
        """Stop the scheduler (unfinished generations end as cancelled) and drop the model."""
        with self._load_lock:
            if self._scheduler is not None:
                self._scheduler.close()
                self._scheduler = None
            self.model = self.tokenizer = self._info = None

    def bare_generate(self, messages: list[ChatMessage], new_tokens: int) -> tuple[int, float]:
        """Plain greedy model.generate for exactly new_tokens tokens: the benchmark's baseline."""
        import torch

        self.load()
        inputs = self._encode(messages).to(self.model.device)

        def work(_scheduler: TorchScheduler) -> tuple[int, float]:
            started = time.perf_counter()
            with torch.inference_mode():
                out = self.model.generate(
                    **inputs,
                    max_new_tokens=new_tokens,
                    min_new_tokens=new_tokens,
                    do_sample=False,
                    temperature=None,
                    top_p=None,
                    top_k=None,
                    pad_token_id=self.tokenizer.pad_token_id,
                )
            return int(out.shape[1] - inputs["input_ids"].shape[1]), time.perf_counter() - started

        # on the scheduler's thread once no answer is being decoded: both share one warm OpenMP thread team
        assert self._scheduler is not None
        return self._scheduler.call(work)


def _convert_gguf(gguf: Path, out_dir: Path, dtype: Any) -> None:
    """Dequantize the GGUF into a plain transformers checkpoint that later starts load in seconds."""
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(
        gguf.parent, gguf_file=gguf.name, dtype=dtype, quantization_config=GgufConfig(dequantize=True)
    )
    # dequantized weights are plain tensors; drop the GGUF marker so save_pretrained writes safetensors
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
