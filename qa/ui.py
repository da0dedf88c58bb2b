"""The Gradio page: one tab per domain, sliders, streamed structured answers, the raw JSON and the report."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from functools import partial
from typing import Any

import gradio as gr

from .errors import QAError
from .render import CSS, DISCLAIMER, partial_json, render_answer, render_report
from .service import QAService
from .types import MIN_NEW_TOKENS, TEMPERATURE_RANGE, TOP_P_RANGE

log = logging.getLogger(__name__)

EXAMPLES = {
    "medical": ["最近三天头痛，伴有低烧，需要去医院吗？", "体检发现血压 150/95，平时应该注意什么？"],
    "finance": ["什么是市盈率？怎样看一家公司的市盈率高不高？", "定投指数基金有哪些风险？"],
}


def model_line(service: QAService) -> str:
    """Markdown line naming the live model, dtype and device."""
    return f"**模型 Model**：{service.backend.info.describe()}"


def ask(
    service: QAService, domain: str, question: str, temperature: float, top_p: float, max_new_tokens: float
) -> Iterator[tuple[str, str, str]]:
    """UI handler: stream (answer HTML, raw JSON, report HTML); bad input becomes a gr.Error."""
    stop_event = threading.Event()
    events = None
    try:
        params = service.params(domain, temperature, top_p, max_new_tokens)
        events = service.stream(domain, question, params, stop_event=stop_event)
        last_html = render_answer(None, pending=True)
        yield last_html, "", ""
        for event in events:
            if event.kind == "partial":
                shown = event.text  # already held back and redacted by the service
                data = partial_json(shown)
                if data is not None:
                    last_html = render_answer(data, pending=True)
                yield last_html, shown, ""
            else:
                answer = event.answer
                assert answer is not None
                error = None if answer.ok else "回答未通过校验，请查看下方报告；可调高最大生成长度后重试。"
                payload = json.dumps(answer.to_dict(), ensure_ascii=False, indent=2)
                yield render_answer(answer.data, error=error), payload, render_report(answer.report)
    except QAError as exc:
        raise gr.Error(str(exc)) from exc
    finally:
        # a closed handler (Stop button, disconnect) stops the generation and waits until the model is free
        stop_event.set()
        if events is not None:
            events.close()


def _domain_tab(service: QAService, name: str) -> None:
    domain = service.domains[name]
    defaults = domain.defaults
    question = gr.Textbox(
        label="问题 Question", lines=3, max_lines=12, placeholder="请输入你的问题…", elem_id=f"{name}-question"
    )
    with gr.Row():
        submit = gr.Button("提问 Ask", variant="primary", elem_id=f"{name}-submit")
        stop = gr.Button("停止 Stop", variant="stop", elem_id=f"{name}-stop")
    with gr.Accordion("生成参数 Parameters", open=False):
        temperature = gr.Slider(*TEMPERATURE_RANGE, value=defaults["temperature"], step=0.05, label="temperature")
        top_p = gr.Slider(*TOP_P_RANGE, value=defaults["top_p"], step=0.05, label="top_p")
        max_new_tokens = gr.Slider(
            MIN_NEW_TOKENS,
            service.max_new_tokens_limit,
            value=defaults["max_new_tokens"],
            step=32,
            label="max new tokens",
        )
    answer = gr.HTML(elem_id=f"{name}-answer")
    report = gr.HTML(elem_id=f"{name}-report")  # under every answer: what was checked, what fired, what was fixed
    with gr.Accordion("原始 JSON Raw JSON", open=False):
        raw = gr.Code(language="json", label="JSON", elem_id=f"{name}-raw")
    gr.Examples(EXAMPLES[name], inputs=question, label="示例问题 Examples")
    inputs = [question, temperature, top_p, max_new_tokens]
    handler = partial(ask, service, name)
    event = submit.click(handler, inputs, [answer, raw, report], api_name=f"ask_{name}", concurrency_id="model")
    enter = question.submit(handler, inputs, [answer, raw, report], api_name=False, concurrency_id="model")
    stop.click(None, None, None, cancels=[event, enter], api_name=False)


def build_demo(service: QAService, title: str = "医金问答 MedFin QA") -> gr.Blocks:
    """The whole page for a service; nothing is loaded here."""
    with gr.Blocks(title=title) as demo:
        gr.Markdown(f"# {title}")
        info = gr.Markdown(model_line(service), elem_id="model-info")
        gr.Markdown(DISCLAIMER, elem_classes=["qa-disclaimer"])
        with gr.Tabs():
            for name, domain in service.domains.items():
                with gr.Tab(domain.label, id=name):
                    _domain_tab(service, name)
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
