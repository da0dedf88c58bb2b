"""`--backend auto`: llama.cpp for GGUF models on machines without a GPU when it is built, else transformers."""

import pytest

from qa import backends
from qa.backends import llamacpp_backend
from qa.settings import Settings


@pytest.mark.parametrize(
    "settings,gpu,built,expected",
    [
        ({}, False, True, "llamacpp"),  # the embedded GGUF on an ordinary CPU: the fast path
        ({}, False, False, "transformers"),  # llama.cpp not built yet: the torch path still answers
        ({}, True, True, "transformers"),  # a GPU: the production model through transformers
        ({"model": "/models/qwen2.5-7b-instruct-q4_k_m.gguf"}, True, True, "llamacpp"),  # a GGUF is llama.cpp's
        ({"model_source": "production"}, False, True, "transformers"),
        ({"quantization": "4bit"}, False, True, "transformers"),  # bitsandbytes is a transformers feature
        ({"backend": "transformers"}, False, True, "transformers"),  # an explicit choice always wins
        ({"backend": "llamacpp"}, True, False, "llamacpp"),
        ({"backend": "fake"}, False, True, "fake"),
    ],
)
def test_auto_backend_follows_the_model_and_the_machine(monkeypatch, settings, gpu, built, expected):
    monkeypatch.setattr(backends, "_gpu_present", lambda: gpu)
    monkeypatch.setattr(llamacpp_backend, "llama_cpp_available", lambda: built)
    name, why = backends.choose_backend(Settings(**settings))
    assert name == expected and why


def test_the_default_backend_is_auto():
    assert Settings().backend == "auto"
