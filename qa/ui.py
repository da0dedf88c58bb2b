"""The Gradio page: one multi-turn chat tab per task with streamed structured answers, controls, export and
ratings. The page only calls service methods; each tab is laid out from its task (examples, sections, alerts)."""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Any

import gradio as gr

from .conversation import Turn, export_json, export_markdown, model_history
from .errors import QAError
from .feedback import FeedbackLog
from .render import CSS, DISCLAIMER, partial_json, render_question, render_turn
from .service import QAService
from .tasks.base import AnswerView
from .types import MIN_NEW_TOKENS, TEMPERATURE_RANGE, TOP_P_RANGE

log = logging.getLogger(__name__)

# Chinese first; the language switch swaps every label to the English one.
TEXT: dict[str, tuple[str, str]] = {
    "lang": ("界面语言", "Language"),
    "question": ("问题", "Question"),
    "placeholder": ("请输入你的问题，按 Enter 发送，Shift+Enter 换行…", "Type a question; Enter sends…"),
    "send": ("发送", "Send"),
    "stop": ("停止", "Stop"),
    "regenerate": ("重新生成", "Regenerate"),
    "undo": ("撤销", "Undo"),
    "new": ("新对话", "New chat"),
    "examples": ("示例问题（点击即问）", "Example questions (click to ask)"),
    "advanced": ("高级设置", "Advanced"),
    "system": ("系统提示（可编辑）", "System prompt (editable)"),
    "reset": ("恢复默认", "Reset to default"),
    "export": ("导出与原始数据", "Export and raw data"),
    "export_json": ("导出 JSON", "Export JSON"),
    "export_md": ("导出 Markdown", "Export Markdown"),
    "file": ("导出文件", "Exported file"),
    "raw": ("最近一次回答的 JSON", "Latest answer as JSON"),
    "chat": ("对话", "Conversation"),
    "model": ("模型", "Model"),
    "kb": ("资料库", "Documents"),
    "use_kb": ("依据本页资料库回答（带核实的引用）", "Answer from this tab's documents (verified citations)"),
    "kb_upload": ("上传资料（PDF、DOCX、TXT、Markdown）", "Upload documents (PDF, DOCX, TXT, Markdown)"),
    "kb_file": ("选择文件", "File"),
    "kb_delete": ("删除所选文件", "Delete the selected file"),
}
LANGS = ("中文", "English")


def _t(key: str, lang: str = "中文") -> str:
    return TEXT[key][LANGS.index(lang)]


def page_error(exc: BaseException) -> str:
    """What a page client is told: a QAError's own message (written for users), else a generic line with an id
    that finds the details in the server log."""
    if isinstance(exc, QAError):
        return str(exc)
    error_id = uuid.uuid4().hex[:12]
    log.error("page request failed (error id %s)", error_id, exc_info=exc)
    return (
        f"内部错误，请稍后再试（错误编号 {error_id}）。 Internal error (id {error_id}); the server log has the details."
    )


class StopSwitch:
    """Per-session stop events, so the Stop button reaches the generation even before Gradio cancels it."""

    def __init__(self) -> None:
        self._events: dict[tuple[str, str], threading.Event] = {}
        self._lock = threading.Lock()

    def start(self, session: str, task: str) -> threading.Event:
        """A fresh stop event for this session's generation in a task."""
        event = threading.Event()
        with self._lock:
            self._events[(session, task)] = event
        return event

    def stop(self, session: str, task: str) -> None:
        """Stop this session's generation in a task, if one is running."""
        with self._lock:
            event = self._events.pop((session, task), None)
        if event is not None:
            event.set()

    def finish(self, session: str, task: str, event: threading.Event) -> None:
        """Forget a finished generation's event."""
        with self._lock:
            if self._events.get((session, task)) is event:
                del self._events[(session, task)]


def model_line(service: QAService, lang: str = "中文") -> str:
    """Markdown line naming the live model, dtype and device."""
    return f"**{_t('model', lang)}**：{service.model_info().describe()}"


def chat_messages(turns: list[Turn], view: AnswerView) -> list[dict[str, str]]:
    """The chat view of a conversation: each question and its rendered, inert answer."""
    messages = []
    for turn in turns:
        messages.append({"role": "user", "content": render_question(turn.question)})
        messages.append({"role": "assistant", "content": render_turn(turn, view)})
    return messages


