"""The model's lifecycle: cold → loading → ready (or failed), with the warm-up on a background thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from .errors import ModelLoadError, NotReadyError, QAError

log = logging.getLogger(__name__)


class Lifecycle:
    """Tracks the model's state; `warm` loads it and runs whatever makes the first request fast."""

    def __init__(self, warm: Callable[[], None]) -> None:
        self._warm = warm
        # cold: loads on first use; loading: warm-up running (requests get NotReadyError); ready; failed
        self._state = "cold"
        self._error: BaseException | None = None
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        """cold, loading, ready or failed."""
        with self._lock:
            return self._state

    def _set(self, state: str, error: BaseException | None = None) -> None:
        with self._lock:
            self._state = state
            self._error = error

    def check_ready(self) -> None:
        """Refuse work while a background warm-up runs, or after it failed."""
        with self._lock:
            state, error = self._state, self._error
        if state == "loading":
            raise NotReadyError("模型正在加载，请稍后再试。 The model is still loading; try again in a few seconds.")
        if state == "failed":
            raise ModelLoadError(f"the model did not load: {error}")

    def warm_up(self) -> None:
        """Load and warm the model now."""
        self._set("loading")
        try:
            self._warm()
        except BaseException as exc:
            self._set("failed", exc)
            raise
        self._set("ready")

    def start_warm_up(self, on_done: Callable[[BaseException | None], None] | None = None) -> threading.Thread:
        """Warm up on a background thread; requests get NotReadyError until it is done; on_done gets its error."""
        self._set("loading")

        def run() -> None:
            error: BaseException | None = None
            try:
                self.warm_up()
            except BaseException as exc:  # handed to on_done, which decides (the server exits)
                error = exc
                if not isinstance(exc, QAError):
                    log.exception("warm-up failed")
            if on_done is not None:
                on_done(error)

        thread = threading.Thread(target=run, name="qa-warm-up", daemon=True)
        thread.start()
        return thread
