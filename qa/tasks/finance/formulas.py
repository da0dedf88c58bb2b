"""The formula library: which indicator a question asks for (growth, share, 毛利率…) and, when the question's own
labels pick the operands unambiguously, the program that computes it, its slots filled by the app.

A small model asked to invent a formula applies whatever operation its example showed; recognising the indicator
lexically and choosing operands by labels (years in column headers, row names in the question) takes both
choices away from it. What the labels cannot decide stays unresolved: the model then writes the program itself,
and the library's template is offered to it as a hint. `formulas.yaml` holds the indicators (package data,
validated at load).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from ...calc import FUNCTIONS, CalcError, execute
from ...errors import PromptError
from ...tables import Cell, Figures, Table, find_tables
from .order import from_to

FILE = "formulas.yaml"
RESOLVERS = ("none", "years", "rows", "quantity_price", "amount_rate")
_SLOT = re.compile(r"\{(\w+)(\*?)\}")
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_WORD = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]", re.I)
_STOP = set(
    "the a an of in on at to for from and or by as is was were what how much did does do has have with between "
    "during period year years ended end change increase decrease difference average percentage ratio "
    "rate growth value amount number respectively its their this that which 的 了 是 多 少 年 在 和 与 及 从 到 "
    "比 率 增 长 加 减 变 化 同 环 平 均 合 计 总 差 额 占 值 为 请 问 几".split()
)
_COUNT_UNIT = re.compile(r"份|股|盎司|克|手|张")
# a price: named so, or written per unit ("每份1.082", "每股3元": the words before it end in 每 + a count word)
_PRICE_LABEL = re.compile(r"净值|价|price|nav|每(?:份|股|克|盎司|手|张)$", re.I)
# a price qualifier named in the question picks that price among several (最高价 for "按最高股价卖出")
_PRICE_QUALIFIERS = ("最高", "最低", "开盘", "收盘", "当前", "现价", "单位净值", "累计")


@dataclass(frozen=True)
class Indicator:
    """One library entry: its names, how it is recognised, and its program template over named slots."""

    id: str
    name_zh: str
    name_en: str
    patterns: tuple[re.Pattern[str], ...]
    program: str
    slots: dict[str, str]
    unit: str
    resolver: str

    def name(self, zh: bool) -> str:
        """The indicator's name in the question's language."""
        return self.name_zh if zh else self.name_en


@dataclass
class Plan:
    """What the library made of a question: the indicator, and the program when the app could fill every slot."""

    indicator: Indicator
    program: str | None = None  # None: the slots were ambiguous and the model chooses the operands
    operands: dict[str, list[str]] = field(default_factory=dict)  # slot → references the app chose
    why: str = ""  # how the operands were chosen, for the report
    unit: str | None = None  # the result's unit when the operands decide it (元 for 份 × 元/份), else the indicator's

    @property
    def resolved(self) -> bool:
        """True when the app chose every operand."""
        return self.program is not None

    def calculation(self, zh: bool) -> dict[str, Any]:
        """The calculation entry the answer carries (result is written by the executor)."""
        unit = self.indicator.unit if self.unit is None else self.unit
        return {"label": self.indicator.name(zh), "program": self.program, "result": None, "unit": unit}


class FormulaLibrary:
    """The indicators of formulas.yaml, in recognition order."""

    def __init__(self, indicators: list[Indicator]) -> None:
        self.indicators = indicators

    @classmethod
    def parse(cls, text: str, where: str = FILE) -> FormulaLibrary:
        """The library from its YAML text; PromptError naming the entry when one is malformed."""
        try:
            raw = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise PromptError(f"{where}: not valid YAML: {exc}") from exc
        entries = raw.get("indicators") if isinstance(raw, dict) else None
        if not isinstance(entries, list) or not entries:
            raise PromptError(f"{where}: needs a non-empty 'indicators' list")
        out: list[Indicator] = []
        seen: set[str] = set()
        for k, e in enumerate(entries, start=1):
            out.append(_indicator(e, f"{where}: indicator {k}", seen))
        return cls(out)

    def recognise(self, question: str) -> Indicator | None:
        """The first indicator (in library order) one of whose patterns the question matches, else None."""
        for ind in self.indicators:
            if any(p.search(question) for p in ind.patterns):
                return ind
        return None

    def plan(self, question: str, figures: Figures) -> Plan | None:
        """The recognised indicator with its operands chosen by the app where the labels decide them."""
        asked = find_tables(question)[1]  # the words around the tables: a table's own labels name every row
        ind = self.recognise(asked)
        if ind is None or not figures:
            return None
        filled = _resolve(ind, asked, figures)
        if filled is None:
            return Plan(ind)
        operands, why = filled
        program = _SLOT.sub(lambda m: ", ".join(operands[m.group(1)]), ind.program)
        unit = _money_unit(figures, operands.get("price", [])) if ind.resolver == "quantity_price" else None
        try:
            execute(program, ind.unit if unit is None else unit, figures)
        except CalcError:
            return Plan(ind)  # e.g. a zero base for a growth rate: leave it to the model and the report
        return Plan(ind, program, operands, why, unit)


def _money_unit(figures: Figures, refs: list[str]) -> str | None:
    """The currency of a price per unit (元 of 元/克): a count × a price is money in that currency, whatever
    scale the count was written in (25万股)."""
    cell = figures.get(refs[0]) if refs else None
    if cell is None:
        return None
    m = re.match(r"[^/]*?(美元|港元|人民币|元|\$|USD|HKD|RMB)", cell.text + cell.unit)
    return m.group(1) if m else None


def _indicator(e: Any, where: str, seen: set[str]) -> Indicator:
    if not isinstance(e, dict):
        raise PromptError(f"{where}: must be a mapping")
    missing = [k for k in ("id", "name_zh", "name_en", "patterns", "program", "slots", "resolver") if k not in e]
    if missing:
        raise PromptError(f"{where}: missing {', '.join(missing)}")
    ident = str(e["id"])
    if ident in seen:
        raise PromptError(f"{where}: duplicate id {ident}")
    seen.add(ident)
    if e["resolver"] not in RESOLVERS:
        raise PromptError(f"{where} ({ident}): resolver must be one of {', '.join(RESOLVERS)}")
    if not isinstance(e["patterns"], list) or not e["patterns"]:
        raise PromptError(f"{where} ({ident}): patterns must be a non-empty list")
    try:
        patterns = tuple(re.compile(str(p), re.I) for p in e["patterns"])
    except re.error as exc:
        raise PromptError(f"{where} ({ident}): bad pattern: {exc}") from exc
    slots = e["slots"]
    program = str(e["program"])
    used = [m.group(1) for m in _SLOT.finditer(program)]
    if not isinstance(slots, dict) or set(used) != set(slots):
        raise PromptError(f"{where} ({ident}): slots {sorted(slots or {})} do not match the program's {used}")
    names = set(re.findall(r"[a-z_]+(?=\()", _SLOT.sub("", program)))
    if not names <= set(FUNCTIONS):
        raise PromptError(f"{where} ({ident}): unknown function(s) {sorted(names - set(FUNCTIONS))}")
    unit = str(e.get("unit") or "")
    if unit not in ("", "%"):
        raise PromptError(f"{where} ({ident}): unit must be '%' or empty")
    return Indicator(
        ident, str(e["name_zh"]), str(e["name_en"]), patterns, program, {str(k): str(v) for k, v in slots.items()},
        unit, str(e["resolver"]),
    )  # fmt: skip


# ---- operand choice ---------------------------------------------------------------------------------------------


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if w.lower() not in _STOP and not _YEAR.fullmatch(w)}


def _col_words(text: str) -> set[str]:
    """Words that tell columns apart ("end" of period against "beginning"), which _words drops for rows."""
    return {w.lower() for w in re.findall(r"[a-z]+", text, re.I)} - {"the", "of", "at", "as", "a", "in", "and"}


def _years(text: str) -> list[str]:
    """Years named in the question, in order, a range (2017 to 2019, 2017-2019年) spelled out."""
    found = _YEAR.findall(text)
    m = re.search(r"((?:19|20)\d{2})\s*(?:-|–|~|至|到|to|through)\s*((?:19|20)\d{2})", text)
    if m and 0 < int(m.group(2)) - int(m.group(1)) < 30 and re.search(r"\d+ years|年间|这几年|期间|三年|五年", text):
        found = [str(y) for y in range(int(m.group(1)), int(m.group(2)) + 1)]
    out: list[str] = []
    for y in found:
        if y not in out:
            out.append(y)
    return out


def _unique_best(scores: list[tuple[float, Any]]) -> Any | None:
    """The item with the highest positive score, None when there is none or a tie."""
    scores = sorted(scores, key=lambda s: -s[0])
    if not scores or scores[0][0] <= 0 or (len(scores) > 1 and scores[1][0] == scores[0][0]):
        return None
    return scores[0][1]


def _row_score(label: str, words: set[str]) -> float:
    """How well a row label is named by the question's words: the share of the label's words the question
    has, plus a little per word, so a fuller match wins over a one-word label."""
    own = _words(label)
    if not own:
        return 0.0
    hit = len(own & words)
    return hit / len(own) + 0.01 * hit if hit else 0.0


def _rows(table: Table) -> list[tuple[str, list[Cell]]]:
    """(section, cells) per table row with figures; a section is the label of the last row above without any
    figure ("RSUs" over "Granted"), which tells apart rows of the same name."""
    by_row: dict[int, list[Cell]] = {}
    for cell in table.cells.values():
        m = re.search(r"row (\d+)", cell.source)
        if m:
            by_row.setdefault(int(m.group(1)), []).append(cell)
    out: list[tuple[str, list[Cell]]] = []
    section = ""
    for i, row in enumerate(table.rows, start=1):
        if i in by_row:
            out.append((section, by_row[i]))
        else:
            section = " ".join(c for c in row if c.strip())
    return out


def _best_row(table: Table, words: set[str]) -> list[Cell] | None:
    """The row the words name best: its own label first, its section's words break a tie."""
    scored = []
    for section, cells in _rows(table):
        score = _row_score(cells[0].row, words)
        if score:
            score += 0.1 * len(_words(section) & words)
        scored.append((score, cells))
    return _unique_best(scored)


