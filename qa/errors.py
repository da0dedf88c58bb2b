"""The project's error hierarchy; the UI and CLI edges turn these into user-facing messages."""

from __future__ import annotations


class QAError(Exception):
    """Base class of every error this project raises on purpose."""

    #: short machine-readable code, used by the API and CLI edges
    code = "qa_error"


class InputError(QAError):
    """The user's request is invalid (empty question, out-of-range parameter, too long)."""

    code = "invalid_request"

    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.param = param
        if code is not None:
            self.code = code  # a more specific code, e.g. context_length_exceeded


class ConfigurationError(QAError):
    """Settings that cannot work together or on this machine (e.g. 4-bit without CUDA)."""

    code = "configuration_error"


class ModelLoadError(QAError):
    """Model files are missing or corrupt, or the model could not be loaded."""

    code = "model_load_error"


class PromptError(QAError):
    """A prompt or schema file is missing, malformed, or rendered with a missing variable."""

    code = "prompt_error"


class GenerationError(QAError):
    """Generation failed inside the backend."""

    code = "generation_error"


class UpstreamError(GenerationError):
    """The remote engine could not be reached, refused the request, or broke off its answer."""

    code = "upstream_error"


class BusyError(QAError):
    """The model is serving another request and the caller chose not to wait (or the queue is full)."""

    code = "busy"


class NotReadyError(QAError):
    """The model is still loading in the background; try again shortly."""

    code = "model_loading"


class CancelledError(QAError):
    """The caller stopped (or left) before the work began; nothing is answered."""

    code = "cancelled"
