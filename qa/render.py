"""Turns answers into safe HTML: every model string is escaped, so an answer can never inject markup."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .tasks.base import AnswerView
from .validation import ValidationReport

if TYPE_CHECKING:
    from .conversation import Turn

DISCLAIMER = (
    "本工具提供健康与金融知识参考，不构成医疗诊断、治疗或投资建议。身体出现紧急情况请立即拨打 120 或就近就医；"
    "投资决策请咨询持牌专业人士。"
)


# One pass over the text: HTML's special characters, and the characters Markdown (the chat view renders Markdown)
# would turn into images, links, emphasis or maths. As numeric entities they display the same but can never form
# markup, so an answer like "![x](http://elsewhere/t.png)" or "<img onerror=…>" stays text and the browser makes
# no request for it.
_INERT = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
    | {c: f"&#{ord(c)};" for c in "!#$()*+-[\\]_`{|}~:"}
)


def _esc(value: Any) -> str:
    """Model or user text as inert HTML: escaped, Markdown-neutral, line breaks kept."""
    text = str(value).replace("\r\n", "\n").translate(_INERT)
    # a blank line would end the HTML block and hand the rest to the Markdown parser
    return text.replace("\n", "<br>")


def partial_json(text: str) -> dict[str, Any] | None:
    """Best-effort parse of an unfinished JSON object, closing open strings and brackets; None if hopeless."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and stack:
            stack.pop()
    candidate = text
    if in_string:
        # a dangling backslash would escape the closing quote
        candidate = (candidate[:-1] if escaped else candidate) + '"'
    candidate = candidate.rstrip()
    if candidate.endswith(","):
        candidate = candidate[:-1]
    elif candidate.endswith(":"):
        candidate += "null"
    candidate += "".join(reversed(stack))
    try:
        data = json.loads(candidate)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def render_answer(
    data: dict[str, Any] | None,
    view: AnswerView,
    *,
    pending: bool = False,
    error: str | None = None,
    alerts: bool = True,
) -> str:
    """HTML for a (possibly partial) structured answer, laid out by the task's view (alerts=False: triage shows the
    banner instead)."""
    parts = ['<div class="qa-answer">']
    if error:
        parts.append(f'<div class="qa-error" role="alert">⚠ {_esc(error)}</div>')
    data = data or {}
    for alert in view.active_alerts(data) if alerts else []:
        parts.append(f'<div class="qa-urgent" role="alert">{alert.html}</div>')
    for section in view.sections:
        value = data.get(section.key)
        if value in (None, "", []):
            continue
        css = "qa-risk" if section.style == "notice" else "qa-section"
        parts.append(f'<div class="{css}"><h4>{_esc(section.title)}</h4>')
        if isinstance(value, list):
            items = "".join(f"<li>{_esc(v)}</li>" for v in value if v not in (None, ""))
            parts.append(f"<ul>{items}</ul>")
        else:
            parts.append(f"<p>{_esc(value)}</p>")
        parts.append("</div>")
    if pending:
        parts.append('<div class="qa-pending">生成中…</div>')
    parts.append("</div>")
    return "".join(parts)


def render_report(r: ValidationReport) -> str:
    """HTML summary of a validation report: checks, rules fired, repairs."""
    status = "通过" if r.passed else "未通过"
    rows = [f"<p><strong>校验 {status}</strong> · 检查项：{_esc('、'.join(r.checks))} · 生成次数：{r.attempts}</p>"]
    if r.fired:
        rows.append(
            "<ul>"
            + "".join(f"<li>[{_esc(h.rule)}] 第 {h.attempt} 次：{_esc(h.message)}</li>" for h in r.fired)
            + "</ul>"
        )
    if r.repairs:
        rows.append("<p>修复：</p><ul>" + "".join(f"<li>{_esc(x)}</li>" for x in r.repairs) + "</ul>")
    return '<div class="qa-report">' + "".join(rows) + "</div>"


def render_question(text: str) -> str:
    """The user's question as inert HTML for the chat view."""
    return f'<div class="qa-question">{_esc(text)}</div>'


_STATUS_NOTES = {
    "stopped": "已停止生成（回答不完整，未计入后续对话）。 Stopped.",
    "error": "生成失败。 Generation failed.",
}


_SIGNAL_NAMES = {"rule": "规则 rule", "classifier": "分类器 classifier"}


def render_triage(triage: dict[str, Any]) -> str:
    """Triage before the answer: the emergency banner (naming the signals that fired), or the department."""
    if triage.get("emergency"):
        signals = triage.get("signals", {})
        fired = "、".join(name for key, name in _SIGNAL_NAMES.items() if signals.get(key)) or "triage"
        return (
            '<div class="qa-urgent qa-triage" role="alert"><strong>⚠ 可能是急症，请立即拨打 120 或前往最近医院的急诊。</strong>'
            f" Possible emergency: call 120 or go to the emergency department now.（分诊依据 signals: {_esc(fired)}）</div>"
        )
    return (
        f'<div class="qa-triage qa-notice" role="status">分诊科室 Department: <strong>'
        f"{_esc(triage.get('department', ''))}</strong>（非急症判断，仅供参考）</div>"
    )


