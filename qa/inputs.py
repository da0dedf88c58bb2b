"""Input checks, one copy each: the question, a caller's system prompt, earlier turns, raw chat messages; and the
context budget (leaving out the oldest turns that do not fit). Every problem is an InputError naming its field."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .errors import CancelledError, InputError
from .types import ChatMessage

log = logging.getLogger(__name__)

MAX_SYSTEM_PROMPT_CHARS = 8000
ROLES = ("system", "user", "assistant")


def check_unicode(text: str, param: str) -> str:
    """The text; InputError when it holds a lone surrogate, which no encoder, tokenizer or log line can take (a
    command-line argument of bytes that are not UTF-8 arrives as one: Python's surrogateescape)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputError(
            f"文本含有无效字符（第 {exc.start + 1} 个字符）。 The text is not valid Unicode at character {exc.start + 1} "
            "(bytes that are not UTF-8, or half of a surrogate pair).",
            param=param,
        ) from None
    return text


def check_question(question: Any, max_chars: int) -> str:
    """The question, stripped; InputError when it is not text, not valid Unicode, empty or too long."""
    if not isinstance(question, str):
        raise InputError("the question must be text", param="question")
    question = check_unicode(question, "question").strip()
    if not question:
        raise InputError("请输入问题（问题不能为空）。 The question is empty.", param="question")
    if len(question) > max_chars:
        raise InputError(
            f"问题过长：{len(question)} 个字符，上限为 {max_chars} 个字符。"
            f" The question has {len(question)} characters; the limit is {max_chars}.",
            param="question",
        )
    return question


def check_system_prompt(value: Any) -> str | None:
    """A caller's system prompt, stripped, or None for the default; InputError when it is not usable."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError("the system prompt must be text", param="system_prompt")
    value = check_unicode(value, "system_prompt").strip()
    if not value:
        raise InputError("系统提示不能为空；可点“恢复默认”。 The system prompt is empty.", param="system_prompt")
    if len(value) > MAX_SYSTEM_PROMPT_CHARS:
        raise InputError(
            f"系统提示过长：{len(value)} 个字符，上限 {MAX_SYSTEM_PROMPT_CHARS}。"
            f" The system prompt has {len(value)} characters; the limit is {MAX_SYSTEM_PROMPT_CHARS}.",
            param="system_prompt",
        )
    return value


def check_history(history: Any, max_turns: int | None = None) -> list[tuple[ChatMessage, ChatMessage]]:
    """Earlier turns as (user, assistant) pairs; InputError unless they alternate user/assistant with text and
    number at most max_turns."""
    if history is None:
        return []
    if not isinstance(history, list):
        raise InputError("history must be a list of messages", param="history")
    if max_turns is not None and len(history) > 2 * max_turns:
        raise InputError(
            f"对话轮数过多：最多保留 {max_turns} 轮，请开始新对话。"
            f" Too many earlier turns: {len(history) // 2}; the limit is {max_turns}.",
            param="history",
            code="too_many_turns",
        )
    messages: list[ChatMessage] = []
    for i, m in enumerate(history):
        want = "user" if i % 2 == 0 else "assistant"
        if not isinstance(m, dict) or m.get("role") != want or not isinstance(m.get("content"), str):
            raise InputError(
                f"history[{i}] must be a {want} message with text content (turns alternate user, assistant)",
                param="history",
            )
        messages.append({"role": want, "content": m["content"]})
    if len(messages) % 2:
        raise InputError("history must end with an assistant message", param="history")
    return [(messages[i], messages[i + 1]) for i in range(0, len(messages), 2)]


def check_messages(messages: Any) -> list[ChatMessage]:
    """Chat messages for a raw generation: system/user/assistant with text, ending with a user message."""
    if not isinstance(messages, list) or not messages:
        raise InputError("messages must be a non-empty list", param="messages")
    checked: list[ChatMessage] = []
    for i, m in enumerate(messages):
        role = m.get("role") if isinstance(m, dict) else None
        if not isinstance(role, str) or role not in ROLES:
            raise InputError(f"messages[{i}] must have role system, user or assistant", param="messages")
        if not isinstance(m.get("content"), str):
            raise InputError(f"messages[{i}].content must be text", param="messages")
        checked.append({"role": role, "content": m["content"]})  # type: ignore[typeddict-item]
    if checked[-1]["role"] != "user":
        raise InputError("the last message must be a user message", param="messages")
    return checked


def split_conversation(messages: list[ChatMessage]) -> tuple[str | None, list[ChatMessage], Any]:
    """(system prompt or None, earlier turns, question) of a chat: an optional first system message, the turns,
    and the last message's text as the question. The turns are checked later, by check_history."""
    system = None
    if messages and messages[0]["role"] == "system":
        system, messages = messages[0]["content"], messages[1:]
    if not messages or messages[-1]["role"] != "user":
        raise InputError("the last message must be a user message (the question)", param="messages")
    return system, list(messages[:-1]), messages[-1]["content"]


def fit_context(
    count: Callable[[list[ChatMessage]], int],
    build: Callable[[list[ChatMessage]], list[ChatMessage]],
    turns: list[tuple[ChatMessage, ChatMessage]],
    budget: int,
    stopped: Callable[[], bool] | None = None,
) -> tuple[list[ChatMessage], int, int] | None:
    """(messages, tokens, turns dropped) keeping the most recent turns that fit in budget; None if even the
    question alone does not fit; CancelledError once `stopped()` says so. `build` returns [*prefix, *turns' messages, question].

    Linear in the history: each turn's own tokens are counted once (its two messages, less the template's fixed
    overhead), the turns to drop follow from their running sum, and the result is counted to confirm; an
    estimate that fell short drops more and counts again, so a few whole-prompt counts in all."""
    messages = build([m for turn in turns for m in turn])
    used = count(messages)
    if used <= budget:
        return messages, used, 0
    alone = build([])
    if count(alone) > budget:
        return None
    start = len(alone) - 1  # the turns' messages as built (a task's user template applied) begin here
    built = messages[start : start + 2 * len(turns)]
    # a turn's share: counted after an empty system message (chat templates need a first message, and an
    # explicit one keeps a template's default system prompt out), less that message alone
    stub: list[ChatMessage] = [{"role": "system", "content": ""}]
    overhead = count(stub)
    costs = []
    for i in range(len(turns)):
        if stopped is not None and stopped():  # the client left: no point fitting its prompt
            raise CancelledError("stopped while the prompt was being fitted")
        costs.append(max(count(stub + built[2 * i : 2 * i + 2]) - overhead, 1))
    dropped, saved = 0, 0
    while used > budget and dropped < len(turns):
        excess = used - budget
        while saved < excess and dropped < len(turns):
            saved += costs[dropped]
            dropped += 1
        messages = build([m for turn in turns[dropped:] for m in turn])
        used = count(messages)
        saved = 0  # an estimate that fell short: the next round drops by the remaining excess
    if used > budget:
        return None
    log.info("left %d of %d earlier turns out of the prompt to fit the context", dropped, len(turns))
    return messages, used, dropped
