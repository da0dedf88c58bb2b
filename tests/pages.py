"""Drive the page's handlers directly, as Gradio calls them, without a browser."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from qa.feedback import FeedbackLog
from qa.service import QAService
from qa.ui import ChatHandlers, StopSwitch

RAW_JSON = 4  # position of the latest answer's JSON among the ask handler's outputs


def page_ask(
    service: QAService, domain: str, question: str, temperature=0.3, top_p=0.9, max_new_tokens=256
) -> list[tuple[Any, ...]]:
    """Every output the tab's ask handler streams for one question in a fresh conversation."""
    handlers = ChatHandlers(service, StopSwitch(), FeedbackLog(Path(tempfile.mkdtemp()) / "fb.jsonl"), domain)
    return list(handlers.ask(question, [], handlers.default_prompt, temperature, top_p, max_new_tokens))
