"""Drive the page: its handlers directly, as Gradio calls them, or its queue protocol over HTTP as a browser does."""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx

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


def page_ask_http(url, question, session=None, api_name="ask_medical"):
    """One question through the page's own queue protocol, as the browser sends it: (join status, final message)."""
    config = httpx.get(url + "/config", timeout=10).json()
    dep = next(d for d in config["dependencies"] if d.get("api_name") == api_name)
    components = {c["id"]: c for c in config["components"]}
    data = [components[i].get("props", {}).get("value") for i in dep["inputs"]]
    data[0] = question
    session = session or uuid.uuid4().hex
    join = httpx.post(
        url + "/gradio_api/queue/join",
        json={
            "data": data,
            "fn_index": dep["id"],
            "session_hash": session,
            "event_data": None,
            "trigger_id": dep["targets"][0][0],
        },
        timeout=10,
    )
    if join.status_code != 200:
        return join.status_code, None
    with httpx.stream("GET", url + "/gradio_api/queue/data", params={"session_hash": session}, timeout=30) as events:
        for line in events.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return join.status_code, message
    return join.status_code, None
