"""Counts texts in which the drug finder reads a name, over every text the repository holds that is not a drug
set: each string of the other JSON-lines sets in qa/data (questions, answers, CMRC 2018 sentences, Wikipedia
passages), and each line of README.md and BENCHMARKS.md. Usage: python scripts/drug_false_hits.py [OUT.jsonl]
(prints a summary; OUT gets one line per hit, to compare two versions of the finder)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.settings import Settings  # noqa: E402
from qa.validation import string_fields  # noqa: E402
from qa.wiring import load_drugs  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("drug_false_hits")


def texts() -> list[tuple[str, str]]:
    """(where, text) for every non-drug text in the repository."""
    out: list[tuple[str, str]] = []
    for path in sorted((ROOT / "qa/data").rglob("*.jsonl")):
        if path.name.startswith("drug_"):
            continue
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if line.strip():
                out += [(f"{path.relative_to(ROOT)}:{n}", s) for s in string_fields(json.loads(line)) if s.strip()]
    for name in ("README.md", "BENCHMARKS.md"):
        out += [(f"{name}:{n}", s) for n, s in enumerate((ROOT / name).read_text("utf-8").splitlines(), 1) if s]
    return out


def main() -> None:
    """Print how many texts hold a hit and write each hit to OUT."""
    logging.basicConfig(level=logging.INFO)
    drugs = load_drugs(Settings(backend="fake"))
    all_texts = texts()
    hits = []
    for where, text in all_texts:
        for m in drugs.find(text):
            hits.append({"where": where, "found": m.found, "drug": m.drug, "kind": m.kind})
    log.info("%d texts, %d hits in %d texts", len(all_texts), len(hits), len({h["where"] for h in hits}))
    if len(sys.argv) > 1:
        Path(sys.argv[1]).write_text("".join(json.dumps(h, ensure_ascii=False) + "\n" for h in hits), "utf-8")


if __name__ == "__main__":
    main()
