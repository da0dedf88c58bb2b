"""The finance answer's calculations on the page: each as a readable formula with the exact result and its unit,
and the question's tables with the cells the calculations used highlighted. Every user or model string is
escaped; the results are recomputed here from the question, so what is shown is what the app executed."""

from __future__ import annotations

import re
from typing import Any

from ...calc import REF, CalcError, Result, decimals_asked, exact_text, execute, normalize
from ...render import _esc
from ...tables import Figures, Table, format_fraction
from .calculations import DEFAULT_DECIMALS, question_figures


def readable(program: str, figures: Figures) -> str:
    """The program with each reference spelled out: `pct_change(营业收入 2022[R1C2]=80亿元, …)`, as plain text."""

    def name(m: re.Match[str]) -> str:
        cell = figures.get(m.group(0))
        if cell is None:
            return m.group(0)
        labels = " ".join(x for x in (cell.row, cell.col) if x)
        return f"{labels}[{cell.ref}]={format_fraction(cell.value)}{cell.unit}"

    return REF.sub(name, normalize(program)).replace("*", "×").replace("/", "÷")


def _table_html(table: Table, used: set[str]) -> str:
    prefix = f"T{table.index}" if table.index > 1 else ""
    head = "".join(f"<th>{_esc(h)}</th>" for h in table.header)
    body = []
    for i, row in enumerate(table.rows, start=1):
        tds = []
        for j, text in enumerate(row, start=1):
            ref = f"{prefix}R{i}C{j}"
            cell = _esc(text)
            if ref in used:
                cell = f'<mark title="{ref}">{cell}</mark>'
            tds.append(f"<td>{cell}</td>")
        body.append("<tr>" + "".join(tds) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def render_calculations(question: str, data: dict[str, Any]) -> str:
    """HTML of the answer's calculations and the tables they used (empty when there are none)."""
    calcs = [c for c in data.get("calculations") or [] if isinstance(c, dict)]
    if not calcs:
        return ""
    figures = question_figures(question)
    asked = decimals_asked(question)
    decimals = DEFAULT_DECIMALS if asked is None else asked
    items = []
    used: set[str] = set()
    for calc in calcs:
        program = str(calc.get("program", ""))
        try:
            result: Result | None = execute(program, str(calc.get("unit", "")), figures)
        except CalcError:
            result = None
        label = _esc(calc.get("label", ""))
        formula = _esc(readable(program, figures))
        if result is None:
            items.append(f"<li>{label}：<code>{formula}</code></li>")
            continue
        used.update(result.refs)
        exact = _esc(exact_text(result.value) + result.unit)
        shown = _esc(result.text(decimals))
        items.append(f"<li><strong>{label}</strong> = {shown}<br><code>{formula}</code><br>精确值 exact: {exact}</li>")
    tables = "".join(_table_html(t, used) for t in figures.tables if used & set(_refs(t)))
    return f'<div class="qa-section qa-calc"><h4>计算</h4><ul>{"".join(items)}</ul>{tables}</div>'


def _refs(table: Table) -> list[str]:
    return list(table.cells)
