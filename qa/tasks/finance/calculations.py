"""Calculations over the question's figures: the model writes programs, the app runs them and writes the results.

- `FiguresRule` parses the question's tables and text figures; `context` lists them, numbered, for the model.
- `PromptEchoCheck` removes sentences that copy the calculation instructions the model was given.
- `OperandOrderCheck` puts a two-year program's operands in the order the question means (order.py).
- `CalculationCheck` executes each program exactly, writes `result` and `unit`, drops what cannot run or uses a
  number that is not in the question, and re-asks when a program fails or figures were given but nothing computed.
- `NumberTraceCheck` fills `{1}`-style references to results in the text, and every other number in the text
  must be a computed result or an input figure (after unit conversion), else it is replaced; a currency written
  with a number is the question's one currency (`0.1 美元` for a £ table becomes `0.1 英镑`).
- `FormulaRule`/`FormulaCheck`: the formula library (formulas.py) recognises the indicator asked; when the
  question's labels pick its operands the app writes that program itself, else the template guides the model.
- `MultipleChoiceCheck` answers a multiple-choice question with the option nearest the computed value.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

from ...calc import CalcError, Result, decimals_asked, execute
from ...checks import BaseCheck, Candidate, CheckContext, Finding, Repair, each_string
from ...readability import SENTENCES, echoes, min_items, pieces, standard_sentence
from ...readability import key as clause_key
from ...tables import SCALES, Cell, Figures, format_fraction, parse_question
from .formulas import FormulaLibrary, Plan
from .order import reorder
from .rules import RISK_EN, RISK_ZH

DEFAULT_DECIMALS = 2
TEXT_FIELDS = ("summary", "analysis", "suggestions", "risk_notice")  # every field the page shows with words
_ASKS_CALC = re.compile(
    r"多少|计算|增长|增速|增幅|下降|比率|比例|占比|利润率|毛利率|收益率|回报率|周转|倍数|市盈率|市净率|复合|平均|合计|总计|差额|变化"
    r"|how much|what (is|was) the|calculate|compute|growth|change|ratio|margin|percentage|average|total|difference|cagr",
    re.I,
)
_ASKS_RATE = re.compile(
    r"增长率|增速|增幅|涨幅|降幅|同比|环比|增长(了)?多少|下降(了)?多少|变化率|百分比|占比|比率|比例|收益率|利润率|毛利率"
    r"|growth rate|percentage change|percent change|% change|ratio|margin|what percentage",
    re.I,
)
_RATE_PROGRAM = re.compile(r"pct_change|cagr|/")
_OPTION = re.compile(
    r"(?<![A-Za-z])(?P<letter>[A-Da-d])\s*[.、:：．)）]\s*(?P<num>[-−]?\d[\d,]*(?:\.\d+)?)\s*(?P<unit>%|％|亿元|万元|元|倍|亿|万)?"
)
_MENTION = re.compile(
    r"(?<![A-Za-z0-9_.{])(?P<num>[-−]?\d[\d,]*(?:\.\d+)?)(?![}\d])\s*(?P<unit>%|％|个百分点|万亿|亿元|亿|万元|万|千元|元|倍|"
    r"thousand|million|billion)?",
    re.I,
)
_PLACEHOLDER = re.compile(r"\{(\d)\}")
# a count as people write one: 0–12 without leading zeros (a run of zeros after a sentence, 007, is no count)
_COUNT = re.compile(r"[-−]?(?:0|[1-9]|1[0-2])")
# a bare year-like number (1900–2100, no unit): never swapped for a result, it names a time, not an amount
_ZERO_LED = re.compile(r"[-−]?0\d+(?:\.\d+)?")
_YEAR = re.compile(r"(?:19\d\d|20\d\d|2100)")
UNVERIFIED_ZH = "〔未经核验的数字已删除〕"
UNVERIFIED_EN = "[unverified figure removed]"


@dataclass(frozen=True)
class Option:
    """One multiple-choice option with a number."""

    letter: str
    value: Fraction
    unit: str


def find_options(question: str) -> list[Option]:
    """Numeric options (A. 12.5% B. 13.1%…) in a question; empty unless at least two with distinct letters."""
    found = {m.group("letter").upper(): m for m in _OPTION.finditer(question)}
    if len(found) < 2:
        return []
    return [
        Option(letter, Fraction(m.group("num").replace(",", "").replace("−", "-")), (m.group("unit") or "").strip())
        for letter, m in sorted(found.items())
    ]


@lru_cache(maxsize=32)
def question_figures(question: str) -> Figures:
    """The question's figures, options of a multiple-choice question left out (they are answers, not data).
    Cached: the input rules, the model's context, the schema and the page all read one question's figures, and
    none of them changes what it gets."""
    if find_options(question):
        question = _OPTION.sub(" ", question)
    return parse_question(question)


class FiguresRule:
    """Input rule: the tables and figures the question provides."""

    name = "figures"

    def assess(self, question: str) -> Figures:
        return question_figures(question)


class OptionsRule:
    """Input rule: the numeric options of a multiple-choice question."""

    name = "options"

    def assess(self, question: str) -> list[Option]:
        return find_options(question)


# the fixed instruction text of the context: the model should follow it, never copy it into the answer
_HEAD = "【题目中的数字】计算时在 program 里用左边的编号引用这些数字，不要自己算出结果："
_TAIL = "在 summary 和 analysis 里用 {1}、{2} 表示第 1、2 个计算的结果。"
_FILL = "把公式里的每个 {名称} 换成对应数字的编号，写成 program。"
_EXAMPLE = (
    "每个 program 是一个算式，不是单个编号。示例（与本题无关）：若 F1 = 50元、F2 = 60元，问增长多少，写"
    ' {"label": "增长率", "program": "pct_change(F1, F2)", "result": null, "unit": "%"}；'
    "问差额写 F2 - F1；问合计写 sum(F1, F2)。"
)


def context(question: str, library: FormulaLibrary | None = None) -> str:
    """What the model sees under the question: its figures, each with the reference a program uses, and the
    formula the library recognised (with its operands when the app could choose them)."""
    figures = question_figures(question)
    if not figures:
        return ""
    plan = library.plan(question, figures) if library is not None else None
    head = _HEAD + "\n" + figures.describe()
    tail = "\n" + _TAIL
    if plan is not None and plan.resolved:
        calc = plan.calculation(True)
        return (
            head
            + f"\n题目问的是{plan.indicator.name_zh}，系统已按公式选定数字（{plan.why}）。calculations 只写这一项："
            + json.dumps(calc, ensure_ascii=False)
            + tail
        )
    if plan is not None:
        slots = "；".join(f"{k} = {v}" for k, v in plan.indicator.slots.items())
        return (
            head + f"\n题目问的是{plan.indicator.name_zh}，公式：{plan.indicator.program}（{slots}）。" + _FILL + tail
        )
    return head + "\n" + _EXAMPLE + tail


class FormulaRule:
    """Input rule: the indicator the question asks for, from the formula library, with the app's operands."""

    name = "formula"

    def __init__(self, library: FormulaLibrary) -> None:
        self.library = library

    def assess(self, question: str) -> Plan | None:
        return self.library.plan(question, question_figures(question))


