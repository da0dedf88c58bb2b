"""The port's front door, one ASGI middleware for every path (page, page API, /v1, /metrics, files):

- body sizes: a body over its path's limit is read and discarded (up to a bound) and answered with a readable 413,
  so a client that writes its whole body before reading (urllib) gets the answer, not a reset;
- nothing remote: Gradio's file and proxy routes never fetch (or resolve) a host a user names;
- uploads off unless a setting turns them on (no page component takes files);
- one access policy: when any login or API key is configured, every surface but /health and /ready needs one
  (the page's login cookie, a bearer key, or a login as Basic credentials), /metrics too unless made public;
  the login page carries nothing the login protects; failed logins are throttled per client and per user name;
- draining: after SIGTERM, new page questions get 503 as new API requests do.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import re
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import ApiKeys
from .limits import retry_after
from .logs import fields

log = logging.getLogger(__name__)

# what anyone may fetch: probes, and what the login page itself needs to render (no app data in any of these)
PUBLIC_PATHS = frozenset(
    {
        "/health",
        "/ready",
        "/",
        "/login",
        "/login/",
        "/logout",
        "/favicon.ico",
        "/robots.txt",
        "/manifest.json",
        "/theme.css",
        "/gradio_api/theme.css",
        "/gradio_api/login_check",
        "/gradio_api/login_check/",
        "/gradio_api/user",
        "/gradio_api/user/",
        "/gradio_api/app_id",
        "/gradio_api/app_id/",
        "/gradio_api/startup-events",
    }
)
PUBLIC_PREFIXES = ("/assets/", "/static/", "/svelte/", "/pwa_icon")
UPLOAD_PATHS = ("/gradio_api/upload", "/gradio_api/process_recording")
# page endpoints that start work: refused while draining, as /v1 is
PAGE_WORK_PREFIXES = ("/gradio_api/queue/join", "/gradio_api/run/", "/gradio_api/call/", "/gradio_api/api/")
LOGIN_PATHS = ("/login", "/login/")
_REMOTE = re.compile(r"^(?:[a-zA-Z][a-zA-Z0-9+.-]*:|[\\/]{2})")  # a scheme, or a network path (//host)
_API_INFO = re.compile(rb"window\.gradio_api_info = .*?;</script>", re.S)
_EMPTY_API_INFO = b'window.gradio_api_info = {"named_endpoints": {}, "unnamed_endpoints": {}};</script>'
MAX_LOGIN_BODY = 16_384


class LoginThrottle:
    """Failed logins per key (a client address, a user name) in a sliding window; locked at `max_failures`."""

    MAX_KEYS = 10_000  # the oldest keys are forgotten beyond this many, so memory stays bounded

    def __init__(self, max_failures: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def wait(self, *keys: str) -> float:
        """Seconds until these keys may try again; 0 when none is locked."""
        now = self.clock()
        longest = 0.0
        with self._lock:
            for key in keys:
                times = self._failures.get(key)
                if not times:
                    continue
                while times and times[0] <= now - self.window_s:
                    times.popleft()
                if len(times) >= self.max_failures:
                    longest = max(longest, times[0] + self.window_s - now)
        return longest

    def fail(self, *keys: str) -> None:
        """Record one failed login for each key."""
        now = self.clock()
        with self._lock:
            for key in keys:
                self._failures.setdefault(key, deque(maxlen=self.max_failures)).append(now)
                self._failures.move_to_end(key)
            while len(self._failures) > self.MAX_KEYS:
                self._failures.popitem(last=False)


class Access:
    """Who may use the port: configured logins and API keys; open when neither is configured."""

    def __init__(self, logins: list[tuple[str, str]], keys: ApiKeys) -> None:
        self._logins = {user: hashlib.sha256(password.encode()).digest() for user, password in logins}
        self.keys = keys

    @property
    def enabled(self) -> bool:
        """True when the port asks for a login or a key."""
        return bool(self._logins) or self.keys.enabled

    def check_password(self, user: str, password: str) -> bool:
        """A page login: a configured user and password, or (any name and) an API key as the password."""
        digest = hashlib.sha256(password.encode()).digest()
        known = self._logins.get(user)
        # compared either way, so the time taken does not say whether the user name exists
        ok = hmac.compare_digest(digest, known if known is not None else b"\0" * 32) and known is not None
        return ok or self.keys.check(f"Bearer {password}") is not None

    def from_header(self, authorization: str | None) -> str | None:
        """The caller's id for an Authorization header: an API key ('Bearer KEY'), or a login as
        'Basic base64(user:password)' or 'Bearer user:password' (for clients that only send bearer tokens)."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() == "bearer" and token:
            found = self.keys.check(f"Bearer {token}")
            if found is not None:
                return found
            user, sep, password = token.partition(":")
            return f"user:{user}" if sep and user in self._logins and self.check_password(user, password) else None
        if scheme.lower() == "basic" and token:
            try:
                user, sep, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return None
            return f"user:{user}" if sep and self.check_password(user, password) else None
        return None


