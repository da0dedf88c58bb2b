"""Builds qa/data/finance_calc_eval.jsonl from two public sources, by fixed rules (no hand-picking):

- FinEval "Financial Rigor Test_Numerical Calculation.csv" (SUFE-AIFLM-Lab/FinEval, Apache-2.0): Chinese numeric
  questions with the figures in the text and the reference formula; the first 10 rows in file order whose query
  is at most 700 characters and whose formula uses only + − × ÷ and parentheses (no powers, no unknowns).
- TAT-QA dev split (NExTplusplus/TAT-QA, MIT): English table questions answered by arithmetic over the table;
  the first 10 in file order whose answer comes from the table alone and whose table has at most 8 rows and 5
  columns. The dev split, never the test split.

The tuning split (qa/data/finance_calc_tuning.jsonl), built by the same rules from other rows and never overlapping
the evaluation set: the next 15 qualifying FinEval rows after the evaluation set's 10, and the next 15 qualifying
TAT-QA dev questions after the evaluation set's 10 (the train file, 13 MB, is absent from the stored snapshot;
the dev split's later tables are equally unseen). The TAT-QA test split is never read.

The second held-out split (qa/data/finance_calc_heldout2.jsonl, sixth session), by the same rules again: the next 10
qualifying rows of each source after the tuning split's, built and committed after every rule of the pipeline was
written, and run once.

The third held-out split (qa/data/finance_calc_heldout3.jsonl, seventh session): FinEval has no qualifying row left
after the second held-out split's (30 in all), so it holds only the next 15 qualifying TAT-QA dev questions after
the second held-out split's, built and committed before any change of that session, and run once at its end.
The fourth and fifth (ninth session) likewise: the next 15 qualifying TAT-QA dev questions after the one before,
each built and committed before any change it measures.

Run: python scripts/build_finance_calc_set.py FINEVAL_REPO_DIR TATQA_REPO_DIR [eval|tuning|heldout2|heldout3|heldout4|heldout5]
(git directories from `fetch`; eval by default).
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "qa" / "data"
OUT = {
    "eval": DATA / "finance_calc_eval.jsonl",
    "tuning": DATA / "finance_calc_tuning.jsonl",
    "heldout2": DATA / "finance_calc_heldout2.jsonl",
    "heldout3": DATA / "finance_calc_heldout3.jsonl",
    "heldout4": DATA / "finance_calc_heldout4.jsonl",
    "heldout5": DATA / "finance_calc_heldout5.jsonl",
}
# (qualifying items skipped, items taken) per source: the tuning split starts after the evaluation set's rows, the
# second held-out split after the tuning split's, the third after the second's (FinEval's 30 qualifying rows are all
# taken by then, so the third and later hold none of them); the fourth starts after the third's, the fifth after the
# fourth's
FINEVAL_SPAN = {
    "eval": (0, 10),
    "tuning": (10, 15),
    "heldout2": (25, 10),
    "heldout3": (35, 0),
    "heldout4": (35, 0),
    "heldout5": (35, 0),
}
TATQA_SPAN = {
    "eval": (0, 10),
    "tuning": (10, 15),
    "heldout2": (25, 10),
    "heldout3": (35, 15),
    "heldout4": (50, 15),
    "heldout5": (65, 15),
}


def show(repo: str, path: str) -> str:
    return subprocess.run(["git", "-C", repo, "show", f"HEAD:{path}"], capture_output=True, check=True).stdout.decode()


def number(text: str) -> float | None:
    m = re.search(r"-?\d[\d,]*(?:\.\d+)?", text.replace("，", ","))
    return float(m.group(0).replace(",", "")) if m else None


def fineval(repo: str, split: str) -> list[dict]:
    rows = list(
        csv.DictReader(io.StringIO(show(repo, "Financial Rigor Test/Financial Rigor Test_Numerical Calculation.csv")))
    )
    items = []
    for row in rows:
        query, formula, gold = row["基座query"].strip(), row["题目答案计算逻辑"], row["标准答案"]
        if len(query) > 700 or re.search(r"\^|=|[a-wyzA-WYZ]", formula) or number(gold) is None:
            continue
        items.append(
            {
                "id": f"fineval-calc-{row['序号']}",
                "source": "SUFE-AIFLM-Lab/FinEval: Financial Rigor Test_Numerical Calculation.csv (Apache-2.0)",
                "kind": "zh-text",
                "question": query,
                "answer": number(gold),
                "answer_text": gold,
            }
        )
        if len(items) == sum(FINEVAL_SPAN[split]):
            break
    return items[FINEVAL_SPAN[split][0] :]


def tatqa(repo: str, split: str) -> list[dict]:
    data = json.loads(show(repo, "dataset_raw/tatqa_dataset_dev.json"))  # never the test split
    items = []
    for doc in data:
        table = doc["table"]["table"]
        if len(table) > 8 or max(len(r) for r in table) > 5:
            continue
        for q in doc["questions"]:
            if q["answer_type"] != "arithmetic" or q["answer_from"] != "table":
                continue
            lines = ["| " + " | ".join(c.strip() for c in table[0]) + " |", "|" + "---|" * len(table[0])]
            lines += ["| " + " | ".join(c.strip() for c in r) + " |" for r in table[1:]]
            scale = q.get("scale") or ""
            items.append(
                {
                    "id": f"tatqa-dev-{q['uid']}",
                    "source": "NExTplusplus/TAT-QA: dataset_raw/tatqa_dataset_dev.json (MIT)",
                    "kind": "en-table",
                    "question": "\n".join(lines) + "\n\n" + q["question"],
                    "answer": float(q["answer"]),
                    "answer_text": f"{q['answer']} {scale}".strip(),
                }
            )
            break  # one question per table: more tables, not more of one
        if len(items) == sum(TATQA_SPAN[split]):
            break
    return items[TATQA_SPAN[split][0] :]


def main() -> None:
    split = sys.argv[3] if len(sys.argv) > 3 else "eval"
    items = fineval(sys.argv[1], split) + tatqa(sys.argv[2], split)
    OUT[split].write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    print(f"wrote {len(items)} items to {OUT[split]}")


if __name__ == "__main__":
    main()
