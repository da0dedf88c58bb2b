"""A tab's conversation as plain data (kept per browser session), its model history, and its exports."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from .types import ChatMessage

Status = Literal["streaming", "done", "stopped", "error"]


def new_turn(question: str) -> dict[str, Any]:
    """A turn that has just been asked."""
    return {"question": question, "status": "streaming", "partial": None, "answer": None, "feedback": None}


def model_history(turns: list[dict[str, Any]]) -> list[ChatMessage]:
    """Earlier finished turns as alternating user/assistant messages; stopped or failed turns are left out."""
    history: list[ChatMessage] = []
    for turn in turns:
        answer = turn.get("answer")
        if turn.get("status") == "done" and answer and answer.get("answer") is not None:
            history.append({"role": "user", "content": turn["question"]})
            history.append({"role": "assistant", "content": json.dumps(answer["answer"], ensure_ascii=False)})
    return history


def export_json(domain: str, turns: list[dict[str, Any]], system_prompt: str, params: dict[str, Any]) -> str:
    """The whole conversation: messages, structured answers, validation reports, model and parameters."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt}]
    for turn in turns:
        messages.append({"role": "user", "content": turn["question"]})
        answer = turn.get("answer")
        if answer is not None:
            messages.append({"role": "assistant", "content": json.dumps(answer["answer"], ensure_ascii=False)})
    payload = {
        "domain": domain,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "system_prompt": system_prompt,
        "current_params": params,
        "messages": messages,
        "turns": [
            {
                "question": t["question"],
                "status": t["status"],
                "feedback": t.get("feedback"),
                "answer": (t.get("answer") or {}).get("answer", t.get("partial")),
                "validation": (t.get("answer") or {}).get("validation"),
                "model": (t.get("answer") or {}).get("model"),
                "params": (t.get("answer") or {}).get("params"),
                "usage": (t.get("answer") or {}).get("usage"),
                "dropped_turns": (t.get("answer") or {}).get("dropped_turns", 0),
            }
            for t in turns
        ],
    }
    return json.dumps(payload, ensure_ascii=False, indent=2)


_UNFINISHED = {"stopped": "已停止，回答不完整", "error": "生成失败", "streaming": "未完成"}
_SECTIONS = (("summary", "总结"), ("analysis", "分析"), ("suggestions", "建议"), ("risk_notice", "风险提示"))


def export_markdown(domain_label: str, turns: list[dict[str, Any]]) -> str:
    """The conversation as a readable Markdown document."""
    lines = [f"# {domain_label} 对话记录", ""]
    for i, turn in enumerate(turns, 1):
        answer = turn.get("answer") or {}
        data = answer.get("answer") or turn.get("partial") or {}
        lines += [f"## {i}. {turn['question']}", ""]
        if data.get("urgent"):
            lines += ["> **可能需要立即就医：请立即前往急诊或拨打 120。**", ""]
        for key, title in _SECTIONS:
            value = data.get(key)
            if not value:
                continue
            lines.append(f"**{title}**")
            lines += [f"- {v}" for v in value] if isinstance(value, list) else [str(value)]
            lines.append("")
        if turn["status"] != "done":
            lines += [f"*（{_UNFINISHED[turn['status']]}）*", ""]
        report = answer.get("validation")
        if report:
            fired = "；".join(f"[{h['rule']}] {h['message']}" for h in report["fired"]) or "无"
            lines += [f"*校验：{'通过' if report['passed'] else '未通过'}；触发规则：{fired}*", ""]
        model = answer.get("model")
        if model:
            params = answer.get("params", {})
            lines += [
                f"*模型：{model.get('name')} · temperature {params.get('temperature')} · top_p {params.get('top_p')}"
                f" · max_new_tokens {params.get('max_new_tokens')}*",
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"