def controls(turns: list[Turn], busy: bool) -> tuple[dict[str, Any], ...]:
    """Enable only what makes sense: send/stop by state; regenerate/undo/new/export once there is a turn."""
    idle_with_turns = not busy and bool(turns)
    return (
        gr.update(interactive=not busy),
        gr.update(interactive=busy),
        *(gr.update(interactive=idle_with_turns) for _ in range(5)),
    )


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "local"


def _notice(dropped: int) -> str:
    if not dropped:
        return ""
    return (
        f'<div class="qa-notice" role="status">对话较长：最早的 {dropped} 轮超出模型上下文，本次回答未参考它们。'
        f" The oldest {dropped} turn(s) no longer fit the model's context and were left out.</div>"
    )


class ExportFolder:
    """Where exports are written: one folder per tab, each export in its own subfolder, removed once Gradio has
    had time to copy it for the download (max_age_s) and all of it when the process exits."""

    def __init__(self, max_age_s: float = 120.0) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="medfin-export-"))
        self.max_age_s = max_age_s
        atexit.register(shutil.rmtree, self.root, True)

    def new(self) -> Path:
        """A fresh subfolder for one export; older exports are removed first."""
        limit = time.time() - self.max_age_s
        for old in self.root.iterdir():
            try:
                if old.stat().st_mtime < limit:
                    shutil.rmtree(old, ignore_errors=True)
            except OSError:  # removed by a concurrent export
                pass
        return Path(tempfile.mkdtemp(dir=self.root))