_FUNCTIONS = "sum|avg|min|max|pct_change|cagr|abs|round"
_NUMBER_LITERAL = r"[0-9]+(\.[0-9]+)?"


def program_pattern(figures: Figures) -> str:
    """The `program` pattern for one question: functions, numbers, operators and only the references its figures
    have (the grammar then cannot write R9C9 for a table of two rows)."""
    refs = sorted({c.ref for c in figures.cells()}, key=lambda r: (-len(r), r))
    return "^(" + "|".join([_FUNCTIONS, *refs, _NUMBER_LITERAL, "[-+*/(), ]"]) + ")+$"


def narrow(task: Any, question: str) -> Any:
    """The finance task for one question: its schema's program pattern narrowed to the question's references."""
    figures = question_figures(question)
    if not figures:
        return task
    schema = copy.deepcopy(task.schema)
    schema["properties"]["calculations"]["items"]["properties"]["program"]["pattern"] = program_pattern(figures)
    return dataclasses.replace(task, prompts=dataclasses.replace(task.prompts, schema=schema))


def _same_value(calc: Any, program: str, figures: Figures) -> bool:
    """True when a calculation of the model's computes exactly what the library's program does."""
    if not isinstance(calc, dict):
        return False
    try:
        return execute(str(calc.get("program", "")), "", figures).value == execute(program, "", figures).value
    except CalcError:
        return False


def _same_shown(calc: dict[str, Any], library: dict[str, Any], figures: Figures) -> bool:
    """True when the model's unit shows its result as the same number as the library's unit does (元 where the
    library leaves the unit to the figures), False when it rescales it (万元, %)."""
    try:
        program = str(library.get("program", ""))
        mine = execute(program, str(calc.get("unit", "")), figures).value
        return mine == execute(program, str(library.get("unit", "")), figures).value
    except CalcError:
        return False


