"""The server log: JSON lines with fields, rotated by size; stderr keeps a readable line."""

import json
import logging

import pytest

from qa.logs import fields, setup_logging


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    root.setLevel(saved[0])
    for handler in saved[1]:
        root.addHandler(handler)


def test_json_lines_with_fields_and_rotation(tmp_path, restore_logging, capsys):
    path = tmp_path / "logs" / "server.log"
    setup_logging("INFO", str(path), max_bytes=65536, backups=2)
    log = logging.getLogger("qa.test")
    log.info("chat done", extra=fields(request_id="r1", tokens=12, rules=["red_flag"]))
    entry = json.loads(path.read_text().splitlines()[0])
    assert entry["msg"] == "chat done" and entry["level"] == "INFO" and entry["logger"] == "qa.test"
    assert (entry["request_id"], entry["tokens"], entry["rules"]) == ("r1", 12, ["red_flag"])
    assert 'request_id="r1" tokens=12' in capsys.readouterr().err
    for i in range(2000):
        log.info("filler %d %s", i, "x" * 100)
    rotated = sorted(p.name for p in path.parent.iterdir())
    assert rotated == ["server.log", "server.log.1", "server.log.2"]
    assert all(p.stat().st_size <= 65536 + 400 for p in path.parent.iterdir())


def test_no_file_when_the_setting_is_empty(tmp_path, restore_logging, monkeypatch):
    monkeypatch.chdir(tmp_path)
    setup_logging("INFO", "")
    logging.getLogger("qa.test").info("hello")
    assert list(tmp_path.iterdir()) == []
