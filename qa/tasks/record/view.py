"""How an extraction shows: the record with each field's span highlighted (hover a span for its field, click a
table row to jump to its span, click a span to jump to its row), a table of fields with their verification status,
and the Markdown export. Every record or model string is escaped here.

Offsets are code points; the record is cut into segments with Python's (code-point) slicing on the server, so
what the browser highlights is exactly text[start:end] — there is no UTF-16 index to get wrong.
"""

from __future__ import annotations

import html
import json
from typing import Any

STATUS_LABEL = {
    "exact": ("✓ 精确", "exact"),
    "normalised": ("≈ 规范化", "normalised"),
    "fuzzy": ("~ 模糊", "fuzzy"),
    "ungrounded": ("✗ 未验证", "unverified"),
}
STYLE = """<style>
.qa-extract .qa-record{white-space:pre-wrap;line-height:1.9;padding:.75rem;border:1px solid #8884;border-radius:8px;
max-height:32rem;overflow:auto}
.qa-extract .qa-span{background:#ffe58f66;border-bottom:2px solid #d4a106;color:inherit;text-decoration:none}
.qa-extract .qa-span:hover,.qa-extract .qa-span:focus{background:#ffc53d;outline:2px solid #d48806}
.qa-extract table{border-collapse:collapse;width:100%;margin-top:.75rem}
.qa-extract th,.qa-extract td{border:1px solid #8884;padding:.25rem .5rem;vertical-align:top;text-align:left}
.qa-extract tr:target{background:#ffe58f55}
.qa-extract .qa-st-unverified{color:#cf1322;font-weight:600}
.qa-extract .qa-st-fuzzy{color:#d46b08}
.qa-extract .qa-st-exact,.qa-extract .qa-st-normalised{color:#389e0d}
.qa-extract tr.qa-unverified td{background:#fff1f022}
</style>"""
_TARGET = "background:#ffc53d;outline:2px solid #d48806"


def value_text(value: Any) -> str:
    """A field value as one line of text (a lab's name, value and unit joined)."""
    if isinstance(value, dict):
        return " ".join(str(v) for v in value.values() if v not in ("", None))
    if isinstance(value, list):
        return "、".join(value_text(v) for v in value)
    return "" if value is None else str(value)


def _segments(text: str, fields: list[dict[str, Any]]) -> tuple[str, list[int]]:
    """The record as HTML — plain text, and marked segments where one or more fields' spans cover it — and the
    fields that have a span. Spans overlap (several fields quote one sentence), so a field's span can be several
    segments: each carries the class of every field covering it, and an empty anchor `rec-f<i>` stands where
    field i starts, for the table's link to target."""
    spans = [
        (i, f["start"], f["end"])
        for i, f in enumerate(fields)
        if isinstance(f.get("start"), int) and isinstance(f.get("end"), int) and 0 <= f["start"] < f["end"] <= len(text)
    ]
    cuts = sorted({0, len(text), *(s for _, s, _ in spans), *(e for _, _, e in spans)})
    out = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        out.extend(f'<span id="rec-f{i}" class="qa-anchor"></span>' for i, s, _ in spans if s == a)
        piece = html.escape(text[a:b])
        covering = [i for i, s, e in spans if s <= a and b <= e]
        if not covering:
            out.append(piece)
            continue
        names = "、".join(f"{fields[i]['name']}: {value_text(fields[i]['value'])}" for i in covering)
        classes = " ".join(f"qa-s{i}" for i in covering)
        out.append(
            f'<a class="qa-span {classes}" href="#row-f{covering[0]}" data-fields="{" ".join(map(str, covering))}"'
            f' title="{html.escape(names)}">{piece}</a>'
        )
    return "".join(out), [i for i, _, _ in spans]


def _target_style(located: list[int]) -> str:
    """One rule per field with a span: when its anchor is the page's target (a click on its row's link), every
    segment of its span is highlighted, however many other fields cut it into pieces."""
    if not located:
        return ""
    # the anchor precedes every segment of its span among the same siblings, so `~` reaches them all
    rules = "".join(f".qa-extract #rec-f{i}:target~.qa-s{i}{{{_TARGET}}}" for i in located)
    return f"<style>{rules}</style>"


def render_extraction(text: str, data: dict[str, Any]) -> str:
    """The page's view of an extraction: the highlighted record and the table of fields."""
    fields = list(data.get("fields") or [])
    rows = []
    for i, f in enumerate(fields):
        label, css = STATUS_LABEL.get(str(f.get("status")), (str(f.get("status")), "unverified"))
        if f.get("status") == "fuzzy" and "score" in f:
            label += f" {f['score']}"
        where = f"{f['start']}–{f['end']}" if isinstance(f.get("start"), int) else "—"
        link = f'<a href="#rec-f{i}">{html.escape(where)}</a>' if isinstance(f.get("start"), int) else where
        rows.append(
            f'<tr id="row-f{i}" class="{"qa-unverified" if css == "unverified" else ""}">'
            f"<td>{i + 1}</td><td>{html.escape(str(f.get('name', '')))}</td>"
            f"<td>{html.escape(value_text(f.get('value')))}</td><td>{html.escape(str(f.get('quote', '')))}</td>"
            f"<td>{html.escape(str(f.get('sentence', '')))}</td><td>{link}</td>"
            f'<td class="qa-st-{css}">{html.escape(label)}</td></tr>'
        )
    counts = data.get("counts") or {}
    summary = " · ".join(f"{STATUS_LABEL[k][0]} {counts.get(k, 0)}" for k in STATUS_LABEL)
    record = data.get("record") or {}
    info = (
        f"{record.get('chars', len(text))} 字 · {record.get('sentences', '?')} 句 · {record.get('windows', 1)} 个窗口"
    )
    table = (
        "<table><thead><tr><th>#</th><th>字段</th><th>值</th><th>原文 quote</th><th>句</th><th>位置</th><th>状态</th>"
        f"</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        if rows
        else "<p>未提取到字段 / no fields extracted</p>"
    )
    record_html, located = _segments(text, fields)
    return (
        f'{STYLE}{_target_style(located)}<div class="qa-extract"><p>{html.escape(info)} · {html.escape(summary)}</p>'
        f'<div class="qa-record">{record_html}</div>{table}</div>'
    )


def _md_cell(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def export_markdown(text: str, data: dict[str, Any]) -> str:
    """The extraction as Markdown: a table of fields with value, quote, offsets and status."""
    lines = [
        "# 病历提取 Record extraction",
        "",
        f"{len(text)} characters; offsets are code points into the stored (NFKC) record text.",
        "",
        "| # | field | value | quote | sentence | start | end | status |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for i, f in enumerate(data.get("fields") or [], start=1):
        cells = [
            i,
            f.get("name"),
            value_text(f.get("value")),
            f.get("quote"),
            f.get("sentence"),
            "" if f.get("start") is None else f["start"],
            "" if f.get("end") is None else f["end"],
            f.get("status"),
        ]
        lines.append("| " + " | ".join(_md_cell(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def export_json(text: str, data: dict[str, Any], extra: dict[str, Any] | None = None) -> str:
    """The extraction as JSON: the fields with offsets, the record's counts, and the stored text they index."""
    return json.dumps({**data, "text": text, **(extra or {})}, ensure_ascii=False, indent=2)
