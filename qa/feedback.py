"""Thumbs up/down on answers, appended with the turn to a local JSONL file."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import QAError

if TYPE_CHECKING:
    from .conversation import Turn

log = logging.getLogger(__name__)


class FeedbackLog:
    """Appends one JSON line per rating; safe to share between concurrent sessions."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def record(self, task: str, index: int, liked: bool, turn: Turn) -> dict[str, Any]:
        """Append a rating of turn `index` and return the record written."""
        rated = turn.record()
        record = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "task": task,
            "turn": index,
            "rating": "up" if liked else "down",
            **{key: rated[key] for key in ("question", "answer", "status", "validation", "model", "params")},
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as f:
                    f.write(line)
        except OSError as exc:
            raise QAError(f"could not save feedback to {self.path}: {exc.strerror or exc}") from exc
        log.info("feedback %s on %s turn %d", record["rating"], task, index)
        return record
