"""Finance calculation accuracy: the same questions to the bare embedded model (free text) and to the finance
pipeline (programs executed by the app), on a set built from public sources (qa/data/finance_calc_eval.jsonl,
see scripts/build_finance_calc_set.py). Scoring is independent of the pipeline's own checks: the gold number from
the source, a 1% tolerance, and a plain string test for shown numbers."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ..service import QAService

SET = "finance_calc_eval.jsonl"  # held out: never tuned on
TUNING_SET = "finance_calc_tuning.jsonl"
HELDOUT2_SET = "finance_calc_heldout2.jsonl"  # built after the sixth session's rules were written, run once
HELDOUT3_SET = "finance_calc_heldout3.jsonl"  # built before the seventh session's changes, run once at its end
HELDOUT4_SET = "finance_calc_heldout4.jsonl"  # built before the ninth session's changes, run once before them
HELDOUT5_SET = "finance_calc_heldout5.jsonl"  # built before the ninth session's second finance change, run once after
SPLITS = {
    "tuning": TUNING_SET,
    "heldout": SET,
    "heldout2": HELDOUT2_SET,
    "heldout3": HELDOUT3_SET,
    "heldout4": HELDOUT4_SET,
    "heldout5": HELDOUT5_SET,
}
RAW_SUFFIX = {"zh": "\n请给出最终的数值答案。", "en": "\nGive the final numeric answer."}
# a minus is a sign only where no letter, digit or point is written just before it: 2017-5.45 is 2017 and 5.45
_NUMBER = re.compile(r"(?:(?<![A-Za-z0-9_.])-)?\d[\d,]*(?:\.\d+)?")


def load_set(path: Path | None = None, name: str = SET) -> list[dict[str, Any]]:
    """The evaluation items (the packaged set `name` unless a path is given)."""
    text = path.read_text(encoding="utf-8") if path else resources.files("qa.data").joinpath(name).read_text("utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def interleaved(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items taking each source in turn, so a run cut short still covers every source."""
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        by_kind.setdefault(item["kind"], []).append(item)
    out = []
    for k in range(max((len(v) for v in by_kind.values()), default=0)):
        out += [v[k] for v in by_kind.values() if k < len(v)]
    return out


def numbers(text: str) -> list[float]:
    """Every number written in a text, in order."""
    return [float(n.replace(",", "")) for n in _NUMBER.findall(text.replace("，", ","))]


_RATE = re.compile(r"率|百分|比例|占比|%|％|percent|ratio|proportion|margin|rate|return", re.I)


def asks_rate(question: str) -> bool:
    """True when the user's own question (FinEval: after 问题是, before 检索内容; TAT-QA: the last line) asks for a
    rate, ratio or percentage — the eval's test, not the app's."""
    m = re.search(r"问题是[:：](.*?)(?:检索内容|全网搜索|$)", question, re.S)
    asked = m.group(1) if m else question.strip().splitlines()[-1]
    return bool(_RATE.search(asked))


def correct(pred: float | None, gold: float, rate: bool = True) -> bool:
    """Within 1% (or 0.01) of the gold answer; for a rate question also when one side is a ratio and the other a
    percentage (0.25 for 25%). An amount off by a factor of 100 is wrong."""
    if pred is None:
        return False
    candidates = (pred, pred * 100, pred / 100) if rate else (pred,)
    return any(abs(p - gold) <= max(abs(gold) * 0.01, 0.01) for p in candidates)


# a word of decrease just before a number: "减少了 0.1", "decreased by 0.1" write a negative change by its magnitude
_DECREASE = re.compile(
    r"(?:减少|下降|下滑|降低|下跌|减|降|decrease[sd]?(?: by)?|fell(?: by)?|declined?(?: by)?|dropped(?: by)?|"
    r"(?:was |is )?down(?: by)?)(?:了|约|为|幅度为)?\s*[$€£¥￥]?\s*$",
    re.I,
)


def untraced_shown(question: str, data: dict[str, Any]) -> list[str]:
    """Numbers in the answer's text that appear neither in the question nor among the calculations' results
    (a plain string test, independent of the number_trace check)."""
    results = [c.get("result") for c in data.get("calculations") or [] if isinstance(c, dict)]
    allowed = {f"{r:g}" for r in results if isinstance(r, (int, float))}
    allowed |= {f"{r:.2f}" for r in results if isinstance(r, (int, float))}
    source = question.replace(",", "")
    # a negative written the accountant's way, "(3015)", is the figure -3015 (the issue's own input format)
    source += " " + " ".join(f"-{m}" for m in re.findall(r"\((\d+(?:\.\d+)?)\)", source))
    text = " ".join(
        [str(data.get("summary", ""))] + [str(x) for k in ("analysis", "suggestions") for x in data.get(k) or []]
    )
    text = re.sub(r"[-−]\s?([$€£¥])\s?(?=\d)", r"\1-", text)  # -$4.90 is the number -4.90
    out = []
    for m in _NUMBER.finditer(text):
        n = m.group(0)
        plain = n.replace(",", "")
        if plain in source or plain in allowed or (re.fullmatch(r"\d", plain)):
            continue
        # after a word of decrease the magnitude stands for the negative: either sign may trace
        if not plain.startswith("-") and _DECREASE.search(text[max(0, m.start() - 20) : m.start()]):
            if f"-{plain}" in source or f"-{plain}" in allowed:
                continue
        if plain.endswith(".00") and plain[:-3] in source:
            continue
        out.append(n)
    return out


@dataclass
class Row:
    """One item's outcome in both conditions."""

    item: dict[str, Any]
    raw_pred: float | None
    raw_text: str
    pipe_pred: float | None
    pipe_answer: dict[str, Any] | None
    untraced: list[str] = field(default_factory=list)
    seconds: float = 0.0


