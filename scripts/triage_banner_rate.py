"""Banner rate on ordinary medical questions through the real model, the way the page does it: triage first (the
banner), then the whole answer through the service (the model's own `urgent` and what the red-flag check did).

usage: QA_THREADS=1 nice python scripts/triage_banner_rate.py OUT.jsonl FILE.jsonl [FILE.jsonl ...]
       (input lines with "id" and "question" or "text"; only "domain": "medical" lines when a domain is given,
       only non-emergencies when "emergency" is given). One JSON line per question is appended to OUT as it
       finishes, so a long run can be read while it goes; questions already in OUT are skipped.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path

from qa.settings import Settings
from qa.wiring import build_service

log = logging.getLogger("banner_rate")


def questions(paths: list[str]) -> list[dict]:
    """Ordinary medical questions from the given files, in order."""
    out = []
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("domain", "medical") != "medical" or row.get("emergency") is True:
                continue
            out.append({"id": row["id"], "question": row.get("question") or row["text"]})
    return out


def main(argv: list[str]) -> int:
    """Run every question; append one result line each."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    out = Path(argv[0])
    done = {json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()} if out.exists() else set()
    service = build_service(Settings(answer_cache=False, seed=1234))
    params = service.params("medical", max_new_tokens=512)
    for row in questions(argv[1:]):
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
