"""Operand order: a program over two years' figures takes them in the order the question means.

A growth rate (`pct_change(old, new)`, `cagr(start, end, n)`, `(new - old) / old`) runs from the earlier year to
the later; a change, increase or decrease is the later year minus the earlier; a "difference between A and B" is
the first-named minus the second-named, unless the question says "from A to B" (从A年到B年): then B − A, whatever
word it uses for the difference (TAT-QA's "difference between X from 2018 to 2019" means 2019 − 2018). The model
often writes the two the other way round (the newer column comes first in most tables); the check swaps them and
says so. A year is a cell's when its row or column label names exactly one year; programs whose operands carry
no years are left as they are.
"""

from __future__ import annotations

import re

from ...tables import Figures, find_tables

_REF = r"(?:T\d+)?R\d+C\d+|F\d+"
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_RATE = re.compile(rf"^\s*(pct_change|cagr)\(\s*({_REF})\s*,\s*({_REF})\s*(,[^()]*)?\)\s*$")
_MINUS = re.compile(rf"^\s*({_REF})\s*-\s*({_REF})\s*$")
_GROWTH = re.compile(rf"^\s*\(\s*({_REF})\s*-\s*({_REF})\s*\)\s*/\s*({_REF})\s*$")
_CHANGE = re.compile(
    r"change|increase|decrease|rise|grow|growth|fall|decline|drop|增加|减少|增长|下降|变化|变动|增幅|降幅|上升|下滑",
    re.I,
)
_DIFFERENCE = re.compile(r"difference|差额|相差|之差", re.I)
_FY = r"(?:(?:fiscal(?:\s+year)?|FY)\s*)?"
_FROM_TO = (
    re.compile(rf"\bfrom\s+{_FY}((?:19|20)\d{{2}})\s+(?:to|through|until)\s+{_FY}((?:19|20)\d{{2}})(?!\d)", re.I),
    re.compile(r"从\s*((?:19|20)\d{2})\s*年?度?\s*(?:到|至)\s*((?:19|20)\d{2})(?!\d)"),
)


def from_to(text: str) -> tuple[int, int] | None:
    """The (from, to) years of "from 2018 to 2019" / "从2022年到2023年" in a text, or None: a change or a difference
    over that span is the `to` year's figure minus the `from` year's."""
    for pattern in _FROM_TO:
        m = pattern.search(text)
        if m and m.group(1) != m.group(2):
            return int(m.group(1)), int(m.group(2))
    return None


def cell_year(figures: Figures, ref: str) -> int | None:
    """The one year a figure's labels name (its column, else its row), or None."""
    cell = figures.get(ref)
    if cell is None:
        return None
    for label in (cell.col, cell.row):
        years = set(_YEAR.findall(label or ""))
        if len(years) == 1:
            return int(years.pop())
    return None


def named_years(question: str) -> list[int]:
    """The years the user's own words name (tables left out), in the order first named."""
    _, words = find_tables(question)
    out: list[int] = []
    for y in _YEAR.findall(words):
        if int(y) not in out:
            out.append(int(y))
    return out


def reorder(program: str, question: str, figures: Figures) -> str | None:
    """The program with its two year-labelled operands in the order the question means, or None when it already
    is (or the order cannot be told)."""
    named = named_years(question)

    def years(a: str, b: str) -> tuple[int, int] | None:
        ya, yb = cell_year(figures, a), cell_year(figures, b)
        if ya is None or yb is None or ya == yb:
            return None
        if named and not (ya in named and yb in named):
            return None  # the question names other years: the operands are not the two it asks about
        return ya, yb

    m = _RATE.match(program)
    if m:
        fn, a, b, rest = m.group(1), m.group(2), m.group(3), m.group(4) or ""
        ys = years(a, b)
        if ys and ys[0] > ys[1]:  # old → new: the earlier year first
            return f"{fn}({b}, {a}{rest})"
        return None
    m = _GROWTH.match(program)
    if m:
        a, b, c = m.groups()
        ys = years(a, b)
        if c == b and ys and ys[0] < ys[1]:  # (new − old) / old written (old − new) / new
            return f"({b} - {a}) / {a}"
        return None
    m = _MINUS.match(program)
    if m:
        a, b = m.groups()
        ys = years(a, b)
        if ys is None:
            return None
        _, words = find_tables(question)
        span = from_to(words)
        if span is not None and set(span) == set(ys) and (_DIFFERENCE.search(words) or _CHANGE.search(words)):
            return None if ys[0] == span[1] else f"{b} - {a}"  # "from A to B": B − A, over "difference between"
        if _DIFFERENCE.search(words) and len(named) >= 2:
            first = named.index(ys[0]) < named.index(ys[1])  # the first named first
            return None if first else f"{b} - {a}"
        if _CHANGE.search(words) and ys[0] < ys[1]:  # a change: the later year minus the earlier
            return f"{b} - {a}"
    return None