def _year_of(cell: Cell) -> str | None:
    years = _YEAR.findall(cell.col)
    return years[-1] if len(set(years)) == 1 else None


def _resolve(ind: Indicator, question: str, figures: Figures) -> tuple[dict[str, list[str]], str] | None:
    if ind.resolver == "years" and figures.tables:
        return _by_years(ind, question, figures.tables[0])
    if ind.resolver == "rows" and figures.tables:
        return _by_rows(ind, question, figures.tables[0])
    if ind.resolver == "quantity_price" and figures.text and not figures.tables:
        return _by_quantity_price(question, figures.text)
    if ind.resolver == "amount_rate" and figures.text and not figures.tables:
        return _by_amount_rate(question, figures.text)
    return None


def _by_amount_rate(question: str, cells: list[Cell]) -> tuple[dict[str, list[str]], str] | None:
    """The one sum of money the text gives (not a price per unit: 369港元/股) and the one percentage."""
    amounts = [
        c for c in cells if c.unit.endswith("元") and not c.percent and "/" not in c.text + _after(c, question, 1)
    ]
    rates = [c for c in cells if c.percent]
    if len({c.value for c in amounts}) != 1 or len({c.value for c in rates}) != 1:
        return None
    return {"principal": [amounts[0].ref], "rate": [rates[0].ref]}, f"{amounts[0].text} × {rates[0].text}"


