"""Several users at once on the real model: their answers are decoded together and each gets its own answer."""

from __future__ import annotations

import json
import threading
from typing import Any

import openai
import pytest

from qa.server import create_app
from qa.settings import Settings

from .helpers import wait_for
from .live import serving

pytestmark = pytest.mark.model

# each user asks for an answer under a schema of their own: a row given another row's grammar, logits or text
# could not produce its own key
QUESTIONS = [
    ("头痛伴低烧要注意什么？", "headache"),
    ("什么是基金定投？", "fund"),
    ("孩子咳嗽一周怎么办？", "cough"),
    ("年化收益率是什么意思？", "rate"),
]


def own_schema(key: str) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {key: {"type": "string", "minLength": 20, "maxLength": 60}},
        "required": [key],
        "additionalProperties": False,
    }


def test_four_api_users_stream_at_once_and_each_gets_their_own_answer(real_service, real_backend):
    counts = getattr(real_backend, "scheduler_counts", None)
    if counts is None:
        pytest.skip(f"the live backend ({real_backend.info.device}) does not batch")
    assert real_service.gate_state()["slots"] >= 4
    assert counts()[2] < 4  # no earlier test put four rows in one step
    results: dict[int, Any] = {}
    errors: list[BaseException] = []

    with serving(create_app(real_service, Settings(raw_model=True))) as url:
        client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=600)

        def ask(i: int) -> None:
            question, key = QUESTIONS[i]
            try:
                stream = client.chat.completions.create(
                    model="qa-raw",
                    messages=[{"role": "user", "content": question}],
                    temperature=0,
                    max_tokens=96,
                    response_format={"type": "json_schema", "json_schema": {"name": key, "schema": own_schema(key)}},
                    stream=True,
                )
                results[i] = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(QUESTIONS))]
        for t in threads:
            t.start()
        # all four were admitted at once: none waits in the queue behind another user's answer
        assert wait_for(lambda: real_service.gate_state()["active"] == 4, timeout=120)
        for t in threads:
            t.join()
    assert not errors, errors
    # four rows shared decode steps (the scheduler's own count, not a clock)
    assert counts()[2] == 4
    for i, (_, key) in enumerate(QUESTIONS):
        data = json.loads(results[i])
        assert list(data) == [key] and 20 <= len(data[key]) <= 60, (QUESTIONS[i], data)
