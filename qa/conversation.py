"""A tab's conversation as typed turns (kept per browser session), its model history, and its exports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from .answers import Answer
from .tasks.base import AnswerView
from .types import ChatMessage

Status = Literal["streaming", "done", "stopped", "error"]


@dataclass
class Turn:
    """One question in a conversation and what became of it."""

    question: str
    status: Status = "streaming"
    partial: dict[str, Any] | None = None  # the answer so far while streaming (or when stopped)
    answer: Answer | None = None  # the checked answer once done
    feedback: Literal["up", "down"] | None = None
    error: str | None = None
    triage: dict[str, Any] | None = None  # emergency and department, known before the answer streams

    @property
    def shown(self) -> dict[str, Any] | None:
        """What the page shows of the answer: the checked one, else the partial one."""
        return self.answer.data if self.answer is not None else self.partial

    def record(self) -> dict[str, Any]:
        """The turn as exported and rated: the answer with its report, model, parameters and usage."""
        answer = self.answer
        return {
            "question": self.question,
            "status": self.status,
            "feedback": self.feedback,
            "answer": self.shown,
            "validation": answer.report.to_dict() if answer else None,
            "model": answer.model if answer else None,
            "params": answer.params if answer else None,
            "usage": answer.usage if answer else None,
            "dropped_turns": answer.dropped_turns if answer else 0,
            **({"triage": self.triage} if self.triage else {}),
        }


def model_history(turns: list[Turn]) -> list[ChatMessage]:
    """Earlier finished turns as alternating user/assistant messages; stopped or failed turns are left out."""
    history: list[ChatMessage] = []
    for turn in turns:
        if turn.status == "done" and turn.answer is not None and turn.answer.data is not None:
            history.append({"role": "user", "content": turn.question})
            history.append({"role": "assistant", "content": json.dumps(turn.answer.data, ensure_ascii=False)})
    return history


def export_json(task: str, turns: list[Turn], system_prompt: str, params: dict[str, Any]) -> str:
    """The whole conversation: messages, structured answers, validation reports, model and parameters."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt}]
    for turn in turns:
        messages.append({"role": "user", "content": turn.question})
        if turn.answer is not None:
            messages.append({"role": "assistant", "content": json.dumps(turn.answer.data, ensure_ascii=False)})
    payload = {
        "task": task,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "system_prompt": system_prompt,
        "current_params": params,
        "messages": messages,
        "turns": [turn.record() for turn in turns],
    }
    return json.dumps(payload, ensure_ascii=False, indent=2)


_UNFINISHED = {"stopped": "已停止，回答不完整", "error": "生成失败", "streaming": "未完成"}


def export_markdown(label: str, view: AnswerView, turns: list[Turn]) -> str:
    """The conversation as a readable Markdown document."""
    lines = [f"# {label} 对话记录", ""]
    for i, turn in enumerate(turns, 1):
        data = turn.shown or {}
        lines += [f"## {i}. {turn.question}", ""]
        for alert in view.active_alerts(data):
            lines += [f"> {alert.markdown}", ""]
        for section in view.sections:
            value = data.get(section.key)
            if not value:
                continue
            lines.append(f"**{section.title}**")
            lines += [f"- {v}" for v in value] if isinstance(value, list) else [str(value)]
            lines.append("")
        if turn.status != "done":
            lines += [f"*（{_UNFINISHED[turn.status]}）*", ""]
        answer = turn.answer
        if answer is not None:
            report = answer.report
            fired = "；".join(f"[{h.rule}] {h.message}" for h in report.fired) or "无"
            lines += [f"*校验：{'通过' if report.passed else '未通过'}；触发规则：{fired}*", ""]
            params = answer.params
            lines += [
                f"*模型：{answer.model.get('name')} · temperature {params.get('temperature')} · top_p {params.get('top_p')}"
                f" · max_new_tokens {params.get('max_new_tokens')}*",
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"
