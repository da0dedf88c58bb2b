"""Measures the drug finder: recall per disguise kind (tuning vs held-out), false hits on ordinary text, leaks in
streamed redaction by the independent checker, and matching cost. Usage: python -m qa.eval.drug_eval [--sample N]"""

from __future__ import annotations

import argparse
import json
import logging
import random
import time
from collections import Counter
from pathlib import Path

from ..settings import Settings
from ..validation import DrugList, StreamRedactor
from ..wiring import DRUG_ALIAS_FILES, DRUG_LIST, DRUG_SHORTHAND, load_drugs
from .leaks import EVAL_STREET, LeakChecker

SETS = Path(__file__).resolve().parent.parent / "data"  # package data, beside the drug lists
log = logging.getLogger(__name__)


def read_set(name: str) -> list[dict]:
    """One JSON-lines evaluation set."""
    return [json.loads(line) for line in (SETS / f"{name}.jsonl").read_text("utf-8").splitlines() if line.strip()]


def recall(drugs: DrugList, items: list[dict]) -> dict[str, tuple[int, int, int]]:
    """Per kind: (caught, caught as the right drug, total)."""
    caught: Counter[str] = Counter()
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for item in items:
        matches = drugs.find(item["text"])
        total[item["kind"]] += 1
        caught[item["kind"]] += bool(matches)
        right[item["kind"]] += any(m.drug == item["drug"] for m in matches)
    return {k: (caught[k], right[k], total[k]) for k in sorted(total)}


def stream(drugs: DrugList, text: str, size: int) -> str:
    """What a streamed answer shows when it arrives in chunks of `size` characters."""
    redactor = StreamRedactor(drugs)
    out = [redactor.feed(text[i : i + size]) for i in range(0, len(text), size)]
    return "".join(out) + redactor.finish()


def hostile_outputs(items: list[dict], rng: random.Random) -> list[str]:
    """Held-out disguised names packed three to an answer, in the JSON shape the model writes."""
    texts = [item["text"] for item in items]
    rng.shuffle(texts)
    return [json.dumps({"suggestions": texts[i : i + 3]}, ensure_ascii=False) for i in range(0, len(texts), 3)]


def leak_rates(drugs: DrugList, checker: LeakChecker, outputs: list[str]) -> dict[str, float]:
    """Share of outputs in which the checker still reads a name: whole-text redaction, then chunk sizes 1-8."""
    rates = {"whole": sum(bool(checker.leaks(drugs.redact(t)[0])) for t in outputs) / len(outputs)}
    for size in range(1, 9):
        rates[f"chunk {size}"] = sum(bool(checker.leaks(stream(drugs, t, size))) for t in outputs) / len(outputs)
    return rates


def written_outputs(drugs: DrugList, checker: LeakChecker, rows: list[dict]) -> dict[str, object]:
    """A set of answers someone else wrote with disguised names ({"text", "names": [{"written", "drug", "kind"}]}):
    per kind, names whose written span the finder redacts (the writer's labels are the truth), and the share of
    answers in which the independent checker still reads a name, whole and streamed."""
    caught: Counter[str] = Counter()
    total: Counter[str] = Counter()
    missed: list[str] = []
    for row in rows:
        matches = drugs.find(row["text"])
        for name in row["names"]:
            at = row["text"].find(name["written"])
            end = at + len(name["written"])
            total[name["kind"]] += 1
            hit = at >= 0 and any(m.start < end and at < m.end for m in matches)
            caught[name["kind"]] += hit
            if not hit:
                missed.append(name["written"])
    texts = [row["text"] for row in rows]
    readable = sum(bool(checker.leaks(t)) for t in texts)  # answers in which the checker reads a name at all
    return {
        "recall": {k: [caught[k], total[k]] for k in sorted(total)},
        "all": [sum(caught.values()), sum(total.values())],
        "answers the checker reads a name in, before redaction": [readable, len(texts)],
        "leaks": leak_rates(drugs, checker, texts),
        "missed": missed,
    }


