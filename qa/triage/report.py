"""`triage eval`: every triage figure in one run, as the Markdown that BENCHMARKS.md records."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .measure import (
    HELDOUT_EMERGENCY_V2,
    HELDOUT_EMERGENCY_V3,
    HELDOUT_EMERGENCY_V4,
    HELDOUT_EMERGENCY_V5,
    RULES_TUNING,
    department_scores,
    emergency_rates,
    heldout_departments,
    heldout_emergency,
    latency,
    redteam_emergency,
)


def print_report(service: Any, out: Callable[[str], None]) -> None:
    """Emergency rates (held-out and red-team; rules, classifier, combined), departments, latency."""
    assess = service.triage
    for title, rows in (("held-out v5 (qa/data/triage_heldout_v5.jsonl)", heldout_emergency(HELDOUT_EMERGENCY_V5)),
                        ("held-out v4 (qa/data/triage_heldout_v4.jsonl)", heldout_emergency(HELDOUT_EMERGENCY_V4)),
                        ("held-out v3 (qa/data/triage_heldout_v3.jsonl)", heldout_emergency(HELDOUT_EMERGENCY_V3)),
                        ("held-out v2 (qa/data/triage_heldout_v2.jsonl)", heldout_emergency(HELDOUT_EMERGENCY_V2)),
                        ("held-out v1 (qa/data/triage_heldout.jsonl)", heldout_emergency()),
                        ("rules tuning set (qa/data/triage_rules_tuning.jsonl)", heldout_emergency(RULES_TUNING)),
                        ("red-team medical prompts (qa/data/redteam.jsonl)", redteam_emergency())):  # fmt: skip
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
