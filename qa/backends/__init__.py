"""Generation backends behind one interface; heavy imports stay inside each implementation."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .base import Backend

if TYPE_CHECKING:
    from ..settings import Settings

__all__ = ["Backend", "choose_backend", "create_backend"]

log = logging.getLogger(__name__)


def _gpu_present() -> bool:
    """An NVIDIA GPU is visible (checked without importing torch, which the llama.cpp path never needs)."""
    return Path("/proc/driver/nvidia/gpus").is_dir() and os.environ.get("CUDA_VISIBLE_DEVICES", "x") != ""


def choose_backend(settings: Settings) -> tuple[str, str]:
    """(backend, why) for the settings: `auto` resolved by the model and the machine."""
    if settings.backend != "auto":
        return settings.backend, "set by --backend"
    from .llamacpp_backend import llama_cpp_available

    if settings.model.lower().endswith(".gguf"):
        return "llamacpp", "the model is a GGUF file"
    from .transformers_backend import resolve_source

    gpu = _gpu_present()
    if resolve_source(settings, cuda=gpu) == "production":
        return "transformers", "the production model (a GPU, a local copy or --quantization)"
    if not llama_cpp_available():
        return "transformers", "llama.cpp is not built (./start.sh build-llama builds it once)"
    return "llamacpp", "the embedded GGUF on a machine without a GPU"


def create_backend(settings: Settings) -> Backend:
    """The backend the settings ask for, not yet loaded."""
    name, why = choose_backend(settings)
    if settings.backend == "auto":
        log.info("backend auto: %s (%s)", name, why)
    if name == "fake":
        from .fake import FakeBackend, load_responses

        responses = load_responses(settings.fake_responses_file) if settings.fake_responses_file else None
        return FakeBackend(responses, delay_s=settings.fake_delay_s)
    if name == "openai":
        from .openai_backend import OpenAIBackend

        return OpenAIBackend(settings)
    if name == "llamacpp":
        from .llamacpp_backend import LlamaCppBackend

        return LlamaCppBackend(settings)
    from .transformers_backend import TransformersBackend

    return TransformersBackend(settings)