class FormulaCheck(BaseCheck):
    """When the library recognised the indicator and the labels chose its operands, that program is the
    answer's calculation (the model's own are replaced); the report names the indicator and who chose."""

    name = "formula"
    rules = ("formula", "salvaged")

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        plan: Plan | None = ctx.facts.get("formula")
        if plan is None:
            return Repair(data)
        name = plan.indicator.name(ctx.zh)
        if not plan.resolved:
            return Repair(
                data, [Finding("formula", f"recognised {plan.indicator.id} ({name}); operands chosen by the model")]
            )
        finding = Finding("formula", f"recognised {plan.indicator.id} ({name}); operands chosen by the app: {plan.why}")
        calc = plan.calculation(ctx.zh)
        figures: Figures = ctx.facts.get("figures") or Figures()
        same = [c for c in data.get("calculations") or [] if _same_value(c, plan.program or "", figures)]
        if same:  # the model wrote the same calculation: its label kept, and its unit when it shows the same value
            kept = same[-1]
            if not _same_shown(kept, calc, figures):  # 1958.28万元 for 19,582,777 on an English table: the app's unit
                kept = {**kept, "unit": calc["unit"]}
            unit = calc["unit"] or "the figures' own unit"
            repairs = [] if kept is same[-1] else [f"kept the library's unit ({unit}), not the model's"]
            return Repair({**data, "calculations": [kept]}, [finding], repairs)
        return Repair(
            {**data, "calculations": [calc]},
            [finding],
            [f"wrote the library's {plan.indicator.id} program {plan.program} as the calculation"],
        )

    def salvage(self, ctx: CheckContext) -> dict[str, Any] | None:
        """When the app chose the operands, an answer of its own if the model's JSON never parsed: the executed
        result leads the summary (`{1}` is filled by the number trace), the formula and its operands explain it."""
        plan: Plan | None = ctx.facts.get("formula")
        if plan is None or not plan.resolved:
            return None
        calc = plan.calculation(ctx.zh)
        if ctx.zh:
            return {
                "calculations": [calc],
                "summary": f"{calc['label']}：{{1}}。",
                "analysis": [f"按{calc['label']}公式计算：{plan.program}（{plan.why}），结果由系统执行得出。"],
                "suggestions": ["请核对所用数据与题目中的原始数字一致。"],
                "risk_notice": RISK_ZH,
            }
        return {
            "calculations": [calc],
            "summary": f"{calc['label']}: {{1}}.",
            "analysis": [f"Computed as {plan.program} ({plan.why}); the result was executed by the app."],
            "suggestions": ["Check that the figures used match the ones in the question."],
            "risk_notice": RISK_EN,
        }


def _decimals(ctx: CheckContext) -> int:
    asked = decimals_asked(ctx.question)
    return DEFAULT_DECIMALS if asked is None else asked


def _allowed_literal(value: Fraction, figures: Figures) -> bool:
    """A number written into a program: a small whole constant (years, 12 months), 360/365 days, a power of ten
    (100 for a percentage), or a figure of the question. Other numbers (an example's 50 and 60) are not data."""
    if value.denominator == 1 and (0 <= value <= 12 or value in {360, 365} or value in {10**k for k in range(13)}):
        return True
    return any(value in (c.value, c.base) for c in figures.cells())


def run_calculations(
    calcs: list[Any], figures: Figures, decimals: int
) -> tuple[list[tuple[dict[str, Any], Result]], list[str]]:
    """(executed calculations with their results, problems with the others)."""
    done: list[tuple[dict[str, Any], Result]] = []
    problems: list[str] = []
    for i, calc in enumerate(calcs, start=1):
        if not isinstance(calc, dict):
            continue
        program = str(calc.get("program", ""))
        try:
            result = execute(program, str(calc.get("unit", "")), figures)
        except CalcError as exc:
            problems.append(f"calculation {i} ({program}) cannot run: {exc}")
            continue
        stray = [lit for lit in result.literals if not _allowed_literal(lit, figures)]
        if stray:
            shown = ", ".join(str(float(s)) for s in stray)
            problems.append(f"calculation {i} ({program}) uses number(s) not in the question: {shown}")
            continue
        written = {**calc, "result": result.rounded(decimals), "unit": result.unit}
        done.append((written, result))
    return done, problems


class OperandOrderCheck(BaseCheck):
    """The model's two-year programs take their operands in the order the question means (order.py): a growth
    rate from the earlier year to the later, a change as the later minus the earlier; a swapped pair is put right."""

    name = "operand_order"
    rules = ("operand_order",)

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        plan: Plan | None = ctx.facts.get("formula")
        figures: Figures = ctx.facts.get("figures") or Figures()
        calcs = data.get("calculations")
        if (plan is not None and plan.resolved) or not figures or not isinstance(calcs, list):
            return Repair(data)  # the app's own program is already in order
        fixed: list[Any] = []
        swapped: list[str] = []
        for calc in calcs:
            program = calc.get("program") if isinstance(calc, dict) else None
            new = reorder(program, ctx.question, figures) if isinstance(program, str) else None
            if new is None:
                fixed.append(calc)
                continue
            swapped.append(f"{program} → {new}")
            fixed.append({**calc, "program": new})
        if not swapped:
            return Repair(data)
        why = "; ".join(swapped)
        return Repair(
            {**data, "calculations": fixed},
            [Finding("operand_order", f"operands put in the order the question means (earlier year = old): {why}")],
            [f"swapped the operands of {len(swapped)} calculation(s)"],
        )


