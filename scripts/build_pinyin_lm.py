#!/usr/bin/env python3
"""Build qa/data/pinyin_lm.json.gz, the character model qa.pinyin_text reads pinyin messages back with.

usage: python scripts/build_pinyin_lm.py TEXT... [--out qa/data/pinyin_lm.json.gz] [--min-count 2]

The packaged file was built from (in this order):
    NEIKE_TXT SAMPLE_CSV qa/triage/emergency_train.csv qa/triage/intent_train.csv qa/triage/departments_train.csv
NEIKE_TXT and SAMPLE_CSV: Toyhom/Chinese-medical-dialogue-data (MIT), commit 26724a4, "Data_数据/IM_内科/内科.txt"
and "样例_内科5000-6000.csv", converted from GB18030 to UTF-8 — patients' questions with doctors' answers:
    git --git-dir=REPO show "HEAD:Data_数据/IM_内科/内科.txt" | iconv -f gb18030 -t utf-8 > neike.txt
    git --git-dir=REPO show "HEAD:样例_内科5000-6000.csv" | iconv -f gb18030 -t utf-8 > sample.csv
(the triage CSVs are the project's own rows; the model only learns which characters follow which, no labels).
Counts of single characters and of adjacent pairs inside runs of Chinese characters; pairs seen fewer than
--min-count times are dropped (they carry little and would triple the file). The output is deterministic.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import re
from pathlib import Path

_RUN = re.compile(r"[\u3400-\u9fff]+")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, default=Path("qa/data/pinyin_lm.json.gz"))
    parser.add_argument("--min-count", type=int, default=2)
    args = parser.parse_args()
    unigram: collections.Counter[str] = collections.Counter()
    bigram: collections.Counter[str] = collections.Counter()
    for source in args.source:
        for run in _RUN.findall(source.read_text(encoding="utf-8")):
            unigram.update(run)
            bigram.update(run[i : i + 2] for i in range(len(run) - 1))
    data = {
        "source": [str(path.name) for path in args.source],
        "unigram": dict(sorted(unigram.items())),
        "bigram": {k: v for k, v in sorted(bigram.items()) if v >= args.min_count},
    }
    blob = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    args.out.write_bytes(gzip.compress(blob, mtime=0))
    print(
        f"{args.out}: {len(data['unigram'])} characters, {len(data['bigram'])} pairs, {args.out.stat().st_size} bytes"
    )


if __name__ == "__main__":
    main()
