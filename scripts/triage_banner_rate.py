"""Banner rate on ordinary medical questions through the real model, the way the page does it: triage first (the
banner), then the whole answer through the service (the model's own `urgent` and what the red-flag check did).

usage: QA_THREADS=1 nice python scripts/triage_banner_rate.py [--triage-only] [--category NAME ...] OUT.jsonl
       FILE.jsonl [FILE.jsonl ...]
       (input lines with "id" and "question" or "text"; only "domain": "medical" lines when a domain is given,
       only non-emergencies when "emergency" is given, only the given categories' lines when a line has a
       "category" and --category is given). One JSON line per question is appended to OUT as it finishes, so a long
       run can be read while it goes; questions already in OUT are skipped. --triage-only: the banner alone (triage,
       no LLM), all questions in one batch, and the rate printed.

The fifth and sixth sessions' 125 ordinary questions (BENCHMARKS.md):
  scripts/triage_banner_rate.py --triage-only --category chronic_mild --category ordinary_health OUT.jsonl
  qa/data/quality_tuning.jsonl qa/data/quality_heldout.jsonl qa/data/quality_heldout2.jsonl
  qa/data/triage_heldout_v6.jsonl
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from qa.settings import Settings
from qa.wiring import build_service

log = logging.getLogger("banner_rate")


def questions(paths: list[str], categories: list[str] | None = None) -> list[dict]:
    """Ordinary medical questions from the given files, in order (of the given categories, where a line has one)."""
    out = []
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("domain", "medical") != "medical" or row.get("emergency") is True:
                continue
            if categories and "category" in row and row["category"] not in categories:
                continue
            out.append({"id": row["id"], "question": row.get("question") or row["text"]})
    return out


def triage_only(service, rows: list[dict], out: Path) -> int:
    """The banner alone (no LLM): one line per question, and the rate."""
    texts = [row["question"] for row in rows]  # (not `questions`: that is this script's reader of the files)
    # in batches: the service takes at most 2,048 inputs a call (its API's bound), and two files can hold more
    results = [r for i in range(0, len(texts), 1024) for r in service.triage(texts[i : i + 1024])]
    with out.open("a", encoding="utf-8") as f:
        for row, result in zip(rows, results, strict=True):
            triage = result.to_dict()
            line = {
                **row,
                "banner": triage["emergency"],
                "signals": triage["signals"],
                "department": triage["department"],
            }
            f.write(json.dumps(line, ensure_ascii=False) + "\n")
    banners = [row["id"] for row, result in zip(rows, results, strict=True) if result.emergency]
    print(f"banner {len(banners)}/{len(rows)} = {len(banners) / max(len(rows), 1):.3f} {' '.join(banners)}")
    return 0


def main(argv: list[str]) -> int:
    """Run every question; append one result line each."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triage-only", action="store_true", help="the banner alone: triage, no LLM")
    parser.add_argument("--category", action="append", help="only lines of this category (where a line has one)")
    parser.add_argument("out")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args(argv)
    out = Path(args.out)
    done = {json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()} if out.exists() else set()
    service = build_service(Settings(answer_cache=False, seed=1234))
    rows = [row for row in questions(args.files, args.category) if row["id"] not in done]
    if args.triage_only:
        return triage_only(service, rows, out)
    params = service.params("medical", max_new_tokens=512)
    for row in rows:
        if row["id"] in done:
            continue
        triage = service.triage(row["question"])[0].to_dict()  # the banner, shown before the answer streams
        start = time.monotonic()
        answer = service.answer("medical", row["question"], params)
        rules = [hit.rule if hasattr(hit, "rule") else str(hit) for hit in answer.report.fired]
        repairs = answer.report.repairs
        final = (answer.data or {}).get("urgent")
        # the model's own urgent: what it wrote before the red-flag check set it (repairs name each change)
        model = final
        if any(r.startswith("set urgent to true") for r in repairs):
            model = False
        if any(r.startswith("set urgent to false") for r in repairs):
            model = True
        result = {
            **row,
            "banner": bool(triage.get("emergency")),
            "signals": triage.get("signals"),
            "department": triage.get("department"),
            "final_urgent": final,
            "model_urgent": model,
            "ok": answer.ok,
            "rules": rules,
            "repairs": repairs,
            "seconds": round(time.monotonic() - start, 1),
        }
        with out.open("a", encoding="utf-8") as f:
            f.write(json.dumps(result, ensure_ascii=False) + "\n")
        log.info(
            "%s banner=%s model_urgent=%s ok=%s %.1fs", row["id"], result["banner"], model, answer.ok, result["seconds"]
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
