"""`triage eval`: every triage figure in one run, as the Markdown that BENCHMARKS.md records."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..errors import InputError
from .measure import (
    HELDOUT_EMERGENCY_SETS,
    RULES_TUNING,
    department_scores,
    emergency_rates,
    heldout_departments,
    heldout_emergency,
    latency,
    redteam_emergency,
)
from .measure import rates as rates_of


def labelled_rows(text: str, where: str) -> list[dict[str, Any]]:
    """{"id","text","emergency"} JSON lines (a held-out file); InputError naming the line when one is bad."""
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            ok = isinstance(row, dict) and isinstance(row["text"], str) and isinstance(row["emergency"], bool)
        except (json.JSONDecodeError, KeyError) as exc:
            raise InputError(f"{where}, line {n}: needs a JSON object with text and emergency ({exc})") from exc
        if not ok:
            raise InputError(f"{where}, line {n}: text must be a string and emergency true or false")
        rows.append({"id": row.get("id", n), **row})
    if not rows:
        raise InputError(f"{where}: no rows")
    return rows


def print_file_report(service: Any, rows: list[dict[str, Any]], title: str, out: Callable[[str], None]) -> None:
    """Recall / false positives of rules, classifier, each after its vetoes, and combined on one labelled set,
    then every miss and false alarm with the signals behind it."""
    results = service.triage([r["text"] for r in rows])
    columns = {
        "rules (raw)": [x.rule for x in results],
        "classifier (raw)": [x.classifier for x in results],
        "rules after vetoes": ["rule" in x.signals for x in results],
        "classifier after intent veto": ["classifier" in x.signals for x in results],
        "combined": [x.emergency for x in results],
    }
    out(f"\n{title}\n\n| detector | recall | false positives |\n| --- | --- | --- |")
    for name, flagged in columns.items():
        out(rates_of(rows, flagged).row(name))
    for row, x in zip(rows, results, strict=True):
        if bool(row["emergency"]) != x.emergency:
            kind = "missed" if row["emergency"] else "false alarm"
            out(f"- {kind}: {row['id']} p={x.probability:.2f} intent={x.intent} p_not_now={x.p_not_now:.2f} "
                f"signals={','.join(x.signals) or '-'} rules={','.join(x.rule_categories) or '-'} {row['text']}")  # fmt: skip


def print_report(service: Any, out: Callable[[str], None]) -> None:
    """Emergency rates (held-out and red-team; rules, classifier, combined), departments, latency."""
    assess = service.triage
    # the held-out sets newest first, then the sets the rules were tuned on
    held_out = [
        (f"held-out v{n} (qa/data/{name})", heldout_emergency(name))
        for n, name in reversed(list(enumerate(HELDOUT_EMERGENCY_SETS, 1)))
    ]
    for title, rows in (
        *held_out,
        ("rules tuning set (qa/data/triage_rules_tuning.jsonl)", heldout_emergency(RULES_TUNING)),
        ("red-team medical prompts (qa/data/redteam.jsonl)", redteam_emergency()),
    ):
        out(f"\n{title}\n\n| detector | recall | false positives |\n| --- | --- | --- |")
        found = emergency_rates(assess, rows)
        for name, (rates, _) in found.items():
            out(rates.row(name))
        for row, result in zip(rows, found["combined"][1], strict=True):
            if bool(row["emergency"]) != result.emergency:
                kind = "missed" if row["emergency"] else "false alarm"
                out(f"- {kind}: {row['id']} p={result.probability:.2f} {row['text']}")
    scores = department_scores(assess, heldout_departments())
    out(f"\ndepartments (qa/data/triage_departments_heldout.csv): accuracy {scores.accuracy:.3f}, "
        f"macro-F1 {scores.macro_f1:.3f}\n")  # fmt: skip
    out(scores.table())
    texts = [r["text"] for r in heldout_emergency()]
    speed = latency(assess, texts)
    out(f"\nlatency one at a time: median {speed['median_ms']:.1f} ms, p95 {speed['p95_ms']:.1f} ms wall, "
        f"{speed['cpu_ms']:.1f} ms CPU; 1,000 questions in batches of 64: {speed['total_s']:.1f} s wall "
        f"({speed['per_s']:.1f}/s), {speed['cpu_total_s']:.1f} s CPU")  # fmt: skip
