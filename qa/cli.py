"""Command line: serve the app, ask one question, benchmark, or prepare the embedded model."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from pydantic import ValidationError

from .errors import InputError, QAError

log = logging.getLogger("qa")

# exit codes: 0 ok, 1 the answer failed validation, 2 bad settings / input / model files
EXIT_INVALID_ANSWER = 1
EXIT_ERROR = 2

_SETTING_FLAGS = {
    "backend": dict(choices=["transformers", "fake", "openai"], help="generation backend (openai: a remote engine)"),
    "model": dict(help="production model: hub id or local directory (QA_MODEL)"),
    "model_source": dict(choices=["auto", "production", "embedded"], help="which model to load"),
    "quantization": dict(choices=["none", "4bit", "8bit"], help="bitsandbytes quantization (CUDA only)"),
    "dtype": dict(choices=["auto", "bfloat16", "float16", "float32"], help="model dtype"),
    "device_map": dict(help="transformers device_map"),
    "cache_dir": dict(help="cache folder for the converted embedded model"),
    "prompts_dir": dict(help="folder with prompts, schemas and the drug list"),
    "max_context_tokens": dict(type=int, help="cap on prompt + answer tokens"),
    "repetition_penalty": dict(type=float, help="repetition penalty (1.0 = off)"),
    "threads": dict(type=int, help="CPU threads for torch"),
    "seed": dict(type=int, help="sampling seed"),
    "log_level": dict(choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="logging level"),
    "base_url": dict(help="remote engine: OpenAI-compatible base URL, e.g. http://gpu:8000/v1"),
    "remote_model": dict(help="remote engine: the model name it serves"),
    "remote_api_key": dict(help="remote engine: bearer token (prefer QA_REMOTE_API_KEY: flags show in ps)"),
    "remote_timeout_s": dict(type=float, help="remote engine: seconds to wait for a connection or the next chunk"),
    "remote_context_length": dict(type=int, help="remote engine: its context length in tokens"),
    "fake_delay_s": dict(type=float, help="fake backend: pause before each chunk"),
}
# flags only `serve` has
_SERVER_FLAGS = {
    "host": dict(help="bind address (QA_HOST)"),
    "port": dict(type=int, help="port (QA_PORT)"),
    "queue_size": dict(type=int, help="waiting requests allowed"),
    "max_concurrent_generations": dict(type=int, help="generations at once (raise it for a remote engine)"),
    "raw_model": dict(action=argparse.BooleanOptionalAction, help="also serve qa-raw: the bare backend"),
    "api_keys_file": dict(help="file of API keys for /v1/*, one per line (or QA_API_KEYS, comma-separated)"),
    "rate_limit_per_minute": dict(type=int, help="chat requests per minute per key or client; 0 = off"),
    "max_body_bytes": dict(type=int, help="largest API request body"),
    "shutdown_grace_s": dict(type=float, help="on SIGTERM, seconds running requests get to finish"),
    "log_file": dict(help="rotating JSON-lines server log; '' for none"),
    "log_max_bytes": dict(type=int, help="server log size before rotation"),
    "log_backups": dict(type=int, help="rotated server logs kept"),
    "log_prompts": dict(action=argparse.BooleanOptionalAction, help="debug: write prompt text into the log"),
    "share": dict(action=argparse.BooleanOptionalAction, help="public Gradio share link; needs a login"),
    "auth_file": dict(help="page logins: a file of user:password lines (or QA_AUTH_USERS)"),
    "feedback_file": dict(help="JSONL file that thumbs up/down ratings are appended to"),
    "fake_responses_file": dict(help=argparse.SUPPRESS),
}


def _add_setting_flags(parser: argparse.ArgumentParser, extra: tuple[str, ...] = ()) -> None:
    group = parser.add_argument_group("settings (also QA_* environment variables)")
    for name, kwargs in _SETTING_FLAGS.items():
        group.add_argument("--" + name.replace("_", "-"), dest=name, default=None, **kwargs)
    if "server" in extra:
        for name, kwargs in _SERVER_FLAGS.items():
            group.add_argument("--" + name.replace("_", "-"), dest=name, default=None, **kwargs)


def _sampling_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--temperature", type=float, default=None, help="sampling temperature (0 = greedy)")
    parser.add_argument("--top-p", dest="top_p", type=float, default=None, help="nucleus sampling top_p")
    parser.add_argument("--max-new-tokens", dest="max_new_tokens", type=int, default=None, help="answer token limit")


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree for all subcommands."""
    parser = argparse.ArgumentParser(prog="qa", description="Structured medical and financial question answering.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the web app (default port 7860)")
    _add_setting_flags(serve, extra=("server",))
    ask = sub.add_parser("ask", help="answer one question and print the validated JSON")
    ask.add_argument("--domain", choices=["medical", "finance"], required=True)
    ask.add_argument("question", help="the question text")
    _sampling_flags(ask)
    _add_setting_flags(ask)
    bench = sub.add_parser("bench", help="tokens/s of bare generate vs the app's constrained streaming path")
    bench.add_argument("--domain", choices=["medical", "finance"], default="medical")
    bench.add_argument("--question", default="最近三天头痛，伴有低烧，需要去医院吗？")
    bench.add_argument("--max-new-tokens", dest="max_new_tokens", type=int, default=256)
    bench.add_argument("--runs", type=int, default=2, help="timed runs of each path (best is reported)")
    _add_setting_flags(bench)
    evaluate = sub.add_parser("eval", help="run an evaluation set through the real model and print its table")
    evaluate.add_argument("suite", choices=["safety"], help="which evaluation")
    evaluate.add_argument("--limit", type=int, default=None, help="only the first N prompts")
    evaluate.add_argument("--stride", type=int, default=1, help="every Nth prompt: a spread-out part of the set")
    evaluate.add_argument("--max-new-tokens", dest="max_new_tokens", type=int, default=None)
    evaluate.add_argument("--log", default=None, help="write one JSON line per prompt to this file")
    _add_setting_flags(evaluate)
    prepare = sub.add_parser("prepare", help="assemble, verify and convert the embedded model")
    _add_setting_flags(prepare)
    return parser


