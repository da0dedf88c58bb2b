"""An independent detector of answers that read badly, and the `eval quality` run that measures them.

It shares no code with the quality checks it measures (qa/quality.py): it splits and compares text its own way
(difflib similarity on punctuation-free text, not the checks' normalised-key matching) and reads only the final
answer, the schema it was generated under, and nothing else. Defects, per answer:

- repeated: a clause, sentence or list item that repeats (or nearly repeats) another inside one field or across fields;
- cut: a string field that ends mid-sentence: on a comma, colon, enumeration mark, opening bracket or a dangling
  connective, or exactly at its schema bound without closing punctuation;
- schema_text: key names, JSON booleans or JSON fragments inside the prose ("urgent: false", `{"summary"`);
- distinct items: how many distinct items each list holds (near-duplicates count once), averaged over lists;
- runaway list: one enumeration of LONG_ENUMERATION or more elements joined by 、 (a model pushed off repeating
  itself by a penalty runs through new words instead: "维生素D、E、F、G、H、K…"); the repeat measure cannot see it.
"""

from __future__ import annotations

import json
import re
import time
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from importlib import resources
from pathlib import Path
from typing import Any

# package data in qa/data; heldout2 is a fresh held-out split, built after `heldout` had been read (BENCHMARKS.md)
SETS = {
    "tuning": "quality_tuning.jsonl",
    "heldout": "quality_heldout.jsonl",
    "heldout2": "quality_heldout2.jsonl",
    "heldout3": "quality_heldout3.jsonl",  # built before the seventh session changed anything
    "heldout4": "quality_heldout4.jsonl",  # built before the eighth session changed anything
    "heldout5": "quality_heldout5.jsonl",  # built before the ninth session changed anything
    "heldout6": "quality_heldout6.jsonl",  # built before the tenth session changed anything
    "heldout7": "quality_heldout7.jsonl",  # built before the eleventh session changed anything (ATEC finance questions)
    "heldout8": "quality_heldout8.jsonl",  # built before the twelfth session changed anything (same sources, seed 20261130)
    "heldout9": "quality_heldout9.jsonl",  # thirteenth session, before any change (seed 20261201; banner draws excluded)
    "heldout10": "quality_heldout10.jsonl",  # fourteenth session, before any change (seed 20261202)
    "heldout11": "quality_heldout11.jsonl",  # fifteenth session, before any change (seed 20261203)
    "heldout12": "quality_heldout12.jsonl",  # sixteenth session, before any change (seed 20261204)
    "heldout13": "quality_heldout13.jsonl",  # sixteenth session, 120 questions for its end (seed 20261205)
    "heldout14": "quality_heldout14.jsonl",  # seventeenth session, 120 questions for its end (seed 20261206)
}
NEAR = 0.8  # SequenceMatcher ratio at which two sentences say the same thing
MIN_UNIT = 8  # shorter clauses ("建议及时就医") may legitimately recur
# elements of one 、 enumeration from which it counts as runaway: an answer names a few causes or steps, not ten
LONG_ENUMERATION = 10

_CLAUSE_END = re.compile(r"(?<=[。！？!?；;，,])|\n")
_PUNCT = re.compile(r"[\W_]+", re.UNICODE)
_CLOSED = re.compile(r"[。！？!?…\.）)」』”\"’'】%％\w]$")
_OPEN_END = re.compile(r"[，、：；,:;（(“「『\-—～~/]$")
_DANGLING = re.compile(
    r"(的|和|与|及|或|如|是|在|对|把|被|但|而|并且|以及|包括|例如|比如|或者|因为|所以|如果|可以|需要|建议)$"
)
_ENUM_BREAK = re.compile(r"[。！？!?；;，,：:\n]")
_JSON_BITS = re.compile(r"[{}\[\]]|\"\s*:|\b(true|false|null)\b", re.I)


def _norm(text: str) -> str:
    return _PUNCT.sub("", unicodedata.normalize("NFKC", text)).lower()


def clauses(text: str) -> list[str]:
    """The clauses of one string (split after 。！？!?；;，, and at newlines), normalised, short ones dropped."""
    return [n for part in _CLAUSE_END.split(text) if len(n := _norm(part)) >= MIN_UNIT]


def same(a: str, b: str) -> bool:
    """Two normalised units say the same thing: equal, one inside the other, or near by difflib."""
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 8 and short in long_:
        return True
    return SequenceMatcher(None, a, b, autojunk=False).ratio() >= NEAR


def _fields(data: dict[str, Any]) -> dict[str, list[str]]:
    """Each prose field as its list of strings (a string field is a list of one)."""
    out: dict[str, list[str]] = {}
    for key, value in data.items():
        if isinstance(value, str):
            out[key] = [value]
        elif isinstance(value, list):
            out[key] = [v for v in value if isinstance(v, str)]
    return out


