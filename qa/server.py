"""One process, one port: the OpenAI-compatible API, /health, /ready and /metrics beside the Gradio page at /."""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from typing import Any

import gradio as gr
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .api import RETRY_LOADING_S, ServerState, api_error, create_router, error_response
from .auth import ApiKeys
from .chat_request import ApiError
from .errors import ModelLoadError, QAError
from .feedback import FeedbackLog
from .guard import Access, Guard, gradio_page_user
from .limits import RateLimiter
from .logins import check_share, load_logins
from .logs import fields
from .service import QAService
from .settings import Settings
from .ui import build_demo, keep_gradio_offline, launch_kwargs

log = logging.getLogger(__name__)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_QUIET_PATHS = ("/health", "/ready", "/metrics")


class RequestContext:
    """Gives every request an id (the caller's X-Request-ID when sane), returns it, and logs API responses."""

    def __init__(self, app: ASGIApp, service: QAService) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            path = scope.get("path", "")
            if path.startswith("/v1/"):
                self.service.count_api_response(status)
            if path.startswith("/v1/") or (status >= 500 and path not in _QUIET_PATHS):
                client = scope.get("client")
                log.info(
                    "http",
                    extra=fields(
                        request_id=request_id,
                        method=scope.get("method"),
                        path=path,
                        status=status,
                        ms=round((time.perf_counter() - started) * 1000),
                        client=client[0] if client else None,
                    ),
                )


def create_app(
    service: QAService,
    settings: Settings,
    demo: gr.Blocks | None = None,
    state: ServerState | None = None,
    keys: ApiKeys | None = None,
) -> FastAPI:
    """The ASGI app: the API under /v1, health, readiness and metrics, and the UI at /."""
    keep_gradio_offline()
    state = state or ServerState()
    keys = keys if keys is not None else ApiKeys.from_settings(settings)
    limiter = RateLimiter(settings.rate_limit_per_minute)
    logins = load_logins(settings)
    access = Access(logins, keys)
    mounted: dict[str, Any] = {}  # the Gradio app, once mounted: the guard reads its login cookies
    api = FastAPI(title="MedFin QA", docs_url=None, redoc_url=None, openapi_url=None)
    api.add_middleware(
        Guard, settings=settings, state=state, access=access, page_user=gradio_page_user(lambda: mounted.get("app"))
    )
    api.add_middleware(RequestContext, service=service)  # added last, so outermost: every answer gets its id
    service.add_gauge("qa_api_open_requests", "Chat API requests being answered now.", lambda: state.open_requests)
    service.add_gauge("qa_draining", "1 after SIGTERM, while running requests finish.", lambda: state.draining)

    @api.exception_handler(ApiError)
    async def on_api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc)

    @api.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException) -> Any:
        if request.url.path.startswith("/v1/"):  # OpenAI's clients read errors in OpenAI's shape
            return error_response(ApiError(exc.status_code, str(exc.detail), code="http_error"))
        return await http_exception_handler(request, exc)

    @api.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception) -> Any:
        if request.url.path.startswith("/v1/"):
            return error_response(api_error(exc))  # logged there; the client gets no internals
        log.error("unhandled error on %s", request.url.path, exc_info=exc)
        return PlainTextResponse("Internal Server Error", status_code=500)

    @api.get("/health")
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "model": service.model_info().to_dict(),
            "model_state": service.state,
            "draining": state.draining,
            "tasks": [task.name for task in service.tasks()],
            "cache": service.cache_status(),
        }

    @api.get("/ready")
    def ready() -> JSONResponse:
        if state.draining:
            return JSONResponse({"status": "draining"}, status_code=503)
        if service.ready:
            return JSONResponse({"status": "ready", "model": service.model_info().to_dict()})
        headers = {"Retry-After": str(RETRY_LOADING_S)} if service.state == "loading" else None
        return JSONResponse({"status": service.state}, status_code=503, headers=headers)

    @api.get("/metrics")
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(service.metrics_text(), media_type="text/plain; version=0.0.4; charset=utf-8")

    api.include_router(create_router(service, settings, state, keys, limiter))
    demo = demo or build_demo(service, FeedbackLog(settings.feedback_file))
    demo.queue(max_size=settings.queue_size, default_concurrency_limit=service.gate_state()["slots"])
    demo.state_session_capacity = settings.max_sessions  # the least recently used page sessions go beyond this
    app = gr.mount_gradio_app(
        api,
        demo,
        path="/",
        footer_links=["api"],
        auth=access.check_password if access.enabled else None,
        # the login form says only "Incorrect Credentials" for any refusal, so the lockout rule is stated up front
        auth_message=(
            f"连续 {settings.login_max_failures} 次登录失败后，需等待 {settings.login_window_s:g} 秒再试。"
            f" After {settings.login_max_failures} failed logins, wait {settings.login_window_s:g} s before trying again."
        ),
        show_error=False,  # unexpected errors reach the page as a generic message; details go to the log
        run_history=settings.page_run_history,
        max_file_size=settings.max_upload_bytes or None,
        **launch_kwargs(),
    )
    mounted["app"] = next(r.app for r in api.routes if isinstance(r, Mount) and r.path == "")
    demo.state_holder.capacity = settings.max_sessions
    return app


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


