"""Build a citation split for `qa/data/kb_eval/` from DRCD, the Delta Reading Comprehension Dataset (Shao et al.
2018, https://github.com/DRCKnowledgeTeam/DRCD, Wikipedia text, CC BY-SA 3.0): traditional Chinese, converted to
simplified with OpenCC (t2s) as the project's other traditional text is.

`heldout3.jsonl` is built from DRCD_test.json (a split nothing on the project trains or tunes on); the same rule
applied to DRCD_dev.json gives `tuning_drcd.jsonl` (tuning data). The rule, the same as heldout2's: a fixed-seed
order of the split's paragraphs; a paragraph whose article title was already taken, or with fewer than PER_DOC
usable questions, is passed over; a usable question is one whose first answer, converted, occurs exactly once in
the converted document, title and paragraph (so the phrase names one sentence; heldout3 and tuning_drcd are the same
under the earlier paragraph-only test). Each document is "title, blank line, paragraph";
PER_DOC of its usable questions are sampled; OUTSIDE questions about paragraphs of articles not taken are the
out-of-scope ones ("nothing on this"). Nothing here looks at the knowledge base's code or results.

    python scripts/build_kb_drcd.py DRCD_test.json [OUT]       # → qa/data/kb_eval/heldout3.jsonl
    python scripts/build_kb_drcd.py DRCD_dev.json OUT --tuning  # → the tuning split (another seed)
    python scripts/build_kb_drcd.py DRCD_test.json qa/data/kb_eval/heldout4.jsonl --seed 20261205 \
        --exclude qa/data/kb_eval/heldout3.jsonl                 # → heldout4: heldout3's articles and questions left out
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import opencc

DATA = Path(__file__).resolve().parent.parent / "qa" / "data"
SEED, TUNING_SEED, DOCS, PER_DOC, OUTSIDE = 20261124, 20261125, 40, 4, 20


def build(
    drcd: dict,
    seed: int,
    prefix: str,
    skip_titles: frozenset[str] = frozenset(),
    skip_ids: frozenset[str] = frozenset(),
) -> tuple[list[dict], int]:
    """The split's rows (documents, in-scope and out-of-scope questions) and its number of documents; articles
    titled in `skip_titles` and questions in `skip_ids` (an earlier split's) are never used."""
    t2s = opencc.OpenCC("t2s")
    paragraphs = []  # (article title, paragraph id, converted text, converted questions)
    for article in drcd["data"]:
        for p in article["paragraphs"]:
            qas = [
                {"id": q["id"], "question": t2s.convert(q["question"]), "answer": t2s.convert(q["answers"][0]["text"])}
                for q in p["qas"]
                if q["answers"]
            ]
            paragraphs.append((t2s.convert(article["title"]), p["id"], t2s.convert(p["context"]), qas))
    rng = random.Random(seed)
    order = list(range(len(paragraphs)))
    rng.shuffle(order)
    rows: list[dict] = []
    questions: list[dict] = []
    titles: set[str] = set()
    for i in order:
        title, pid, text, qas = paragraphs[i]
        good = [q for q in qas if q["answer"].strip() and f"{title}\n\n{text}".count(q["answer"]) == 1]
        if len(good) < PER_DOC or title in titles or title in skip_titles:
            continue
        titles.add(title)
        name = f"{prefix}_{pid}.txt"
        rows.append({"doc": name, "text": f"{title}\n\n{text}"})
        for q in rng.sample(good, PER_DOC):
            questions.append({"question": q["question"], "file": name, "phrase": q["answer"], "source": q["id"]})
        if len(titles) == DOCS:
            break
    rest = [
        q
        for title, _, _, qas in paragraphs
        if title not in titles and title not in skip_titles
        for q in qas
        if q["id"] not in skip_ids
    ]
    for q in rng.sample(rest, OUTSIDE):
        questions.append({"question": q["question"], "file": None, "phrase": None, "source": q["id"]})
    return rows + questions, len(titles)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("drcd", help="DRCD_test.json (held-out) or DRCD_dev.json (--tuning)")
    parser.add_argument("out", nargs="?", default=str(DATA / "kb_eval" / "heldout3.jsonl"))
    parser.add_argument("--tuning", action="store_true", help="the tuning split's seed")
    parser.add_argument("--seed", type=int, default=None, help="another seed (a fresh split)")
    parser.add_argument(
        "--exclude", nargs="*", default=[], help="earlier splits whose articles and questions are left out"
    )
    args = parser.parse_args()
    drcd = json.loads(Path(args.drcd).read_text(encoding="utf-8"))
    titles, ids = set(), set()
    for path in args.exclude:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if "text" in row:
                titles.add(row["text"].split("\n", 1)[0])
            elif row.get("source"):
                ids.add(row["source"])
    seed = args.seed if args.seed is not None else TUNING_SEED if args.tuning else SEED
    rows, docs = build(drcd, seed, "drcd", frozenset(titles), frozenset(ids))
    Path(args.out).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    inside = sum(1 for r in rows if r.get("file"))
    print(f"{args.out}: {docs} documents, {inside} in-scope and {sum('question' in r for r in rows) - inside} out")


if __name__ == "__main__":
    main()