def repeats(data: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(repeats inside one field, repeats across fields), each as 'field: text' of the later copy."""
    units: list[tuple[str, int, str]] = []  # (field, item index, clause)
    for key, items in _fields(data).items():
        for i, item in enumerate(items):
            item_units = clauses(item)
            if not item_units and len(n := _norm(item)) >= 6:
                item_units = [n]
            units += [(key, i, u) for u in item_units]
    within: list[str] = []
    across: list[str] = []
    for j, (key, _item, unit) in enumerate(units):
        for key0, _item0, unit0 in units[:j]:
            if same(unit0, unit):
                (within if key0 == key else across).append(f"{key}: {unit}")
                break
    return within, across


def cut_fields(data: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """The string fields (and list items) that end mid-sentence, as 'field[i]'."""
    props = schema.get("properties", {})
    cut: list[str] = []
    for key, items in _fields(data).items():
        spec = props.get(key, {})
        bound = (spec.get("items", {}) if spec.get("type") == "array" else spec).get("maxLength")
        for i, item in enumerate(items):
            text = item.rstrip()
            if not text:
                continue
            at_bound = bound is not None and len(item) >= bound and not re.search(r"[。！？!?…\.）)」”]$", text)
            if _OPEN_END.search(text) or _DANGLING.search(text) or at_bound or not _CLOSED.search(text):
                cut.append(f"{key}[{i}]")
    return cut


def schema_text(data: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Prose that carries schema text: a property name as a word, a JSON boolean/null, or JSON punctuation."""
    keys = list(schema.get("properties", {}))
    key_re = re.compile(r"(?<![A-Za-z_])(" + "|".join(map(re.escape, keys)) + r")(?![A-Za-z_])", re.I) if keys else None
    found: list[str] = []
    for key, items in _fields(data).items():
        for item in items:
            if (key_re and key_re.search(item)) or _JSON_BITS.search(item):
                found.append(f"{key}: {item}")
    return found


def runaway_lists(data: dict[str, Any]) -> list[str]:
    """Fields holding an enumeration of LONG_ENUMERATION or more 、-joined elements."""
    found = []
    for key, texts in _fields(data).items():
        for i, text in enumerate(texts):
            if any(part.count("、") + 1 >= LONG_ENUMERATION for part in _ENUM_BREAK.split(text)):
                found.append(f"{key}[{i}]")
    return found


def distinct_items(items: list[str]) -> int:
    """How many items of a list say different things."""
    kept: list[str] = []
    for item in items:
        n = _norm(item)
        if n and not any(same(k, n) for k in kept):
            kept.append(n)
    return len(kept)


@dataclass
class Defects:
    """The detector's reading of one answer."""

    valid: bool
    within: list[str] = field(default_factory=list)
    across: list[str] = field(default_factory=list)
    cut: list[str] = field(default_factory=list)
    schema_text: list[str] = field(default_factory=list)
    string_fields: int = 0
    lists: list[int] = field(default_factory=list)  # distinct items per list field
    runaway: list[str] = field(default_factory=list)  # fields with a runaway 、 enumeration

    @property
    def repeated(self) -> bool:
        """Any repeated sentence or item, inside a field or across fields."""
        return bool(self.within or self.across)


def detect(data: dict[str, Any] | None, schema: dict[str, Any]) -> Defects:
    """Every defect of one final answer (None: no parsable answer)."""
    if not isinstance(data, dict):
        return Defects(valid=False)
    within, across = repeats(data)
    fields = _fields(data)
    # a list of objects (finance `calculations`) counts as a list with no prose items, as an empty one always did
    lists = [distinct_items(fields[k]) for k, v in data.items() if isinstance(v, list) and k in fields]
    return Defects(
        valid=True,
        within=within,
        across=across,
        cut=cut_fields(data, schema),
        schema_text=schema_text(data, schema),
        string_fields=sum(len(v) for v in fields.values()),
        lists=lists,
        runaway=runaway_lists(data),
    )


@dataclass
class QualitySummary:
    """Figures over one set of answers."""

    defects: list[Defects] = field(default_factory=list)
    ok: list[bool] = field(default_factory=list)  # the app's own verdict (report.passed)
    seconds: float = 0.0

    def figures(self) -> dict[str, tuple[float, int, int]]:
        """name → (rate or mean, count, total)."""
        n = len(self.defects)
        answered = [d for d in self.defects if d.valid]
        fields_total = sum(d.string_fields for d in answered)
        lists = [x for d in answered for x in d.lists]

        def share(hits: int, total: int) -> tuple[float, int, int]:
            return (hits / total if total else float("nan"), hits, total)

        return {
            "schema_valid": share(sum(self.ok), n),
            "repeated_answers": share(sum(d.repeated for d in answered), len(answered)),
            "repeated_within_field": share(sum(bool(d.within) for d in answered), len(answered)),
            "repeated_across_fields": share(sum(bool(d.across) for d in answered), len(answered)),
            "cut_fields": share(sum(len(d.cut) for d in answered), fields_total),
            "answers_with_cut_field": share(sum(bool(d.cut) for d in answered), len(answered)),
            "schema_text_answers": share(sum(bool(d.schema_text) for d in answered), len(answered)),
            "distinct_items_per_list": (sum(lists) / len(lists) if lists else float("nan"), sum(lists), len(lists)),
            "runaway_list_answers": share(sum(bool(d.runaway) for d in answered), len(answered)),
        }

    def table(self, title: str = "") -> str:
        """Printable table."""
        lines = [title] if title else []
        lines.append(f"{'metric':<26} {'value':>7} {'count':>6} {'of':>5}")
        for name, (value, count, total) in self.figures().items():
            lines.append(f"{name:<26} {value:7.3f} {count:6d} {total:5d}")
        lines.append(f"{len(self.defects)} questions in {self.seconds / 60:.1f} min")
        return "\n".join(lines)


def load_quality_set(split: str, path: Path | None = None) -> list[dict[str, Any]]:
    """One split of the packaged quality questions ('tuning', 'heldout', 'heldout2' … 'heldout14'), or a JSON-lines file."""
    if path is not None:
        text = path.read_text(encoding="utf-8")
    else:
        text = resources.files("qa.data").joinpath(SETS[split]).read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _own(raw: str) -> dict[str, Any] | None:
    """The model's own last attempt (the logged raw text), before any check repaired it."""
    try:
        data = json.loads(raw)
    except (TypeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def summarise(records: list[dict[str, Any]], schemas: dict[str, dict[str, Any]], raw: bool = False) -> QualitySummary:
    """Re-read logged answers (one dict per question: domain, data, ok, seconds) with the detector; `raw` reads
    the model's own text instead of the answer shown."""
    summary = QualitySummary()
    for rec in records:
        data = _own(rec.get("raw", "")) if raw else rec.get("data")
        summary.defects.append(detect(data, schemas[rec["domain"]]))
        summary.ok.append(bool(rec.get("ok")))
        summary.seconds += float(rec.get("seconds", 0.0))
    return summary


def run_quality_eval(
    service: Any, rows: list[dict[str, Any]], max_new_tokens: int | None = None, log_path: Path | None = None
) -> tuple[QualitySummary, list[dict[str, Any]]]:
    """Ask every question through the service's streaming path at the task's default sampling; detect defects."""
    records: list[dict[str, Any]] = []
    log = log_path.open("w", encoding="utf-8") if log_path else None
    schemas: dict[str, dict[str, Any]] = {}
    try:
        for i, row in enumerate(rows, 1):
            started = time.perf_counter()
            schemas.setdefault(row["domain"], service.task(row["domain"]).schema)
            answer = service.answer(
                row["domain"], row["question"], service.params(row["domain"], max_new_tokens=max_new_tokens)
            )
            rec = {
                "id": row["id"],
                "domain": row["domain"],
                "ok": answer.ok,
                "data": answer.data,
                "raw": answer.raw,
                "rules": [h.rule for h in answer.report.fired],
                "repairs": answer.report.repairs,
                "tokens": (answer.usage or {}).get("completion_tokens"),
                "seconds": round(time.perf_counter() - started, 2),
            }
            records.append(rec)
            if log:
                log.write(json.dumps(rec, ensure_ascii=False) + "\n")
                log.flush()
            d = detect(answer.data, schemas[row["domain"]])
            print(
                f"[{i}/{len(rows)}] {row['id']} ok={answer.ok} repeated={d.repeated} cut={len(d.cut)} "
                f"schema_text={bool(d.schema_text)} {rec['seconds']:.1f}s",
                flush=True,
            )
    finally:
        if log:
            log.close()
    return summarise(records, schemas), records


def side_by_side(runs: dict[str, dict[str, QualitySummary]]) -> str:
    """One table: a row per metric, a column per (run, split), e.g. before/after × tuning/heldout."""
    columns = [(run, split) for run, splits in runs.items() for split in splits]
    names = list(next(iter(next(iter(runs.values())).values())).figures())
    head = f"| metric | {' | '.join(f'{run} {split}' for run, split in columns)} |"
    lines = [head, "|" + " --- |" * (len(columns) + 1)]
    for name in names:
        cells = []
        for run, split in columns:
            value, count, total = runs[run][split].figures()[name]
            cells.append(f"{value:.2f} ({count}/{total})" if name == "distinct_items_per_list" else
                         f"{value:.1%} ({count}/{total})")  # fmt: skip
        lines.append(f"| {name} | {' | '.join(cells)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Re-read logged runs (`eval quality --log PREFIX` writes PREFIX.<split>.jsonl) and print them side by side:
    python -m qa.eval.quality before=.eval/before after=.eval/after (a label ending in `:raw` reads the model's
    own text, before the checks: after:raw=.eval/after)"""
    import sys

    from ..tasks import builtin_tasks

    schemas = {t.name: t.schema for t in builtin_tasks()}
    runs: dict[str, dict[str, QualitySummary]] = {}
    for arg in argv if argv is not None else sys.argv[1:]:
        label, _, prefix = arg.partition("=")
        runs[label] = {}
        for split in SETS:
            path = Path(f"{prefix}.{split}.jsonl")
            if path.is_file():
                records = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
                runs[label][split] = summarise(records, schemas, raw=label.endswith(":raw"))
    print(side_by_side(runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