def _server_class() -> type:
    import uvicorn

    class DrainingServer(uvicorn.Server):
        """uvicorn, but SIGTERM first drains: readiness and new API requests get 503, running ones finish."""

        def __init__(self, config: uvicorn.Config, service: QAService, state: ServerState, grace_s: float) -> None:
            super().__init__(config)
            self.service = service
            self.state = state
            self.grace_s = grace_s

        def handle_exit(self, sig: int, frame: Any) -> None:
            if self.state.draining or self.should_exit:  # a second signal: stop without waiting
                self.should_exit = self.force_exit = True
                return
            self.state.draining = True
            log.info("signal %d: draining; running requests get up to %g s to finish", sig, self.grace_s)
            threading.Thread(target=self._drain, name="qa-drain", daemon=True).start()

        def _drain(self) -> None:
            deadline = time.monotonic() + self.grace_s
            while time.monotonic() < deadline and (self.service.busy() or self.state.open_requests > 0):
                time.sleep(0.05)
            log.info("drained; shutting down")
            self.should_exit = True

    return DrainingServer


def serve(service: QAService, settings: Settings) -> None:
    """Listen at once, load the model in the background (/ready says when), run until SIGTERM or Ctrl-C."""
    import uvicorn

    check_share(settings, load_logins(settings))
    state = ServerState()
    app = create_app(service, settings, state=state)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        log_config=None,  # our handlers (stderr and the rotating JSON log) get uvicorn's lines too
        access_log=False,  # RequestContext logs API requests with their ids instead
        timeout_graceful_shutdown=3,  # requests have drained by then; idle page connections need not linger
    )
    server = _server_class()(config, service, state, settings.shutdown_grace_s)
    failure: list[BaseException] = []

    def loaded(error: BaseException | None) -> None:
        if error is None:
            log.info("ready: %s", service.model_info().describe())
            return
        failure.append(error)
        server.should_exit = True  # a model that cannot load is a failed start, as before

    log.info("serving on http://%s:%d; the model loads in the background (GET /ready)", settings.host, settings.port)
    log.info("answer cache: %s", service.cache_status())
    service.start_warm_up(loaded)
    if settings.share:
        threading.Thread(target=_open_share_link, args=(settings,), name="share-link", daemon=True).start()
    try:
        server.run()
    finally:
        service.close_cache()
    if not failure and not service.ready:
        # a stop requested while the model was still loading is a clean stop, not a failed start
        log.info("stopped before the model finished loading (state: %s)", service.state)
    if failure:
        error = failure[0]
        if isinstance(error, QAError):
            raise error
        raise ModelLoadError(f"the model did not load: {error}") from error