def instruction_text(ctx: CheckContext) -> str:
    """The calculation instructions this question's model saw (context and system prompt), without the figures'
    own lines or the question: what an answer sentence must not copy."""
    parts = [_HEAD, _TAIL, _FILL, _EXAMPLE, "calculations 只写这一项", "系统已按公式选定数字"]
    parts += [line for line in ctx.system_prompt.splitlines() if re.search(r"program|calculations|\{1\}", line)]
    plan: Plan | None = ctx.facts.get("formula")
    if plan is not None:
        parts += [plan.indicator.program, *(f"{k} = {v}" for k, v in plan.indicator.slots.items())]
    return "\n".join(parts)


class PromptEchoCheck(BaseCheck):
    """A sentence that copies the app's calculation instructions (编号引用这些数字, a formula's slot notes) is no
    answer: it is removed; a list left empty gets the task's standard sentence."""

    name = "prompt_echo"
    rules = ("prompt_echo",)

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        if not (ctx.facts.get("figures") or Figures()):
            return Repair(data)  # no figures: the model saw no calculation instructions to copy
        instructions = instruction_text(ctx)
        fallbacks: dict[str, dict[str, str]] = ctx.notes.get("fallbacks") or {}
        removed: list[str] = []

        def keep(text: str) -> str:
            out = []
            for sentence in SENTENCES.findall(text):
                if sentence.strip() and echoes(sentence, instructions, ctx.question):
                    removed.append(sentence.strip())
                else:
                    out.append(sentence)
            return "".join(out).strip()

        fixed = dict(data)
        for key in TEXT_FIELDS:
            value = fixed.get(key)
            standard = (fallbacks.get(key) or {}).get("zh" if ctx.zh else "en")
            if isinstance(value, str):
                kept = keep(value)
                if kept != value.strip():
                    fixed[key] = kept or standard or value  # a field left empty: its standard sentence
            elif isinstance(value, list):
                items = [keep(v) if isinstance(v, str) else v for v in value]
                items = [v for v in items if v != ""]
                if items != value:
                    fixed[key] = items or ([standard] if standard else value)
        if not removed:
            return Repair(data)
        return Repair(
            fixed,
            [Finding("prompt_echo", f"{len(removed)} sentence(s) copied the calculation instructions")],
            [f"removed {len(removed)} sentence(s) that copied the instructions"],
        )


class CalculationCheck(BaseCheck):
    """Programs are executed by the app, which writes each result; one that cannot run is re-asked, then dropped."""

    name = "calculations"
    rules = ("calculation_failed", "calculation_missing")

    def inspect(self, ctx: CheckContext, candidate: Candidate) -> list[Finding]:
        if candidate.data is None:
            return []
        figures: Figures = ctx.facts.get("figures") or Figures()
        plan: Plan | None = ctx.facts.get("formula")
        if plan is not None and plan.resolved:
            return []  # the app writes the library's program in repair: re-asking the model would not change it
        calcs = candidate.data.get("calculations") or []
        _, problems = run_calculations(calcs if isinstance(calcs, list) else [], figures, _decimals(ctx))
        findings = [Finding("calculation_failed", p, problem=f"计算程序有误：{p}") for p in problems]
        if figures and not calcs and _ASKS_CALC.search(ctx.question):
            problem = "题目给出了数据，请在 calculations 中用数字编号（如 R1C2、F1）写出计算程序"
            findings.append(
                Finding("calculation_missing", "figures were given but no calculation was written", problem)
            )
        elif figures and isinstance(calcs, list) and calcs and _ASKS_RATE.search(ctx.question):
            programs = [str(c.get("program", "")) for c in calcs if isinstance(c, dict)]
            if not any(_RATE_PROGRAM.search(p) for p in programs):
                problem = "题目问的是比率或增长率，请用 pct_change(旧值编号, 新值编号) 或除法写出计算程序"
                findings.append(Finding("calculation_missing", "a rate was asked but no program computes one", problem))
        return findings

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        figures: Figures = ctx.facts.get("figures") or Figures()
        calcs = data.get("calculations")
        if not isinstance(calcs, list) or not calcs:
            ctx.notes["calculations"] = []
            return Repair(data)
        done, problems = run_calculations(calcs, figures, _decimals(ctx))
        ctx.notes["calculations"] = done
        repairs = [f"executed {len(done)} calculation(s) and wrote their results"] if done else []
        if problems:
            repairs.append(f"removed {len(problems)} calculation(s) that could not be executed or traced")
        findings = [Finding("calculation_failed", p) for p in problems]
        return Repair({**data, "calculations": [c for c, _ in done]}, findings, repairs)


