"""Build `qa/data/kb_eval/heldout2.jsonl`: a larger held-out split for citation precision from public text nobody
on the project wrote — the CMRC 2018 development split (Cui et al., EMNLP 2019, https://github.com/ymcui/cmrc2018,
CC BY-SA 4.0) already stored in `qa/data/retrieval_cmrc2018_dev.jsonl` and `sentences_cmrc2018_dev.jsonl`.

A fixed-seed sample of passages becomes the documents (title line, then the passage); their questions whose first
answer occurs exactly once in the passage (so the phrase names one sentence) are the in-scope questions, at most
PER_DOC a document; questions about passages *not* ingested are the out-of-scope ones ("nothing on this").
Nothing here looks at the knowledge base's code or results: the selection is by seed and by the dataset alone.

    python scripts/build_kb_heldout2.py [OUT]
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "qa" / "data"
SEED, DOCS, PER_DOC, OUTSIDE = 20261123, 11, 4, 8


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else DATA / "kb_eval" / "heldout2.jsonl"
    rows = [json.loads(line) for line in (DATA / "retrieval_cmrc2018_dev.jsonl").open(encoding="utf-8")]
    passages = {r["id"]: r for r in rows if r["kind"] == "passage"}
    questions = [json.loads(line) for line in (DATA / "sentences_cmrc2018_dev.jsonl").open(encoding="utf-8")]
    by_passage: dict[str, list[dict]] = {}
    for q in questions:
        by_passage.setdefault(q["passage"], []).append(q)
    rng = random.Random(SEED)
    ids = sorted(passages)
    rng.shuffle(ids)
    chosen, lines, used = [], [], set()
    for pid in ids:
        p = passages[pid]
        good = [q for q in by_passage.get(pid, []) if q["answers"] and p["text"].count(q["answers"][0]["text"]) == 1]
        # a document the sample repeats a title of, or with too few usable questions, is passed over
        if len(good) < PER_DOC or p["title"] in used:
            continue
        used.add(p["title"])
        name = f"cmrc_{pid}.txt"
        lines.append({"doc": name, "text": f"{p['title']}\n\n{p['text']}"})
        for q in rng.sample(good, PER_DOC):
            lines.append({"question": q["text"], "file": name, "phrase": q["answers"][0]["text"], "source": q["id"]})
        chosen.append(pid)
        if len(chosen) == DOCS:
            break
    titles = {passages[c]["title"] for c in chosen}
    rest = [q for q in questions if q["passage"] not in chosen and passages[q["passage"]]["title"] not in titles]
    for q in rng.sample(rest, OUTSIDE):
        lines.append({"question": q["text"], "file": None, "phrase": None, "source": q["id"]})
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines), encoding="utf-8")
    print(f"{out}: {len(chosen)} documents, {len(chosen) * PER_DOC} in-scope and {OUTSIDE} out-of-scope questions")


if __name__ == "__main__":
    main()
