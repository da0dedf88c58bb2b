"""The OpenAI-compatible API: /v1/models and /v1/chat/completions (streamed as SSE or not), with keys and limits;
/v1/embeddings (OpenAI's shape) and /v1/triage (emergency and department, no LLM)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.types import Receive, Scope, Send

from .answers import Answer, StreamEvent
from .auth import ApiKeys
from .chat_request import (
    MODEL_PREFIX,
    RAW_MODEL,
    ApiError,
    BodyLimits,
    ChatCall,
    Models,
    bad_request,
    from_input_error,
    has_lone_surrogate,
    json_depth_over,
    parse_chat,
)
from .errors import BusyError, GenerationError, InputError, ModelLoadError, NotReadyError, QAError, UpstreamError
from .limits import RateLimiter, retry_after
from .logs import fields
from .service import QAService
from .settings import Settings

log = logging.getLogger(__name__)

RETRY_LOADING_S = 5
RETRY_BUSY_S = 2
RETRY_DRAINING_S = 5


@dataclass
class ServerState:
    """What the HTTP edge knows beyond the service: draining after SIGTERM, and chat requests still open."""

    draining: bool = False
    open_requests: int = 0


def error_response(err: ApiError) -> JSONResponse:
    """An ApiError as its JSON response, with Retry-After when it has one."""
    headers = {"Retry-After": err.retry_after} if err.retry_after else None
    return JSONResponse(err.body(), status_code=err.status, headers=headers)


def api_error(exc: BaseException) -> ApiError:
    """Map a service error to its HTTP status; anything unexpected is a logged 500 that never leaks details."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, InputError):
        return from_input_error(exc)
    if isinstance(exc, NotReadyError):
        return ApiError(503, str(exc), type="server_error", code=exc.code, retry_after=str(RETRY_LOADING_S))
    if isinstance(exc, BusyError):
        return ApiError(503, str(exc), type="server_error", code=exc.code, retry_after=str(RETRY_BUSY_S))
    if isinstance(exc, UpstreamError):
        return ApiError(502, str(exc), type="server_error", code=exc.code)
    if isinstance(exc, ModelLoadError):
        return ApiError(503, str(exc), type="server_error", code=exc.code)
    if isinstance(exc, GenerationError | QAError):
        return ApiError(500, str(exc), type="server_error", code=exc.code)
    log.error("unexpected error in a chat request", exc_info=exc)
    return ApiError(500, "Internal error; see the server log.", type="server_error", code="internal_error")


class _Pump:
    """Runs a service event stream on its own thread and hands the events to the event loop."""

    def __init__(self, events: Iterator[StreamEvent]) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        threading.Thread(target=self._run, args=(events,), name="qa-api-stream", daemon=True).start()

    def _put(self, item: tuple[str, Any]) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the loop has closed (shutdown): nobody is waiting for this any more
            pass

    def _run(self, events: Iterator[StreamEvent]) -> None:
        try:
            for event in events:
                self._put(("event", event))
        except BaseException as exc:  # handed to the request, which answers it
            self._put(("error", exc))
        else:
            self._put(("end", None))
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()

    async def get(self) -> tuple[str, Any]:
        """The next ("event", StreamEvent), ("error", exception) or ("end", None)."""
        return await self._queue.get()


async def _watch_disconnect(receive: Receive, stop_event: threading.Event) -> None:
    """Set the stop event when the client goes away (the body has been read, so the next message is that)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            stop_event.set()
            return


class _SSEResponse(StreamingResponse):
    """A streaming response that always runs its clean-up, even when the client left before the first byte."""

    def __init__(self, content: AsyncIterator[str], on_close: Callable[[], None]) -> None:
        super().__init__(
            content,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._on_close()


def _sse(data: dict[str, Any] | str) -> str:
    return f"data: {data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)}\n\n"


def answer_content(answer: Answer) -> str:
    """The message content: the validated JSON; the model's own text when it is exactly that JSON."""
    if answer.data is None:
        return answer.raw  # failed validation: the (redacted) text, with the report saying why
    try:
        if json.loads(answer.raw) == answer.data:
            return answer.raw  # so a stream's deltas add up to the same string
    except ValueError:
        pass
    return json.dumps(answer.data, ensure_ascii=False)