class ChatHandlers:
    """The UI handlers of one task's tab; Gradio calls these bound methods with the components' values."""

    def __init__(self, service: QAService, stops: StopSwitch, feedback: FeedbackLog, task: str) -> None:
        spec = service.task(task)
        self.service = service
        self.stops = stops
        self.feedback = feedback
        self.task = task
        self.label = spec.label
        self.view = spec.view
        self.exports = ExportFolder()
        self.default_prompt = spec.system_prompt()

    def chat(self, turns: list[Turn]) -> list[dict[str, str]]:
        """The chat view of this tab's conversation."""
        return chat_messages(turns, self.view)

    def _generate(
        self,
        question: str,
        turns: list[Turn],
        system_prompt: str,
        temperature: float,
        top_p: float,
        max_new_tokens: float,
        request: gr.Request | None,
        use_kb: bool = False,
    ) -> Iterator[tuple[Any, ...]]:
        """Stream one answer into the chat: (chat, turns, question box, notice, raw JSON, *controls)."""
        service, task = self.service, self.task
        session = _session(request)
        stop_event = self.stops.start(session, task)
        events = None
        earlier = turns
        turn = Turn(question.strip() if isinstance(question, str) else question)
        try:
            params = service.params(task, temperature, top_p, max_new_tokens)
            custom = None if (system_prompt or "").strip() == self.default_prompt else system_prompt
            if service.triage_on(task):
                # emergency banner and department as soon as the question is sent, before the model answers
                # (an empty or too long question is refused here, before the page changes)
                turn.triage = service.triage(question)[0].to_dict()
                shown = [*earlier, turn]
                # the state holds the new turn already, so a Stop in this frame marks it stopped instead of losing
                # it; the question stays in its box until the answer starts (bad input may still refuse it)
                yield self.chat(shown), shown, question, "", gr.update(), *controls(shown, busy=True)
            events = service.stream(
                task,
                question,
                params,
                stop_event=stop_event,
                history=model_history(turns),
                system_prompt=custom,
                collection=task if use_kb else None,  # each tab's documents are the collection named after it
            )
            first = next(events)  # bad input raises here, before the answer starts: the question stays in its box
        except Exception as exc:  # noqa: BLE001 - every failure ends here, the unexpected ones without details
            self.stops.finish(session, task, stop_event)
            if events is not None:
                events.close()
            if turn.triage is not None:  # take the early triage frame back
                yield self.chat(earlier), earlier, question, "", gr.update(), *controls(earlier, busy=False)
            raise gr.Error(page_error(exc)) from exc
        except GeneratorExit:  # the page went away during the early triage frame
            self.stops.finish(session, task, stop_event)
            raise
        turns = [*turns, turn]
        notice = _notice(first.dropped_turns)
        try:
            for event in chain([first], events):
                if stop_event.is_set():
                    # Stop was pressed: the Stop handler has shown this turn as stopped, and Gradio cancels this
                    # handler a moment later; a frame sent in between (a chunk in flight, or the stopped answer's
                    # final event) must not turn it back into a streaming or finished answer
                    turn.status = "stopped"
                    yield self.chat(turns), turns, "", notice, gr.update(), *controls(turns, busy=False)
                    return
                if event.kind == "partial":
                    data = partial_json(event.text)  # text is already held back and redacted by the service
                    if data is not None:
                        turn.partial = data
                    yield self.chat(turns), turns, "", notice, gr.update(), *controls(turns, busy=True)
                else:
                    assert event.answer is not None
                    turn.status, turn.partial, turn.answer = "done", None, event.answer
                    raw = json.dumps(event.answer.to_dict(), ensure_ascii=False, indent=2)
                    yield self.chat(turns), turns, "", notice, raw, *controls(turns, busy=False)
        except Exception as exc:  # noqa: BLE001
            if isinstance(exc, QAError):
                log.warning("generation failed: %s", exc)
            turn.status, turn.error = "error", page_error(exc)
            yield self.chat(turns), turns, "", notice, gr.update(), *controls(turns, busy=False)
        finally:
            # a closed handler (Stop button, disconnect) stops the generation and waits until the model is free
            stop_event.set()
            events.close()
            self.stops.finish(session, task, stop_event)

    def ask(
        self,
        question: str,
        turns: list[Turn] | None,
        system_prompt: str,
        temperature: float,
        top_p: float,
        max_new_tokens: float,
        request: gr.Request = None,  # type: ignore[assignment]  # Gradio fills it in
        use_kb: bool = False,  # the page's 资料库 checkbox (Gradio puts the request before it)
    ) -> Iterator[tuple[Any, ...]]:
        """Ask a question after the tab's earlier turns."""
        yield from self._generate(
            question, list(turns or []), system_prompt, temperature, top_p, max_new_tokens, request, bool(use_kb)
        )

    def regenerate(
        self,
        turns: list[Turn] | None,
        system_prompt: str,
        temperature: float,
        top_p: float,
        max_new_tokens: float,
        request: gr.Request = None,  # type: ignore[assignment]
        use_kb: bool = False,
    ) -> Iterator[tuple[Any, ...]]:
        """Ask the last question again in place of its answer."""
        turns = list(turns or [])
        if not turns:
            raise gr.Error("还没有可以重新生成的回答。 Nothing to regenerate yet.")
        question = turns[-1].question
        yield from self._generate(
            question, turns[:-1], system_prompt, temperature, top_p, max_new_tokens, request, bool(use_kb)
        )

    def stop(self, turns: list[Turn] | None, request: gr.Request = None) -> tuple[Any, ...]:  # type: ignore[assignment]
        """Stop this session's generation and mark the unfinished turn."""
        self.stops.stop(_session(request), self.task)
        turns = [replace(t) for t in turns or []]
        if turns and turns[-1].status == "streaming":
            turns[-1].status = "stopped"
        return self.chat(turns), turns, *controls(turns, busy=False)

    def undo(self, turns: list[Turn] | None, cleared: list[Turn] | None, question: str) -> tuple[Any, ...]:
        """Remove the last turn and put its question back in the box; right after New chat, bring the chat back."""
        turns = list(turns or [])
        if not turns and cleared:
            return self.chat(cleared), cleared, [], question, "", *controls(cleared, busy=False)
        question = turns.pop().question if turns else question
        return self.chat(turns), turns, [], question, "", *controls(turns, busy=False)

    @staticmethod
    def new_chat(turns: list[Turn] | None, question: str) -> tuple[Any, ...]:
        """Clear the tab's conversation, keeping it aside so that Undo can bring it back."""
        turns = list(turns or [])
        notice = (
            '<div class="qa-notice" role="status">已开始新对话；点“撤销”可恢复刚才的对话。'
            " New chat started; Undo brings the previous one back.</div>"
            if turns
            else ""
        )
        send, stop, regen, undo, *rest = controls([], busy=False)
        undo = gr.update(interactive=bool(turns))
        return [], [], turns, question, notice, "", send, stop, regen, undo, *rest

    def rate(self, turns: list[Turn] | None, data: gr.LikeData) -> list[Turn]:
        """Append a thumbs up/down with its turn to the feedback file."""
        turns = [replace(t) for t in turns or []]
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        turn_no = int(index) // 2
        if not 0 <= turn_no < len(turns):
            raise gr.Error("找不到这条回答。 That answer is no longer in the conversation.")
        liked = data.liked.lower() == "like" if isinstance(data.liked, str) else bool(data.liked)
        try:
            self.feedback.record(self.task, turn_no, liked, turns[turn_no])
        except QAError as exc:
            raise gr.Error(str(exc)) from exc
        turns[turn_no].feedback = "up" if liked else "down"
        gr.Info("已记录反馈，谢谢！ Feedback saved.")
        return turns

    def export(
        self,
        kind: str,
        turns: list[Turn] | None,
        system_prompt: str,
        temperature: float,
        top_p: float,
        max_new_tokens: float,
    ) -> str:
        """Write the tab's conversation to a JSON or Markdown file and offer it for download."""
        turns = turns or []
        if not turns:
            raise gr.Error("对话为空，没有可导出的内容。 The conversation is empty.")
        if kind == "json":
            params = {"temperature": temperature, "top_p": top_p, "max_new_tokens": max_new_tokens}
            text, suffix = export_json(self.task, turns, system_prompt, params), ".json"
        else:
            text, suffix = export_markdown(self.label, self.view, turns), ".md"
        folder = self.exports.new()
        path = folder / f"{self.task}-chat-{datetime.now():%Y%m%d-%H%M%S}{suffix}"
        path.write_text(text, encoding="utf-8")
        return str(path)

    def export_json(self, turns, system_prompt, temperature, top_p, max_new_tokens) -> str:  # noqa: ANN001
        """Export as JSON."""
        return self.export("json", turns, system_prompt, temperature, top_p, max_new_tokens)

    def export_markdown(self, turns, system_prompt, temperature, top_p, max_new_tokens) -> str:  # noqa: ANN001
        """Export as Markdown."""
        return self.export("md", turns, system_prompt, temperature, top_p, max_new_tokens)


