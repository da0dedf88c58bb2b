"""Record extraction measured: field precision/recall against hand labels, the share of fields whose span verifies
exactly, tuning vs held-out side by side; and the time to extract from records of growing length.

    python -m qa.eval.record            # both splits through the live settings' backend (embedded model by default)
    python -m qa.eval.record --split none --timing   # 1k / 2.5k / 5k-character records, one run each

Records: qa/data/record_eval.jsonl (written for this project, split before any tuning); labels:
qa/data/record_labels.jsonl, per record and field the words a correct value must contain (a drug by its name in
the record). A predicted field matches a label of the same field when the label's words are inside the record
words its span covers (or its value, for an ungrounded field), or its span is inside the label's words (≥ 2 chars); each label matches one prediction at most.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import time
from importlib import resources
from typing import Any

log = logging.getLogger(__name__)
_SPACE = re.compile(r"\s+")


def load(name: str) -> list[dict[str, Any]]:
    """A JSON-lines data file of the package."""
    text = resources.files("qa.data").joinpath(name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _norm(text: str) -> str:
    from ..documents import normalise

    return _SPACE.sub("", normalise(text)).casefold()


def predicted_words(field: dict[str, Any], text: str) -> str:
    """What a predicted field claims, in record words: its span, else its value."""
    from ..tasks.record.view import value_text

    if isinstance(field.get("start"), int) and isinstance(field.get("end"), int):
        return text[field["start"] : field["end"]]
    return value_text(field.get("value"))


def matches(pred: str, gold: str) -> bool:
    """A prediction matches a label when one holds the other (the shorter at least 2 characters)."""
    p, g = _norm(pred), _norm(gold)
    return bool(p) and (g in p or (len(p) >= 2 and p in g))


def score(text: str, fields: list[dict[str, Any]], labels: dict[str, list[str]]) -> dict[str, int]:
    """Counts for one record: predictions, correct predictions, labels, labels found, exact spans."""
    used: set[tuple[str, int]] = set()
    correct = 0
    for f in fields:
        gold = labels.get(f["name"], [])
        words = predicted_words(f, text)
        # each label is matched once: a repeated value is not a second correct field
        hit = next((i for i, g in enumerate(gold) if (f["name"], i) not in used and matches(words, g)), None)
        if hit is not None:
            correct += 1
            used.add((f["name"], hit))
    return {
        "pred": len(fields),
        "correct": correct,
        "gold": sum(len(v) for v in labels.values()),
        "found": len(used),
        "exact": sum(f["status"] == "exact" for f in fields),
        "ungrounded": sum(f["status"] == "ungrounded" for f in fields),
    }


def run_splits(service: Any, splits: list[str], log_file: Any = None, parallel: int = 4) -> dict[str, dict[str, Any]]:
    """Every record of the splits through the service, `parallel` at a time (the backend decodes them together in
    one batch); summed counts and seconds per split."""
    from concurrent.futures import ThreadPoolExecutor

    labels = {row["id"]: row["labels"] for row in load("record_labels.jsonl")}
    params = service.params("record")
    rows = [row for row in load("record_eval.jsonl") if row["split"] in splits]

    def one(row: dict[str, Any]) -> tuple[dict[str, Any], Any, float]:
        started = time.perf_counter()
        answer = _extract(service, row["text"], params)
        return row, answer, time.perf_counter() - started

    totals = {
        split: {"pred": 0, "correct": 0, "gold": 0, "found": 0, "exact": 0, "ungrounded": 0, "records": 0, "s": 0.0}
        for split in splits
    }
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        for row, answer, seconds in pool.map(one, rows):
            split = row["split"]
            total = totals[split]
            fields = (answer.data or {}).get("fields", [])
            counts = score(answer.question, fields, labels[row["id"]])
            for key, value in counts.items():
                total[key] += value
            total["records"] += 1
            total["s"] += seconds
            log.info("%s %s: %s in %.1f s", split, row["id"], counts, seconds)
            if log_file is not None:
                log_file.write(json.dumps({"id": row["id"], "split": split, "s": round(seconds, 1), **counts,
                                           "fields": fields, "report": answer.report.to_dict()},
                                          ensure_ascii=False) + "\n")  # fmt: skip
                log_file.flush()
    return totals


def _extract(service: Any, text: str, params: Any) -> Any:
    final = None
    for event in service.extract("record", text, params, channel="cli"):
        if event.kind == "final":
            final = event.answer
    assert final is not None
    return final


def table(results: dict[str, dict[str, Any]]) -> str:
    """Tuning vs held-out side by side."""

    def pct(a: float, b: float) -> str:
        return f"{100 * a / b:.0f}%" if b else "—"

    rows = [
        ("records", lambda t: str(t["records"])),
        ("fields returned", lambda t: str(t["pred"])),
        ("precision", lambda t: f"{pct(t['correct'], t['pred'])} ({t['correct']}/{t['pred']})"),
        ("recall", lambda t: f"{pct(t['found'], t['gold'])} ({t['found']}/{t['gold']})"),
        ("spans verified exactly", lambda t: f"{pct(t['exact'], t['pred'])} ({t['exact']}/{t['pred']})"),
        ("ungrounded (unverified)", lambda t: f"{pct(t['ungrounded'], t['pred'])} ({t['ungrounded']}/{t['pred']})"),
        ("seconds per record (4 decoded together)", lambda t: f"{t['s'] / max(t['records'], 1):.1f}"),
    ]
    names = list(results)
    out = ["| | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]
    out += [f"| {label} | " + " | ".join(fn(results[n]) for n in names) + " |" for label, fn in rows]
    return "\n".join(out)


def long_record(chars: int) -> str:
    """A record of about `chars` characters: the evaluation records one after another, cut at a sentence end."""
    from ..spans import split_sentences

    text = "\n".join(row["text"] for row in load("record_eval.jsonl"))
    while len(text) < chars:
        text += "\n" + text
    end = max((s.end for s in split_sentences(text) if s.end <= chars), default=chars)
    return text[:end]


def timing(service: Any, sizes: tuple[int, ...] = (1000, 2500, 5000)) -> str:
    """One extraction per size: characters, windows, tokens in/out and seconds."""
    params = service.params("record")
    out = [
        "| chars | windows | prompt tokens | generated tokens | fields | seconds |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for size in sizes:
        text = long_record(size)
        started = time.perf_counter()
        answer = _extract(service, text, params)
        seconds = time.perf_counter() - started
        data = answer.data or {}
        out.append(
            f"| {len(text)} | {data.get('record', {}).get('windows', '?')} | {answer.usage.get('prompt_tokens')} | "
            f"{answer.usage.get('completion_tokens')} | {len(data.get('fields', []))} | {seconds:.1f} |"
        )
        log.info(out[-1])
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Run the evaluation (or the timing) with settings from the environment (embedded model by default)."""
    parser = argparse.ArgumentParser(prog="python -m qa.eval.record")
    parser.add_argument("--split", choices=["tuning", "heldout", "both", "none"], default="both")
    parser.add_argument("--timing", action="store_true", help="also time 1k/2.5k/5k-character records")
    parser.add_argument("--log", default=None, help="write one JSON line per record here")
    parser.add_argument("--parallel", type=int, default=4, help="records extracted at once (batched decoding)")
    args = parser.parse_args(argv)
    from ..logs import setup_logging
    from ..settings import Settings
    from ..wiring import build_service

    settings = Settings()
    setup_logging(settings.log_level)
    service = build_service(settings)
    service.warm_up()
    log.info("model: %s", service.model_info().to_dict())
    splits = {"both": ["tuning", "heldout"], "none": []}.get(args.split, [args.split])
    if splits:
        with open(args.log, "w", encoding="utf-8") if args.log else _Null() as handle:
            results = run_splits(service, splits, handle if args.log else None, args.parallel)
        print(table(results), flush=True)
    if args.timing:
        print(timing(service), flush=True)
    return 0


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


if __name__ == "__main__":
    raise SystemExit(main())
