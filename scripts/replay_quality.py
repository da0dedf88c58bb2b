"""Replay a logged `eval quality` run through today's checks, without the model, and print the detector's figures.

Each logged record keeps the model's own last attempt (`raw`); the app's checks only read that text, so feeding it
back through a fake backend (no re-ask) shows what a change to a check does to the same answers in seconds
instead of an hour of generation. A change to the prompt or to the re-ask needs a real run.

    .venv/bin/python scripts/replay_quality.py .eval/base.tuning.jsonl [--write .eval/replay.tuning.jsonl] [--diff]
        [--changed]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.backends.fake import FakeBackend  # noqa: E402 - after the path line above
from qa.eval.quality import SETS, detect, load_quality_set, summarise  # noqa: E402
from qa.settings import Settings  # noqa: E402
from qa.wiring import build_service  # noqa: E402


def _questions(ids: set[str]) -> dict[str, dict]:
    """The questions of the logged ids: the packaged splits in order, reading one only while an id is still
    missing (a replay of one split never loads the splits after it, a held-out split still unscored included)."""
    found: dict[str, dict] = {}
    for split in SETS:
        if ids <= found.keys():
            break
        found.update((r["id"], r) for r in load_quality_set(split) if r["id"] in ids)
    return found


def main(argv: list[str] | None = None) -> int:
    """Replay the log's raw answers through the checks; print the figures (and, with --diff, what still repeats)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path)
    parser.add_argument("--write", type=Path, default=None, help="write the replayed records here (same format)")
    parser.add_argument("--diff", action="store_true", help="print each answer the detector still calls repeated")
    parser.add_argument(
        "--changed", action="store_true", help="print each field the checks now change against the log, before/after"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    records = [json.loads(line) for line in args.log.read_text("utf-8").splitlines() if line.strip()]
    questions = _questions({rec["id"] for rec in records})
    backend = FakeBackend(["{}"])
    settings = Settings(backend="fake", answer_cache=False, repair_attempts=0)
    service = build_service(settings, backend=backend)
    replayed: list[dict] = []
    schemas = {}
    for rec in records:
        row = questions[rec["id"]]
        schemas.setdefault(rec["domain"], service.task(rec["domain"]).schema)
        params = service.params(rec["domain"])
        try:
            json.loads(rec["raw"])
            backend.script([rec["raw"]])
            # the fake backend counts characters as tokens: a whole answer longer than the budget is not cut
            params = service.params(rec["domain"], max_new_tokens=max(params.max_new_tokens, len(rec["raw"]) + 1))
        except ValueError:  # the model ran out of tokens: the fake stops at the same place, as "length"
            backend.script([rec["raw"] + " "])
            params = service.params(rec["domain"], max_new_tokens=len(rec["raw"]))
        answer = service.answer(rec["domain"], row["question"], params)
        rules = [h.rule for h in answer.report.fired]
        new = {**rec, "data": answer.data, "ok": answer.ok, "rules": rules, "repairs": answer.report.repairs}
        replayed.append(new)
        d = detect(answer.data, schemas[rec["domain"]])
        if args.diff and d.repeated:
            print(f"--- {rec['id']} {d.within + d.across}")
            print(json.dumps(answer.data, ensure_ascii=False, indent=1))
    if args.changed:  # what the checks of today do differently, to read every removal
        for new, old in zip(replayed, records, strict=True):
            if new["data"] == old["data"]:
                continue
            print(f"=== {new['id']} rules now {new['rules']} (logged {old['rules']})")
            for k, value in (old["data"] or {}).items():
                if (new["data"] or {}).get(k) != value:
                    print(f"  - {k}: {json.dumps(value, ensure_ascii=False)}")
                    print(f"  + {k}: {json.dumps((new['data'] or {}).get(k), ensure_ascii=False)}")
    same = sum(r["data"] == old["data"] for r, old in zip(replayed, records, strict=True))
    print(f"{same} of {len(records)} replayed answers equal the logged ones")
    if args.write:
        args.write.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in replayed), "utf-8")
    print(summarise(replayed, schemas).table(f"== replay of {args.log} ({len(replayed)} answers) =="))
    print(summarise(records, schemas).table("== as logged =="))
    return 0


if __name__ == "__main__":
    sys.exit(main())
