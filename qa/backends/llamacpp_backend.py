"""llama.cpp backend: GGUF models (the embedded demo model or a user's file) fast on an ordinary CPU.

The model runs through llama-cpp-python (built once by scripts/build_llama.sh). Decoding is driven token by token
here rather than by llama.cpp's sampler, so that the answer schema is enforced exactly as in the transformers
backend: xgrammar compiles the JSON Schema (maxLength, maxItems, ... included) and its bitmask removes every token
the grammar does not allow before sampling. The bitmask costs microseconds per token, unlike llama.cpp's own
GBNF sampler.
"""

from __future__ import annotations

import ctypes
import json
import logging
import math
import os
import struct
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import adapters, embedded
from ..errors import ConfigurationError, InputError, ModelLoadError
from ..gguf import read_header
from ..types import ChatMessage, GenerationRequest, GenerationStats, ModelInfo, TextStream
from .base import files_stamp
from .grammar import GrammarCache
from .llamacpp_batch import Row, Scheduler, Vocab

if TYPE_CHECKING:
    from ..settings import Settings

log = logging.getLogger(__name__)

BACKEND_NAME = "llama.cpp"
_PROMPT_CHUNK = 64  # prompts are evaluated in chunks at multiples of this position; see llamacpp_batch

# ggml tensor types (ggml.h) by number, for the "mostly Q5_0" part of ModelInfo
_GGML_TYPES = dict(
    enumerate(
        "F32 F16 Q4_0 Q4_1 - - Q5_0 Q5_1 Q8_0 Q8_1 Q2_K Q3_K Q4_K Q5_K Q6_K Q8_K IQ2_XXS IQ2_XS IQ3_XXS IQ1_S "
        "IQ4_NL IQ3_S IQ2_S IQ4_XS I8 I16 I32 I64 F64 IQ1_M BF16".split()
    )
)

# ChatML, used only when a GGUF carries no chat template of its own
_CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def llama_cpp_available() -> bool:
    """True when llama_cpp can be imported (the wheel from scripts/build_llama.sh is installed)."""
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None


def embedded_gguf_path(cache_dir: Path) -> Path:
    """Where the assembled embedded GGUF is kept for llama.cpp."""
    return cache_dir / f"embedded-{embedded.GGUF_SHA256[:12]}.gguf"


def ensure_embedded_gguf(cache_dir: Path, parts: list[Path] | None = None) -> Path:
    """The embedded GGUF as one verified file in the cache: assembled (sha256-checked) once, reused after.

    A stamp beside the file records the size and mtime that were verified, so later starts skip hashing 0.5 GB.
    """
    path = embedded_gguf_path(cache_dir)
    stamp = path.with_name(path.name + ".verified")
    try:
        st = path.stat()
        recorded = json.loads(stamp.read_text())
        if recorded == {"sha256": embedded.GGUF_SHA256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}:
            return path
    except (OSError, ValueError):
        pass
    parts = parts if parts is not None else embedded.find_parts()
    log.info("assembling the embedded GGUF for llama.cpp from %d parts (once)", len(parts))
    stamp.unlink(missing_ok=True)
    embedded.assemble(parts, path)  # verifies size and sha256; leaves nothing behind on a mismatch
    st = path.stat()
    stamp.write_text(json.dumps({"sha256": embedded.GGUF_SHA256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}))
    return path


def default_threads() -> int:
    """Physical cores this process may use: decode is memory-bound and hyper-threads only add contention."""
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        available = os.cpu_count() or 1
    try:
        import psutil

        physical = psutil.cpu_count(logical=False) or available
    except Exception:  # psutil missing or unable to tell
        physical = available
    return max(1, min(available, physical))


