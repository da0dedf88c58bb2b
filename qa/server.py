"""One process, one port: FastAPI with /health beside the Gradio page mounted at /."""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from .service import QAService
from .settings import Settings
from .ui import build_demo, launch_kwargs

log = logging.getLogger(__name__)


def create_app(service: QAService, settings: Settings, demo: gr.Blocks | None = None) -> FastAPI:
    """The ASGI app: /health reports the live model; the UI is served at /."""
    api = FastAPI(title="MedFin QA", docs_url=None, redoc_url=None)

    @api.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "model": service.backend.info.to_dict(), "domains": list(service.domains)}

    @api.get("/metrics", response_class=PlainTextResponse)
    def metrics() -> str:
        lines = [
            "# HELP qa_validation_rule_fired_total Validation and safety rules that fired on answers.",
            "# TYPE qa_validation_rule_fired_total counter",
        ]
        for rule, count in sorted(service.rule_counts().items()):
            lines.append(f'qa_validation_rule_fired_total{{rule="{rule}"}} {count}')
        return "\n".join(lines) + "\n"

    demo = demo or build_demo(service)
    demo.queue(max_size=settings.queue_size, default_concurrency_limit=1)
    return gr.mount_gradio_app(api, demo, path="/", footer_links=["api"], **launch_kwargs())


def serve(service: QAService, settings: Settings) -> None:
    """Run the server until interrupted."""
    import uvicorn

    app = create_app(service, settings)
    log.info("serving on http://%s:%d", settings.host, settings.port)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower())