def _constant(value: Any) -> Any:
    return value


class KbHandlers:
    """The 资料库 panel of one tab: its documents are the knowledge-base collection named after the task."""

    def __init__(self, service: QAService, collection: str) -> None:
        self.service = service
        self.collection = collection

    def table(self) -> str:
        """The collection's files as an escaped HTML table (name, pages, chunks)."""
        from .render import _esc

        try:
            files = self.service.kb_files(self.collection)
        except QAError as exc:
            return f'<div class="qa-error">{_esc(str(exc))}</div>'
        if not files:
            return '<div class="qa-note">资料库为空：上传文件后即可依据它们回答。 No documents yet.</div>'
        rows = "".join(f"<tr><td>{_esc(f['name'])}</td><td>{f['pages']}</td><td>{f['chunks']}</td></tr>" for f in files)
        return (
            f'<table class="qa-kb-files"><tr><th>文件 File</th><th>页 Pages</th><th>片段 Chunks</th></tr>{rows}</table>'
        )

    def refresh(self) -> tuple[Any, ...]:
        """The table and the delete list as stored now."""
        try:
            names = [f["name"] for f in self.service.kb_files(self.collection)]
        except QAError:
            names = []
        return self.table(), gr.update(choices=names, value=None)

    def upload(self, paths: list[str] | str | None) -> tuple[Any, ...]:
        """Store the uploaded files; a file that cannot be used is reported and the others still go in."""
        added, problems = 0, []
        for path in [paths] if isinstance(paths, str) else paths or []:
            name = Path(path).name
            try:
                self.service.kb_add(self.collection, name, Path(path).read_bytes())
                added += 1
            except (QAError, OSError) as exc:
                problems.append(page_error(exc) if isinstance(exc, QAError) else f"{name}: {exc}")
        for problem in problems:
            gr.Warning(problem)
        if added:
            gr.Info(f"已加入 {added} 个文件。 Added {added} file(s).")
        return (*self.refresh(), None, gr.update(value=True) if added else gr.update())

    def delete(self, name: str | None) -> tuple[Any, ...]:
        """Remove the selected file and its passages."""
        if not name:
            raise gr.Error("请先选择要删除的文件。 Choose a file first.")
        try:
            self.service.kb_remove(self.collection, [name])
        except QAError as exc:
            raise gr.Error(page_error(exc)) from exc
        return self.refresh()