class LlamaCppBackend:
    """Loads one GGUF through llama.cpp and serves schema-constrained streaming generations, batched."""

    def __init__(self, settings: Settings, model_path: str | Path | None = None, reuse_prefix: bool = True) -> None:
        self.settings = settings
        self._model_path = Path(model_path).expanduser() if model_path is not None else None
        self._reuse_prefix = reuse_prefix
        self.llm: Any = None  # the model, its vocabulary and metadata (its own small context is never decoded on)
        self._ctx: Any = None  # the context every generation decodes on: one KV sequence per batch row
        self._scheduler: Scheduler | None = None
        self._vocab: Vocab | None = None
        self._info: ModelInfo | None = None
        self._n_ctx = 0
        self._add_bos = False
        self._bos_text = ""
        self._template: Any = None
        self._template_vars: dict[str, Any] = {}
        self._grammars: GrammarCache | None = None
        self._weights: dict[str, Any] | None = None  # the loaded file's identity, for identity()
        self._load_lock = threading.Lock()

    # ---- loading -------------------------------------------------------------------------------
    @property
    def info(self) -> ModelInfo:
        if self._info is None:
            return ModelInfo(name=self._display_name(), source="not loaded", dtype="-", device="-")
        return self._info

    @property
    def parallel(self) -> int:
        """Generations decoded together (the batch's rows)."""
        return self.settings.max_batch

    @property
    def context_length(self) -> int:
        return self.info.context_length

    def identity(self) -> dict[str, Any]:
        """What decides its answers besides the prompt: the weights (the embedded GGUF's sha256, or a user GGUF's
        size and mtime as loaded), the seed and the repetition penalty."""
        weights = self._weights
        if weights is None:
            user = self._user_gguf()
            weights = {"sha256": embedded.GGUF_SHA256} if user is None else files_stamp(user)
        return {
            "backend": "llamacpp",
            "weights": weights,
            "seed": self.settings.seed,
            "repetition_penalty": self.settings.repetition_penalty,
            "no_repeat_ngram": self.settings.no_repeat_ngram,
            "prose_repetition_penalty": self.settings.prose_repetition_penalty,
        }

    def _display_name(self) -> str:
        path = self._user_gguf()
        return path.stem if path is not None else embedded.NAME

    def _user_gguf(self) -> Path | None:
        if self._model_path is not None:
            return self._model_path
        model = Path(self.settings.model).expanduser()
        if self.settings.model.lower().endswith(".gguf") or model.is_file():
            return model
        return None

    def load(self) -> None:
        with self._load_lock:
            if self.llm is not None:
                return
            if self.settings.quantization != "none":
                raise ConfigurationError(
                    "--quantization applies to the transformers backend; a GGUF carries its own quantization"
                )
            try:
                import llama_cpp
            except ImportError as exc:
                raise ModelLoadError(
                    f"the llama.cpp backend needs llama-cpp-python, which is not importable ({exc}); "
                    "build and install it once with scripts/build_llama.sh"
                ) from exc
            started = time.perf_counter()
            user = self._user_gguf()
            if user is not None:
                if not user.is_file():
                    raise ModelLoadError(f"GGUF file {user} does not exist; point --model at a .gguf file")
                path, source, name = user, "gguf", user.stem
            else:
                path, source, name = (
                    ensure_embedded_gguf(self.settings.cache_dir.expanduser()),
                    "embedded",
                    embedded.NAME,
                )
            self._weights = {"sha256": embedded.GGUF_SHA256} if user is None else files_stamp(path)
            adapter, lora = self._adapter(path, name)
            threads = self.settings.threads or default_threads()
            # the Llama object holds the weights, vocabulary and metadata; its own context stays tiny because
            # generations decode on a context of our own with one KV sequence per batch row
            llm = self._open(llama_cpp, path, _PROMPT_CHUNK * 4, threads)
            try:
                train_ctx = int(llama_cpp.llama_model_n_ctx_train(llm.model)) or self.settings.max_context_tokens
                # a small model: don't keep a KV cache it cannot use
                per_row = min(train_ctx, self.settings.max_context_tokens)
                rows = self.settings.max_batch
                ctx = self._context(llama_cpp, llm, per_row, rows, threads)
                if lora is not None:
                    _attach_lora(llama_cpp, llm, ctx.ctx, lora)
            except BaseException:
                llm.close()
                raise
            self.llm, self._ctx, self._n_ctx = llm, ctx, per_row
            self._setup_vocab(llama_cpp)
            self._setup_template()
            self._setup_grammar()
            assert self._vocab is not None
            self._scheduler = Scheduler(ctx.ctx, rows, _PROMPT_CHUNK, self._vocab.n_vocab, self._reuse_prefix)
            quantization = _quantization(llama_cpp, llm.metadata, path)
            plural = "" if threads == 1 else "s"
            self._info = ModelInfo(
                name=name,
                source=source,
                dtype="gguf",
                device=f"cpu ({BACKEND_NAME}, {threads} thread{plural}, batch of {rows})",
                quantization=quantization,
                context_length=self._n_ctx,
                adapter=adapter.name if adapter else "",
                adapter_sha256=adapter.short_sha if adapter else "",
            )
            log.info("model ready in %.1f s: %s", time.perf_counter() - started, self.info.describe())

    def _adapter(self, path: Path, name: str) -> tuple[adapters.Adapter | None, Path | None]:
        """--adapter as a checked GGUF LoRA for this model (a PEFT adapter converted once), or (None, None)."""
        if self.settings.adapter is None:
            return None, None
        adapter = adapters.open_adapter(self.settings.adapter)
        base = adapters.read_gguf_base(path)
        lora = adapters.gguf_lora(adapter, base, self.settings.cache_dir.expanduser(), name)
        if adapter.kind == "peft":
            adapters.warn_if_other_base(adapter, [name, path.stem])
        return adapter, lora

    def _open(self, llama_cpp: Any, path: Path, n_ctx: int, threads: int) -> Any:
        try:
            return llama_cpp.Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_batch=n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                logits_all=False,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelLoadError(f"llama.cpp could not load {path}: {exc}") from exc

    @staticmethod
    def _context(llama_cpp: Any, llm: Any, per_row: int, rows: int, threads: int) -> Any:
        """A context with `rows` sequences of `per_row` tokens each, set up like the Llama object's own."""
        from llama_cpp import _internals

        params = llama_cpp.llama_context_params.from_buffer_copy(llm.context_params)
        params.n_ctx = per_row * rows
        params.n_batch = params.n_ubatch = max(512, _PROMPT_CHUNK + rows)
        params.n_seq_max = rows
        # a KV stream per row: attention reads only the row's own cells (one shared buffer would make every row
        # attend over every row's cells, masked, which cost more than the batching saved)
        params.kv_unified = False
        params.n_threads = params.n_threads_batch = threads
        try:
            return _internals.LlamaContext(model=llm._model, params=params, verbose=False)
        except (ValueError, RuntimeError) as exc:
            raise ModelLoadError(
                f"llama.cpp could not make a context of {rows} x {per_row} tokens: {exc}; "
                "lower --max-batch or --max-context-tokens"
            ) from exc

    def _setup_vocab(self, llama_cpp: Any) -> None:
        """Each token's bytes (empty for control and unused tokens) and the stop tokens, from the GGUF itself."""
        vocab = llama_cpp.llama_model_get_vocab(self.llm.model)
        n_vocab = int(llama_cpp.llama_vocab_n_tokens(vocab))
        if n_vocab != int(self.llm.n_vocab()):
            raise ModelLoadError(f"vocabulary size {n_vocab} differs from the model's output size {self.llm.n_vocab()}")
        hidden = (
            llama_cpp.LLAMA_TOKEN_ATTR_CONTROL | llama_cpp.LLAMA_TOKEN_ATTR_UNUSED | llama_cpp.LLAMA_TOKEN_ATTR_UNKNOWN
        )
        size = 256
        buf = ctypes.create_string_buffer(size)
        pieces: list[bytes] = []
        stops: set[int] = set()
        for token in range(n_vocab):
            if llama_cpp.llama_vocab_is_eog(vocab, token):
                stops.add(token)
            if int(llama_cpp.llama_vocab_get_attr(vocab, token)) & hidden:
                pieces.append(b"")  # never text: the grammar can't pick them, the stream never shows them
                continue
            n = llama_cpp.llama_token_to_piece(vocab, token, buf, size, 0, True)
            if n < 0:
                bigger = ctypes.create_string_buffer(-n)
                n = llama_cpp.llama_token_to_piece(vocab, token, bigger, -n, 0, True)
                pieces.append(bigger.raw[:n])
            else:
                pieces.append(buf.raw[:n])
        if not stops:
            raise ModelLoadError("the GGUF names no end-of-generation token")
        self._vocab = Vocab(n_vocab, pieces, frozenset(stops))
        self._add_bos = bool(llama_cpp.llama_vocab_get_add_bos(vocab))
        bos = int(llama_cpp.llama_vocab_bos(vocab))
        self._bos_text = self._token_text(llama_cpp, vocab, bos) if bos >= 0 else ""
        eos = int(llama_cpp.llama_vocab_eos(vocab))
        self._template_vars = {
            "bos_token": self._bos_text,
            "eos_token": self._token_text(llama_cpp, vocab, eos) if eos >= 0 else "",
        }

    @staticmethod
    def _token_text(llama_cpp: Any, vocab: Any, token: int) -> str:
        text = llama_cpp.llama_vocab_get_text(vocab, token)
        return text.decode("utf-8", errors="replace") if isinstance(text, bytes) else str(text or "")

    def _setup_template(self) -> None:
        """The GGUF's own chat template (Qwen2.5: ChatML with its default system prompt), rendered like HF does."""
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        source = self.llm.metadata.get("tokenizer.chat_template") or _CHATML

        def raise_exception(message: str) -> None:
            raise InputError(f"chat template: {message}")

        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        env.globals["raise_exception"] = raise_exception
        env.globals["strftime_now"] = lambda fmt: time.strftime(fmt)
        self._template = env.from_string(source)

    def _setup_grammar(self) -> None:
        assert self._vocab is not None
        self._grammars = GrammarCache.for_vocab(self._vocab.pieces, self._vocab.n_vocab, sorted(self._vocab.stop_ids))

    def compiled_grammar(self, schema: dict[str, Any]) -> Any:
        """The compiled grammar for a schema, compiled once per process (after load())."""
        assert self._grammars is not None, "load() builds the grammar compiler"
        return self._grammars.get(schema)

    def prepare_schema(self, schema: dict[str, Any]) -> None:
        """Compile a schema ahead of the first request."""
        self.load()
        self.compiled_grammar(schema)

    # ---- prompts -------------------------------------------------------------------------------
    def render(self, messages: list[ChatMessage]) -> str:
        """The chat-templated prompt text, generation prompt included."""
        self.load()
        return self._template.render(
            messages=[dict(m) for m in messages], add_generation_prompt=True, tools=None, **self._template_vars
        )

    def _encode(self, messages: list[ChatMessage]) -> list[int]:
        text = self.render(messages)
        add_bos = self._add_bos and not (self._bos_text and text.startswith(self._bos_text))
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True))

    def count_tokens(self, messages: list[ChatMessage]) -> int:
        self.load()
        # tokenizing reads only the vocabulary, so it need not wait for a running generation
        return len(self._encode(messages))

    # ---- generation ----------------------------------------------------------------------------
    def stream(self, request: GenerationRequest) -> TextStream:
        stats = GenerationStats()
        return TextStream(self._stream(request, stats), stats)

    def _stream(self, request: GenerationRequest, stats: GenerationStats) -> Iterator[str]:
        self.load()
        started = time.perf_counter()
        grammar = self.compiled_grammar(request.schema) if request.schema is not None else None
        prompt = self._encode(request.messages)
        stats.prompt_tokens = len(prompt)
        if len(prompt) >= self._n_ctx:
            raise InputError(
                f"the prompt takes {len(prompt)} tokens, more than the model's context of {self._n_ctx}",
                code="context_length_exceeded",
            )
        row = Row(
            request,
            prompt,
            grammar,
            stats,
            self._vocab,
            budget=min(request.params.max_new_tokens, self._n_ctx - len(prompt)),
            seed=self.settings.seed,
            repetition_penalty=float(self.settings.repetition_penalty),
            started=started,
            no_repeat_ngram=self.settings.no_repeat_ngram if request.schema is not None else 0,
            prose_penalty=self.settings.prose_repetition_penalty if request.schema is not None else 1.0,
        )
        assert self._scheduler is not None
        yield from self._scheduler.stream(row)

    def forget_prompt(self) -> None:
        """Drop the reusable prompt cache: the next generation evaluates its whole prompt (cold timing)."""
        self.load()
        assert self._scheduler is not None
        self._scheduler.call(Scheduler.forget)

    def prompt_logits(self, messages: list[ChatMessage]) -> Any:
        """A copy of the raw next-token logits after these messages (no penalty, no grammar): checks of the weights."""
        self.load()
        prompt = self._encode(messages)

        def work(scheduler: Scheduler) -> Any:
            seq, keep = scheduler.reuse(prompt, list(range(scheduler.n_seq)))
            scheduler.eval_prompt(seq, prompt, keep)
            return scheduler.logits(-1).copy()

        assert self._scheduler is not None
        return self._scheduler.call(work)

    def scheduler_counts(self) -> tuple[int, int, int]:
        """(decode steps, rows those steps carried, most rows in one step) since load."""
        return self._scheduler.counts() if self._scheduler is not None else (0, 0, 0)

    def close(self) -> None:
        """Stop the scheduler and free the model."""
        with self._load_lock:
            if self._scheduler is not None:
                self._scheduler.close()
                self._scheduler = None
            if self._ctx is not None:
                self._ctx.close()
                self._ctx = None
            if self.llm is not None:
                self.llm.close()
                self.llm = None
                self._info = None

    # ---- benchmark baseline --------------------------------------------------------------------
    def bare_generate(self, messages: list[ChatMessage], new_tokens: int) -> tuple[int, float]:
        """llama.cpp's own greedy decoding for exactly new_tokens tokens (no grammar, no Python sampling)."""
        self.load()
        prompt = self._encode(messages)

        def work(scheduler: Scheduler) -> tuple[int, float]:
            import llama_cpp

            started = time.perf_counter()
            # reuses the cached prompt exactly as the app path does
            seq, keep = scheduler.reuse(prompt, list(range(scheduler.n_seq)))
            scheduler.eval_prompt(seq, prompt, keep)
            sampler = llama_cpp.llama_sampler_init_greedy()
            try:
                n = 0
                while n < new_tokens:
                    token = int(llama_cpp.llama_sampler_sample(sampler, self._ctx.ctx, -1))
                    n += 1  # an end token counts too: the baseline times decoding, not answers
                    if n < new_tokens:
                        scheduler.add(token, len(prompt) + n - 1, seq, True)
                        scheduler.decode()
            finally:
                llama_cpp.llama_sampler_free(sampler)
            return n, time.perf_counter() - started

        assert self._scheduler is not None
        return self._scheduler.call(work)