def _year_lines(table: Table) -> list[tuple[str, str, dict[str, Cell]]]:
    """(label, section, year → cell) for every line of figures over years: a row across year columns, or, in a
    table with one row per year (年份 | 营业收入 | 净利润), a column down the year rows."""
    lines: list[tuple[str, str, dict[str, Cell]]] = []
    for section, cells in _rows(table):
        by_year: dict[str, Cell] = {}
        for cell in cells:
            y = _year_of(cell)
            if y is not None:
                by_year[y] = cell if y not in by_year else by_year[y]
                if by_year[y] is not cell:
                    by_year[y] = None  # type: ignore[assignment]  # two columns of one year: undecided
        lines.append((cells[0].row, section, {y: c for y, c in by_year.items() if c is not None}))
    columns: dict[str, dict[str, Cell]] = {}
    for cell in table.cells.values():
        years = set(_YEAR.findall(cell.row))
        if len(years) == 1:
            columns.setdefault(cell.col, {})[years.pop()] = cell
    lines += [(col, "", by_year) for col, by_year in columns.items()]
    return [line for line in lines if len(line[2]) >= 1]


def _by_years(ind: Indicator, question: str, table: Table) -> tuple[dict[str, list[str]], str] | None:
    """One line of figures (named by the question) across the years the question names (or, with none named,
    all its years): growth/difference old → new by year, average/total over them."""
    words = _words(question)
    scored = []
    for label, section, by_year in _year_lines(table):
        score = _row_score(label, words)
        if score:
            score += 0.1 * len(_words(section) & words)
        scored.append((score, (label, by_year)))
    best = _unique_best(scored)
    if best is None:
        return None
    label, by_year = best
    asked = [y for y in _years(question) if y in by_year]
    slots = list(ind.slots)
    if slots == ["values"]:
        years = asked or sorted(by_year)
        if ind.id == "average" and len(asked) == 1 and str(int(asked[0]) - 1) in by_year:
            years = [str(int(asked[0]) - 1), asked[0]]  # "the 2019 average" of a balance: opening and closing
        if len(years) < 2:
            return None
        refs = [by_year[y].ref for y in sorted(years)]
        return {"values": refs}, f"“{label}”, {', '.join(sorted(years))}"
    if set(slots) != {"old", "new"}:
        return None
    if len(asked) >= 2:
        pair = asked[:2]
        span = from_to(question)
        if span is not None and {str(y) for y in span} == set(pair) and ind.id == "difference":
            old, new = (str(y) for y in span)  # "from A to B" is B − A, even when it says "difference between"
        elif ind.id == "difference" and re.search(r"\bbetween\b|相差|差额", question, re.I):
            new, old = pair  # "difference between A and B" is A − B: the first named first
        else:
            old, new = sorted(pair)
    elif len(asked) == 1 or len(by_year) < 2:
        return None
    else:
        old, new = sorted(by_year)[-2:]  # none named: the latest year against the one before
    operands = {"old": [by_year[old].ref], "new": [by_year[new].ref]}
    return operands, f"“{label}”, {old} → {new}"


