"""Thumbs up/down on answers, appended with the turn to a local JSONL file."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import QAError

log = logging.getLogger(__name__)


class FeedbackLog:
    """Appends one JSON line per rating; safe to share between concurrent sessions."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def record(self, domain: str, index: int, liked: bool, turn: dict[str, Any]) -> dict[str, Any]:
        """Append a rating of turn `index` and return the record written."""
        answer = turn.get("answer") or {}
        record = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "domain": domain,
            "turn": index,
            "rating": "up" if liked else "down",
            "question": turn.get("question"),
            "answer": answer.get("answer", turn.get("partial")),
            "status": turn.get("status"),
            "validation": answer.get("validation"),
            "model": answer.get("model"),
            "params": answer.get("params"),
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as f:
                    f.write(line)
        except OSError as exc:
            raise QAError(f"could not save feedback to {self.path}: {exc.strerror or exc}") from exc
        log.info("feedback %s on %s turn %d", record["rating"], domain, index)
        return record
