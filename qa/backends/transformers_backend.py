"""Local transformers backend: the production Qwen2.5-7B (optionally bitsandbytes) or the embedded demo model."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import adapters, embedded
from ..errors import ConfigurationError, GenerationError, ModelLoadError
from ..types import ChatMessage, GenerationRequest, GenerationStats, ModelInfo, TextStream
from .base import files_stamp
from .grammar import GrammarCache
from .prose import ProseNgrams

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
    """Loads one model and serves schema-constrained streaming generations, one at a time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.model: Any = None
        self.tokenizer: Any = None
        self._info: ModelInfo | None = None
        self._eos_ids: list[int] = []
        self._vocab_size = 0
        self._grammars: GrammarCache | None = None
        self._pieces: list[bytes] = []
        self._weights: dict[str, Any] = {}  # what was loaded, for identity()
        # one model, one generation at a time, always on the same thread: requests queue here instead of
        # interleaving, and torch's OpenMP thread team stays warm (a fresh thread per request costs ~10% speed)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qa-generate")
        self._load_lock = threading.Lock()

    # ---- loading -------------------------------------------------------------------------------
    @property
    def info(self) -> ModelInfo:
        if self._info is None:
            return ModelInfo(name=self.settings.model, source="not loaded", dtype="-", device="-")
        return self._info

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
        self._pieces = vocab  # the prose n-gram ban follows the answer's bytes with the same pieces

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

    def _generate_kwargs(
        self, request: GenerationRequest, stats: GenerationStats, done: threading.Event
    ) -> dict[str, Any]:
        from transformers import LogitsProcessorList, StoppingCriteriaList, TemperatureLogitsWarper, TopPLogitsWarper

        params = request.params
        processors: list[Any] = []
        if request.schema is not None:
            processors.append(_GrammarMask(self.compiled_grammar(request.schema), self._vocab_size))
            if self.settings.no_repeat_ngram:
                processors.append(_ProseBan(ProseNgrams(self._pieces, self.settings.no_repeat_ngram)))
        kwargs: dict[str, Any] = {
            "max_new_tokens": params.max_new_tokens,
            "eos_token_id": self._eos_ids,
            "pad_token_id": self.tokenizer.pad_token_id,
            "stopping_criteria": StoppingCriteriaList([_StopOnEvent(request.stop_event, done)]),
            "top_k": None,
            # not a filter, so it can run before the grammar mask without ever leaving no allowed token
            "repetition_penalty": self.settings.repetition_penalty,
        }
        if params.greedy:
            kwargs.update(do_sample=False, temperature=None, top_p=None)
        else:
            # warpers go after the grammar mask: generate() would run its own before custom processors, and a
            # nucleus cut before masking can leave no allowed token at all
            processors += [TemperatureLogitsWarper(params.temperature), TopPLogitsWarper(params.top_p)]
            kwargs.update(do_sample=True, temperature=1.0, top_p=1.0)
        kwargs["logits_processor"] = LogitsProcessorList(processors)
        return kwargs

    def stream(self, request: GenerationRequest) -> TextStream:
        stats = GenerationStats()
        return TextStream(self._stream(request, stats), stats)

    def _stream(self, request: GenerationRequest, stats: GenerationStats) -> Iterator[str]:
        import torch
        from transformers import TextIteratorStreamer

        self.load()
        started = time.perf_counter()
        inputs = self._encode(request.messages).to(self.model.device)
        stats.prompt_tokens = int(inputs["input_ids"].shape[1])
        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        # the caller's event says "stop"; `done` is ours, so finishing never marks the caller's request stopped
        done = threading.Event()
        kwargs = self._generate_kwargs(request, stats, done)
        failure: list[BaseException] = []
        output: list[Any] = []

        def work() -> None:
            try:
                if request.stop_event.is_set() or done.is_set():  # the caller left while this waited in the queue
                    streamer.end()
                    return
                if self.settings.seed is not None:
                    torch.manual_seed(self.settings.seed)
                with torch.inference_mode():
                    output.append(self.model.generate(**inputs, **kwargs, streamer=streamer))
            except BaseException as exc:  # re-raised in the consumer thread
                failure.append(exc)
                streamer.end()

        job = self._worker.submit(work)
        stopped_by_caller = False
        try:
            for text in streamer:
                if not text:
                    continue
                if stats.first_token_s is None:
                    stats.first_token_s = time.perf_counter() - started
                yield text
        finally:
            stopped_by_caller = request.stop_event.is_set()
            # runs on normal end, on an error, and when the consumer closes the stream (Stop): the stopping
            # criterion sees the event at the next token, and we wait until the model is free again
            done.set()
            if not job.cancel():
                job.result()
            stats.total_s = time.perf_counter() - started
        if failure:
            raise GenerationError(f"generation failed: {failure[0]}") from failure[0]
        if not output:
            stats.finish_reason = "cancelled"
            return
        sequence = output[0][0][stats.prompt_tokens :]
        stats.completion_tokens = int(sequence.shape[0])
        if stats.completion_tokens and int(sequence[-1]) in self._eos_ids:
            stats.completion_tokens -= 1
            stats.finish_reason = "stop"
        elif stopped_by_caller and stats.completion_tokens < request.params.max_new_tokens:
            stats.finish_reason = "cancelled"
        else:
            stats.finish_reason = "length" if stats.completion_tokens >= request.params.max_new_tokens else "stop"

    def bare_generate(self, messages: list[ChatMessage], new_tokens: int) -> tuple[int, float]:
        """Plain greedy model.generate for exactly new_tokens tokens: the benchmark's baseline."""
        import torch

        self.load()
        inputs = self._encode(messages).to(self.model.device)

        def work() -> tuple[int, float]:
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

        # same thread as the app path, so both share one warm OpenMP thread team
        return self._worker.submit(work).result()


class _StopOnEvent:
    """Stopping criterion that ends generation once the request's stop event is set."""

    def __init__(self, *events: threading.Event) -> None:
        self.events = events

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        stop = any(event.is_set() for event in self.events)
        return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)


class _GrammarMask:
    """Logits processor that allows only tokens the JSON-schema grammar accepts next."""

    def __init__(self, grammar: Any, vocab_size: int) -> None:
        import xgrammar as xgr

        self._xgr = xgr
        self.matcher = xgr.GrammarMatcher(grammar)
        self.bitmask = xgr.allocate_token_bitmask(1, vocab_size)
        self._started = False

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self._started:
            token = int(input_ids[0, -1])
            if not self.matcher.accept_token(token):
                raise GenerationError(f"token {token} was generated outside the answer grammar")
        self._started = True
        self.matcher.fill_next_token_bitmask(self.bitmask)
        self._xgr.apply_token_bitmask_inplace(scores, self.bitmask.to(scores.device))
        return scores


class _ProseBan:
    """Logits processor after the grammar mask: bans tokens that would repeat an n-gram of the answer's prose."""

    def __init__(self, prose: ProseNgrams) -> None:
        self.prose = prose
        self._started = False

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch

        if self._started:
            self.prose.accept(int(input_ids[0, -1]))
        self._started = True
        banned = self.prose.banned()
        if banned:
            kept = scores[:, banned].clone()
            scores[:, banned] = -torch.inf
            if not torch.isfinite(scores).any():  # never leave the grammar without an allowed token
                scores[:, banned] = kept
        return scores


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
