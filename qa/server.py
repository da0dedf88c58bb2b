"""One process, one port: FastAPI with /health beside the Gradio page mounted at /."""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

from .feedback import FeedbackLog
from .logins import check_share, load_logins
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

    demo = demo or build_demo(service, FeedbackLog(settings.feedback_file))
    demo.queue(max_size=settings.queue_size, default_concurrency_limit=1)
    logins = load_logins(settings)
    return gr.mount_gradio_app(api, demo, path="/", footer_links=["api"], auth=logins or None, **launch_kwargs())


def _open_share_link(settings: Settings) -> None:
    """Open a Gradio share tunnel to the local server once it listens; failure is logged, serving goes on."""
    import secrets
    import socket
    import time

    from gradio.networking import setup_tunnel

    local = "127.0.0.1" if settings.host in ("0.0.0.0", "::") else settings.host
    for _ in range(120):  # the server starts within seconds; give up after a minute
        try:
            socket.create_connection((local, settings.port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.5)
    try:
        url = setup_tunnel(local, settings.port, secrets.token_urlsafe(32), None, None)
    except Exception as exc:  # noqa: BLE001 - any failure to reach the share server leaves the local page up
        log.error("the share link could not be opened (%s); the page is still served locally", exc)
        return
    log.info("public share link (login required): %s", url)


def serve(service: QAService, settings: Settings) -> None:
    """Run the server until interrupted."""
    import threading

    import uvicorn

    check_share(settings, load_logins(settings))
    app = create_app(service, settings)
    if settings.share:
        threading.Thread(target=_open_share_link, args=(settings,), name="share-link", daemon=True).start()
    log.info("serving on http://%s:%d", settings.host, settings.port)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower())