def run_item(
    service: QAService,
    item: dict[str, Any],
    raw_tokens: int,
    pipe_tokens: int,
    raw_too: bool = True,
    pipe_too: bool = True,
) -> Row:
    """Ask one item both ways at temperature 0 (only through the pipeline when raw_too is False, only the bare
    model when pipe_too is False: the two conditions can then run as two processes)."""
    started = time.perf_counter()
    lang = "en" if item["kind"].startswith("en") else "zh"
    params = service.raw_params(0.0, 1.0, raw_tokens)
    raw = ""
    messages = [{"role": "user", "content": item["question"] + RAW_SUFFIX[lang]}]
    for event in service.stream_raw(messages, params, channel="eval") if raw_too else ():
        if event.kind == "final":
            raw = event.text
    found = numbers(raw)
    raw_pred = found[-1] if found else None
    if not pipe_too:
        return Row(item, raw_pred, raw, None, None, [], time.perf_counter() - started)
    answer = service.answer(
        "finance", item["question"], service.params("finance", 0.0, 1.0, pipe_tokens), channel="eval"
    )
    data = answer.data or {}
    calcs = [c for c in data.get("calculations") or [] if isinstance(c, dict) and c.get("result") is not None]
    if calcs:
        pipe_pred: float | None = float(calcs[-1]["result"])
    else:
        in_summary = numbers(str(data.get("summary", "")))
        pipe_pred = in_summary[0] if in_summary else None
    return Row(
        item,
        raw_pred,
        raw,
        pipe_pred,
        answer.data,
        untraced_shown(item["question"], data),
        time.perf_counter() - started,
    )


def summarize(rows: list[Row], raw_too: bool = True, pipe_too: bool = True) -> str:
    """A Markdown table: accuracy per source and overall, both conditions, and untraced numbers shown."""
    lines = [
        "| source | items | raw model (free text) | pipeline (executed programs) | untraced numbers shown |",
        "|---|---|---|---|---|",
    ]
    groups: dict[str, list[Row]] = {}
    for r in rows:
        groups.setdefault(r.item["kind"], []).append(r)
    groups["all"] = rows
    for kind, rs in groups.items():
        raw = sum(correct(r.raw_pred, r.item["answer"], asks_rate(r.item["question"])) for r in rs)
        pipe = sum(correct(r.pipe_pred, r.item["answer"], asks_rate(r.item["question"])) for r in rs)
        untraced = sum(len(r.untraced) for r in rs)
        shown_raw = f"{raw}/{len(rs)}" if raw_too else "not run"
        shown_pipe = f"{pipe}/{len(rs)}" if pipe_too else "not run"
        lines.append(f"| {kind} | {len(rs)} | {shown_raw} | {shown_pipe} | {untraced if pipe_too else '—'} |")
    return "\n".join(lines)


def run(
    service: QAService,
    items: list[dict[str, Any]],
    log: Path | None,
    raw_tokens: int = 128,
    pipe_tokens: int = 384,
    raw_too: bool = True,
    pipe_too: bool = True,
) -> str:
    """Run every item, logging one JSON line each, and return the summary table."""
    if not (raw_too or pipe_too):
        raise ValueError("nothing to run: both the bare model and the pipeline are off")
    rows = []
    for item in items:
        rate = asks_rate(item["question"])
        row = run_item(service, item, raw_tokens, pipe_tokens, raw_too, pipe_too)
        rows.append(row)
        if log is not None:
            with log.open("a", encoding="utf-8") as f:
                record = {
                    "id": item["id"],
                    "gold": item["answer"],
                    "raw_pred": row.raw_pred,
                    "raw_ok": correct(row.raw_pred, item["answer"], rate),
                    "pipe_pred": row.pipe_pred,
                    "pipe_ok": correct(row.pipe_pred, item["answer"], rate),
                    "untraced": row.untraced,
                    "raw_text": row.raw_text,
                    "pipe_answer": row.pipe_answer,
                    "seconds": round(row.seconds, 1),
                }
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return summarize(rows, raw_too, pipe_too)


def library_rows(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The app's part alone, no model: the indicator recognised, whether the app chose the operands, and whether
    its executed program gives the gold answer (what the pipeline answers whenever the app chooses)."""
    from ..calc import CalcError, execute
    from ..tasks.finance.calculations import question_figures
    from ..tasks.finance.formulas import FILE, FormulaLibrary

    library = FormulaLibrary.parse(resources.files("qa.tasks.finance").joinpath(FILE).read_text("utf-8"))
    out = []
    for item in items:
        figures = question_figures(item["question"])
        plan = library.plan(item["question"], figures)
        value = None
        if plan is not None and plan.program:
            try:
                value = float(execute(plan.program, plan.unit or plan.indicator.unit, figures).value)
            except CalcError:
                value = None
        rate = asks_rate(item["question"])
        out.append(
            {
                "id": item["id"],
                "kind": item["kind"],
                "indicator": plan.indicator.id if plan else None,
                "program": plan.program if plan else None,
                "chose": bool(plan and plan.program),
                "right": correct(value, item["answer"], rate),
            }
        )
    return out


def library_table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of library_rows per source and overall."""
    lines = ["| source | items | app chose operands | right |", "|---|---|---|---|"]
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(r["kind"], []).append(r)
    groups["all"] = rows
    for kind, rs in groups.items():
        lines.append(f"| {kind} | {len(rs)} | {sum(r['chose'] for r in rs)} | {sum(r['right'] for r in rs)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    name = next((SPLITS[a] for a in sys.argv[1:] if a in SPLITS), SET)
    rows = library_rows(load_set(name=name))
    if "--verbose" in sys.argv[1:]:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
    print(library_table(rows))
