"""Emergency recall / false-positive rate (rules alone, classifier alone, combined) and department accuracy /
macro-F1 on labelled sets, e.g. the held-out files in qa/data (never used for training or tuning)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from .engine import TriageResult
from .model import read_csv_rows

Assess = Callable[[list[str]], list[TriageResult]]  # e.g. QAService.triage

HELDOUT_EMERGENCY = "triage_heldout.jsonl"
# written later by other hands, before the training bank's second change, and scored once per model
HELDOUT_EMERGENCY_V2 = "triage_heldout_v2.jsonl"
# written by an independent writer while the red-flag rules' third change was made, opened only after it was final
HELDOUT_EMERGENCY_V3 = "triage_heldout_v3.jsonl"
# written by a second independent writer while the training bank's third change was made; scored once, on the final
# rules and classifier together
HELDOUT_EMERGENCY_V4 = "triage_heldout_v4.jsonl"
# written by a third independent writer while the rule veto was made; scored once, on the final configuration
HELDOUT_EMERGENCY_V5 = "triage_heldout_v5.jsonl"
HELDOUT_EMERGENCY_V6 = "triage_heldout_v6.jsonl"
# written before the fifth change (training rows for sepsis, heat stroke, blood sugar, infant fever, obstetric
# bleeding, buried and English emergencies) by the engineer who then made it, before reading the rules or any
# training row; scored on main before the change and once after it (not an independent writer: see BENCHMARKS.md)
HELDOUT_EMERGENCY_V7 = "triage_heldout_v7.jsonl"
# written by an independent writer who read no code, rules, training rows or earlier sets, after the fifth change's
# training rows and before that change was scored on it; scored once on main before the change and once after it
HELDOUT_EMERGENCY_V8 = "triage_heldout_v8.jsonl"
# written by an independent writer who read no code, rules, training rows or earlier sets, before the sixth change
# was scored on it (that change's author never read it); scored once on main before the change and once after it
HELDOUT_EMERGENCY_V9 = "triage_heldout_v9.jsonl"
# written by an independent writer who read no code, rules, training rows or earlier sets, before the eighth change
# (whose author never read it); scored once on main before the change and once after it
HELDOUT_EMERGENCY_V10 = "triage_heldout_v10.jsonl"
# written by an independent writer who read no code, rules, training rows or earlier sets, before the ninth change
# (whose author never read it); scored once on main before the change and once after it
HELDOUT_EMERGENCY_V11 = "triage_heldout_v11.jsonl"
# written by an independent writer who read no code, rules, training rows or earlier sets, before the tenth change
# (whose author never read it); scored once on main before the change and once after it
HELDOUT_EMERGENCY_V12 = "triage_heldout_v12.jsonl"
# written by an independent writer who read no code, rules, training rows or earlier sets, before the eleventh change
# (whose author never read it); scored once on main before the change and once after it
HELDOUT_EMERGENCY_V13 = "triage_heldout_v13.jsonl"
# written by an independent writer who read no code, rules, training rows or earlier sets, before the twelfth change
# (whose author never read it; 63 of its 200 are long rambling messages); scored on main before and after the change
HELDOUT_EMERGENCY_V14 = "triage_heldout_v14.jsonl"
# written by an independent writer who read no code, rules, training rows or earlier sets, before the thirteenth change
# (whose author never read it; 89 of its 200 are 100 characters or longer); scored on main before and after the change
HELDOUT_EMERGENCY_V15 = "triage_heldout_v15.jsonl"
# written by an independent writer who read no code, rules, training rows or earlier sets, before the fourteenth change
# (whose author never read it; 83 of its 200 are 100 characters or longer); scored on main before and after the change
HELDOUT_EMERGENCY_V16 = "triage_heldout_v16.jsonl"
# written by an independent writer who read no code, rules, training rows or earlier sets, before the fifteenth change
# (whose authors never read it; 81 of its 200 are 100 characters or longer, 13 typed in pinyin); scored on main before
# and after the change
HELDOUT_EMERGENCY_V17 = "triage_heldout_v17.jsonl"
# written by an independent writer who read no code, rules, training rows or earlier sets, after v17 was scored and
# before tri20 (whose author never read it; 75 of its 200 are 100 characters or longer, 12 typed in pinyin); scored
# at the session's start, after pinyin and tri19, and after tri20
HELDOUT_EMERGENCY_V18 = "triage_heldout_v18.jsonl"
# written by an independent writer who read no code, rules, training rows or earlier sets, after v18 was scored and
# before tri21 merged; scored on main after tri21 (63/70, 6/130), then read for its kinds by tri22 (seen since)
HELDOUT_EMERGENCY_V19 = "triage_heldout_v19.jsonl"
# written by an independent writer who read no code, rules, training rows or earlier sets, before tri22 (whose author
# never read it); scored on main after tri22 (64/70, 3/130), then read for its kinds by tri23 (seen since)
HELDOUT_EMERGENCY_V20 = "triage_heldout_v20.jsonl"
HELDOUT_EMERGENCY_V21 = "triage_heldout_v21.jsonl"
# written by an independent writer before any change of the seventeenth session, kept on a side branch and scored only
# at its end (start 63/70, 3/130; end 64/70, 3/130): no change of that session was made with it
HELDOUT_EMERGENCY_V22 = "triage_heldout_v22.jsonl"
# every written held-out set, v1 first: the report lists them (a new set is added here and to the tests' bounds)
HELDOUT_EMERGENCY_SETS = (
    HELDOUT_EMERGENCY,
    HELDOUT_EMERGENCY_V2,
    HELDOUT_EMERGENCY_V3,
    HELDOUT_EMERGENCY_V4,
    HELDOUT_EMERGENCY_V5,
    HELDOUT_EMERGENCY_V6,
    HELDOUT_EMERGENCY_V7,
    HELDOUT_EMERGENCY_V8,
    HELDOUT_EMERGENCY_V9,
    HELDOUT_EMERGENCY_V10,
    HELDOUT_EMERGENCY_V11,
    HELDOUT_EMERGENCY_V12,
    HELDOUT_EMERGENCY_V13,
    HELDOUT_EMERGENCY_V14,
    HELDOUT_EMERGENCY_V15,
    HELDOUT_EMERGENCY_V16,
    HELDOUT_EMERGENCY_V17,
    HELDOUT_EMERGENCY_V18,
    HELDOUT_EMERGENCY_V19,
    HELDOUT_EMERGENCY_V20,
    HELDOUT_EMERGENCY_V21,
    HELDOUT_EMERGENCY_V22,
)
# hard non-emergencies and emergencies in the same words, written to tune the red-flag rules (not held out)
RULES_TUNING = "triage_rules_tuning.jsonl"
HELDOUT_DEPARTMENTS = "triage_departments_heldout.csv"
TRIAGED_DOMAINS = ("medical",)  # red-team rows of the sets triage is for (finance prompts are not health questions)


def data_text(name: str) -> str:
    """A file of qa/data."""
    return resources.files("qa.data").joinpath(name).read_text(encoding="utf-8")


def heldout_emergency(name: str = HELDOUT_EMERGENCY) -> list[dict[str, Any]]:
    """A labelled emergency set of qa/data (held-out or tuning): {"id","text","emergency","category","register"} rows."""
    return [json.loads(line) for line in data_text(name).splitlines() if line.strip()]


def redteam_emergency() -> list[dict[str, Any]]:
    """The red-team set's medical prompts with their emergency label (the set the rules were tuned on)."""
    rows = [json.loads(line) for line in data_text("redteam.jsonl").splitlines() if line.strip()]
    return [
        {"id": r["id"], "text": r["prompt"], "emergency": bool(r["labels"]["emergency"] or r["labels"]["self_harm"])}
        for r in rows
        if r["domain"] in TRIAGED_DOMAINS
    ]