def _mention_values(num: str, unit: str) -> tuple[Fraction, int, bool]:
    """(value as written, the scale its unit names, is a percentage) of a number in the answer text."""
    value = Fraction(num.replace(",", "").replace("−", "-"))
    unit = (unit or "").strip().lower()
    if unit in ("%", "％", "个百分点"):
        return value, 1, True
    for word, scale in SCALES:
        if word in unit:
            return value, scale, False
    return value, 1, False


def _matches(value: Fraction, decimals: int, target: Fraction) -> bool:
    """True when `value`, written with `decimals` places, is `target` rounded (either way) to that precision."""
    half = Fraction(1, 2 * 10**decimals)
    return abs(target - value) <= half + Fraction(1, 10**12)


def _fits(cell: Cell, unit: str, scale: int, percent: bool) -> bool:
    """True when a unit written after a number can be the cell's own: a percentage for a percentage, the cell's
    scale for an amount (亿元 for 亿元, million for million). A number written bare, a multiple (倍), or a cell
    whose unit the question does not give, fits whatever is written."""
    unit = unit.strip()
    if not unit or unit == "倍":
        return True
    if percent:
        return cell.percent or not cell.unit
    if cell.percent:
        return False  # 12万元 for the question's 12%
    return not cell.unit or scale == cell.scale


def traces(num: str, unit: str, figures: Figures, results: list[Result]) -> bool:
    """True when a number in the text is a computed result or an input figure (after unit conversion); an
    input's value written with a unit that contradicts the input's own (15386亿元 for $15,386 million) does not
    trace."""
    if _ZERO_LED.fullmatch(num.replace(",", "")):
        return False  # 000000, 007: nobody writes an amount or a count so (the model's filler, not a figure)
    value, scale, percent = _mention_values(num, unit)
    decimals = len(num.split(".")[1]) if "." in num else 0
    if not unit and _COUNT.fullmatch(num):
        return True  # a count ("3 点"); a year is kept only when the question writes it (the caller's `asked`)
    for r in results:
        if _matches(value, decimals, r.value) or _matches(-value, decimals, r.value):
            return True
        if r.dim == "amount" and scale > 1 and _matches(value * scale, decimals, r.value * (_scale_of(r.unit))):
            return True
    for c in figures.cells():
        if _matches(value, decimals, c.value) and _fits(c, unit, scale, percent):
            return True
        if scale > 1 and value * scale == c.base:
            return True
        if not percent and scale == 1 and c.scale > 1 and value:
            if value == c.base:  # 8000000000 (元) for 80亿
                return True
            # the same amount in another unit, written bare: 8000 for 80亿 (in millions)
            if not unit.strip() and any(_matches(value, decimals, c.base / s) for _, s in SCALES):
                return True
    return False


def misunit(num: str, unit: str, figures: Figures, results: list[Result]) -> Cell | None:
    """The input whose value a number is, when the unit written after it contradicts that input's own and no
    result or other input is that number in that unit (15386亿元 for $15,386 million); None otherwise."""
    if not unit.strip() or traces(num, unit, figures, results):
        return None
    value, scale, percent = _mention_values(num, unit)
    decimals = len(num.split(".")[1]) if "." in num else 0
    either = [c for c in figures.cells() if _matches(value, decimals, c.value) or _matches(-value, decimals, c.value)]
    if any(_fits(c, unit, scale, percent) for c in either):
        return None  # 12% for the question's (12)%: one input it can be, in its own unit
    # the input's value with its own sign: -15% for 15亿元 is a new number (untraced), not an input mis-written
    return next((c for c in either if _matches(value, decimals, c.value)), None)


def as_input(cell: Cell) -> str:
    """An input as the question gives it: its value and its own unit (15386 million, 80亿元, 12%)."""
    space = " " if cell.unit[:1].isascii() and cell.unit[:1].isalpha() else ""
    return f"{format_fraction(cell.value)}{space}{cell.unit}"


def _as_written(num: str, forms: list[str]) -> str | None:
    """The form the question or a shown result gives a number written with trailing zeros (178.0, 12.50), when
    that form differs; None otherwise. Only zeros are dropped or added, never the value or its sign: -1.0 is
    not the 1 of "Note 1"."""
    plain = num.replace(",", "").replace("−", "-")
    if "." not in plain or not plain.endswith("0"):
        return None
    value = Fraction(plain)
    for form in forms:
        if form and form != plain and re.fullmatch(r"-?\d+(?:\.\d+)?", form) and Fraction(form) == value:
            return form
    return None


def _scale_of(unit: str) -> int:
    for word, scale in SCALES:
        if word in unit:
            return scale
    return 1


