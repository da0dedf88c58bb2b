"""Logging set-up: readable lines on stderr, JSON lines in a size-rotated server log; fields via extra={"fields": …}."""

from __future__ import annotations

import json
import logging
import logging.handlers
import sys
import time
from pathlib import Path
from typing import Any

CONSOLE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def fields(**values: Any) -> dict[str, Any]:
    """The `extra` argument that attaches structured fields to one log record."""
    return {"fields": values}


class KeyValueFormatter(logging.Formatter):
    """The usual one-line format, followed by the record's fields as key=value."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict) and extra:
            line += " " + " ".join(f"{k}={json.dumps(v, ensure_ascii=False, default=str)}" for k, v in extra.items())
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the record's fields, and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(record.created)) + f".{int(record.msecs):03d}",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        extra = getattr(record, "fields", None)
        if isinstance(extra, dict):
            entry.update(extra)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def setup_logging(level: str, log_file: str = "", max_bytes: int = 10_485_760, backups: int = 5) -> None:
    """Configure the root logger once: stderr, plus a rotating JSON-lines file when `log_file` is set."""
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(KeyValueFormatter(CONSOLE_FORMAT))
    root.addHandler(console)
    if log_file:
        path = Path(log_file).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