def _attach_lora(llama_cpp: Any, llm: Any, ctx: Any, lora: Path) -> None:
    """Apply a GGUF LoRA to the generation context at scale 1 (the converter folds PEFT's scale into the weights)."""
    # the low-level calls rather than Llama(lora_path=...), which turns off mmap and so copies every weight of the
    # model into memory; an adapter not freed by hand is owned by the model and freed with it
    adapter = llama_cpp.llama_adapter_lora_init(llm.model, str(lora).encode("utf-8"))
    if not adapter:
        raise ModelLoadError(f"llama.cpp could not load the LoRA adapter {lora} (is it for this model?)")
    adapters_array = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(adapter)
    scales = (ctypes.c_float * 1)(1.0)
    if llama_cpp.llama_set_adapters_lora(ctx, adapters_array, 1, scales):
        raise ModelLoadError(f"llama.cpp could not apply the LoRA adapter {lora}")


def _quantization(llama_cpp: Any, metadata: dict[str, Any], path: Path) -> str:
    """The file's quantization label (llama.cpp's name for it) and the weight type most parameters use.

    Small models often carry a k-quant label while most tensors fall back to another type (the embedded model:
    Q4_K_M, mostly Q5_0, because its width is not a multiple of 256), so both are shown.
    """
    names = {
        v: k.split("_FTYPE_", 1)[1].removeprefix("MOSTLY_")
        for k, v in vars(llama_cpp).items()
        if k.startswith("LLAMA_FTYPE_")
    }
    try:
        label = names.get(int(metadata.get("general.file_type", -1)), "")
    except (TypeError, ValueError):
        label = ""
    try:
        counts = gguf_tensor_types(path)
    except (OSError, ValueError, struct.error) as exc:
        log.debug("could not read tensor types from %s: %s", path, exc)
        counts = {}
    mostly = max(counts, key=counts.__getitem__) if counts else ""
    if label and mostly and mostly not in label:
        return f"{label}, mostly {mostly}"
    return label or mostly or "gguf"


def gguf_tensor_types(path: Path) -> dict[str, int]:
    """Parameters per ggml tensor type, read from the GGUF header alone (no tensor data is touched)."""
    counts: dict[str, int] = {}
    for tensor in read_header(path)[1].values():
        name = _GGML_TYPES.get(tensor.ggml_type, f"type{tensor.ggml_type}")
        counts[name] = counts.get(name, 0) + math.prod(tensor.shape)
    return counts
