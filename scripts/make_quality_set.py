"""Build the answer-quality question sets (qa/data/quality_tuning.jsonl, quality_heldout.jsonl) from two public
Chinese QA sources, once, before any tuning. Kept for provenance; the sets themselves are package data.

medical: Toyhom/Chinese-medical-dialogue-data (MIT; commit 26724a43), file 样例_内科5000-6000.csv (GB18030), column `ask` (the
         patient's own question text); the dataset has no train/test split (this sample file is its published
         example slice).
finance: financezhidao_filter.csv (Baidu Zhidao finance questions, SophonPlus/ChineseNlpCorpus), as printed in the
         cell outputs of jessie0624/FinanceZhiDao-Question-Answering's "data clean for finace_zhidao_filter.ipynb"
         (repository MIT, commit d3473148; the underlying Baidu Zhidao crawl states no licence of its own);
         question titles only, never answers.

usage: python scripts/make_quality_set.py MED_CSV_UTF8 NOTEBOOK_IPYNB OUT_DIR
       (the first two sets, seed 14: 60 questions per domain, half tuning, half held-out)
       python scripts/make_quality_set.py MED_CSV_UTF8 NOTEBOOK_IPYNB OUT_DIR --fresh quality_heldout2.jsonl \
           --seed 20261123 --per-domain 30 --exclude qa/data/quality_tuning.jsonl qa/data/quality_heldout.jsonl
       (a fresh held-out set by the same rules from what is left: every question of the --exclude files is
       left out before picking, ids qh2-001… (qh3-… for quality_heldout3.jsonl); used when an earlier held-out set
       has been read)
       held-out 4 (eighth session): the first notebook has only 13 unused finance titles left, so
       --extra-notebook adds SophonPlus/ChineseNlpCorpus datasets/financezhidao/intro.ipynb (commit a0b781d; the
       corpus's own sample rows of the same financezhidao_filter.csv), read after the first notebook:
       ... --fresh quality_heldout4.jsonl --seed 20261125 --per-domain 30 --extra-notebook INTRO_IPYNB \
           --exclude qa/data/quality_tuning.jsonl qa/data/quality_heldout.jsonl qa/data/quality_heldout2.jsonl \
           qa/data/quality_heldout3.jsonl
       held-out 5 (ninth session): both financezhidao samples are used up (one unused title left), so
       --other-corpus adds the printed samples of three other Baidu Zhidao finance corpora of the same
       SophonPlus/ChineseNlpCorpus commit a0b781d (no licence file; user question titles only), each title labelled
       with its corpus as topic, read after the financezhidao notebooks in this fixed order: insurance
       (datasets/baoxianzhidao/intro.ipynb), Agricultural Bank of China (datasets/nonghangzhidao/intro.ipynb),
       investment (datasets/touzizhidao/intro.ipynb):
       ... --fresh quality_heldout5.jsonl --seed 20261126 --per-domain 30 --extra-notebook INTRO_IPYNB \
           --other-corpus baoxianzhidao=BAOXIAN_IPYNB nonghangzhidao=NONGHANG_IPYNB touzizhidao=TOUZI_IPYNB \
           --exclude the five earlier files
       held-out 6 (tenth session): the notebooks have only 25 unused finance titles left, so --fill-titles tops
       them up from a list of insurance question titles: wzzzd/FAQ_system data/Insurance_zhidao_test/corpus.txt
       (commit 2764abc; no licence file; the `question` column, baoxianzhidao_filter.csv's `title` of the rows
       with is_best=1, as that repository's README says; never the answers); the notebooks' titles all go first:
       ... --fresh quality_heldout6.jsonl --seed 20261127 --per-domain 30 --extra-notebook INTRO_IPYNB \
           --other-corpus (as held-out 5) --fill-titles baoxianzhidao=CORPUS_TXT --exclude the six earlier files
       held-out 7 (eleventh session): the finance questions come from a source with a licence file instead of
       the notebooks (which are not read: NOTEBOOK is given as -): --pair-titles takes the user questions of a
       question-pair file, liuaiting/ATEC data/atec_nlp_sim_test.csv (commit 16b0f9a; the repository's LICENSE is
       Apache-2.0; Ant Financial's ATEC customer-service question-matching data: "id<TAB>question<TAB>question"),
       both questions of each row in file order, by the same question tests, shuffled with the split's seed:
       ... MED_CSV - qa/data --fresh quality_heldout7.jsonl --seed 20261128 --per-domain 30 \
           --pair-titles atec=ATEC_TEST_CSV --exclude the seven earlier files
       held-out 8 (twelfth session), the same sources, also leaving out the banner held-out splits' questions:
       ... MED_CSV - qa/data --fresh quality_heldout8.jsonl --seed 20261130 --per-domain 30 \
           --pair-titles atec=ATEC_TEST_CSV --exclude qa/data/quality_*.jsonl qa/data/triage_banner_heldout*.jsonl
       held-out 9 (thirteenth session), the same sources, also leaving out the three triage tuning draws of real
       questions (scripts/make_banner_set.py seeds 41, 42, 43 on the twelfth session's data; BENCHMARKS.md):
       ... MED_CSV - qa/data --fresh quality_heldout9.jsonl --seed 20261201 --per-domain 30 \
           --pair-titles atec=ATEC_TEST_CSV --exclude qa/data/quality_*.jsonl qa/data/triage_banner_heldout*.jsonl \
           DRAW41 DRAW42 DRAW43
       held-out 10 (fourteenth session), the same sources and exclusions, banner held-out 4 included by the glob:
       ... MED_CSV - qa/data --fresh quality_heldout10.jsonl --seed 20261202 --per-domain 30 \
           --pair-titles atec=ATEC_TEST_CSV --exclude qa/data/quality_*.jsonl qa/data/triage_banner_heldout*.jsonl \
           DRAW41 DRAW42 DRAW43
       held-out 11 (fifteenth session), the same sources and exclusions, banner held-out 5 included by the glob:
       ... MED_CSV - qa/data --fresh quality_heldout11.jsonl --seed 20261203 --per-domain 30 \
           --pair-titles atec=ATEC_TEST_CSV --exclude qa/data/quality_*.jsonl qa/data/triage_banner_heldout*.jsonl \
           DRAW41 DRAW42 DRAW43
       held-out 12 (sixteenth session), the same sources and exclusions, banner held-out 6 included by the glob:
       ... MED_CSV - qa/data --fresh quality_heldout12.jsonl --seed 20261204 --per-domain 30 \
           --pair-titles atec=ATEC_TEST_CSV --exclude qa/data/quality_*.jsonl qa/data/triage_banner_heldout*.jsonl \
           DRAW41 DRAW42 DRAW43
       held-out 13 (sixteenth session, for the session's end: 60 per domain), the same sources and exclusions, banner
       held-outs 6 and 7 and quality held-out 12 included by the globs:
       ... MED_CSV - qa/data --fresh quality_heldout13.jsonl --seed 20261205 --per-domain 60 \
           --pair-titles atec=ATEC_TEST_CSV --exclude qa/data/quality_*.jsonl qa/data/triage_banner_heldout*.jsonl \
           DRAW41 DRAW42 DRAW43
       held-out 14 (seventeenth session, for the session's end: 60 per domain), the same sources and exclusions, banner
       held-out 8 (drawn just before it) and quality held-out 13 included by the globs:
       ... MED_CSV - qa/data --fresh quality_heldout14.jsonl --seed 20261206 --per-domain 60 \
           --pair-titles atec=ATEC_TEST_CSV --exclude qa/data/quality_*.jsonl qa/data/triage_banner_heldout*.jsonl \
           DRAW41 DRAW42 DRAW43
       every earlier split is rebuilt byte for byte by its own command above
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
from pathlib import Path

PER_DOMAIN = 60
HELD_OUT_SHARE = 0.5
QUESTIONISH = re.compile(r"[？?吗么]|怎|如何|哪|什么|多少|能不能|可以|是否|有没有")
NOT_A_QUESTION = re.compile(r"^(能帮忙|这个问题谁|能具体|求解答|需要什么条件|流程大致|怎么插)")


def medical(
    path: Path, rng: random.Random, exclude: frozenset[str] = frozenset(), per_domain: int = PER_DOMAIN
) -> list[dict]:
    """Patient questions, spread over departments, 20–100 characters, no duplicates, none of `exclude`."""
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    by_dept: dict[str, list[str]] = {}
    seen: set[str] = set()
    for row in rows:
        ask = row["ask"].strip()
        if 20 <= len(ask) <= 100 and ask not in seen and "*" not in ask and ask not in exclude:
            seen.add(ask)
            by_dept.setdefault(row["department"], []).append(ask)
    picked: list[tuple[str, str]] = []
    depts = sorted(by_dept)
    for d in depts:
        rng.shuffle(by_dept[d])
    while len(picked) < per_domain:  # round-robin so small departments are represented
        for d in depts:
            if by_dept[d] and len(picked) < per_domain:
                picked.append((d, by_dept[d].pop()))
    return [{"domain": "medical", "question": q, "topic": d} for d, q in picked]


def finance(
    path: Path,
    rng: random.Random,
    exclude: frozenset[str] = frozenset(),
    per_domain: int = PER_DOMAIN,
    extra: tuple[Path, ...] = (),
    other: tuple[tuple[str, Path], ...] = (),
    fill: tuple[tuple[str, Path], ...] = (),
) -> list[dict]:
    """Distinct question titles shown in the notebooks' outputs that read as questions, none of `exclude`."""
    # extra notebooks (other printed samples of the same financezhidao_filter.csv) are read after the first, and
    # notebooks of other corpora (`other`, each with its topic) after those, so a set built from fewer notebooks
    # comes out the same
    cells = [
        (topic, cell)
        for topic, p in (*(("financezhidao", p) for p in (path, *extra)), *other)
        for cell in json.loads(p.read_text(encoding="utf-8"))["cells"]
    ]
    found: list[str] = []
    topic_of: dict[str, str] = {}
    for topic, cell in cells:
        for out in cell.get("outputs", []):
            text = out.get("text") or out.get("data", {}).get("text/plain")
            for line in "".join(text or []).splitlines():
                m = re.match(r"^\d+\s+(\S.*?)\s*\\?\s*$", line)
                if not m:
                    continue
                # the notebook's table shows some titles with a stray control or punctuation character first
                q = re.sub(r"^[\W_\x00-\x1f\ufffc]+", "", m.group(1)).strip().strip('"')
                if (
                    8 <= len(q) <= 60
                    and re.search(r"[\u4e00-\u9fff]", q)
                    and not re.search(r"\s{2,}\S|#|\.\.\.$|Traceback", q)
                    and QUESTIONISH.search(q)
                    and not NOT_A_QUESTION.search(q)
                    and q not in found
                ):
                    found.append(q)
                    topic_of[q] = topic
    # a title and the same title with its body appended: keep the longer one
    distinct = [q for q in found if not any(o != q and o.startswith(q[:12]) and len(o) > len(q) for o in found)]
    # excluded after the merge above, so the titles left are exactly those the first sets could have picked
    distinct = [q for q in distinct if q not in exclude]
    if len(distinct) < per_domain and fill:
        # the notebooks' titles all go first; a title list (`fill`) only tops them up, so a large list does not
        # crowd out the printed samples (held-out 6 on)
        rng.shuffle(distinct)
        extra_titles = [q for q in fill_titles(fill, exclude) if q not in distinct]
        for q, topic in extra_titles:
            topic_of.setdefault(q, topic)
        listed = [q for q, _ in extra_titles]
        rng.shuffle(listed)
        distinct += listed[: per_domain - len(distinct)]
        return [{"domain": "finance", "question": q, "topic": topic_of[q]} for q in distinct]
    if len(distinct) < per_domain:
        raise SystemExit(f"only {len(distinct)} finance questions left, {per_domain} wanted")
    rng.shuffle(distinct)
    return [{"domain": "finance", "question": q, "topic": topic_of[q]} for q in distinct[:per_domain]]