def _usage(event: StreamEvent) -> dict[str, int]:
    prompt = int(event.usage.get("prompt_tokens") or 0)
    completion = int(event.usage.get("completion_tokens") or 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _finish_reason(event: StreamEvent) -> str:
    return "length" if event.finish_reason == "length" else "stop"


class ChatHandler:
    """One process's chat endpoint: checks, admission, the pump, and the response in either shape."""

    def __init__(
        self,
        service: QAService,
        settings: Settings,
        state: ServerState,
    ) -> None:
        self.service = service
        self.settings = settings
        self.state = state
        self.created = int(time.time())
        self._checking = asyncio.Semaphore(1)
        self.limits = BodyLimits(
            max_turns=settings.max_history_turns,
            max_chars=settings.max_conversation_chars,
            max_json_depth=settings.max_json_depth,
            max_json_brackets=settings.max_json_brackets,
            max_schema_nodes=settings.max_schema_nodes,
            max_schema_depth=settings.max_schema_depth,
        )

    async def read_body(self, request: Request) -> bytes:
        """The body's bytes, refused with 415 or 413 before anything else looks at it."""
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/json":
            raise ApiError(
                415,
                f"Content-Type must be application/json, got {content_type or 'none'!r}.",
                code="unsupported_media_type",
            )
        limit = self.settings.max_body_bytes
        too_large = ApiError(413, f"The request body is larger than {limit} bytes.", code="request_too_large")
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            raise too_large
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise too_large
        return bytes(body)

    async def json_body(self, request: Request) -> Any:
        """The body read within its size limit and decoded on a worker thread (the event loop stays free)."""
        body = await self.read_body(request)
        return await asyncio.to_thread(self.decode, body)

    def decode(self, body: bytes) -> Any:
        """The parsed body, refused with 400 when it is not JSON or nests deeper than the limit."""
        too_deep = ApiError(
            400, f"The body nests deeper than {self.limits.max_json_depth} levels.", code="invalid_json"
        )
        brackets = body.count(b"{") + body.count(b"[")  # C-speed; bounds the objects the parser would build
        if brackets > self.limits.max_json_brackets:
            raise ApiError(
                400,
                f"The body holds {brackets} opening brackets; the limit is {self.limits.max_json_brackets}.",
                code="invalid_json",
            )
        try:
            value = json.loads(body)
        except RecursionError:  # the decoder's own guard, far below anything useful
            raise too_deep from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(400, f"The body is not valid JSON: {exc}", code="invalid_json") from None
        if json_depth_over(value, self.limits.max_json_depth):
            raise too_deep
        if has_lone_surrogate(body, value):
            raise ApiError(
                400,
                "The body holds a lone UTF-16 surrogate escape (\\ud800-\\udfff without its pair); send valid Unicode.",
                code="invalid_json",
            )
        return value

    async def parse(self, body: bytes) -> ChatCall:
        """Decode and check a body on a worker thread, within a time bound, so the event loop stays free."""
        models = self.models()

        def work() -> ChatCall:
            return parse_chat(self.decode(body), models, self.limits)

        try:
            # one check at a time: several CPU-bound checks at once would keep the event loop from the GIL
            async with self._checking:
                return await asyncio.wait_for(asyncio.to_thread(work), self.settings.schema_check_timeout_s)
        except TimeoutError:
            raise ApiError(
                400,
                f"The request took longer than {self.settings.schema_check_timeout_s:g} s to check; send a smaller "
                "schema or fewer messages.",
                code="request_too_complex",
            ) from None

    def models(self) -> Models:
        """Model id → answer schema (None for the raw model), as served now."""
        served: Models = {MODEL_PREFIX + task.name: task.response_schema for task in self.service.tasks()}
        if self.settings.raw_model:
            served[RAW_MODEL] = None
        return served

    def start(self, call: ChatCall, stop_event: threading.Event) -> Iterator[StreamEvent]:
        """The service's event stream for a call (lazy: nothing runs until the pump pulls)."""
        try:
            if call.task is None:
                params = self.service.raw_params(call.temperature, call.top_p, call.max_tokens)
            else:
                params = self.service.params(call.task, call.temperature, call.top_p, call.max_tokens)
        except InputError as exc:
            raise from_input_error(exc, call.max_tokens_name) from None
        if call.task is None:
            return self.service.stream_raw(call.messages, params, call.schema, stop_event, channel="api")
        if call.field_schema is not None:  # a document task with the caller's fields, checked before it opens
            try:
                self.service.check_field_schema(call.task, call.field_schema)
            except InputError as exc:
                if exc.param == "task":  # a chat model: say which parameter it does not take
                    raise bad_request(
                        f"Model '{call.model}' answers questions; 'field_schema' is for the record-extraction model.",
                        "field_schema",
                        "unsupported_parameter",
                    ) from None
                raise from_input_error(exc) from None
            return self.service.extract(
                call.task, call.question, params, call.field_schema, stop_event=stop_event, channel="api"
            )
        return self.service.stream(
            call.task,
            call.question,
            params,
            stop_event=stop_event,
            history=call.history,
            system_prompt=call.system_prompt,
            channel="api",
            collection=call.collection,
        )

    async def handle(self, request: Request, client: str) -> Any:
        """POST /v1/chat/completions."""
        started = time.perf_counter()
        request_id = getattr(request.state, "request_id", "-")
        if self.state.draining:
            raise ApiError(
                503,
                "The server is shutting down; retry shortly (another replica will answer).",
                type="server_error",
                code="shutting_down",
                retry_after=str(RETRY_DRAINING_S),
            )
        call = await self.parse(await self.read_body(request))
        stop_event = threading.Event()
        events = self.start(call, stop_event)  # bad parameters answer 400 here, before the request is open
        log.info(
            "chat request",
            extra=fields(request_id=request_id, client=client, **call.summary(self.settings.log_prompts)),
        )
        self.state.open_requests += 1
        closed = False

        def close() -> None:
            nonlocal closed
            if not closed:
                closed = True
                stop_event.set()  # a client that left mid-stream stops its generation
                self.state.open_requests -= 1

        handed_over = False
        try:
            pump = _Pump(events)
            watcher = asyncio.create_task(_watch_disconnect(request.receive, stop_event))
            try:
                kind, first = await pump.get()
                if kind == "error":
                    raise api_error(first)
                if not call.stream:
                    items = [(kind, first)]
                    while items[-1][0] == "event":
                        items.append(await pump.get())
                    return self._complete(call, items, request_id, started)
            finally:
                watcher.cancel()
            handed_over = True
            chunks = self._chunks(call, pump, (kind, first), request_id, started)
            return _SSEResponse(chunks, on_close=close)
        finally:
            if not handed_over:
                close()

    def _base(self, call: ChatCall, completion_id: str, obj: str) -> dict[str, Any]:
        return {"id": completion_id, "object": obj, "created": int(time.time()), "model": call.model}

    def _complete(self, call: ChatCall, items: list[tuple[str, Any]], request_id: str, started: float) -> JSONResponse:
        kind, last = items[-1]
        if kind == "error":
            raise api_error(last)
        finals = [ev for k, ev in items if k == "event" and ev.kind == "final"]
        if not finals:  # stopped while waiting for a slot: only a departed client gets here
            raise ApiError(499, "The request was cancelled.", type="server_error", code="cancelled")
        final = finals[-1]
        body = self._base(call, f"chatcmpl-{uuid.uuid4().hex}", "chat.completion")
        content = final.text if final.answer is None else answer_content(final.answer)
        body["choices"] = [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "finish_reason": _finish_reason(final),
                "logprobs": None,
            }
        ]
        body["usage"] = _usage(final)
        if final.answer is not None:
            body["validation"] = final.answer.report.to_dict()
            body["dropped_turns"] = final.answer.dropped_turns
            body["cache"] = final.answer.cache
            if final.answer.citations is not None:
                body["citations"] = final.answer.citations
        self._log_done(request_id, final, started)
        return JSONResponse(body)

    async def _chunks(
        self, call: ChatCall, pump: _Pump, first: tuple[str, Any], request_id: str, started: float
    ) -> AsyncIterator[str]:
        completion_id = f"chatcmpl-{uuid.uuid4().hex}"

        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
            data = self._base(call, completion_id, "chat.completion.chunk")
            data["choices"] = [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
            return _sse({**data, **extra})

        yield chunk({"role": "assistant", "content": ""})
        sent = ""  # what the deltas have carried so far (of the first attempt; later attempts are not streamed)
        item = first
        while True:
            kind, value = item
            if kind == "end":
                break
            if kind == "error":
                err = api_error(value)
                yield _sse(err.body())
                break
            event: StreamEvent = value
            if event.kind == "partial" and event.attempt == 1 and event.text.startswith(sent):
                delta, sent = event.text[len(sent) :], event.text
                if delta:
                    yield chunk({"content": delta})
            elif event.kind == "final":
                if event.attempt == 1 and event.text.startswith(sent) and event.text != sent:
                    # the tail the redactor held back until it knew no drug name was being spelled
                    yield chunk({"content": event.text[len(sent) :]})
                extra: dict[str, Any] = {}
                if event.answer is not None:
                    extra["validation"] = event.answer.report.to_dict()
                    extra["validated_content"] = answer_content(event.answer)
                    extra["dropped_turns"] = event.answer.dropped_turns
                    extra["cache"] = event.answer.cache
                    if event.answer.citations is not None:
                        extra["citations"] = event.answer.citations
                yield chunk({}, _finish_reason(event), **extra)
                if call.include_usage:
                    data = self._base(call, completion_id, "chat.completion.chunk")
                    yield _sse({**data, "choices": [], "usage": _usage(event)})
                self._log_done(request_id, event, started)
            item = await pump.get()
        yield _sse("[DONE]")

    def _log_done(self, request_id: str, final: StreamEvent, started: float) -> None:
        info: dict[str, Any] = {
            "request_id": request_id,
            "finish_reason": final.finish_reason,
            "prompt_tokens": final.usage.get("prompt_tokens"),
            "completion_tokens": final.usage.get("completion_tokens"),
            "ms": round((time.perf_counter() - started) * 1000),
        }
        if final.answer is not None:
            info["passed"] = final.answer.ok
            info["rules"] = sorted({hit.rule for hit in final.answer.report.fired})
            info["cache"] = final.answer.cache
        log.info("chat done", extra=fields(**info))


def _inputs(body: Any) -> str | list[str]:
    """The `input` of an embeddings or triage body: a string or a non-empty list of strings, else a 400."""
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.", None, "invalid_json")
    value = body.get("input")
    if value is None:
        raise bad_request("'input' is required: a string or a list of strings.", "input", "missing_required_parameter")
    if isinstance(value, str):
        return value
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise bad_request("'input' must be a string or a non-empty list of strings.", "input")
    return value


async def _service_call(call: Callable[[], Any]) -> Any:
    """A service call off the event loop (the embedder is CPU-bound); its InputError as a 400."""
    try:
        return await asyncio.to_thread(call)
    except InputError as exc:
        raise from_input_error(exc) from None
    except QAError as exc:
        raise api_error(exc) from None


async def embeddings(handler: ChatHandler, request: Request) -> dict[str, Any]:
    """POST /v1/embeddings: OpenAI's request and response shape (float or base64 encoding)."""
    import base64

    import numpy as np

    body = await handler.json_body(request)
    texts = _inputs(body)
    service = handler.service
    if not service.triage_on():
        raise ApiError(404, "Embeddings are off on this server (QA_TRIAGE_EMBEDDER=off).", code="model_not_found")
    name = service.embedding_model()
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("'model' is required and must be a string.", "model", "missing_required_parameter")
    if model != name:
        raise ApiError(
            404, f"The model '{model}' does not exist. Available: {name}.", param="model", code="model_not_found"
        )
    encoding = body.get("encoding_format", "float")
    if encoding not in ("float", "base64"):
        raise bad_request("'encoding_format' must be 'float' or 'base64'.", "encoding_format")
    kind = body.get("input_type", "query")  # e5: questions are queries; documents to search are passages
    vectors, tokens = await _service_call(lambda: service.embed(texts, kind))
    dimensions = body.get("dimensions")
    if dimensions is not None and dimensions != len(vectors[0]):
        raise bad_request(f"'dimensions' must be {len(vectors[0])} for {name}.", "dimensions")
    data = [
        {
            "object": "embedding",
            "index": i,
            "embedding": vec
            if encoding == "float"
            else base64.b64encode(np.asarray(vec, dtype="<f4").tobytes()).decode(),
        }
        for i, vec in enumerate(vectors)
    ]
    return {"object": "list", "data": data, "model": name, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


async def triage(handler: ChatHandler, request: Request) -> dict[str, Any]:
    """POST /v1/triage: {"input": text | [text, …]} → one triage object per input, in order."""
    body = await handler.json_body(request)
    texts = _inputs(body)
    service = handler.service
    if not service.triage_on():
        raise ApiError(404, "Triage is off on this server (QA_TRIAGE_EMBEDDER=off).", code="triage_off")
    results = await _service_call(lambda: service.triage(texts))
    return {
        "object": "list",
        "model": service.embedding_model(),
        "data": [{"object": "triage", "index": i, **r.to_dict()} for i, r in enumerate(results)],
    }


def _file_object(record: dict[str, Any]) -> dict[str, Any]:
    """A stored knowledge-base file in the shape of OpenAI's file object, with its collection and counts."""
    return {
        "id": f"file-{record['file_id']}",
        "object": "file",
        "bytes": record["bytes"],
        "created_at": int(record["added_at"]),
        "filename": record["name"],
        "purpose": "knowledge_base",
        "collection": record["collection"],
        "pages": record["pages"],
        "chunks": record["chunks"],
    }


def _no_kb() -> ApiError:
    return ApiError(404, "The knowledge base is off on this server (QA_KB_URL=off).", code="kb_off")


async def upload_file(handler: ChatHandler, request: Request) -> dict[str, Any]:
    """POST /v1/files (multipart: file, collection): parse, chunk and store one document; re-uploading replaces."""
    service = handler.service
    if not service.kb_on():
        raise _no_kb()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        raise ApiError(
            415, "Upload a document as multipart/form-data with fields 'file' and 'collection'.",
            code="unsupported_media_type",
        )  # fmt: skip
    limit = handler.settings.kb_max_file_bytes
    try:
        form = await request.form(max_files=1, max_fields=8, max_part_size=limit + 1)
    except Exception as exc:  # noqa: BLE001 - a malformed multipart body is the client's error
        raise bad_request(f"The multipart body could not be read: {exc}", "file", "invalid_multipart") from None
    try:
        upload, collection = form.get("file"), form.get("collection")
        if upload is None or isinstance(upload, str):
            raise bad_request("'file' is required: the document as a multipart file part.", "file", "missing_required_parameter")  # fmt: skip
        if not isinstance(collection, str) or not collection:
            raise bad_request("'collection' is required: the knowledge base to add the file to.", "collection", "missing_required_parameter")  # fmt: skip
        data = await upload.read(limit + 1)
        name = upload.filename or ""
    finally:
        await form.close()
    if len(data) > limit:
        raise ApiError(413, f"{name}: the file is larger than {limit} bytes.", param="file", code="file_too_large")
    record = await _service_call(lambda: service.kb_add(collection, name, data))
    return _file_object(record)


async def list_files(handler: ChatHandler, request: Request) -> dict[str, Any]:
    """GET /v1/files[?collection=NAME]: the stored files, of one collection or of all."""
    service = handler.service
    if not service.kb_on():
        raise _no_kb()
    collection = request.query_params.get("collection")
    names = [collection] if collection else [c["name"] for c in await _service_call(service.kb_collections)]
    records = [r for name in names for r in await _service_call(lambda name=name: service.kb_files(name))]
    return {"object": "list", "data": [_file_object(r) for r in records]}


async def _find_file(handler: ChatHandler, file_id: str, collection: str | None) -> dict[str, Any]:
    service = handler.service
    if not service.kb_on():
        raise _no_kb()
    names = [collection] if collection else [c["name"] for c in await _service_call(service.kb_collections)]
    for name in names:
        for record in await _service_call(lambda name=name: service.kb_files(name)):
            if f"file-{record['file_id']}" == file_id:
                return record
    raise ApiError(404, f"No such file: {file_id}.", param="file_id", code="file_not_found")


async def delete_file(handler: ChatHandler, request: Request, file_id: str) -> dict[str, Any]:
    """DELETE /v1/files/{id}: the file and its chunks leave the knowledge base."""
    record = await _find_file(handler, file_id, request.query_params.get("collection"))
    await _service_call(lambda: handler.service.kb_remove(record["collection"], [record["name"]]))
    return {"id": file_id, "object": "file", "deleted": True}


async def search(handler: ChatHandler, request: Request) -> dict[str, Any]:
    """POST /v1/kb/search {"collection", "query", "k", "mode"}: the retrieval debug view (scores and ranks)."""
    service = handler.service
    if not service.kb_on():
        raise _no_kb()
    body = await handler.json_body(request)
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.", None, "invalid_json")
    k, mode = body.get("k", 5), body.get("mode", "fused")
    hits = await _service_call(lambda: service.kb_retrieve(body.get("collection"), body.get("query"), k, mode))
    return {"object": "list", "data": hits}


def create_router(
    service: QAService, settings: Settings, state: ServerState, keys: ApiKeys, limiter: RateLimiter
) -> APIRouter:
    """The /v1 routes; keys and rate limits apply to them, nowhere else."""
    handler = ChatHandler(service, settings, state)

    async def authorize(request: Request) -> str:
        """The caller's id for rate limits and logs: its key's id, or its address when the API is open."""
        principal = getattr(request.state, "principal", None)  # the port's guard has checked a key or a login
        if principal is not None:
            return principal
        if not keys.enabled:
            return f"ip:{request.client.host if request.client else 'unknown'}"
        found = keys.check(request.headers.get("authorization"))
        if found is None:
            raise ApiError(
                401,
                "Missing or invalid API key: send 'Authorization: Bearer <key>'.",
                code="invalid_api_key",
            )
        return found

    router = APIRouter(prefix="/v1")

    @router.get("/models")
    async def models(client: str = Depends(authorize)) -> dict[str, Any]:
        data = []
        for model, schema in handler.models().items():
            entry: dict[str, Any] = {
                "id": model,
                "object": "model",
                "created": handler.created,
                "owned_by": "medfin-qa",
            }
            if model == RAW_MODEL:
                entry["backend"] = service.model_info().to_dict()
            else:
                entry["task"] = model.removeprefix(MODEL_PREFIX)
                entry["response_schema"] = schema
            data.append(entry)
        return {"object": "list", "data": data}

    @router.post("/chat/completions")
    async def chat_completions(request: Request, client: str = Depends(authorize)) -> Any:
        wait = limiter.check(client)
        if wait:
            raise ApiError(
                429,
                f"Rate limit of {settings.rate_limit_per_minute} requests per minute reached; retry in "
                f"{retry_after(wait)} s.",
                type="requests",
                code="rate_limit_exceeded",
                retry_after=retry_after(wait),
            )
        return await handler.handle(request, client)

    @router.post("/embeddings")
    async def embeddings_route(request: Request, client: str = Depends(authorize)) -> Any:
        return await embeddings(handler, request)

    @router.post("/triage")
    async def triage_route(request: Request, client: str = Depends(authorize)) -> Any:
        return await triage(handler, request)

    @router.post("/files")
    async def upload_route(request: Request, client: str = Depends(authorize)) -> Any:
        return await upload_file(handler, request)

    @router.get("/files")
    async def list_route(request: Request, client: str = Depends(authorize)) -> Any:
        return await list_files(handler, request)

    @router.get("/files/{file_id}")
    async def file_route(request: Request, file_id: str, client: str = Depends(authorize)) -> Any:
        return _file_object(await _find_file(handler, file_id, request.query_params.get("collection")))

    @router.delete("/files/{file_id}")
    async def delete_route(request: Request, file_id: str, client: str = Depends(authorize)) -> Any:
        return await delete_file(handler, request, file_id)

    @router.post("/kb/search")
    async def search_route(request: Request, client: str = Depends(authorize)) -> Any:
        return await search(handler, request)

    @router.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    async def unknown(request: Request, path: str) -> Any:
        raise ApiError(404, f"Invalid URL ({request.method} {request.url.path}).", code="unknown_url")

    return router
