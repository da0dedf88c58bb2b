"""Build qa/data/retrieval_cmrc2018_dev.jsonl, the public retrieval set of `./start.sh eval retrieval`.

Source: CMRC 2018 (Cui et al., "A Span-Extraction Dataset for Chinese Machine Reading Comprehension", EMNLP 2019),
https://github.com/ymcui/cmrc2018, file squad-style-data/cmrc2018_dev.json (the public development split; nothing
here is trained on it), licence CC BY-SA 4.0 — the derived file keeps that licence and this attribution.

Each passage becomes a document; each question's gold passage is the one it was asked about. Output lines:
{"kind": "passage", "id", "title", "text"} and {"kind": "question", "id", "passage", "text"}.

    python scripts/build_retrieval_eval.py path/to/cmrc2018_dev.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "qa" / "data" / "retrieval_cmrc2018_dev.jsonl"


def main(source: str) -> None:
    """Convert the SQuAD-style dev file into passage and question lines."""
    data = json.loads(Path(source).read_text(encoding="utf-8"))["data"]
    lines = []
    questions = 0
    for article in data:
        for n, paragraph in enumerate(article["paragraphs"]):
            pid = f"{paragraph.get('id') or article.get('id')}-{n}"
            lines.append(
                {"kind": "passage", "id": pid, "title": article.get("title", ""), "text": paragraph["context"]}
            )
            for qa in paragraph["qas"]:
                lines.append({"kind": "question", "id": qa["id"], "passage": pid, "text": qa["question"]})
                questions += 1
    OUT.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    print(f"{len(lines) - questions} passages, {questions} questions -> {OUT}")


if __name__ == "__main__":
    main(sys.argv[1])
