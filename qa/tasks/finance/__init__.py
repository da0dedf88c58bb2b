"""The 金融 (finance) task: financial concepts explained with a risk notice, no promised returns, no buy/sell
instructions, and the question's own figures checked against the answer's arithmetic."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from ...checks import BaseCheck, CheckContext, Finding, Repair, substitute
from ...readability import ExampleTransplantCheck
from ..base import AnswerView, Files, Section, Task, load_prompts
from .calculations import (
    CalculationCheck,
    FiguresRule,
    FormulaCheck,
    FormulaRule,
    MultipleChoiceCheck,
    NumberTraceCheck,
    OperandOrderCheck,
    OptionsRule,
    PromptEchoCheck,
    context,
    narrow,
)
from .formulas import FILE as FORMULAS
from .formulas import FormulaLibrary
from .rules import _INSTRUCTION, _PROMISE, RISK_EN, RISK_ZH, check_arithmetic, is_guarantee_request
from .view import render_calculations

ORDER = 20
EXAMPLES = (
    "什么是市盈率？怎样看一家公司的市盈率高不高？",
    "定投指数基金有哪些风险？",
    "一家公司营收从 80 亿增长到 100 亿，增长率是多少？",
)
VIEW = AnswerView(
    sections=(
        Section("summary", "总结"),
        Section("analysis", "分析"),
        Section("suggestions", "建议"),
        Section("risk_notice", "风险提示", style="notice"),
    ),
    extra=render_calculations,
)


class GuaranteeRule:
    """Input rule: the question asks for guaranteed returns or an all-in pick."""

    name = "finance_guarantee"

    def assess(self, question: str) -> bool:
        return is_guarantee_request(question)


class PromiseCheck(BaseCheck):
    """Promises of returns and buy/sell instructions in the answer are rewritten."""

    name = "finance_promise"
    rules = ("finance_promise",)

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        fixed, promises = substitute(
            data,
            [
                (_PROMISE, "不保证收益" if ctx.zh else "returns are not guaranteed"),
                (_INSTRUCTION, "（不构成买卖建议）" if ctx.zh else "(not a buy/sell instruction)"),
            ],
        )
        if not promises:
            return Repair(fixed)
        return Repair(
            fixed,
            [Finding("finance_promise", f"{promises} promise(s) of returns or buy/sell instruction(s)")],
            [f"rewrote {promises} promise(s)/instruction(s)"],
        )


class GuaranteeCheck(BaseCheck):
    """A question asking for guaranteed returns gets an explicit risk statement in risk_notice."""

    name = "finance_guarantee"
    rules = ("finance_guarantee",)

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        if not ctx.facts.get("finance_guarantee"):
            return Repair(data)
        finding = Finding("finance_guarantee", "the question asked for guaranteed returns or an all-in pick")
        notice = str(data.get("risk_notice", "")).strip()
        if re.search(r"风险|亏|risk|loss|lose", notice, re.I):
            return Repair(data, [finding])
        limit = ctx.schema.get("properties", {}).get("risk_notice", {}).get("maxLength", 120)
        data = {**data, "risk_notice": ((RISK_ZH if ctx.zh else RISK_EN) + notice)[:limit]}
        return Repair(data, [finding], ["added an explicit risk statement to risk_notice"])


class ArithmeticCheck(BaseCheck):
    """A growth rate or P/E in the answer that the question's own figures contradict is flagged."""

    name = "arithmetic"
    rules = ("arithmetic",)

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        problem = check_arithmetic(ctx.question, data)
        return Repair(data, [Finding("arithmetic", problem)] if problem else [])


def create(files: Files) -> Task:
    """The finance task from its files."""
    library = FormulaLibrary.parse(files.read(FORMULAS), files.where(FORMULAS))
    return Task(
        prompts=load_prompts(files, "finance"),
        view=VIEW,
        examples=EXAMPLES,
        input_rules=(GuaranteeRule(), FiguresRule(), OptionsRule(), FormulaRule(library)),
        # calculations run first: the number trace and the multiple-choice answer use their results
        checks=(
            FormulaCheck(),  # the library's program, when the app chose its operands, before it is executed
            OperandOrderCheck(),  # the model's own programs: old → new, later − earlier
            CalculationCheck(),
            ArithmeticCheck(),  # on the model's own words, before untraced numbers are replaced
            PromptEchoCheck(),  # copied instructions go before their numbers are traced
            NumberTraceCheck(),
            MultipleChoiceCheck(),
            PromiseCheck(),
            GuaranteeCheck(),
            ExampleTransplantCheck(),  # the example answer's phrases carried into another subject
        ),
        context=partial(context, library=library),
        narrow=narrow,
    )
