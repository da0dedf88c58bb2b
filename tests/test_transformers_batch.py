"""The transformers backend batches concurrent generations: rows join a running batch, keep their own grammar,
leave on Stop without disturbing the others, and a left-padded row answers as it does alone."""

from __future__ import annotations

import json
import threading
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from jsonschema import Draft202012Validator

from qa.types import GenerationRequest, SamplingParams

from .helpers import DIGIT, stream_together

pytestmark = pytest.mark.model

COLOUR = {
    "type": "object",
    "properties": {"colour": {"type": "string", "enum": ["red", "green", "blue"]}},
    "required": ["colour"],
    "additionalProperties": False,
}
WORDS = {
    "type": "object",
    "properties": {"words": {"type": "array", "items": {"type": "string", "maxLength": 6}, "maxItems": 3}},
    "required": ["words"],
    "additionalProperties": False,
}


def request(question: str, schema: dict[str, Any] | None, tokens: int, system: str = "Answer in JSON.") -> Any:
    messages = [{"role": "system", "content": system}, {"role": "user", "content": question}]
    return GenerationRequest(messages=messages, params=SamplingParams(0.0, 1.0, tokens), schema=schema)


@pytest.fixture(scope="module")
def backend(transformers_backend):
    transformers_backend.load()
    assert transformers_backend.parallel >= 3, "the default settings batch several rows"
    return transformers_backend


def test_rows_in_one_batch_each_follow_their_own_schema(backend):
    steps, rows, _ = backend.scheduler_counts()
    schemas = [DIGIT, COLOUR, WORDS]
    results = stream_together(
        backend,
        [
            request("Pick a digit.", DIGIT, 24),
            request("Name a colour of the sky.", COLOUR, 24),
            request("Give three short English words.", WORDS, 48),
        ],
    )
    for (text, stats), schema in zip(results, schemas, strict=True):
        assert stats.finish_reason == "stop", text
        assert not list(Draft202012Validator(schema).iter_errors(json.loads(text)))
    after_steps, after_rows, peak = backend.scheduler_counts()
    # several rows shared forward passes: fewer steps than the tokens the rows took together
    assert peak >= 3 and after_rows - rows > after_steps - steps


def test_a_left_padded_row_answers_as_it_does_alone(backend):
    """The next-token logits of a short prompt, left-padded beside a long one in the shared cache, are those of
    the short prompt evaluated alone (up to rounding): the padding is masked and positions are the row's own."""
    tokenizer = backend.tokenizer
    short = tokenizer.encode("The capital of France is Paris. The capital of Japan is")
    long = tokenizer.encode("A long preamble about geography and history. " * 12 + "The capital of Italy is")
    token, other = tokenizer.encode(" Tokyo")[0], tokenizer.encode(" Rome")[0]

    def work(scheduler: Any) -> tuple[Any, Any]:
        alone = scheduler.prefill(short + [token])[1]
        try:
            for prompt in (short, long):
                scheduler._join(SimpleNamespace(prompt=prompt), scheduler.prefill(prompt)[0])
            batched = scheduler.forward([token, other], [len(short), len(long)])
        finally:
            scheduler._reset()
        return alone, batched[0]

    alone, batched = backend._scheduler.call(work)
    assert len(long) > 3 * len(short)
    scale = float(np.abs(alone).max())
    assert float(np.abs(batched - alone).max()) < 0.02 * scale, "padding or positions leaked into the short row"
    assert int(np.argmax(batched)) == int(np.argmax(alone))


def test_stopping_one_row_leaves_the_others_running(backend):
    stop = threading.Event()
    system = "You are a helpful assistant."
    stopped = request("Count from 1 to 200, separated by commas.", None, 200, system)
    stopped.stop_event = stop
    other = request("Count from 1 to 100, separated by commas.", None, 40, system)
    box: dict[str, Any] = {}

    def run_other() -> None:
        stream = backend.stream(other)
        box["text"], box["stats"] = "".join(stream), stream.stats

    first = backend.stream(stopped)
    next(first)  # the row is in the batch
    thread = threading.Thread(target=run_other)
    thread.start()
    for _ in range(5):  # a few more tokens while the other row joins
        next(first)
    stop.set()
    list(first)
    thread.join(timeout=600)
    assert first.stats.finish_reason == "cancelled" and first.stats.completion_tokens < 200
    assert box["stats"].finish_reason == "length" and box["stats"].completion_tokens == 40 and box["text"]
