"""Build the banner held-out split: real patient questions the triage has never been tuned on.

usage: python scripts/make_banner_set.py MED_CSV_UTF8 OUT.jsonl [--seed N] [--count N] [--exclude FILE ...]

MED_CSV_UTF8 is Toyhom/Chinese-medical-dialogue-data (MIT; commit 26724a43), 样例_内科5000-6000.csv converted from
GB18030 to UTF-8; the questions are drawn as the quality splits draw theirs (scripts/make_quality_set.py `medical`:
20–100 characters, round-robin over departments, seeded), leaving out every question of the --exclude files. They are
not labelled: the banner rate on them is the share the page would mark as an emergency, read one by one afterwards.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _quality_module():
    spec = importlib.util.spec_from_file_location("make_quality_set", HERE / "make_quality_set.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> None:
    """Write OUT.jsonl with `count` fresh questions, ids tb-001…"""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("med_csv", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=20261129)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--exclude", type=Path, nargs="*", default=[])
    args = parser.parse_args()
    exclude: set[str] = set()
    for path in args.exclude:
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                exclude.add((row.get("question") or row.get("text") or "").strip())
    rows = _quality_module().medical(args.med_csv, random.Random(args.seed), frozenset(exclude), args.count)
    with args.out.open("w", encoding="utf-8") as f:
        for i, row in enumerate(rows, 1):
            f.write(json.dumps({"id": f"tb-{i:03d}", **row}, ensure_ascii=False) + "\n")
    print(args.out, len(rows), f"({len(exclude)} questions excluded)")


if __name__ == "__main__":
    main()