def _kb_panel(service: QAService, labels: _Labels, name: str) -> Any:
    """The tab's 资料库 panel; returns the 'answer from documents' checkbox (a constant False without a knowledge
    base)."""
    if not service.kb_on():
        return gr.State(False)
    h = KbHandlers(service, name)
    with labels.add(gr.Accordion(_t("kb"), open=False, elem_id=f"{name}-kb"), label="kb") as panel:
        use_kb = labels.add(gr.Checkbox(False, label=_t("use_kb"), elem_id=f"{name}-use-kb"), label="use_kb")
        uploads = labels.add(
            gr.File(
                label=_t("kb_upload"),
                file_count="multiple",
                file_types=[".pdf", ".docx", ".txt", ".md", ".markdown"],
                type="filepath",
                elem_id=f"{name}-kb-upload",
            ),
            label="kb_upload",
        )
        table = gr.HTML(h.table, elem_id=f"{name}-kb-files")  # a function: read again at every page load
        with gr.Row():
            choose = labels.add(gr.Dropdown([], label=_t("kb_file"), elem_id=f"{name}-kb-choose"), label="kb_file")
            delete = labels.add(gr.Button(_t("kb_delete"), size="sm", elem_id=f"{name}-kb-delete"), value="kb_delete")
    uploads.upload(h.upload, uploads, [table, choose, uploads, use_kb], api_name=False)
    delete.click(h.delete, choose, [table, choose], api_name=False)
    panel.expand(h.refresh, None, [table, choose], api_name=False, queue=False)  # files the CLI or API added
    return use_kb


class _Labels:
    """Components whose text follows the language switch."""

    def __init__(self) -> None:
        self.items: list[tuple[gr.components.Component | gr.blocks.BlockContext, dict[str, str]]] = []

    def add(self, component: Any, **keys: str) -> Any:
        self.items.append((component, keys))
        return component

    def switch(self, service: QAService, lang: str) -> list[dict[str, Any]]:
        updates = []
        for _component, keys in self.items:
            updates.append(
                gr.update(
                    **{
                        prop: (model_line(service, lang) if key == "@model" else _t(key, lang))
                        for prop, key in keys.items()
                    }
                )
            )
        return updates