def _a_new_question(q: str, seen: set[str], exclude: frozenset[str]) -> bool:
    """A title of 8–60 characters with Chinese in it that reads as a question, not masked (the pair and title files
    mask amounts, names or characters with *), and neither seen nor excluded."""
    return (
        8 <= len(q) <= 60
        and "*" not in q
        and re.search(r"[\u4e00-\u9fff]", q) is not None
        and QUESTIONISH.search(q) is not None
        and not NOT_A_QUESTION.search(q)
        and q not in seen
        and q not in exclude
    )


def pair_titles(pairs: tuple[tuple[str, Path], ...], exclude: frozenset[str]) -> list[tuple[str, str]]:
    """User questions of tab-separated question-pair files (no header; id, question, question[, label])."""
    titles: list[tuple[str, str]] = []
    seen: set[str] = set()
    for topic, path in pairs:
        for line in path.read_text(encoding="utf-8").splitlines():
            for q in (c.strip() for c in line.split("\t")[1:3]):
                if _a_new_question(q, seen, exclude):
                    seen.add(q)
                    titles.append((q, topic))
    return titles


def fill_titles(fill: tuple[tuple[str, Path], ...], exclude: frozenset[str]) -> list[tuple[str, str]]:
    """Question titles of tab-separated files (header line, title first) that read as questions, in file order."""
    titles: list[tuple[str, str]] = []
    seen: set[str] = set()
    for topic, path in fill:
        for line in path.read_text(encoding="utf-8").splitlines()[1:]:
            q = line.split("\t", 1)[0].strip()
            if _a_new_question(q, seen, exclude):
                seen.add(q)
                titles.append((q, topic))
    return titles