def heldout_departments() -> list[dict[str, str]]:
    """The held-out department set: text,department rows."""
    return read_csv_rows(data_text(HELDOUT_DEPARTMENTS), ("text", "department"), HELDOUT_DEPARTMENTS)


@dataclass(frozen=True)
class Rates:
    """Recall on emergencies and false-positive rate on the rest."""

    caught: int
    emergencies: int
    false_alarms: int
    ordinary: int

    @property
    def recall(self) -> float:
        """Emergencies flagged / emergencies."""
        return self.caught / self.emergencies if self.emergencies else 1.0

    @property
    def fp_rate(self) -> float:
        """Non-emergencies flagged / non-emergencies."""
        return self.false_alarms / self.ordinary if self.ordinary else 0.0

    def row(self, name: str) -> str:
        """A Markdown table row."""
        return (
            f"| {name} | {self.caught}/{self.emergencies} = {self.recall:.3f} | "
            f"{self.false_alarms}/{self.ordinary} = {self.fp_rate:.3f} |"
        )


def rates(rows: list[dict[str, Any]], flagged: list[bool]) -> Rates:
    """Rates of predictions against the rows' emergency labels."""
    pairs = list(zip((bool(r["emergency"]) for r in rows), flagged, strict=True))
    return Rates(
        caught=sum(1 for truth, f in pairs if truth and f),
        emergencies=sum(1 for truth, _ in pairs if truth),
        false_alarms=sum(1 for truth, f in pairs if not truth and f),
        ordinary=sum(1 for truth, _ in pairs if not truth),
    )


