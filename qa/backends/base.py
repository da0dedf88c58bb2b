"""The backend interface: load once, count tokens, stream text for chat messages."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..types import ChatMessage, GenerationRequest, ModelInfo, TextStream


@runtime_checkable
class Backend(Protocol):
    """A model that turns chat messages into (optionally schema-constrained) text."""

    @property
    def info(self) -> ModelInfo:
        """What is live: model, dtype, device."""
        ...

    @property
    def context_length(self) -> int:
        """Prompt plus answer tokens the backend accepts."""
        ...

    def load(self) -> None:
        """Load the model; idempotent; raises ModelLoadError or ConfigurationError."""
        ...

    def count_tokens(self, messages: list[ChatMessage]) -> int:
        """Prompt tokens these messages take, generation prompt included."""
        ...

    def stream(self, request: GenerationRequest) -> TextStream:
        """Stream the answer; generations on one backend never interleave."""
        ...


def generate(backend: Backend, request: GenerationRequest) -> tuple[str, TextStream]:
    """Run a stream to its end and return the whole text with the finished stream (for its stats)."""
    stream = backend.stream(request)
    try:
        text = "".join(stream)
    finally:
        stream.close()
    return text, stream