# currencies by code: how a question or an answer may name one (longest first, so 美元 is not 元 and HK$ not $), and
# how the app writes it as a word (Chinese, English) and as a sign
_CURRENCY_NAMES: dict[str, tuple[str, ...]] = {
    "HKD": ("HK$", "港元", "港币", "HKD", "Hong Kong dollars", "Hong Kong dollar"),
    "USD": ("US$", "$", "美元", "USD", "dollars", "dollar"),
    "GBP": ("£", "英镑", "GBP", "pounds", "pound"),
    "EUR": ("€", "欧元", "EUR", "euros", "euro"),
    "JPY": ("日元", "JPY", "yen"),
    "CNY": ("¥", "￥", "人民币", "元", "RMB", "CNY", "yuan"),
}
_CURRENCY_FORMS: dict[str, tuple[str, str, str]] = {
    "HKD": ("港元", "Hong Kong dollars", "HK$"),
    "USD": ("美元", "dollars", "$"),
    "GBP": ("英镑", "pounds", "£"),
    "EUR": ("欧元", "euros", "€"),
    "JPY": ("日元", "yen", "JP¥"),
    "CNY": ("元", "yuan", "¥"),
}
_CODE_OF = {name.lower(): code for code, names in _CURRENCY_NAMES.items() for name in names}
_ANY_CURRENCY = "|".join(
    ("\\b" if n[0].isascii() and n[0].isalpha() else "")
    + re.escape(n)
    + ("\\b" if n[-1].isascii() and n[-1].isalpha() else "")
    for n in sorted(_CODE_OF, key=len, reverse=True)
)
_CURRENCY_IN = re.compile(_ANY_CURRENCY, re.I)
_SIGNS = "HK\\$|US\\$|JP¥|\\$|£|€|¥|￥"
_NUM = r"[-−]?\d[\d,]*(?:\.\d+)?"
# a currency written with a number: a sign before it ($1.2, -£0.1; not on a count, $5000股, which is no amount) or a
# word after it, a scale word between (0.1 美元, 3亿元, 1.2 million dollars, 0.1m pounds)
_CURRENCY_MENTION = re.compile(
    rf"(?P<sign>{_SIGNS})\s?(?=[-−]?\d)(?!{_NUM}\s*(?:股|份|手|张|shares?\b))|(?<![\d.])(?P<num>{_NUM})\s*(?P<scale>万亿|亿|千万|百万|万|千|million|billion|"
    rf"thousand|bn|mn|m)?\s*(?P<word>{_ANY_CURRENCY})",
    re.I,
)


def question_currency(question: str) -> str | None:
    """The one currency a question's figures are in (its code), or None when it names none or several."""
    codes = {_CODE_OF[m.group(0).lower()] for m in _CURRENCY_IN.finditer(question)}
    return codes.pop() if len(codes) == 1 else None


def fix_currency(text: str, currency: str | None) -> tuple[str, list[str]]:
    """The text with every currency written next to a number in the question's one currency (0.1 美元 → 0.1 英镑
    for a £ table), and the mentions changed. The app's numbers are the question's inputs and results computed from
    them, so they can only be in its currency; with no single currency in the question nothing is changed."""
    if currency is None:
        return text, []
    zh_word, en_word, sign = _CURRENCY_FORMS[currency]
    changed: list[str] = []

    def swap(m: re.Match[str]) -> str:
        token = m.group("sign") or m.group("word")
        if _CODE_OF.get(token.lower()) == currency:
            return m.group(0)
        if m.group("sign"):
            out = sign + m.group(0)[len(token) :]
        else:
            word = sign if re.search(r"[$£€¥￥]", token) else zh_word if not token[0].isascii() else en_word
            out = m.group(0)[: m.start("word") - m.start()] + word
        changed.append(f"{m.group(0).strip()} → {out.strip()}")
        return out

    return _CURRENCY_MENTION.sub(swap, text), changed


