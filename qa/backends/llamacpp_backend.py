"""llama.cpp backend: GGUF models (the embedded demo model or a user's file) fast on an ordinary CPU.

The model runs through llama-cpp-python (built once by scripts/build_llama.sh). Decoding is driven token by token
here rather than by llama.cpp's sampler, so that the answer schema is enforced exactly as in the transformers
backend: xgrammar compiles the JSON Schema (maxLength, maxItems, ... included) and its bitmask removes every token
the grammar does not allow before sampling. The bitmask costs microseconds per token, unlike llama.cpp's own
GBNF sampler.
"""

from __future__ import annotations

import codecs
import ctypes
import json
import logging
import mmap
import os
import queue
import struct
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import adapters, embedded
from ..errors import ConfigurationError, GenerationError, InputError, ModelLoadError
from ..types import ChatMessage, GenerationRequest, GenerationStats, ModelInfo, SamplingParams, TextStream
from .grammar import GrammarCache

if TYPE_CHECKING:
    import numpy as np

    from ..settings import Settings

log = logging.getLogger(__name__)

BACKEND_NAME = "llama.cpp"
# sampling looks only at tokens whose scaled logit is within this of the best: the rest together weigh under
# vocab * e^-30 (about 1e-8 for 152k tokens), below float32's resolution of the probabilities that transformers sums
_LOGIT_WINDOW = 30.0
_END = object()  # end of a stream's chunk queue
_PROMPT_CHUNK = 64  # prompts are evaluated in chunks at multiples of this position; see _eval_prompt

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
    """Loads one GGUF through llama.cpp and serves schema-constrained streaming generations, one at a time."""

    def __init__(self, settings: Settings, model_path: str | Path | None = None, reuse_prefix: bool = True) -> None:
        self.settings = settings
        self._model_path = Path(model_path).expanduser() if model_path is not None else None
        self._reuse_prefix = reuse_prefix
        self._aligned = 0  # leading KV positions that hold whole prompt chunks (reusable)
        self.llm: Any = None
        self._info: ModelInfo | None = None
        self._n_ctx = 0
        self._n_vocab = 0
        self._pieces: list[bytes] = []
        self._stop_ids: frozenset[int] = frozenset()
        self._add_bos = False
        self._bos_text = ""
        self._template: Any = None
        self._template_vars: dict[str, Any] = {}
        self._grammars: GrammarCache | None = None
        # one model, one generation at a time, always on the same thread (llama.cpp contexts are not thread-safe,
        # and the OpenMP thread team stays warm)
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qa-llamacpp")
        self._load_lock = threading.Lock()

    # ---- loading -------------------------------------------------------------------------------
    @property
    def info(self) -> ModelInfo:
        if self._info is None:
            return ModelInfo(name=self._display_name(), source="not loaded", dtype="-", device="-")
        return self._info

    @property
    def context_length(self) -> int:
        return self.info.context_length

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
            adapter, lora = self._adapter(path, name)
            threads = self.settings.threads or default_threads()
            llm = self._open(llama_cpp, path, self.settings.max_context_tokens, threads, lora)
            train_ctx = int(llama_cpp.llama_model_n_ctx_train(llm.model)) or self.settings.max_context_tokens
            if train_ctx < self.settings.max_context_tokens:  # a small model: don't keep a KV cache it cannot use
                llm.close()
                llm = self._open(llama_cpp, path, train_ctx, threads, lora)
            self.llm = llm
            self._n_ctx = int(llm.n_ctx())
            self._setup_vocab(llama_cpp)
            self._setup_template()
            self._setup_grammar()
            quantization = _quantization(llama_cpp, llm.metadata, path)
            self._info = ModelInfo(
                name=name,
                source=source,
                dtype="gguf",
                device=f"cpu ({BACKEND_NAME}, {threads} thread{'' if threads == 1 else 's'})",
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

    def _open(self, llama_cpp: Any, path: Path, n_ctx: int, threads: int, lora: Path | None = None) -> Any:
        try:
            llm = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_batch=512,
                n_threads=threads,
                n_threads_batch=threads,
                logits_all=False,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelLoadError(f"llama.cpp could not load {path}: {exc}") from exc
        if lora is not None:
            _attach_lora(llama_cpp, llm, lora)
        return llm

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
        self._n_vocab = n_vocab
        self._pieces = pieces
        self._stop_ids = frozenset(stops)
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
        import xgrammar as xgr

        info = xgr.TokenizerInfo(
            self._pieces,
            xgr.VocabType.RAW,
            vocab_size=self._n_vocab,
            stop_token_ids=sorted(self._stop_ids),
            add_prefix_space=False,
        )
        self._grammars = GrammarCache(xgr.GrammarCompiler(info))

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
        chunks: queue.Queue[Any] = queue.Queue()
        # the caller's event says "stop"; `done` is ours, so finishing never marks the caller's request stopped
        done = threading.Event()
        failure: list[BaseException] = []

        def work() -> None:
            try:
                if request.stop_event.is_set() or done.is_set():  # the caller left while this waited in the queue
                    stats.finish_reason = "cancelled"
                    return
                self._generate(request, grammar, stats, done, chunks.put, started)
            except BaseException as exc:  # re-raised in the consumer thread
                failure.append(exc)
            finally:
                chunks.put(_END)

        job = self._worker.submit(work)
        try:
            while True:
                item = chunks.get()
                if item is _END:
                    break
                yield item
        finally:
            # runs on normal end, on an error, and when the consumer closes the stream (Stop): the loop sees the
            # event before the next token, and we wait until the model is free again
            done.set()
            if not job.cancel():
                job.result()
            stats.total_s = time.perf_counter() - started
            if not stats.finish_reason:
                stats.finish_reason = "cancelled"
        if failure:
            exc = failure[0]
            if isinstance(exc, (InputError, GenerationError)):
                raise exc
            raise GenerationError(f"generation failed: {exc}") from exc

    def _generate(
        self,
        request: GenerationRequest,
        grammar: Any,
        stats: GenerationStats,
        done: threading.Event,
        emit: Any,
        started: float,
    ) -> None:
        """Prompt, then one token at a time: logits, penalty, grammar mask, sample, emit text, evaluate."""
        import numpy as np

        params = request.params
        prompt = self._encode(request.messages)
        stats.prompt_tokens = len(prompt)
        if len(prompt) >= self._n_ctx:
            raise InputError(
                f"the prompt takes {len(prompt)} tokens, more than the model's context of {self._n_ctx}",
                code="context_length_exceeded",
            )

        def stopped() -> bool:
            return request.stop_event.is_set() or done.is_set()

        if not self._eval_prompt(prompt, stopped):
            stats.finish_reason = "cancelled"
            return
        matcher = bitmask = torch_logits = None
        if grammar is not None:
            import torch
            import xgrammar as xgr

            matcher = xgr.GrammarMatcher(grammar)
            bitmask = xgr.allocate_token_bitmask(1, self._n_vocab)
        rng = np.random.default_rng(self.settings.seed)
        penalty = float(self.settings.repetition_penalty)
        seen = np.zeros(self._n_vocab, dtype=bool)  # transformers' repetition penalty covers prompt and answer
        seen_ids = np.unique(np.asarray(prompt, dtype=np.int64))
        seen[seen_ids] = True
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        budget = min(params.max_new_tokens, self._n_ctx - len(prompt))
        generated = 0
        while True:
            if stopped():
                stats.finish_reason = "cancelled"
                break
            logits = self._logits(np)
            if penalty != 1.0:
                values = logits[seen_ids]
                logits[seen_ids] = np.where(values > 0, values / penalty, values * penalty)
            if matcher is not None:
                matcher.fill_next_token_bitmask(bitmask)
                torch_logits = torch.from_numpy(logits).unsqueeze(0)
                xgr.apply_token_bitmask_inplace(torch_logits, bitmask)
            token = _sample(logits, params, rng)
            if token in self._stop_ids:
                stats.finish_reason = "stop"
                break
            if matcher is not None and not matcher.accept_token(token):
                raise GenerationError(f"token {token} was generated outside the answer grammar")
            generated += 1
            if not seen[token]:
                seen[token] = True
                seen_ids = np.append(seen_ids, token)
            text = decoder.decode(self._pieces[token])
            if text:
                if stats.first_token_s is None:
                    stats.first_token_s = time.perf_counter() - started
                emit(text)
            stats.completion_tokens = generated
            if generated >= budget:
                stats.finish_reason = "length"
                break
            if stopped():
                stats.finish_reason = "cancelled"
                break
            self._eval([token])
        tail = decoder.decode(b"", final=True)
        if tail:
            emit(tail)

    def _logits(self, np: Any) -> np.ndarray:
        import llama_cpp

        # a view of llama.cpp's own buffer, changed in place: it is valid until the next decode, and used before it
        ptr = llama_cpp.llama_get_logits_ith(self.llm.ctx, -1)
        return np.ctypeslib.as_array(ptr, shape=(self._n_vocab,))

    def _eval(self, tokens: list[int]) -> None:
        try:
            self.llm.eval(tokens)
        except Exception:
            self.llm.reset()  # the KV cache no longer matches what we think it holds
            self._aligned = 0
            raise

    def _eval_prompt(self, prompt: list[int], stopped: Any) -> bool:
        """Evaluate the prompt in chunks at fixed positions, reusing whole chunks shared with the last prompt.

        A prompt's KV cache is a function of the prompt alone: chunk k always holds positions [k*C, (k+1)*C)
        computed in one batch after chunks 0..k-1. Reusing only such chunks (never a partial one, never answer
        tokens decoded one by one) keeps answers bit-for-bit identical to a fresh start, while a follow-up
        question, a repair attempt or the other tab's question skips the shared system prompt.
        """
        llm = self.llm
        keep = 0
        if self._reuse_prefix and self._aligned:
            import numpy as np

            n = min(self._aligned, len(prompt))
            cached = llm.input_ids[:n]
            diff = np.flatnonzero(cached != np.asarray(prompt[:n], dtype=cached.dtype))
            common = int(diff[0]) if diff.size else n
            keep = min(common, len(prompt) - 1) // _PROMPT_CHUNK * _PROMPT_CHUNK  # at least one token to evaluate
        llm.n_tokens = keep
        self._aligned = keep
        for start in range(keep, len(prompt), _PROMPT_CHUNK):
            if stopped():
                return False
            end = min(start + _PROMPT_CHUNK, len(prompt))
            self._eval(prompt[start:end])
            if end - start == _PROMPT_CHUNK:
                self._aligned = end
        return True

    def forget_prompt(self) -> None:
        """Drop the reusable prompt cache: the next generation evaluates its whole prompt (cold timing)."""
        self.load()
        self._worker.submit(self._forget).result()

    def _forget(self) -> None:
        self.llm.reset()
        self._aligned = 0

    # ---- benchmark baseline --------------------------------------------------------------------
    def bare_generate(self, messages: list[ChatMessage], new_tokens: int) -> tuple[int, float]:
        """llama.cpp's own greedy decoding for exactly new_tokens tokens (no grammar, no Python sampling)."""
        self.load()

        def work() -> tuple[int, float]:
            import llama_cpp

            prompt = self._encode(messages)
            started = time.perf_counter()
            self._eval_prompt(prompt, lambda: False)  # reuses the cached prompt exactly as the app path does
            sampler = llama_cpp.llama_sampler_init_greedy()
            try:
                n = 0
                while n < new_tokens:
                    token = int(llama_cpp.llama_sampler_sample(sampler, self.llm.ctx, -1))
                    n += 1  # an end token counts too: the baseline times decoding, not answers
                    if n < new_tokens:
                        self._eval([token])
            finally:
                llama_cpp.llama_sampler_free(sampler)
            return n, time.perf_counter() - started

        return self._worker.submit(work).result()


def _attach_lora(llama_cpp: Any, llm: Any, lora: Path) -> None:
    """Apply a GGUF LoRA to the context at scale 1 (the converter folds PEFT's scale into the weights)."""
    # the low-level calls rather than Llama(lora_path=...), which turns off mmap and so copies every weight of the
    # model into memory; an adapter not freed by hand is owned by the model and freed with it
    adapter = llama_cpp.llama_adapter_lora_init(llm.model, str(lora).encode("utf-8"))
    if not adapter:
        llm.close()
        raise ModelLoadError(f"llama.cpp could not load the LoRA adapter {lora} (is it for this model?)")
    adapters_array = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(adapter)
    scales = (ctypes.c_float * 1)(1.0)
    if llama_cpp.llama_set_adapters_lora(llm.ctx, adapters_array, 1, scales):
        llm.close()
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
    scalar = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        if data[:4] != b"GGUF":
            raise ValueError("not a GGUF file")
        version, n_tensors, n_kv = struct.unpack_from("<IQQ", data, 4)
        if version < 2:
            raise ValueError(f"GGUF version {version} is too old")
        pos = 24

        def skip_value(kind: int, pos: int) -> int:
            if kind in scalar:
                return pos + scalar[kind]
            if kind == 8:  # string
                return pos + 8 + struct.unpack_from("<Q", data, pos)[0]
            if kind == 9:  # array
                item, count = struct.unpack_from("<IQ", data, pos)
                pos += 12
                if item in scalar:
                    return pos + count * scalar[item]
                for _ in range(count):
                    pos = skip_value(item, pos)
                return pos
            raise ValueError(f"unknown GGUF value type {kind}")

        for _ in range(n_kv):
            pos += 8 + struct.unpack_from("<Q", data, pos)[0]  # key
            kind = struct.unpack_from("<I", data, pos)[0]
            pos = skip_value(kind, pos + 4)
        counts: dict[str, int] = {}
        for _ in range(n_tensors):
            pos += 8 + struct.unpack_from("<Q", data, pos)[0]  # name
            n_dims = struct.unpack_from("<I", data, pos)[0]
            dims = struct.unpack_from(f"<{n_dims}Q", data, pos + 4)
            pos += 4 + 8 * n_dims
            kind = struct.unpack_from("<I", data, pos)[0]
            pos += 12  # type, offset
            n = 1
            for d in dims:
                n *= d
            name = _GGML_TYPES.get(kind, f"type{kind}")
            counts[name] = counts.get(name, 0) + n
        return counts


def _sample(logits: np.ndarray, params: SamplingParams, rng: Any) -> int:
    """Greedy, or temperature then top-p (the order and the nucleus rule of transformers' warpers)."""
    import numpy as np

    if params.greedy:
        return int(np.argmax(logits))
    best = float(logits.max())
    candidates = np.flatnonzero(logits >= best - _LOGIT_WINDOW * params.temperature)  # masked tokens are -inf
    scaled = logits[candidates].astype(np.float64) / params.temperature
    probs = np.exp(scaled - scaled.max())
    probs /= probs.sum()
    if params.top_p < 1.0:
        order = np.argsort(-probs, kind="stable")
        mass = probs[order]
        before = np.cumsum(mass) - mass
        keep = before < params.top_p  # a token stays while the mass before it is under top_p (the best always does)
        candidates, probs = candidates[order[keep]], mass[keep]
    cumulative = np.cumsum(probs)
    pick = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    return int(candidates[min(pick, candidates.size - 1)])