def emergency_rates(assess: Assess, rows: list[dict[str, Any]]) -> dict[str, tuple[Rates, list[TriageResult]]]:
    """Rules alone, classifier alone and combined, with the per-row results."""
    results = assess([r["text"] for r in rows])
    return {
        "rules": (rates(rows, [x.rule for x in results]), results),
        "classifier": (rates(rows, [x.classifier for x in results]), results),
        "combined": (rates(rows, [x.emergency for x in results]), results),
    }


@dataclass(frozen=True)
class DepartmentScores:
    """Accuracy, macro-F1 and per-class precision/recall/F1/support."""

    accuracy: float
    macro_f1: float
    per_class: dict[str, tuple[float, float, float, int]]

    def table(self) -> str:
        """Markdown table of the per-class figures."""
        lines = ["| department | precision | recall | F1 | n |", "| --- | --- | --- | --- | --- |"]
        for name, (p, r, f, n) in self.per_class.items():
            lines.append(f"| {name} | {p:.2f} | {r:.2f} | {f:.2f} | {n} |")
        return "\n".join(lines)


def department_scores(assess: Assess, rows: list[dict[str, str]]) -> DepartmentScores:
    """The department classifier's own prediction (the emergency override left out) against the labels."""
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    results = assess([r["text"] for r in rows])
    truth = [r["department"] for r in rows]
    predicted = [next(iter(x.department_scores)) for x in results]
    labels = sorted(set(truth))
    p, r, f, n = precision_recall_fscore_support(truth, predicted, labels=labels, zero_division=0)
    return DepartmentScores(
        accuracy=float(accuracy_score(truth, predicted)),
        macro_f1=float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)),
        per_class={lab: (float(p[i]), float(r[i]), float(f[i]), int(n[i])) for i, lab in enumerate(labels)},
    )


def latency(assess: Assess, texts: list[str], total: int = 1000) -> dict[str, float]:
    """Warm per-question latency (one at a time) and batch throughput over `total` questions; wall-clock and this
    process's CPU time (on a shared machine the CPU time is what an idle one would take, with one thread)."""
    assess(texts[:2])  # warm: embedder and model loaded
    singles, cpu = [], time.process_time()
    for text in texts[:50]:
        start = time.perf_counter()
        assess([text])
        singles.append(time.perf_counter() - start)
    cpu_single = (time.process_time() - cpu) / len(singles)
    batch = [texts[i % len(texts)] for i in range(total)]
    start, cpu = time.perf_counter(), time.process_time()
    for i in range(0, total, 64):
        assess(batch[i : i + 64])
    elapsed, cpu_batch = time.perf_counter() - start, time.process_time() - cpu
    singles.sort()
    return {
        "median_ms": 1000 * singles[len(singles) // 2],
        "p95_ms": 1000 * singles[int(len(singles) * 0.95) - 1],
        "cpu_ms": 1000 * cpu_single,
        "total_s": elapsed,
        "per_s": total / elapsed,
        "cpu_total_s": cpu_batch,
    }