class NumberTraceCheck(BaseCheck):
    """Every number in the text must be a computed result or a figure of the question; `{n}` becomes result n."""

    name = "number_trace"
    rules = ("untraced_number", "number_unit", "number_currency")

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        figures: Figures = ctx.facts.get("figures") or Figures()
        done: list[tuple[dict[str, Any], Result]] = ctx.notes.get("calculations") or []
        if not figures and not done:
            return Repair(data)  # a question without figures: nothing to trace numbers to
        decimals = _decimals(ctx)
        results = [r for _, r in done]
        shown = [r.text(decimals) for r in results]
        # a number written in the question as it stands (北证50指数, a date) is the user's own, never replaced
        # with its sign: "-1%" is not the "1" of "Note 1" (a minus written before a number is part of it)
        asked = {
            n.replace(",", "").replace("−", "-") for n in re.findall(r"(?<![\d.])[-−]?\d[\d,]*(?:\.\d+)?", ctx.question)
        }
        asked |= {n.lstrip("-") for n in asked}  # a number may be quoted without its sign ("fell 5%" for -5%)
        # how the question and the shown results write each number, for a number the model re-wrote as 178.0
        forms = [*sorted(asked), *(re.sub(r"[^\d.-]", "", s) for s in shown)]
        untraced: list[str] = []
        rewritten: list[str] = []
        misplaced: list[str] = []
        filled = 0

        def fix(text: str) -> str:
            nonlocal filled

            def fill(m: re.Match[str]) -> str:
                nonlocal filled
                k = int(m.group(1)) - 1
                if 0 <= k < len(shown):
                    filled += 1
                    return shown[k]
                return m.group(0)

            text = _PLACEHOLDER.sub(fill, text)
            for s in shown:  # "${1}" filled with "$12.50": one currency sign, not two
                if s[:1] in "$¥￥" and s[:1]:
                    text = text.replace(s[0] + s, s)
            pieces: list[str] = []
            last = 0
            for m in _MENTION.finditer(text):
                if any(text.startswith(s, m.start()) for s in shown):
                    continue
                same = _as_written(m.group("num"), forms)
                if same is not None:  # 178.0 for the question's 178: the input's own form, not a new number
                    pieces.append(text[last : m.start("num")])
                    pieces.append(same)
                    last = m.end("num")
                    rewritten.append(m.group("num"))
                    continue
                cell = misunit(m.group("num"), m.group("unit") or "", figures, results)
                if cell is not None:  # the input's value in a unit that is not its own: written as the input
                    pieces.append(text[last : m.start()])
                    pieces.append(as_input(cell))
                    last = m.end("unit")
                    misplaced.append(f"{m.group(0).strip()} → {as_input(cell)}")
                    continue
                if m.group("num").replace("−", "-").replace(",", "") in asked:
                    continue
                if traces(m.group("num"), m.group("unit") or "", figures, results):
                    continue
                untraced.append(m.group(0).strip())
                percent = (m.group("unit") or "").strip() in ("%", "％")
                values.setdefault(percent, set()).add(_mention_values(m.group("num"), m.group("unit") or ""))
                pieces.append(text[last : m.start()])
                pieces.append(self._replacement(m, results, decimals, ctx.zh, swap=percent not in several))
                last = m.end()
            return "".join(pieces) + text[last:]

        # untraced numbers of one kind (percentages, other amounts) by value: two different ones cannot both be the
        # one result of that kind ("2022年增长了1.2%，2023年增长了7.8%"), so then every one becomes the marker
        values: dict[bool, set[tuple[Fraction, int, bool]]] = {}
        several: set[bool] = set()
        for _ in range(2):
            fixed = each_string(data, fix, TEXT_FIELDS)
            several = {kind for kind, seen in values.items() if len(seen) > 1}
            if not several:
                break
            untraced.clear()
            rewritten.clear()
            misplaced.clear()
            filled = 0
        # a number's currency is its input's or result's: the question's one currency (a £ table's 0.1 is not 美元)
        currency = question_currency(ctx.question)
        recurrenced: list[str] = []

        def recurrency(text: str) -> str:
            out, changed = fix_currency(text, currency)
            recurrenced.extend(changed)
            return out

        fixed = each_string(fixed, recurrency, TEXT_FIELDS)
        findings: list[Finding] = []
        repairs: list[str] = []
        if recurrenced:
            findings.append(
                Finding("number_currency", f"number(s) in a currency not the question's: {'; '.join(recurrenced)}")
            )
            repairs.append(f"wrote {len(recurrenced)} number(s) in the question's currency")
        if filled:
            repairs.append(f"filled {filled} reference(s) to calculation results")
        if rewritten:
            repairs.append(f"wrote {len(rewritten)} number(s) as the question or the result writes them")
        if misplaced:
            findings.append(Finding("number_unit", f"input(s) written in a unit not their own: {'; '.join(misplaced)}"))
            repairs.append(f"wrote {len(misplaced)} input(s) in the question's own unit")
        if untraced:
            findings.append(
                Finding("untraced_number", f"number(s) not from a calculation or the question: {', '.join(untraced)}")
            )
            repairs.append(f"replaced {len(untraced)} untraced number(s)")
            bare = drop_bare_markers(ctx, fixed)
            if bare:
                repairs.append(f"removed {bare} clause(s) left saying only that a number was removed (repeats)")
        if done and not any(s in str(fixed.get("summary", "")) for s in shown):
            calc, _ = done[-1]
            lead = f"{calc.get('label', '')}：{shown[-1]}。" if ctx.zh else f"{calc.get('label', '')}: {shown[-1]}. "
            fixed["summary"] = lead + str(fixed.get("summary", ""))
            repairs.append("put the executed result at the start of the summary")
        return Repair(fixed, findings, repairs)

    @staticmethod
    def _replacement(m: re.Match[str], results: list[Result], decimals: int, zh: bool, swap: bool = True) -> str:
        """An untraced number becomes the one result of its kind (a percentage for a percentage), else a marker
        (always the marker when `swap` is False: the answer has several different untraced numbers of its kind)."""
        unit = (m.group("unit") or "").strip()
        percent = unit in ("%", "％")
        same = [r for r in results if (r.unit == "%") == percent]
        num = m.group("num")
        if not unit and (_YEAR.fullmatch(num) or _ZERO_LED.fullmatch(num)):
            same = []  # a year the question lacks or a run of zeros: removed, not turned into an amount
        if len(same) == 1 and swap:
            return same[0].text(decimals)
        return UNVERIFIED_ZH if zh else UNVERIFIED_EN


