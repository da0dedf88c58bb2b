"""Build qa/data/sentences_cmrc2018_{trial,dev}.jsonl, the public set of the citation sentence ranker
(`python scripts/kb_bench.py sentences`): which sentence of a question's passage holds its answer.

Source: CMRC 2018 (Cui et al., "A Span-Extraction Dataset for Chinese Machine Reading Comprehension", EMNLP 2019),
https://github.com/ymcui/cmrc2018, files squad-style-data/cmrc2018_trial.json (tuning: the ranker's weight is
chosen on it) and squad-style-data/cmrc2018_dev.json (held-out: only measured), licence CC BY-SA 4.0 — the derived
files keep that licence and this attribution. The train split would be the usual tuning set, but the snapshot
this was built from lists it without its content; the trial split is another public split, disjoint from dev and
test (the test split is not used at all).

Lines: {"kind": "passage", "id", "title", "text"} (trial only: dev's passages are those of
retrieval_cmrc2018_dev.jsonl, checked identical here) and {"kind": "question", "id", "passage", "text",
"answers": [{"text", "start"}]}. An answer whose answer_start does not point at its text (about 2% in dev) is moved
to the nearest occurrence of its text in the passage, and dropped when the text is not there.

    python scripts/build_sentence_eval.py trial path/to/cmrc2018_trial.json
    python scripts/build_sentence_eval.py dev path/to/cmrc2018_dev.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "qa" / "data"


def aligned(context: str, text: str, start: int) -> int | None:
    """The answer's start: as given when it points at the text, else the text's nearest occurrence, else None."""
    if context[start : start + len(text)] == text:
        return start
    found = [i for i in range(len(context)) if context.startswith(text, i)] if text else []
    return min(found, key=lambda i: abs(i - start)) if found else None


def main(split: str, source: str) -> None:
    """Convert the SQuAD-style file into passage (trial) and question lines with aligned answers."""
    data = json.loads(Path(source).read_text(encoding="utf-8"))["data"]
    passages, questions = [], []
    moved = dropped = 0
    for article in data:
        for n, paragraph in enumerate(article["paragraphs"]):
            pid = f"{paragraph.get('id') or article.get('id')}-{n}"  # as scripts/build_retrieval_eval.py
            context = paragraph["context"]
            passages.append({"kind": "passage", "id": pid, "title": article.get("title", ""), "text": context})
            for qa in paragraph["qas"]:
                answers = []
                for a in qa["answers"]:
                    start = aligned(context, a["text"], a["answer_start"])
                    moved += start is not None and start != a["answer_start"]
                    dropped += start is None
                    if start is not None and {"text": a["text"], "start": start} not in answers:
                        answers.append({"text": a["text"], "start": start})
                questions.append(
                    {"kind": "question", "id": qa["id"], "passage": pid, "text": qa["question"], "answers": answers}
                )
    if split == "dev":  # the passages are already packaged for the retrieval benchmark: they must be the same
        packaged = [
            json.loads(line) for line in (DATA / "retrieval_cmrc2018_dev.jsonl").read_text("utf-8").splitlines()
        ]
        assert [p for p in packaged if p["kind"] == "passage"] == passages, "retrieval_cmrc2018_dev.jsonl differs"
        passages = []
    out = DATA / f"sentences_cmrc2018_{split}.jsonl"
    out.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in passages + questions), encoding="utf-8")
    print(f"{split}: {len(questions)} questions; answers moved {moved}, dropped {dropped} -> {out}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