def fresh(args: argparse.Namespace) -> None:
    """One fresh held-out file: `per_domain` questions of each domain that no --exclude file holds."""
    exclude = frozenset(
        json.loads(line)["question"]
        for path in args.exclude
        for line in path.read_text("utf-8").splitlines()
        if line.strip()
    )
    rng = random.Random(args.seed)
    if args.pair_titles:
        # held-out 7 on: the finance questions come from the pair files alone (the notebooks are not read)
        picked = pair_titles(
            tuple((spec.split("=", 1)[0], Path(spec.split("=", 1)[1])) for spec in args.pair_titles), exclude
        )
        med = medical(args.med_csv, rng, exclude, args.per_domain)
        rng.shuffle(picked)
        if len(picked) < args.per_domain:
            raise SystemExit(f"only {len(picked)} finance questions in the pair files, {args.per_domain} wanted")
        fin = [{"domain": "finance", "question": q, "topic": t} for q, t in picked[: args.per_domain]]
        write_fresh(args, med + fin, exclude)
        return
    rows = medical(args.med_csv, rng, exclude, args.per_domain) + finance(
        args.notebook,
        rng,
        exclude,
        args.per_domain,
        tuple(args.extra_notebook),
        tuple((spec.split("=", 1)[0], Path(spec.split("=", 1)[1])) for spec in args.other_corpus),
        tuple((spec.split("=", 1)[0], Path(spec.split("=", 1)[1])) for spec in args.fill_titles),
    )
    write_fresh(args, rows, exclude)