def _task_tab(service: QAService, stops: StopSwitch, feedback: FeedbackLog, labels: _Labels, name: str) -> None:
    spec = service.task(name)
    defaults = spec.defaults
    turns = gr.State([])
    cleared = gr.State([])  # the conversation New chat just cleared, until Undo restores it or a new turn starts
    chat = labels.add(
        gr.Chatbot(
            label=_t("chat"),
            elem_id=f"{name}-chat",
            height=520,
            latex_delimiters=[],  # "$" in an answer is money, not maths
            feedback_options=("Like", "Dislike"),
            group_consecutive_messages=False,
            buttons=["copy_all"],  # no share button: conversations stay on this machine
            placeholder=f"**{spec.label}** · {spec.label_en}",
        ),
        label="chat",
    )
    notice = gr.HTML(elem_id=f"{name}-notice")
    question = labels.add(
        gr.Textbox(
            label=_t("question"),
            placeholder=_t("placeholder"),
            lines=2,
            max_lines=12,
            elem_id=f"{name}-question",
        ),
        label="question",
        placeholder="placeholder",
    )
    with gr.Row(elem_classes=["qa-buttons"]):
        send = labels.add(gr.Button(_t("send"), variant="primary", elem_id=f"{name}-send"), value="send")
        stop_btn = labels.add(
            gr.Button(_t("stop"), variant="stop", interactive=False, elem_id=f"{name}-stop"), value="stop"
        )
        regen = labels.add(
            gr.Button(_t("regenerate"), interactive=False, elem_id=f"{name}-regenerate"), value="regenerate"
        )
        undo_btn = labels.add(gr.Button(_t("undo"), interactive=False, elem_id=f"{name}-undo"), value="undo")
        new_btn = labels.add(gr.Button(_t("new"), interactive=False, elem_id=f"{name}-new"), value="new")
    labels.add(gr.Markdown(_t("examples")), value="examples")
    with gr.Row():
        example_buttons = [
            gr.Button(text, size="sm", elem_id=f"{name}-example-{i}") for i, text in enumerate(spec.examples)
        ]
    use_kb = _kb_panel(service, labels, name)
    with labels.add(gr.Accordion(_t("advanced"), open=False, elem_id=f"{name}-advanced"), label="advanced"):
        system = labels.add(
            gr.Textbox(spec.system_prompt(), label=_t("system"), lines=8, max_lines=30, elem_id=f"{name}-system"),
            label="system",
        )
        reset = labels.add(gr.Button(_t("reset"), size="sm", elem_id=f"{name}-reset"), value="reset")
        temperature = gr.Slider(*TEMPERATURE_RANGE, value=defaults["temperature"], step=0.05, label="temperature")
        top_p = gr.Slider(*TOP_P_RANGE, value=defaults["top_p"], step=0.05, label="top_p")
        max_new_tokens = gr.Slider(
            MIN_NEW_TOKENS,
            service.max_new_tokens_limit,
            value=defaults["max_new_tokens"],
            step=32,
            label="max new tokens",
        )
    with labels.add(gr.Accordion(_t("export"), open=False, elem_id=f"{name}-exports"), label="export"):
        with gr.Row():
            export_json_btn = labels.add(
                gr.Button(_t("export_json"), size="sm", interactive=False, elem_id=f"{name}-export-json"),
                value="export_json",
            )
            export_md_btn = labels.add(
                gr.Button(_t("export_md"), size="sm", interactive=False, elem_id=f"{name}-export-md"), value="export_md"
            )
        exported = labels.add(gr.File(label=_t("file"), interactive=False, elem_id=f"{name}-file"), label="file")
        raw = labels.add(gr.Code(language="json", label=_t("raw"), elem_id=f"{name}-raw"), label="raw")

    buttons = [send, stop_btn, regen, undo_btn, new_btn, export_json_btn, export_md_btn]
    settings = [system, temperature, top_p, max_new_tokens]
    stream_outputs = [chat, turns, question, notice, raw, *buttons]
    h = ChatHandlers(service, stops, feedback, name)
    model = {"concurrency_id": "model", "show_progress": "minimal"}
    asked = [*settings, use_kb]
    runs = [
        send.click(h.ask, [question, turns, *asked], stream_outputs, api_name=f"ask_{name}", **model),
        question.submit(h.ask, [question, turns, *asked], stream_outputs, api_name=False, **model),
        regen.click(h.regenerate, [turns, *asked], stream_outputs, api_name=False, **model),
    ]
    for button, text in zip(example_buttons, spec.examples, strict=True):
        runs.append(
            button.click(partial(_constant, text), None, question, api_name=False, queue=False).then(
                h.ask, [question, turns, *asked], stream_outputs, api_name=False, **model
            )
        )
    stop_btn.click(h.stop, [turns], [chat, turns, *buttons], cancels=runs, api_name=False, queue=False)
    undo_btn.click(
        h.undo,
        [turns, cleared, question],
        [chat, turns, cleared, question, notice, *buttons],
        api_name=False,
        queue=False,
    )
    for clear in (chat.clear, new_btn.click):
        clear(
            h.new_chat,
            [turns, question],
            [chat, turns, cleared, question, notice, raw, *buttons],
            api_name=False,
            queue=False,
        )
    reset.click(partial(_constant, h.default_prompt), None, system, api_name=False, queue=False)
    chat.like(h.rate, [turns], [turns], api_name=False, queue=False)
    export_json_btn.click(h.export_json, [turns, *settings], exported, api_name=False, queue=False)
    export_md_btn.click(h.export_markdown, [turns, *settings], exported, api_name=False, queue=False)