_SPLIT_TWO = re.compile(r"\b(?:out of|among|of the total|in the total|to)\b|占|相对于|与|和", re.I)


def _by_rows(ind: Indicator, question: str, table: Table) -> tuple[dict[str, list[str]], str] | None:
    """Two rows named in order in the question (part … out of whole; A … to B), in the column of the year the
    question names (or the table's only figure column)."""
    parts = _SPLIT_TWO.split(question, maxsplit=1)
    if len(parts) != 2:
        return None
    first = _best_row(table, _words(parts[0]))
    second = _best_row(table, _words(parts[1]))
    if first is None or second is None or first[0].source == second[0].source:
        return None
    years = _years(question)
    cols = {c.col for c in first} & {c.col for c in second}
    if years:
        cols = {c for c in cols if years[0] in c}
    else:
        q = _col_words(question)
        scored = [(len(_col_words(c) & q), c) for c in cols]
        best = _unique_best([(float(s), c) for s, c in scored])
        cols = {best} if best is not None else (cols if len(cols) == 1 else set())
    if len(cols) != 1:
        return None
    col = cols.pop()
    a = next(c for c in first if c.col == col)
    b = next(c for c in second if c.col == col)
    names = list(ind.slots)
    return {names[0]: [a.ref], names[1]: [b.ref]}, f"rows “{a.row}” and “{b.row}”, column “{col}”"


def _after(cell: Cell, text: str, n: int) -> str:
    """The n characters of the text just after a text figure."""
    m = re.search(r"characters (\d+)–(\d+)", cell.source)
    return text[int(m.group(2)) : int(m.group(2)) + n] if m else ""


def _counted(cell: Cell, text: str) -> bool:
    """True when a figure counts units held: 份/股/克 in its unit or just after it (25万股)."""
    return bool(_COUNT_UNIT.search(cell.unit) or _COUNT_UNIT.match(_after(cell, text, 2)))


def _by_quantity_price(question: str, cells: list[Cell]) -> tuple[dict[str, list[str]], str] | None:
    """A number of units (份/股/克/盎司) held, and the one price per unit the text gives (a qualifier such as
    最高 or 收盘 next to the quantity picks among several prices)."""
    quantities = [c for c in cells if _counted(c, question) and "/" not in c.text]
    if len(quantities) != 1:
        return None
    qty = quantities[0]
    prices = [
        c
        for c in cells
        if c is not qty and not c.percent and (_PRICE_LABEL.search(c.row) or "/" in c.text) and c.value > 0
    ]
    # the clause that states the quantity says which price ("按最高股价卖出25万股"); the rest of a long text
    # names every kind of price
    wanted = [w for w in _PRICE_QUALIFIERS if w in qty.row]
    if wanted:
        named = [c for c in prices if any(w in c.row or w in c.text for w in wanted)]
        prices = named or prices
    values = {c.value for c in prices}
    if len(values) != 1:
        return None
    price = prices[0]
    return {"quantity": [qty.ref], "price": [price.ref]}, f"{qty.text} × {price.row or price.text}"