def render_citations(citations: list[dict[str, Any]]) -> str:
    """A knowledge-base answer's numbered citations: file, page, verified or not, and the passage with the quote
    highlighted (only a verified quote is highlighted; an unverified one is shown as the model wrote it)."""
    if not citations:
        return '<div class="qa-citations qa-note">资料库：本回答没有引用。 Knowledge base: no citations.</div>'
    items = []
    for n, c in enumerate(citations, start=1):
        verified = c.get("verified") is True
        badge = (
            '<span class="qa-cite-ok">✓ 已核实 verified</span>'
            if verified
            else '<span class="qa-cite-bad">⚠ 未核实 unverified</span>'
        )
        where = f"{_esc(c.get('file') or '?')} · 第 {_esc(c.get('page') or '?')} 页 · {_esc(c.get('chunk', ''))}"
        quote, passage = str(c.get("quote", "")), str(c.get("passage") or "")
        start, end, base = c.get("start"), c.get("end"), int(c.get("passage_start") or 0)
        if verified and passage and isinstance(start, int) and isinstance(end, int):
            a, b = start - base, end - base
            body = f"{_esc(passage[:a])}<mark>{_esc(passage[a:b])}</mark>{_esc(passage[b:])}"
        else:
            body = f"模型引用的原文未在该片段中找到：{_esc(quote)}" + (
                f"<br>片段原文：{_esc(passage)}" if passage else ""
            )
        items.append(
            f"<li><details><summary>[{n}] {where} {badge} “{_esc(quote)}”</summary>"
            f'<div class="qa-passage">{body}</div></details></li>'
        )
    return '<div class="qa-citations"><h4>引用 Citations</h4><ol>' + "".join(items) + "</ol></div>"


def render_turn(turn: Turn, view: AnswerView) -> str:
    """The assistant side of one chat turn: triage (when the task has it), the (partial) answer, then its
    validation report. With triage, its banner replaces the answer's own alerts: the banner follows triage."""
    head = render_triage(turn.triage) if turn.triage else ""
    alerts = turn.triage is None
    answer = turn.answer
    if answer is not None:
        error = None if answer.ok else "回答未通过校验，请查看下方报告；可调高最大生成长度后重试。"
        extra = view.extra(answer.question, answer.data) if view.extra is not None and answer.data else ""
        cited = render_citations(answer.citations) if answer.citations is not None else ""
        return (
            head
            + render_answer(answer.data, view, error=error, alerts=alerts)
            + extra
            + cited
            + render_report(answer.report)
        )
    note = _STATUS_NOTES.get(turn.status)
    body = render_answer(turn.partial, view, pending=turn.status == "streaming", error=turn.error, alerts=alerts)
    return head + body + (f'<div class="qa-note">{_esc(note)}</div>' if note else "")


CSS = """
.qa-answer h4 { margin: 0.6em 0 0.2em; }
.qa-urgent { background: #b91c1c; color: #fff; padding: 0.8em 1em; border-radius: 8px; font-size: 1.1em; margin-bottom: 0.6em; }
.qa-error { background: #92400e; color: #fff; padding: 0.6em 1em; border-radius: 8px; margin-bottom: 0.6em; }
.qa-risk { border-left: 4px solid #d97706; padding: 0.2em 0.8em; margin-top: 0.6em; }
.qa-pending { opacity: 0.7; font-style: italic; }
.qa-report { font-size: 0.9em; opacity: 0.9; margin-top: 0.6em; padding-top: 0.4em; border-top: 1px solid var(--border-color-primary, #ccc); }
.qa-disclaimer { font-size: 0.9em; opacity: 0.85; }
.qa-note { font-size: 0.9em; opacity: 0.8; font-style: italic; }
.qa-notice { font-size: 0.9em; padding: 0.2em 0.6em; border-left: 4px solid #2563eb; }
.qa-report ul, .qa-answer ul { margin: 0.2em 0 0.2em 1.2em; }
.qa-buttons { flex-wrap: wrap !important; gap: 0.4em !important; }
.qa-buttons button { flex: 1 1 5.5em !important; min-width: 5.5em !important; white-space: nowrap; }
.qa-calc table { border-collapse: collapse; margin: 0.4em 0; font-size: 0.9em; }
.qa-calc td, .qa-calc th { border: 1px solid #d1d5db; padding: 0.15em 0.5em; text-align: right; }
.qa-calc mark { background: #fde68a; color: #111; font-weight: 600; }
.qa-citations ol { margin: 0.2em 0 0.2em 1.4em; font-size: 0.92em; }
.qa-citations mark { background: #fde68a; color: #111; }
.qa-cite-ok { color: #15803d; font-weight: 600; }
.qa-cite-bad { color: #b91c1c; font-weight: 600; }
.qa-passage { padding: 0.3em 0.6em; border-left: 3px solid #9ca3af; margin: 0.2em 0; }
@media (max-width: 640px) { .qa-title h1 { font-size: 1.4em !important; } }
"""