def timing(drugs: DrugList, ordinary: list[dict], items: list[dict], runs: int) -> dict[str, float]:
    """Milliseconds to find names in a 1,000-character answer, and to stream one through the redactor."""
    rng = random.Random(7)
    answers = []
    for _ in range(20):
        text = ""
        while len(text) < 1000:
            text += rng.choice(ordinary if rng.random() < 0.9 else items)["text"]
        answers.append(text[:1000])
    drugs.find(answers[0])  # warm the caches (readings, folds) once, as a running server has
    # rounds, not one long run: on a shared machine the best round is the cost, the median shows the noise
    rounds = []
    for _ in range(runs):
        start = time.perf_counter()
        for text in answers:
            drugs.find(text)
        rounds.append((time.perf_counter() - start) * 1000 / len(answers))
    rounds.sort()
    start = time.perf_counter()
    for text in answers[:5]:
        stream(drugs, text, 4)
    stream_ms = (time.perf_counter() - start) * 1000 / 5
    return {
        "find ms / 1000 chars (best round)": rounds[0],
        "find ms / 1000 chars (median round)": rounds[len(rounds) // 2],
        "stream (4-char chunks) ms / 1000 chars": stream_ms,
    }


def packaged_checker(shared: bool = False) -> LeakChecker:
    """The independent leak checker over the packaged drug list and alias files, with its own list of short and street
    names (qa/eval/eval_drug_street.csv) and the clippings it generates; with `shared`, the finder's shorthand file too
    (the tenth session's checker read that file alone, so a form missing there was missed by both)."""
    return LeakChecker(
        (SETS / DRUG_LIST).read_text("utf-8"),
        *((SETS / name).read_text("utf-8") for name in DRUG_ALIAS_FILES),
        shorthand_csv=(SETS / DRUG_SHORTHAND).read_text("utf-8") if shared else None,
        own_csv=(Path(__file__).resolve().parent / EVAL_STREET).read_text("utf-8"),
    )


def main() -> None:
    """Print every measurement as JSON lines."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", type=int, default=0, help="held-out items for the leak test (0: all)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--heldout", default="drug_variants_heldout", help="held-out set in qa/data (drug_variants_heldout2: fresh)"
    )
    parser.add_argument("--no-timing", action="store_true", help="skip the cost measurement")
    parser.add_argument(
        "--checker",
        choices=("own", "shared"),
        default="own",
        help="the checker's lists: its own (default), or its own and the finder's shorthand file",
    )
    parser.add_argument(
        "--written", default=None, help="only score a set of written answers with labelled names (JSONL) and exit"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    drugs = load_drugs(Settings(backend="fake"))
    checker = packaged_checker(shared=args.checker == "shared")
    if args.written:
        path = Path(args.written)
        rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
        print(json.dumps(written_outputs(drugs, checker, rows), ensure_ascii=False))
        return
    tuning, heldout, ordinary = (
        read_set("drug_variants_tuning"),
        read_set(args.heldout),
        read_set("drug_ordinary"),
    )
    tune_r, held_r = recall(drugs, tuning), recall(drugs, heldout)
    for kind in sorted(set(tune_r) | set(held_r)):
        t, h = tune_r.get(kind, (0, 0, 0)), held_r.get(kind, (0, 0, 0))
        print(json.dumps({"kind": kind, "tuning": [t[0], t[1], t[2]], "heldout": [h[0], h[1], h[2]]}))
    for name, r in (("tuning", tune_r), ("heldout", held_r)):
        caught, right, total = (sum(v[i] for v in r.values()) for i in range(3))
        print(json.dumps({"set": name, "recall": round(caught / total, 4), "right_drug": round(right / total, 4)}))
    false = [o["text"] for o in ordinary if drugs.find(o["text"])]
    print(
        json.dumps(
            {"ordinary": len(ordinary), "false_hits": len(false), "examples": sorted(set(false))[:10]},
            ensure_ascii=False,
        )
    )
    # street words in their ordinary sense (ice, 冰, Charlie, DDP): the false hits a street context risks
    street = [o["text"] for o in read_set("drug_street_ordinary") if drugs.find(o["text"])]
    print(json.dumps({"street_words_ordinary_hits": len(street), "examples": street[:10]}, ensure_ascii=False))
    false_checker = sum(bool(checker.leaks(o["text"])) for o in ordinary)
    print(json.dumps({"checker_hits_on_ordinary": false_checker}))
    rng = random.Random(11)
    sample = rng.sample(heldout, args.sample) if args.sample else heldout
    outputs = hostile_outputs(sample, rng)
    print(json.dumps({"hostile_outputs": len(outputs), "leaks": leak_rates(drugs, checker, outputs)}))
    if not args.no_timing:
        print(json.dumps(timing(drugs, ordinary, heldout, args.runs)))


if __name__ == "__main__":
    main()