class Guard:
    """The middleware; `page_user(scope)` names the page's logged-in user from its cookie (None if not)."""

    def __init__(
        self,
        app: ASGIApp,
        settings: Any,
        state: Any,
        access: Access,
        page_user: Callable[[Scope], str | None],
    ) -> None:
        self.app = app
        self.settings = settings
        self.state = state
        self.access = access
        self.page_user = page_user
        self.throttle = LoginThrottle(settings.login_max_failures, settings.login_window_s)

    # ---- the door --------------------------------------------------------------------------------------------
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if scope["type"] == "websocket":
            if self.access.enabled and self._principal(scope) is None:
                await send({"type": "websocket.close", "code": 1008})
                return
            await self.app(scope, receive, send)
            return
        method = scope.get("method", "GET")
        if path.startswith("/gradio_api/proxy=") or (
            path.startswith("/gradio_api/file=") and _REMOTE.match(path[len("/gradio_api/file=") :])
        ):
            # Gradio would fetch (and first resolve) the host a user names: nothing leaves this host
            await self._refuse(scope, receive, send, 404, "Not found.")
            return
        limit = self._limit(path)
        length = _content_length(scope)
        if length is not None and length > limit:
            await self._refuse(scope, receive, send, 413, f"The request body is larger than {limit} bytes.")
            return
        if self.access.enabled and not self._public(path):
            principal = self._principal(scope)
            if principal is None:
                await self._refuse(scope, receive, send, 401, "Login or API key required.")
                return
            scope.setdefault("state", {})["principal"] = principal
        if path.startswith(UPLOAD_PATHS) and self.settings.max_upload_bytes == 0:
            await self._refuse(scope, receive, send, 403, "Uploads are turned off on this server.")
            return
        if self.state.draining and method == "POST" and path.startswith(PAGE_WORK_PREFIXES):
            await self._refuse(
                scope, receive, send, 503, "服务器正在关闭，请稍后重试。 The server is shutting down; retry shortly."
            )
            return
        if method == "POST" and path in LOGIN_PATHS and self.access.enabled:
            await self._login(scope, receive, send)
            return
        if path == "/" and method in ("GET", "HEAD") and self.access.enabled and self._principal(scope) is None:
            await self._login_page(scope, receive, send)
            return
        await self._bounded(scope, receive, send, limit)

    def _limit(self, path: str) -> int:
        if path.startswith("/v1/files"):  # knowledge-base uploads: a document and its multipart framing
            return self.settings.kb_max_file_bytes + 65_536
        if path.startswith("/v1/"):
            return self.settings.max_body_bytes
        if path.startswith(UPLOAD_PATHS) and self.settings.max_upload_bytes:
            return self.settings.max_upload_bytes
        return self.settings.page_max_body_bytes

    def _public(self, path: str) -> bool:
        if path == "/metrics":
            return bool(self.settings.metrics_public)
        return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)

    def _principal(self, scope: Scope) -> str | None:
        found = self.access.from_header(_header(scope, b"authorization"))
        if found is not None:
            return found
        user = self.page_user(scope)
        return f"user:{user}" if user is not None else None

    # ---- bodies ----------------------------------------------------------------------------------------------
    async def _bounded(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Pass the request on; a body without a Content-Length (chunked) is read here first, up to the limit,
        since the app's own body parsing would turn an error raised mid-read into a 400."""
        if _content_length(scope) is not None or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left before its body was complete
            body += message.get("body", b"")
            if len(body) > limit:
                await self._refuse(scope, receive, send, 413, f"The request body is larger than {limit} bytes.")
                return
            if not message.get("more_body", False):
                break
        replay = _replaying(bytes(body), receive)
        await self.app(scope, replay, send)

    async def _discard(self, receive: Receive) -> bool:
        """Read the rest of the body and drop it, up to the bound; False when the client sent more than that."""
        discarded = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return True  # the client left
            discarded += len(message.get("body", b""))
            if not message.get("more_body", False):
                return True
            if discarded > self.settings.body_discard_bytes:
                return False

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, message: str) -> None:
        """Answer an error after reading the body away, in OpenAI's shape under /v1 and as {"detail"} elsewhere."""
        drained = await self._discard(receive)
        path = scope.get("path", "")
        if path.startswith("/v1/"):
            codes = {401: "invalid_api_key", 403: "forbidden", 404: "unknown_url", 413: "request_too_large"}
            payload: dict[str, Any] = {
                "error": {"message": message, "type": "invalid_request_error", "param": None, "code": codes.get(status)}
            }
            if status == 503:
                payload["error"].update(type="server_error", code="shutting_down")
        else:
            payload = {"detail": message}
        headers = [(b"content-type", b"application/json")]
        if not drained:
            headers.append((b"connection", b"close"))
        await _send_json(send, status, payload, headers)

    # ---- logins ----------------------------------------------------------------------------------------------
    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Gradio's login form, throttled: too many failures for this client or this user name get a 429."""
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            body += message.get("body", b"")
            if len(body) > MAX_LOGIN_BODY:
                await self._refuse(
                    scope, receive, send, 413, f"The request body is larger than {MAX_LOGIN_BODY} bytes."
                )
                return
            if not message.get("more_body", False):
                break
        form = parse_qs(body.decode("utf-8", "replace"))
        user = (form.get("username") or [""])[0].strip()
        client = scope.get("client")
        keys = (f"client:{client[0] if client else 'unknown'}", f"user:{user}")
        wait = self.throttle.wait(*keys)
        if wait:
            log.warning("login refused: too many failures", extra=fields(client=keys[0]))
            seconds = retry_after(wait)
            await _send_json(
                send,
                429,
                {
                    "detail": f"登录失败次数过多，请 {seconds} 秒后再试。 Too many failed logins; try again in {seconds} s."
                },
                [(b"content-type", b"application/json"), (b"retry-after", seconds.encode())],
            )
            return
        replay = _replaying(bytes(body), receive)
        status = 0

        async def watching_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, replay, watching_send)
        if status >= 400:
            self.throttle.fail(*keys)

    async def _login_page(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The page as served before a login, without the API description (it names every endpoint and carries
        the system prompts, which /gradio_api/info answers with 401)."""
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"accept-encoding"]
        scope = {**scope, "headers": headers}  # uncompressed, so the description can be cut out
        start: Message | None = None
        chunks: list[bytes] = []

        async def buffering_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if message.get("more_body", False):
                    return
                assert start is not None
                body = _API_INFO.sub(lambda _: _EMPTY_API_INFO, b"".join(chunks))
                fixed = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
                fixed.append((b"content-length", str(len(body)).encode()))
                await send({**start, "headers": fixed})
                await send({"type": "http.response.body", "body": body, "more_body": False})
                return
            await send(message)

        await self.app(scope, receive, buffering_send)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app a body already read, then whatever the client sends next (its disconnect)."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _content_length(scope: Scope) -> int | None:
    value = _header(scope, b"content-length")
    return int(value) if value is not None and value.strip().isdigit() else None


async def _send_json(send: Send, status: int, payload: Any, headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps(payload, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


def gradio_page_user(get_app: Callable[[], Any]) -> Callable[[Scope], str | None]:
    """A page_user for Guard: the user Gradio's login cookie names, read from the mounted Gradio app's tokens."""

    def page_user(scope: Scope) -> str | None:
        app = get_app()
        raw = _header(scope, b"cookie")
        if app is None or not raw:
            return None
        try:
            cookies = SimpleCookie(raw)
        except CookieError:
            return None
        for name in (f"access-token-{app.cookie_id}", f"access-token-unsecure-{app.cookie_id}"):
            morsel = cookies.get(name)
            if morsel is not None and morsel.value in app.tokens:
                return app.tokens[morsel.value]
        return None

    return page_user
