"""Reads an OpenAI chat-completions body into a ChatCall; every problem is an ApiError naming its field.

Protocol types only: this module imports nothing above the plain types and errors, so parsing a body needs no
service. The checks that are not about OpenAI's shape (turn order, sizes, parameter bounds) are the service's.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from .errors import InputError
from .inputs import split_conversation
from .types import ChatMessage

MODEL_PREFIX = "qa-"
RAW_MODEL = "qa-raw"
JSON_OBJECT_SCHEMA: dict[str, Any] = {"type": "object"}
_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
# the service names things from its own point of view; the API reports the request's field names
_PARAM_NAMES = {
    "question": "messages",
    "history": "messages",
    "system_prompt": "messages",
    "domain": "model",
    "schema": "field_schema",
    "task": "model",
}
# model id → the task's answer schema (None for the raw model): all the parser needs to know of what is served
Models = dict[str, dict[str, Any] | None]


@dataclass(frozen=True)
class BodyLimits:
    """Bounds a body meets before any expensive work (settings' limits group); cheap checks, each a 400."""

    max_turns: int = 200
    max_chars: int = 400_000
    max_json_depth: int = 64
    max_json_brackets: int = 20_000
    max_schema_nodes: int = 2000
    max_schema_depth: int = 32


def json_depth_over(value: Any, limit: int) -> bool:
    """True when the parsed JSON nests deeper than limit (an explicit stack: no recursion on hostile input)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))
    return False


# JSON's \uXXXX escapes can spell half of a UTF-16 pair (\ud800 alone), which json.loads accepts as a lone
# surrogate: such a string cannot be encoded as UTF-8, so it would fail later — in a log line, a tokenizer, or the
# error reply that echoes it (a 500). A raw-bytes pre-filter keeps the walk off ordinary bodies.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")


def has_lone_surrogate(body: bytes, value: Any) -> bool:
    """True when a string (or key) of the parsed body holds a surrogate without its pair."""
    if not _SURROGATE_ESCAPE.search(body):
        return False
    stack: list[Any] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def check_schema_size(schema: Any, limits: BodyLimits, param: str = "response_format") -> None:
    """Refuse a caller's schema that is too deep or too large before jsonschema or a grammar compiler sees it."""
    nodes = 0
    stack: list[tuple[Any, int]] = [(schema, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limits.max_schema_depth:
            raise bad_request(
                f"{param} schema nests deeper than {limits.max_schema_depth} levels.",
                param,
                "schema_too_deep",
            )
        children = list(item.values()) if isinstance(item, dict) else item if isinstance(item, list) else []
        nodes += len(children)
        if nodes > limits.max_schema_nodes:
            raise bad_request(
                f"{param} schema has more than {limits.max_schema_nodes} keys and items.",
                param,
                "schema_too_large",
            )
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))


class ApiError(Exception):
    """An error answered in OpenAI's shape: {"error": {"message", "type", "param", "code"}}."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        retry_after: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = code
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        """The JSON body."""
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def bad_request(message: str, param: str | None, code: str = "invalid_value") -> ApiError:
    """A 400 for one field."""
    return ApiError(400, message, param=param, code=code)


def from_input_error(exc: InputError, max_tokens_name: str = "max_tokens") -> ApiError:
    """A service InputError as a 400, its parameter renamed to the API's field."""
    names = {**_PARAM_NAMES, "max_new_tokens": max_tokens_name}
    param = names.get(exc.param or "", exc.param)
    message = str(exc).replace("max_new_tokens", max_tokens_name)
    code = "invalid_value" if exc.code == InputError.code else exc.code
    return ApiError(400, message, param=param, code=code)


@dataclass
class ChatCall:
    """One parsed chat request: a task's question (with history) or, for qa-raw, the caller's own messages."""

    model: str
    task: str | None  # None for the raw model
    temperature: Any = None  # as sent; the service checks the bounds and fills the task's defaults
    top_p: Any = None
    max_tokens: Any = None
    max_tokens_name: str = "max_tokens"  # which of max_tokens / max_completion_tokens the caller used
    stream: bool = False
    include_usage: bool = False
    question: str = ""
    history: list[ChatMessage] = field(default_factory=list)
    system_prompt: str | None = None
    messages: list[ChatMessage] = field(default_factory=list)
    schema: dict[str, Any] | None = None
    collection: str | None = None  # a knowledge-base collection the answer cites (task models only)
    field_schema: dict[str, Any] | None = None  # the caller's fields for a document task (e.g. qa-record)

    def summary(self, with_text: bool) -> dict[str, Any]:
        """Log fields: sizes always, the text itself only when asked for (a debug setting)."""
        texts = [self.question, *(m["content"] for m in self.history), *(m["content"] for m in self.messages)]
        out: dict[str, Any] = {
            "model": self.model,
            "stream": self.stream,
            "turns": len(self.history) // 2 if self.task else len(self.messages),
            "prompt_chars": sum(len(t) for t in texts) + len(self.system_prompt or ""),
            "custom_system_prompt": self.system_prompt is not None,
            "max_tokens": self.max_tokens,
        }
        if with_text:
            out["question"] = self.question
            out["messages"] = self.messages or self.history
            out["system_prompt"] = self.system_prompt
        return out


def parse_chat(body: Any, models: Models, limits: BodyLimits | None = None) -> ChatCall:
    """Check every field this API uses (others are ignored, as OpenAI's clients expect) and build the call."""
    limits = limits or BodyLimits()
    if not isinstance(body, dict):
        raise bad_request("The request body must be a JSON object.", None, "invalid_json")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("'model' is required and must be a string.", "model", "missing_required_parameter")
    if model not in models:
        raise ApiError(
            404,
            f"The model '{model}' does not exist. Available: {', '.join(models)}.",
            param="model",
            code="model_not_found",
        )
    task = None if model == RAW_MODEL else model.removeprefix(MODEL_PREFIX)
    _check_n(body.get("n"))
    stream = _optional_bool(body, "stream")
    options = body.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise bad_request("'stream_options' must be an object.", "stream_options")
    include_usage = _optional_bool(options or {}, "include_usage", "stream_options.include_usage")
    max_name, max_tokens = _max_tokens(body)
    messages = _messages(body.get("messages"), limits)
    call = ChatCall(
        model=model,
        task=task,
        temperature=body.get("temperature"),
        top_p=body.get("top_p"),
        max_tokens=max_tokens,
        max_tokens_name=max_name,
        stream=stream,
        include_usage=include_usage,
    )
    kind, schema = _response_format(body.get("response_format"), limits)
    if task is None:
        call.messages = messages  # checked by the service (roles, text, ends with a user message)
        call.schema = schema if kind == "json_schema" else JSON_OBJECT_SCHEMA if kind == "json_object" else None
        return call
    if kind == "json_schema" and _canonical(schema) != _canonical(models[model]):
        raise bad_request(
            f"Model '{model}' always answers with its own JSON schema (listed under 'response_schema' in "
            "GET /v1/models); send that schema, response_format json_object, or no response_format.",
            "response_format",
            "unsupported_schema",
        )
    collection = body.get("collection")
    if collection is not None and (not isinstance(collection, str) or not collection):
        raise bad_request("'collection' must be the name of a knowledge-base collection.", "collection")
    call.collection = collection
    field_schema = body.get("field_schema")
    if field_schema is not None:
        # the service checks what the fields may be; here only that it is an object of bounded size
        if not isinstance(field_schema, dict):
            raise bad_request("'field_schema' must be a JSON Schema object of the fields to extract.", "field_schema", "bad_schema")  # fmt: skip
        check_schema_size(field_schema, limits, "field_schema")
        call.field_schema = field_schema
    try:
        call.system_prompt, call.history, call.question = split_conversation(messages)
    except InputError as exc:
        raise from_input_error(exc) from None
    return call


def _optional_bool(body: dict[str, Any], name: str, param: str | None = None) -> bool:
    value = body.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise bad_request(f"'{param or name}' must be true or false.", param or name)
    return value


def _check_n(n: Any) -> None:
    if n is None:
        return
    if isinstance(n, bool) or not isinstance(n, int):
        raise bad_request("'n' must be an integer.", "n")
    if n != 1:
        raise bad_request(f"Only n=1 is supported, got n={n}.", "n", "unsupported_value")


def _max_tokens(body: dict[str, Any]) -> tuple[str, Any]:
    """Which of max_tokens / max_completion_tokens (its newer name) was given, and its value."""
    old, new = body.get("max_tokens"), body.get("max_completion_tokens")
    if old is not None and new is not None and old != new:
        raise bad_request(
            "Give max_tokens or max_completion_tokens, not two different values.", "max_completion_tokens"
        )
    return ("max_completion_tokens", new) if new is not None else ("max_tokens", old)


def _text(content: Any, i: int) -> str:
    """A message's text: a string, or a list of text parts (joined by newlines)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and content:
        parts = []
        for part in content:
            if not isinstance(part, dict) or part.get("type") != "text" or not isinstance(part.get("text"), str):
                raise bad_request(f"messages[{i}].content: only text parts are supported.", "messages")
            parts.append(part["text"])
        return "\n".join(parts)
    raise bad_request(f"messages[{i}].content must be a string or a list of text parts.", "messages")


def _messages(value: Any, limits: BodyLimits) -> list[ChatMessage]:
    if value is None:
        raise bad_request("'messages' is required.", "messages", "missing_required_parameter")
    if not isinstance(value, list) or not value:
        raise bad_request("'messages' must be a non-empty array.", "messages")
    # a system message, the turns (two messages each) and the question: cheap counts before any tokenizing
    if len(value) > 2 * limits.max_turns + 2:
        raise bad_request(
            f"Too many messages: {len(value)}; at most {limits.max_turns} earlier turns are accepted.",
            "messages",
            "too_many_turns",
        )
    out: list[ChatMessage] = []
    chars = 0
    for i, m in enumerate(value):
        if not isinstance(m, dict):
            raise bad_request(f"messages[{i}] must be an object.", "messages")
        role = m.get("role")
        if not isinstance(role, str) or role not in _ROLES:
            shown = role if isinstance(role, str | None) else type(role).__name__
            raise bad_request(
                f"messages[{i}].role {shown!r} is not supported; use system, user or assistant.", "messages"
            )
        text = _text(m.get("content"), i)
        chars += len(text)
        if chars > limits.max_chars:
            raise bad_request(
                f"The messages hold more than {limits.max_chars} characters together.", "messages", "too_long"
            )
        out.append({"role": _ROLES[role], "content": text})  # type: ignore[typeddict-item]
    return out


def _response_format(value: Any, limits: BodyLimits) -> tuple[str, dict[str, Any] | None]:
    """('text' | 'json_object' | 'json_schema', schema or None)."""
    if value is None:
        return "text", None
    if not isinstance(value, dict) or value.get("type") not in ("text", "json_object", "json_schema"):
        raise bad_request(
            "'response_format' must be an object with type text, json_object or json_schema.", "response_format"
        )
    if value["type"] != "json_schema":
        return value["type"], None
    spec = value.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("schema"), dict):
        raise bad_request(
            "response_format json_schema needs 'json_schema': {'name': ..., 'schema': {...}}.", "response_format"
        )
    if "name" in spec and not isinstance(spec["name"], str):
        raise bad_request("response_format.json_schema.name must be a string.", "response_format")
    check_schema_size(spec["schema"], limits)
    try:
        Draft202012Validator.check_schema(spec["schema"])
    except RecursionError:  # a bound for a validator's own recursion, should the size limits be raised far
        raise bad_request("response_format schema nests too deeply.", "response_format", "schema_too_deep") from None
    except SchemaError as exc:
        raise bad_request(
            f"response_format schema is not a valid JSON Schema: {exc.message}", "response_format"
        ) from None
    return "json_schema", spec["schema"]


def _canonical(schema: Any) -> str:
    return json.dumps(schema, sort_keys=True, ensure_ascii=False)
