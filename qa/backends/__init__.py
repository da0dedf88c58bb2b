"""Generation backends behind one interface; heavy imports stay inside each implementation."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Backend

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["Backend", "create_backend"]


def create_backend(settings: Settings) -> Backend:
    """The backend the settings ask for, not yet loaded."""
    if settings.backend == "fake":
        from .fake import FakeBackend, load_responses

        responses = load_responses(settings.fake_responses_file) if settings.fake_responses_file else None
        return FakeBackend(responses, delay_s=settings.fake_delay_s)
    if settings.backend == "openai":
        from .openai_backend import OpenAIBackend

        return OpenAIBackend(settings)
    from .transformers_backend import TransformersBackend

    return TransformersBackend(settings)