# ---- the extraction surface: a document in, fields with their source spans out -------------------------------------
EXTRACT_TEXT: dict[str, tuple[str, str]] = {
    "record": ("病历原文（粘贴，或上传 TXT/DOCX/PDF）", "Record (paste, or upload TXT/DOCX/PDF)"),
    "record_placeholder": ("把出院小结、病例报告等粘贴在这里…", "Paste a discharge summary or case report…"),
    "upload": ("上传病历文件", "Upload a record file"),
    "extract": ("提取", "Extract"),
    "schema": (
        "自定义字段 schema（可选，JSON Schema，对象须封闭）",
        "Your own field schema (optional, closed objects)",
    ),
    "result": ("提取结果", "Extracted fields"),
}
TEXT.update(EXTRACT_TEXT)


class ExtractHandlers:
    """The UI handlers of one extraction tab (a task whose surface is extract)."""

    def __init__(self, service: QAService, stops: StopSwitch, task: str) -> None:
        self.service = service
        self.stops = stops
        self.task = task
        self.extractor = service.task(task).extractor
        self.exports = ExportFolder()

    def _record(self, text: str, upload: str | None) -> str:
        """The pasted text, or the uploaded file parsed (NFKC, like the knowledge base)."""
        if upload:
            from .documents import parse_document

            path = Path(upload)
            return parse_document(path.name, path.read_bytes()).text
        return text or ""

    def run(
        self,
        text: str,
        upload: str | None,
        schema: str,
        request: gr.Request = None,  # type: ignore[assignment]
    ) -> Iterator[tuple[Any, ...]]:
        """Extract fields: a progress line while the model writes, then the highlighted record and the table."""
        session = _session(request)
        stop_event = self.stops.start(session, self.task)
        events = None
        try:
            record = self._record(text, upload)
            params = self.service.params(self.task)
            fields = (schema or "").strip() or None
            events = self.service.extract(self.task, record, params, schema=fields, stop_event=stop_event, channel="ui")
            first = next(events)
        except Exception as exc:  # noqa: BLE001 - every failure ends here, the unexpected ones without details
            self.stops.finish(session, self.task, stop_event)
            if events is not None:
                events.close()
            raise gr.Error(page_error(exc)) from exc
        try:
            for event in chain([first], events):
                if event.kind == "partial":
                    progress = f'<p class="qa-notice" role="status">提取中… {len(event.text)} 字 / extracting…</p>'
                    yield progress, gr.update(), None, gr.update(interactive=False), gr.update(interactive=True)
                elif event.answer is not None:
                    answer = event.answer
                    shown = self.extractor.render(answer.question, answer.data or {})
                    raw = json.dumps(answer.to_dict(), ensure_ascii=False, indent=2)
                    yield shown, raw, answer.to_dict(), gr.update(interactive=True), gr.update(interactive=False)
        except Exception as exc:  # noqa: BLE001
            yield (
                _esc_error(page_error(exc)),
                gr.update(),
                None,
                gr.update(interactive=True),
                gr.update(interactive=False),
            )
        finally:
            stop_event.set()
            if events is not None:
                events.close()
            self.stops.finish(session, self.task, stop_event)

    def stop(self, request: gr.Request = None) -> tuple[Any, ...]:  # type: ignore[assignment]
        """Stop this session's extraction."""
        self.stops.stop(_session(request), self.task)
        return gr.update(interactive=True), gr.update(interactive=False)

    def export(self, kind: str, result: dict[str, Any] | None) -> str:
        """Write the latest extraction to a JSON or Markdown file and offer it for download."""
        if not result or not result.get("answer"):
            raise gr.Error("还没有提取结果，没有可导出的内容。 Nothing extracted yet.")
        extra = {"validation": result.get("validation"), "model": result.get("model")}
        text, suffix = self.extractor.export(kind, result["question"], result["answer"], extra)
        path = self.exports.new() / f"{self.task}-{datetime.now():%Y%m%d-%H%M%S}{suffix}"
        path.write_text(text, encoding="utf-8")
        return str(path)


def _esc_error(message: str) -> str:
    import html

    return f'<div class="qa-notice" role="alert">{html.escape(message)}</div>'


