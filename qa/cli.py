"""Command line: serve the app, ask one question, benchmark, prepare the embedded model, or scan text for drug
names."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any, Literal, get_args, get_origin

from pydantic import SecretStr, ValidationError
from pydantic.fields import FieldInfo

from .errors import InputError, QAError
from .eval.quality import SETS as QUALITY_SETS

log = logging.getLogger("qa")

# exit codes: 0 ok, 1 the answer failed validation, 2 bad settings / input / model files
EXIT_INVALID_ANSWER = 1
EXIT_ERROR = 2


def _flag_kwargs(name: str, info: FieldInfo) -> dict[str, Any]:
    """argparse options for one settings field: choices from a Literal, booleans as --x/--no-x, help from the
    description (the bounds are checked by Settings itself, with its own messages)."""
    from .settings import Settings

    kwargs: dict[str, Any] = {"dest": name, "default": None}
    annotation = info.annotation
    args = [a for a in get_args(annotation) if a is not type(None)]
    if get_origin(annotation) is Literal:
        kwargs["choices"] = list(get_args(annotation))
    elif annotation is bool:
        kwargs["action"] = argparse.BooleanOptionalAction
    elif annotation in (int, float) or (len(args) == 1 and args[0] in (int, float)):
        kwargs["type"] = annotation if annotation in (int, float) else args[0]
    default = Settings.model_fields[name].get_default(call_default_factory=False)
    shown = "" if default is None or callable(default) or isinstance(default, SecretStr) else f"; default {default}"
    kwargs["help"] = f"{info.description or ''} (QA_{name.upper()}{shown})".replace("%", "%%")
    if name == "fake_responses_file":
        kwargs["help"] = argparse.SUPPRESS  # a test hook
    return kwargs


def _add_setting_flags(parser: argparse.ArgumentParser, server: bool = False) -> None:
    """One flag per settings field of the groups this command uses, generated from the settings."""
    from .settings import EVERY_COMMAND, GROUPS, NO_FLAG, SERVER_GROUPS, Settings

    for group_name, names in GROUPS.items():
        wanted = [
            n for n in names if n not in NO_FLAG and (server or group_name not in SERVER_GROUPS or n in EVERY_COMMAND)
        ]
        if not wanted:
            continue
        group = parser.add_argument_group(f"{group_name} settings (also QA_* environment variables)")
        for name in wanted:
            group.add_argument("--" + name.replace("_", "-"), **_flag_kwargs(name, Settings.model_fields[name]))


def _sampling_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--temperature", type=float, default=None, help="sampling temperature (0 = greedy)")
    parser.add_argument("--top-p", dest="top_p", type=float, default=None, help="nucleus sampling top_p")
    parser.add_argument("--max-new-tokens", dest="max_new_tokens", type=int, default=None, help="answer token limit")


def _task_help() -> str:
    from .tasks import task_packages

    return ", ".join(task_packages())


def build_parser() -> argparse.ArgumentParser:
    """The argparse tree for all subcommands."""
    parser = argparse.ArgumentParser(prog="qa", description="Structured medical and financial question answering.")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the web app (default port 7860)")
    _add_setting_flags(serve, server=True)
    ask = sub.add_parser("ask", help="answer one question and print the validated JSON")
    ask.add_argument("--task", "--domain", dest="task", required=True, help=f"which task answers ({_task_help()})")
    ask.add_argument("question", help="the question text")
    ask.add_argument(
        "--table", default=None, help="a CSV (UTF-8 or GB18030) or XLSX table the question is about (finance)"
    )
    ask.add_argument(
        "--kb", default=None, help="answer from this knowledge-base collection, with verified citations (kb add first)"
    )
    _sampling_flags(ask)
    _add_setting_flags(ask)
    bench = sub.add_parser(
        "bench", help="every speed figure in one run: backends, 1/2/4 users, cache hit/miss, warm start"
    )
    bench.add_argument("--task", "--domain", dest="task", default="medical", help=f"which task ({_task_help()})")
    bench.add_argument("--question", default="最近三天头痛，伴有低烧，需要去医院吗？")
    bench.add_argument("--max-new-tokens", dest="max_new_tokens", type=int, default=256)
    bench.add_argument("--runs", type=int, default=2, help="timed runs of each path (best is reported)")
    bench.add_argument(
        "--compare",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also measure transformers float32 (and bf16 where the CPU has it) beside the live backend",
    )
    _add_setting_flags(bench)
    evaluate = sub.add_parser("eval", help="run an evaluation set through the real model and print its table")
    evaluate.add_argument(
        "suite",
        choices=["safety", "quality", "finance-calc", "retrieval"],
        help="which evaluation (retrieval: knowledge-base recall@k on CMRC 2018, no LLM)",
    )
    evaluate.add_argument(
        "--split",
        choices=[*QUALITY_SETS, "both"],
        default="both",
        help="quality: which question set (qa/data/quality_*.jsonl; heldout2 … heldout14: the fresher held-out splits); "
        "both: tuning and heldout side by side. finance-calc: tuning for qa/data/finance_calc_tuning.jsonl, "
        "heldout2 … heldout5 for the second … fifth held-out qa/data/finance_calc_heldout{2,3,4,5}.jsonl, otherwise the "
        "held-out "
        "qa/data/finance_calc_eval.jsonl",
    )
    evaluate.add_argument(
        "--raw",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="finance-calc: also ask the bare model (--no-raw: the pipeline only; the bare model's answers at "
        "temperature 0 do not change with the pipeline)",
    )
    evaluate.add_argument(
        "--pipeline",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="finance-calc: ask through the pipeline (--no-pipeline with --raw: the bare model only, so the two "
        "conditions can run as two processes)",
    )
    evaluate.add_argument("--limit", type=int, default=None, help="only the first N prompts")
    evaluate.add_argument("--stride", type=int, default=1, help="every Nth prompt: a spread-out part of the set")
    evaluate.add_argument(
        "--ids", default=None, help="quality: only these question ids, comma-separated (e.g. qt011,qt045)"
    )
    evaluate.add_argument("--max-new-tokens", dest="max_new_tokens", type=int, default=None)
    evaluate.add_argument("--log", default=None, help="write one JSON line per prompt to this file")
    _add_setting_flags(evaluate)
    prepare = sub.add_parser("prepare", help="assemble, verify and convert the embedded model")
    _add_setting_flags(prepare)
    drugs = sub.add_parser("drugs", help="prescription-drug names in text (the forbidden_drugs check's finder)")
    drugs.add_argument("action", choices=["scan"], help="scan: one JSON line per input line with the names found")
    drugs.add_argument("file", help="a UTF-8 text file, or - for standard input")
    _add_setting_flags(drugs)
    triage = sub.add_parser(
        "triage",
        help="emergency and department of a question, no LLM: triage TEXT | --jsonl FILE | train FILE.csv | eval",
    )
    triage.add_argument(
        "words",
        nargs="*",
        help="the question; or 'train FILE.csv' (columns text,department) to retrain; or 'eval' for the held-out "
        'figures; or \'eval FILE.jsonl\' for recall / false positives on {"id","text","emergency"} lines',
    )
    triage.add_argument("--jsonl", default=None, help='a file of {"id","text"} lines (- for stdin): one JSON line each')
    triage.add_argument(
        "--out", default=None, help="train: where to write the model (default cache_dir/triage/model.joblib)"
    )
    triage.add_argument(
        "--emergency-bank", dest="emergency_bank", default=None, help="train: a text,label,category CSV"
    )
    triage.add_argument(
        "--intent-bank", dest="intent_bank", default=None, help="train: a text,intent CSV (default: the packaged one)"
    )
    _add_setting_flags(triage)
    kb = sub.add_parser(
        "kb", help="the knowledge base, no LLM: kb add NAME FILE… | kb list [NAME] | kb rm NAME [FILE…] | kb search"
    )
    kb.add_argument("action", choices=["add", "list", "rm", "search"], help="what to do")
    kb.add_argument("name", nargs="?", default=None, help="the collection (add creates it when missing)")
    kb.add_argument("items", nargs="*", help="add: files; rm: file names (none: the whole collection); search: query")
    kb.add_argument("--k", type=int, default=5, help="search: how many passages")
    kb.add_argument("--mode", choices=["fused", "bm25", "dense"], default="fused", help="search: which retrieval")
    _add_setting_flags(kb)
    extract = sub.add_parser(
        "extract", help="fields of a medical record (TXT/DOCX/PDF/MD, or - for stdin), each with its source span"
    )
    extract.add_argument("file", help="the record: a .txt/.md/.docx/.pdf file, or - for UTF-8 text on stdin")
    extract.add_argument("--schema", default=None, help="a JSON Schema of your own fields (closed objects)")
    extract.add_argument("--task", default="record", help="the extraction task (default record)")
    _sampling_flags(extract)
    _add_setting_flags(extract)
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


def _scan_drugs(settings: Any, file: str) -> int:
    """Print one JSON line per input line: {"line": n, "found": [{"text","start","end","drug","class","kind"}]}."""
    from pathlib import Path

    from .wiring import load_drugs

    drugs = load_drugs(settings)
    try:
        text = sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {file}: {exc}") from exc
    for n, line in enumerate(text.splitlines(), start=1):
        found = [
            {"text": m.found, "start": m.start, "end": m.end, "drug": m.drug, "class": m.replacement, "kind": m.kind}
            for m in drugs.find(line)
        ]
        print(json.dumps({"line": n, "found": found}, ensure_ascii=False))
    return 0


def _read(file: str) -> str:
    from pathlib import Path

    try:
        return sys.stdin.read() if file == "-" else Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {file}: {exc}") from exc


def _triage(settings: Any, args: argparse.Namespace) -> int:
    """triage TEXT (one JSON object), --jsonl FILE (one JSON line per input), train FILE.csv, eval."""
    from pathlib import Path

    from .backends.fake import FakeBackend
    from .wiring import build_service

    service = build_service(settings, FakeBackend())  # the service's triage methods; no LLM is loaded
    words = list(args.words)
    if words[:1] == ["train"]:
        if len(words) != 2:
            raise InputError("usage: triage train FILE.csv (columns text,department)")
        out = Path(args.out) if args.out else settings.cache_dir.expanduser() / "triage" / "model.joblib"
        bank = _read(args.emergency_bank) if args.emergency_bank else None
        intents = _read(args.intent_bank) if args.intent_bank else None
        model = service.train_triage(_read(words[1]), words[1], out, bank, intents)
        print(json.dumps({"model": str(out), "departments": model.departments, **model.meta,
                          "threshold": model.threshold}, ensure_ascii=False))  # fmt: skip
        print(f"use it with: QA_TRIAGE_MODEL={out} ./start.sh (or --triage-model {out})", file=sys.stderr)
        return 0
    if words == ["eval"]:
        from .triage.report import print_report

        print_report(service, print)
        return 0
    if words[:1] == ["eval"] and len(words) == 2:
        from .triage.report import labelled_rows, print_file_report

        print_file_report(service, labelled_rows(_read(words[1]), words[1]), words[1], print)
        return 0
    if args.jsonl is not None:
        if words:
            raise InputError("give either a question or --jsonl FILE, not both")
        rows = []
        for n, line in enumerate(_read(args.jsonl).splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text = row["text"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise InputError(f"{args.jsonl}, line {n}: needs a JSON object with a text field ({exc})") from exc
            rows.append((row.get("id", n), text))
        for start in range(0, len(rows), 256):  # batches: one embedding call each
            chunk = rows[start : start + 256]
            for (row_id, _), result in zip(chunk, service.triage([t for _, t in chunk]), strict=True):
                print(json.dumps({"id": row_id, **result.to_dict()}, ensure_ascii=False))
        return 0
    if not words:
        raise InputError("usage: triage TEXT | triage --jsonl FILE | triage train FILE.csv | triage eval")
    print(json.dumps(service.triage(" ".join(words))[0].to_dict(), ensure_ascii=False, indent=2))
    return 0


def _kb(settings: Any, args: argparse.Namespace) -> int:
    """kb add NAME FILE… (one JSON line per file), kb list [NAME], kb rm NAME [FILE…], kb search NAME QUERY."""
    from pathlib import Path

    from .backends.fake import FakeBackend
    from .wiring import build_service

    service = build_service(settings, FakeBackend())  # the service's knowledge-base methods; no LLM is loaded
    if args.action == "list":
        if args.items:
            raise InputError("usage: kb list [NAME]")
        rows = service.kb_files(args.name) if args.name else service.kb_collections()
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        if not rows:
            print(f"(no files in {args.name!r})" if args.name else "(no collections)", file=sys.stderr)
        return 0
    if args.name is None:
        raise InputError(f"usage: kb {args.action} NAME {'FILE…' if args.action != 'search' else 'QUERY'}")
    if args.action == "rm":
        for name in service.kb_remove(args.name, args.items or None):
            print(json.dumps({"removed": name, "collection": args.name}, ensure_ascii=False))
        return 0
    if args.action == "search":
        for hit in service.kb_retrieve(args.name, " ".join(args.items), args.k, args.mode):
            print(json.dumps(hit, ensure_ascii=False))
        return 0
    if not args.items:
        raise InputError("usage: kb add NAME FILE…")
    failed = 0
    for file in args.items:
        path = Path(file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            print(f"error: cannot read {file}: {exc.strerror or exc}", file=sys.stderr)
            failed += 1
            continue
        try:
            record = service.kb_add(args.name, path.name, data)
        except InputError as exc:  # one bad file does not stop the others
            print(f"error: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(json.dumps({k: record[k] for k in ("collection", "name", "kind", "pages", "chunks")}, ensure_ascii=False))
    return EXIT_ERROR if failed else 0


def _retrieval_eval(settings: Any, args: argparse.Namespace) -> int:
    """eval retrieval: recall@1/@5 of BM25, dense and fused retrieval on the CMRC 2018 development passages."""
    from .eval.retrieval import run

    if args.stride < 1:
        raise InputError("--stride must be at least 1")
    embedder = None
    if settings.triage_embedder != "off":
        from .triage import create_embedder

        embedder = create_embedder(settings.triage_embedder, settings.triage_threads)
    run(embedder, args.limit, args.stride, print)
    return 0


def _run(args: argparse.Namespace, settings: Any) -> int:
    from .backends import create_backend
    from .wiring import build_service

    if args.command == "drugs":
        return _scan_drugs(settings, args.file)  # needs only the drug list, never a model

    if args.command == "triage":
        return _triage(settings, args)  # embedder and classifiers only, never the LLM

    if args.command == "kb":
        return _kb(settings, args)  # documents, embedder and store only, never the LLM

    if args.command == "eval" and args.suite == "retrieval":
        return _retrieval_eval(settings, args)  # embedder and an in-memory knowledge base, never the LLM

    if args.command == "prepare":
        backend = create_backend(settings)
        backend.load()
        print(json.dumps(backend.info.to_dict(), ensure_ascii=False))
        return 0
    if args.command == "bench":
        from .bench import run_all

        if args.runs < 1:
            raise InputError("--runs must be at least 1")
        # the bench builds its own backends and services (one per backend it compares)
        run_all(settings, args.task, args.question, args.max_new_tokens, args.runs, args.compare, print)
        return 0
    backend = create_backend(settings)
    service = build_service(settings, backend)
    if args.command == "serve":
        from .logins import check_share, load_logins
        from .server import serve

        check_share(settings, load_logins(settings))  # before anything loads: a refusal should be instant
        # the model loads in the background while the server already answers /health (and 503 on /ready);
        # a model that cannot load still stops the start with a message
        serve(service, settings)
        return 0
    if args.command == "ask":
        params = service.params(args.task, args.temperature, args.top_p, args.max_new_tokens)
        question = args.question
        if args.table:
            from .tables import attach_table

            question = attach_table(question, args.table)
        answer = service.answer(args.task, question, params, collection=args.kb)
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        if answer.citations and any(not c["verified"] for c in answer.citations):
            print("warning: some citations are not verified in their passage (verified: false)", file=sys.stderr)
        if not answer.ok:
            print("error: the answer failed validation; see 'validation' in the output", file=sys.stderr)
            return EXIT_INVALID_ANSWER
        return 0
    if args.command == "extract":
        return _extract(args, service)
    if args.command == "eval":
        from pathlib import Path

        from .evaluate import load_set, run_safety_eval

        if args.stride < 1:
            raise InputError("--stride must be at least 1")
        if args.suite == "quality":
            return _quality_eval(args, service)
        if args.suite == "finance-calc":
            from .eval import finance_calc

            name = finance_calc.SPLITS.get(args.split, finance_calc.SET)
            items = finance_calc.interleaved(finance_calc.load_set(name=name))[:: args.stride][: args.limit]
            service.warm_up()
            log = Path(args.log) if args.log else None
            if not (args.raw or args.pipeline):
                raise InputError("--no-raw and --no-pipeline together leave nothing to run")
            print(finance_calc.run(service, items, log, raw_too=args.raw, pipe_too=args.pipeline))
            return 0
        rows = load_set()[:: args.stride][: args.limit]
        service.warm_up()
        summary = run_safety_eval(service, rows, args.max_new_tokens, Path(args.log) if args.log else None)
        print(summary.table())
        return 0
    raise AssertionError(args.command)


def _quality_eval(args: argparse.Namespace, service: Any) -> int:
    """`eval quality`: the real-user question sets through the app, read by the independent defect detector."""
    from pathlib import Path

    from .eval.quality import load_quality_set, run_quality_eval

    splits = ["tuning", "heldout"] if args.split == "both" else [args.split]
    service.warm_up()
    tables = []
    for split in splits:
        rows = load_quality_set(split)
        if args.ids:  # a few answers again (generation is repeatable with a fixed seed)
            wanted = set(args.ids.split(","))
            rows = [r for r in rows if r["id"] in wanted]
        rows = rows[:: args.stride][: args.limit]
        if not rows:
            continue
        log_path = Path(f"{args.log}.{split}.jsonl") if args.log else None
        summary, _ = run_quality_eval(service, rows, args.max_new_tokens, log_path)
        tables.append(summary.table(f"== {split} ({len(rows)} questions) =="))
    print("\n\n".join(tables))
    return 0


def _extract(args: argparse.Namespace, service: Any) -> int:
    """`extract FILE [--schema S.json]`: print {"fields": [{name, value, quote, start, end, status, sentence}],
    "record", "counts", "text", "validation", ...}; offsets index "text" (the stored NFKC record) in code points."""
    from pathlib import Path

    from .documents import parse_document

    if args.file == "-":
        text = sys.stdin.buffer.read()
        record = parse_document("stdin.txt", text).text
    else:
        try:
            data = Path(args.file).read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read {args.file}: {exc}", code="bad_file") from exc
        record = parse_document(Path(args.file).name, data).text
    schema = None
    if args.schema:
        try:
            schema = Path(args.schema).read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read {args.schema}: {exc}", code="bad_schema") from exc
        schema = service.check_field_schema(args.task, schema)
    params = service.params(args.task, args.temperature, args.top_p, args.max_new_tokens)
    final = None
    for event in service.extract(args.task, record, params, schema=schema, channel="cli"):
        if event.kind == "final":
            final = event.answer
    if final is None:
        raise InputError("the extraction was stopped before it finished")
    out = {
        **(final.data or {"fields": []}),
        "text": final.question,
        "validation": final.report.to_dict(),
        "model": final.model,
        "usage": final.usage,
    }
    print(json.dumps(out, ensure_ascii=False, indent=2))
    if not final.ok:
        print("error: the extraction failed validation; see 'validation' in the output", file=sys.stderr)
        return EXIT_INVALID_ANSWER
    return 0