# a clause whose own words, the marker left out, are no more than a label ("差额是", "首月供为") says only that a
# number was removed; two of them read as one clause repeated ("差额是〔…〕，合计是〔…〕"), since the readability
# checks, which run earlier, saw two different numbers there
_BARE_LABEL = 7
_MARKERS = re.compile(re.escape(UNVERIFIED_ZH) + "|" + re.escape(UNVERIFIED_EN))


def _bare(text: str) -> bool:
    """A clause that holds the unverified-number marker and, apart from it, a label at most."""
    return bool(_MARKERS.search(text)) and len(clause_key(_MARKERS.sub("", text))) <= _BARE_LABEL


def drop_bare_markers(ctx: CheckContext, fixed: dict[str, Any]) -> int:
    """Keep the answer's first clause that says only that a number was removed, drop the later ones: a string
    field keeps its text when nothing else is left; a list item made only of them goes while its list keeps its
    minimum, else becomes the task's standard sentence for the field. Returns how many clauses went."""
    seen = False
    dropped = 0

    def strip(text: str) -> str | None:
        """The text without its bare-marker clauses after the first (None: nothing else was left)."""
        nonlocal seen, dropped
        kept: list[str] = []
        gone = 0
        for piece in pieces(text):
            if _bare(piece):
                if seen:
                    gone += 1
                    continue
                seen = True
            kept.append(piece)
        out = "".join(kept).strip()
        if not clause_key(out):
            return None if gone else text
        dropped += gone
        if gone and out[-1] in "，,；;、：:":
            out = out[:-1] + ("。" if ctx.zh else ".")
        return out

    for name in TEXT_FIELDS:
        value = fixed.get(name)
        if isinstance(value, str):
            fixed[name] = text if (text := strip(value)) is not None else value
        elif isinstance(value, list):
            # the same minimum and standard sentence the repetition check keeps a list to
            minimum = min_items(ctx.schema, name)
            items = [strip(v) if isinstance(v, str) else v for v in value]
            kept = [v for v in items if v is not None]
            standard = standard_sentence(ctx, name)
            empty = len(items) - len(kept)
            if len(kept) < minimum and standard:
                kept += [standard] * min(minimum - len(kept), empty)
            elif len(kept) < minimum:  # no standard sentence: the repeat stays rather than the list going short
                kept = [v if s is None else s for v, s in zip(value, items, strict=True)]
                empty = 0
            dropped += empty
            fixed[name] = kept
    return dropped


class MultipleChoiceCheck(BaseCheck):
    """A multiple-choice question is answered with the option nearest the last computed value."""

    name = "multiple_choice"
    rules = ("multiple_choice",)

    def repair(self, ctx: CheckContext, data: dict[str, Any]) -> Repair:
        options: list[Option] = ctx.facts.get("options") or []
        done: list[tuple[dict[str, Any], Result]] = ctx.notes.get("calculations") or []
        if not options or not done:
            return Repair(data)
        letter = nearest_option(options, done[-1][1])
        result_text = done[-1][1].text(_decimals(ctx))
        lead = (
            f"答案：{letter}（计算结果 {result_text}，最接近选项 {letter}）。"
            if ctx.zh
            else (f"Answer: {letter} (computed {result_text}, nearest option {letter}). ")
        )
        summary = re.sub(r"^(答案|Answer)[:：]\s*[A-D][^。.]*[。.]\s*", "", str(data.get("summary", "")))
        finding = Finding("multiple_choice", f"answered option {letter}, the one nearest the computed {result_text}")
        return Repair({**data, "summary": lead + summary}, [finding], [f"chose option {letter} by the computed value"])


def nearest_option(options: list[Option], result: Result) -> str:
    """The letter of the option nearest the result (an option in % against a ratio is compared in %)."""

    def distance(o: Option) -> Fraction:
        value = result.value
        if o.unit in ("%", "％") and result.unit != "%" and result.dim == "num":
            value *= 100
        return abs(o.value - value)

    return min(options, key=distance).letter