def _extract_tab(service: QAService, stops: StopSwitch, feedback: FeedbackLog, labels: _Labels, name: str) -> None:
    h = ExtractHandlers(service, stops, name)
    record = labels.add(
        gr.Textbox(
            label=_t("record"),
            placeholder=_t("record_placeholder"),
            lines=10,
            max_lines=30,
            elem_id=f"{name}-record",
        ),
        label="record",
        placeholder="record_placeholder",
    )
    upload = labels.add(
        gr.File(
            label=_t("upload"), file_types=[".txt", ".md", ".docx", ".pdf"], type="filepath", elem_id=f"{name}-upload"
        ),
        label="upload",
    )
    with labels.add(gr.Accordion(_t("advanced"), open=False, elem_id=f"{name}-advanced"), label="advanced"):
        schema = labels.add(
            gr.Code(language="json", label=_t("schema"), elem_id=f"{name}-schema", interactive=True), label="schema"
        )
    with gr.Row(elem_classes=["qa-buttons"]):
        run = labels.add(gr.Button(_t("extract"), variant="primary", elem_id=f"{name}-extract"), value="extract")
        stop_btn = labels.add(
            gr.Button(_t("stop"), variant="stop", interactive=False, elem_id=f"{name}-stop"), value="stop"
        )
    shown = gr.HTML(elem_id=f"{name}-result")
    result = gr.State(None)
    with labels.add(gr.Accordion(_t("export"), open=False, elem_id=f"{name}-exports"), label="export"):
        with gr.Row():
            export_json_btn = labels.add(
                gr.Button(_t("export_json"), size="sm", elem_id=f"{name}-export-json"), value="export_json"
            )
            export_md_btn = labels.add(
                gr.Button(_t("export_md"), size="sm", elem_id=f"{name}-export-md"), value="export_md"
            )
        exported = labels.add(gr.File(label=_t("file"), interactive=False, elem_id=f"{name}-file"), label="file")
        raw = labels.add(gr.Code(language="json", label=_t("raw"), elem_id=f"{name}-raw"), label="raw")
    model = {"concurrency_id": "model", "show_progress": "minimal"}
    go = run.click(
        h.run, [record, upload, schema], [shown, raw, result, run, stop_btn], api_name=f"extract_{name}", **model
    )
    stop_btn.click(h.stop, None, [run, stop_btn], cancels=[go], api_name=False, queue=False)
    export_json_btn.click(partial(h.export, "json"), [result], exported, api_name=False, queue=False)
    export_md_btn.click(partial(h.export, "md"), [result], exported, api_name=False, queue=False)


# the page component each task surface is laid out with
SURFACES = {"chat": _task_tab, "extract": _extract_tab}


def keep_gradio_offline() -> None:
    """Gradio sends usage analytics (to its own host, and through huggingface_hub's telemetry to the model hub)
    unless told not to: this app's page reports nothing anywhere, whatever the environment says."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"


def build_demo(service: QAService, feedback: FeedbackLog, title: str = "医金问答 MedFin QA") -> gr.Blocks:
    """The whole page for a service; nothing is loaded here."""
    stops = StopSwitch()
    labels = _Labels()
    # Gradio keeps a copy of every file it serves (the exports): hourly, copies older than an hour are removed
    keep_gradio_offline()
    with gr.Blocks(title=title, delete_cache=(3600, 3600), analytics_enabled=False) as demo:
        with gr.Row():
            gr.Markdown(f"# {title}", elem_classes=["qa-title"])
            lang = gr.Radio(list(LANGS), value=LANGS[0], label=_t("lang"), elem_id="lang", scale=0, min_width=180)
        labels.add(lang, label="lang")
        info = labels.add(gr.Markdown(model_line(service), elem_id="model-info"), value="@model")
        gr.Markdown(DISCLAIMER, elem_classes=["qa-disclaimer"])
        with gr.Tabs():
            for spec in service.tasks():
                with gr.Tab(f"{spec.label} {spec.label_en}", id=spec.name, elem_id=f"tab-{spec.name}"):
                    SURFACES[spec.surface](service, stops, feedback, labels, spec.name)
        components = [c for c, _ in labels.items]
        lang.change(partial(labels.switch, service), lang, components, api_name=False, queue=False)
        demo.load(partial(model_line, service), None, info, api_name=False)
    return demo


def launch_kwargs() -> dict[str, Any]:
    """Arguments for launch()/mount that Gradio 6 takes outside Blocks()."""
    # system fonts only: the default theme would fetch web fonts, which an offline intranet cannot reach
    theme = gr.themes.Default(
        font=["system-ui", "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
    )
    return {"css": CSS, "theme": theme}