def write_fresh(args: argparse.Namespace, rows: list[dict], exclude: frozenset[str]) -> None:
    """Write the fresh split with ids that follow the file's number."""
    assert not exclude & {r["question"] for r in rows}
    # ids follow the file's number (quality_heldout3.jsonl -> qh3-001…) so answers of two splits never share an id
    number = re.search(r"(\d+)\.jsonl$", args.fresh)
    prefix = f"qh{number.group(1)}" if number else "qh2"
    with (args.out_dir / args.fresh).open("w", encoding="utf-8") as f:
        for i, row in enumerate(rows, 1):
            f.write(json.dumps({"id": f"{prefix}-{i:03d}", **row}, ensure_ascii=False) + "\n")
    print(args.fresh, len(rows), f"({len(exclude)} questions excluded)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("med_csv", type=Path)
    parser.add_argument("notebook", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--fresh", default=None, help="write one fresh held-out file of this name instead")
    parser.add_argument(
        "--extra-notebook",
        type=Path,
        nargs="*",
        default=[],
        help="more notebooks printing rows of the same finance CSV, read after NOTEBOOK (held-out 4 on)",
    )
    parser.add_argument(
        "--other-corpus",
        nargs="*",
        default=[],
        metavar="TOPIC=NOTEBOOK",
        help="notebooks printing rows of other Zhidao finance corpora, read after all others (held-out 5 on)",
    )
    parser.add_argument(
        "--fill-titles",
        nargs="*",
        default=[],
        metavar="TOPIC=TSV",
        help="tab-separated title lists that top up the finance questions when the notebooks run out (held-out 6)",
    )
    parser.add_argument(
        "--pair-titles",
        nargs="*",
        default=[],
        metavar="TOPIC=TSV",
        help="question-pair files whose user questions are the finance questions, notebooks unread (held-out 7)",
    )
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--per-domain", type=int, default=PER_DOMAIN)
    parser.add_argument(
        "--exclude", type=Path, nargs="*", default=[], help="JSON-lines sets whose questions to leave out"
    )
    args = parser.parse_args()
    if args.fresh:
        fresh(args)
        return
    med_csv, notebook, out_dir = args.med_csv, args.notebook, args.out_dir
    rng = random.Random(args.seed)
    tuning: list[dict] = []
    held_out: list[dict] = []
    for rows in (medical(med_csv, rng), finance(notebook, rng)):
        rng.shuffle(rows)
        cut = int(len(rows) * (1 - HELD_OUT_SHARE))
        tuning += rows[:cut]
        held_out += rows[cut:]
    for name, rows in (("quality_tuning.jsonl", tuning), ("quality_heldout.jsonl", held_out)):
        with (out_dir / name).open("w", encoding="utf-8") as f:
            for i, row in enumerate(rows, 1):
                split = "t" if name.startswith("quality_tuning") else "h"
                f.write(json.dumps({"id": f"q{split}{i:03d}", **row}, ensure_ascii=False) + "\n")
        print(name, len(rows))


if __name__ == "__main__":
    main()
