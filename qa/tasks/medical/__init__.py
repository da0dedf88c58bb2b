"""The 医疗 (medical) task: health questions answered with cautious analysis, red flags forced to urgent, no
prescription-drug names and no doses."""

from __future__ import annotations

from typing import Any

from ...checks import BaseCheck, CheckContext, Finding, Repair, substitute
from ..base import Alert, AnswerView, Files, Section, Task, load_prompts
from .rules import (
    _DOSE,
    CRISIS_EN,
    CRISIS_ZH,
    DOSE_EN,
    DOSE_ZH,
    EMERGENCY_EN,
    EMERGENCY_ZH,
    RedFlag,
    discounted_mentions,
    is_dosage_request,
    red_flags,
)

ORDER = 10  # the first tab
EXAMPLES = (
    "最近三天头痛，伴有低烧，需要去医院吗？",
    "体检发现血压 150/95，平时应该注意什么？",
    "孩子咳嗽一周了，晚上咳得厉害，怎么办？",
)
VIEW = AnswerView(
    sections=(Section("summary", "总结"), Section("analysis", "分析"), Section("suggestions", "建议")),
    alerts=(
        Alert(
            "urgent",
            html="<strong>⚠ 可能需要立即就医</strong>：请立即前往医院急诊，或拨打急救电话 120。",
            markdown="**可能需要立即就医：请立即前往急诊或拨打 120。**",
        ),
    ),
)


class RedFlagRule:
    """Input rule: emergency signs currently described in the question."""

    name = "red_flags"

    def assess(self, question: str) -> list[RedFlag]:
        return red_flags(question)


class DosageRule:
    """Input rule: the question asks how much of a drug to take."""

    name = "dosage_request"

    def assess(self, question: str) -> bool:
        return is_dosage_request(question)


class DosageCheck(BaseCheck):
    """Dose amounts in an answer about drugs (asked for, or named by the model) become a referral to the doctor."""

    name = "dosage"
    rules = ("dosage",)

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        if not (ctx.facts.get("dosage_request") or ctx.notes.get("drug_matches")):
            return Repair(data)
        fixed, count = substitute(data, [(_DOSE, DOSE_ZH if ctx.zh else DOSE_EN)])
        if not count:
            return Repair(fixed)
        return Repair(
            fixed,
            [Finding("dosage", f"{count} dose amount(s) in an answer about prescription drugs")],
            [f"replaced {count} dose amount(s) with a referral to the doctor"],
        )


class RedFlagCheck(BaseCheck):
    """Emergency signs in the question (the red-flag rules, or the triage classifier) force urgent with the
    emergency instruction first (and a crisis line for self-harm). The banner follows triage: when triage ran and
    neither rules nor classifier found an emergency, the model's own urgent is turned off and the report says so;
    without triage, urgent on signs that were only negated or past is turned off."""

    name = "red_flag"
    rules = (
        "red_flag",
        "triage_emergency",
        "red_flag_vetoed",
        "triage_vetoed",
        "urgent_overruled",
        "urgent_without_red_flag",
    )

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        flags: list[RedFlag] = ctx.facts.get("red_flags") or []
        triage = ctx.facts.get("triage")  # qa.triage.TriageResult when the service has triage on
        # a classifier hit the intent classifier vetoed (a general, past, figurative … question) does not count
        by_classifier = bool(triage is not None and triage.classifier and not triage.classifier_vetoed)
        vetoed: list[Finding] = []
        if flags and triage is not None and triage.rule_vetoed:
            # triage's verdict on the rule hit stands: the banner follows triage (the report keeps the words)
            cats = ", ".join(f.describe() for f in flags)
            why = (
                f"the intent classifier reads as {triage.intent} (P(not an emergency now)={triage.p_not_now:.2f})"
                if triage.vetoed_by == "intent"
                else f"the triage classifier finds no emergency (p={triage.probability:.3f})"
            )
            vetoed.append(
                Finding(
                    "red_flag_vetoed",
                    f"red-flag words ({cats}) in a question {why}: a general, past, reported or figurative question",
                )
            )
            flags = []
        elif flags and triage is not None and triage.rule:
            # the intent veto may keep self-harm words while it discounts the others: only what triage counted
            flags = [f for f in flags if f.category in triage.rule_counted]
        if triage is not None and triage.classifier and triage.classifier_vetoed:
            vetoed.append(
                Finding(
                    "triage_vetoed",
                    f"triage classifier said emergency (p={triage.probability:.2f}), but the intent classifier reads "
                    f"the question as {triage.intent} (P(not an emergency now)={triage.p_not_now:.2f})",
                )
            )
        data = dict(data)
        model_urgent = data.get("urgent") is True
        if flags or by_classifier:
            findings = []
            if flags:
                cats = ", ".join(f.describe() for f in flags)
                findings.append(Finding("red_flag", f"emergency signs in the question: {cats}"))
            if by_classifier:
                findings.append(
                    Finding(
                        "triage_emergency",
                        f"triage classifier: emergency ({triage.category}, p={triage.probability:.2f}); "
                        f"signals: {', '.join(triage.signals + (['model'] if model_urgent else []))}",
                    )
                )
            repairs = []
            if not model_urgent:
                data["urgent"] = True
                repairs.append(f"set urgent to true (emergency by {' and '.join(_signals(flags, by_classifier))})")
            self_harm = any(f.category == "self_harm" for f in flags) or (
                by_classifier and triage.category == "self_harm"
            )
            first = [EMERGENCY_ZH if ctx.zh else EMERGENCY_EN]
            if self_harm:
                first.append(CRISIS_ZH if ctx.zh else CRISIS_EN)
            limit = ctx.schema.get("properties", {}).get("suggestions", {}).get("maxItems", 4)
            rest = [s for s in data.get("suggestions", []) if s not in first]
            data["suggestions"] = (first + rest)[:limit]
            repairs.append("put the emergency instruction first" + (" with a crisis hotline" if self_harm else ""))
            return Repair(data, findings, repairs)
        if model_urgent and triage is not None:
            # over-triage is a defect too: the banner follows the rules and the classifier, not the model alone
            data["urgent"] = False
            return Repair(
                data,
                [
                    *vetoed,
                    Finding(
                        "urgent_overruled",
                        f"model set urgent; rules and triage classifier found no emergency (p={triage.probability:.2f})",
                    ),
                ],
                ["set urgent to false (model only; triage: no emergency)"],
            )
        if data.get("urgent") is True and discounted_mentions(ctx.question):
            # the only red-flag words were denied or in the past: that is not an emergency now
            data["urgent"] = False
            return Repair(
                data,
                [
                    *vetoed,
                    Finding("urgent_without_red_flag", "model set urgent, but the red-flag words were negated or past"),
                ],
                ["set urgent to false (negated or past symptoms only)"],
            )
        return Repair(data, vetoed)


def _signals(flags: list[RedFlag], by_classifier: bool) -> list[str]:
    return [name for name, on in (("rule", bool(flags)), ("classifier", by_classifier)) if on]


def create(files: Files) -> Task:
    """The medical task from its files."""
    return Task(
        prompts=load_prompts(files, "medical"),
        view=VIEW,
        examples=EXAMPLES,
        input_rules=(RedFlagRule(), DosageRule()),
        checks=(DosageCheck(), RedFlagCheck()),
        triage=True,
    )