def _settings(args: argparse.Namespace) -> Any:
    from .settings import Settings

    names = set(Settings.model_fields)
    overrides = {k: v for k, v in vars(args).items() if k in names and v is not None}
    return Settings(**overrides)


def _setup_logging(settings: Any, command: str) -> None:
    from .logs import setup_logging

    if command == "serve":  # only the server keeps a log file
        setup_logging(settings.log_level, settings.log_file, settings.log_max_bytes, settings.log_backups)
    else:
        setup_logging(settings.log_level)


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = _settings(args)
    except ValidationError as exc:
        print(f"error: invalid settings:\n{exc}", file=sys.stderr)
        return EXIT_ERROR
    _setup_logging(settings, args.command)
    try:
        return _run(args, settings)
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace, settings: Any) -> int:
    from .wiring import build_service

    if args.command == "prepare":
        from .backends import create_backend

        backend = create_backend(settings)
        backend.load()
        print(json.dumps(backend.info.to_dict(), ensure_ascii=False))
        return 0
    service = build_service(settings)
    if args.command == "serve":
        from .logins import check_share, load_logins
        from .server import serve

        check_share(settings, load_logins(settings))  # before anything loads: a refusal should be instant
        # the model loads in the background while the server already answers /health (and 503 on /ready);
        # a model that cannot load still stops the start with a message
        serve(service, settings)
        return 0
    if args.command == "ask":
        params = service.params(args.domain, args.temperature, args.top_p, args.max_new_tokens)
        answer = service.answer(args.domain, args.question, params)
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        if not answer.ok:
            print("error: the answer failed validation; see 'validation' in the output", file=sys.stderr)
            return EXIT_INVALID_ANSWER
        return 0
    if args.command == "bench":
        from .bench import run_bench

        if args.runs < 1:
            raise InputError("--runs must be at least 1")
        print(run_bench(service, args.domain, args.question, args.max_new_tokens, args.runs))
        return 0
    if args.command == "eval":
        from pathlib import Path

        from .evaluate import load_set, run_safety_eval

        if args.stride < 1:
            raise InputError("--stride must be at least 1")
        rows = load_set()[:: args.stride][: args.limit]
        service.warm_up()
        summary = run_safety_eval(service, rows, args.max_new_tokens, Path(args.log) if args.log else None)
        print(summary.table())
        return 0
    raise AssertionError(args.command)
