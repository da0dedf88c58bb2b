"""The backend interface: load once, count tokens, stream text for chat messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol, runtime_checkable

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
        """Stream the answer. A backend runs at most `parallel` generations at once (an optional attribute,
        1 when absent: the llama.cpp backend decodes its batch rows together); more callers wait their turn."""
        ...


def generate(backend: Backend, request: GenerationRequest) -> tuple[str, TextStream]:
    """Run a stream to its end and return the whole text with the finished stream (for its stats)."""
    stream = backend.stream(request)
    try:
        text = "".join(stream)
    finally:
        stream.close()
    return text, stream


def files_stamp(path: Path) -> dict[str, Any]:
    """A model file's or folder's identity without hashing gigabytes: path, and each file's size and mtime.

    Backends report it in identity() (the answer cache's key), so replacing the weights never replays old answers.
    """
    try:
        if path.is_file():
            st = path.stat()
            return {"path": str(path.resolve()), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
        files = sorted(p for p in path.iterdir() if p.is_file())
        return {"path": str(path.resolve()), "files": [[p.name, p.stat().st_size, p.stat().st_mtime_ns] for p in files]}
    except OSError:
        return {"path": str(path)}
