"""The knowledge base from the command line, in a subprocess: kb add/list/search/rm and ask --kb printing
citations with chunk, quote, file, page, start, end and verified (fake LLM, the real e5 embedder)."""

from __future__ import annotations

import json

from qa.kb.base import file_id

from .helpers import MEDICAL_OK
from .kb_files import MEDICAL_PAGES, cjk_pdf
from .test_cli import run_qa


def test_kb_add_list_search_ask_and_rm(tmp_path):
    env = {"QA_CACHE_DIR": str(tmp_path / "cache")}
    guide = tmp_path / "guide.pdf"
    guide.write_bytes(cjk_pdf(MEDICAL_PAGES))
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"not a pdf at all")
    added = run_qa("kb", "add", "医疗资料", str(guide), str(bad), env=env)
    assert added.returncode == 2 and "bad.pdf" in added.stderr  # the bad file is reported, the good one stored
    record = json.loads(added.stdout)
    assert (record["name"], record["pages"]) == ("guide.pdf", 2) and record["chunks"] >= 2

    listed = run_qa("kb", "list", env=env)
    assert json.loads(listed.stdout) == {"name": "医疗资料", "files": 1, "chunks": record["chunks"]}
    files = [json.loads(line) for line in run_qa("kb", "list", "医疗资料", env=env).stdout.splitlines()]
    assert [f["name"] for f in files] == ["guide.pdf"]
    hits = run_qa("kb", "search", "医疗资料", "高血压", "食盐", "--k", "1", env=env)
    assert "食盐" in json.loads(hits.stdout)["text"]

    question = "高血压患者每天吃多少盐？"
    top = json.loads(run_qa("kb", "search", "医疗资料", question, "--k", "1", env=env).stdout)
    salt = "高血压患者每日食盐摄入量应低于5克。"  # one of the sentences offered for this question
    assert top["text"].startswith(salt) and top["chunk"] == f"{file_id('医疗资料', 'guide.pdf')}-1"
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps([{**MEDICAL_OK, "citations": [{"quote": salt}]}]))
    asked = run_qa(
        "ask", "--backend", "fake", "--fake-responses-file", str(answers), "--domain", "medical",
        "--kb", "医疗资料", question, env=env,
    )  # fmt: skip
    assert asked.returncode == 0, asked.stderr
    [citation] = json.loads(asked.stdout)["citations"]
    assert {k: citation[k] for k in ("chunk", "quote", "file", "page", "verified")} == {
        "chunk": top["chunk"], "quote": salt, "file": "guide.pdf", "page": 1, "verified": True,
    }  # fmt: skip
    assert MEDICAL_PAGES[0][citation["start"] : citation["end"]] == salt

    removed = run_qa("kb", "rm", "医疗资料", "guide.pdf", env=env)
    assert json.loads(removed.stdout) == {"removed": "guide.pdf", "collection": "医疗资料"}
    missing = run_qa("kb", "rm", "医疗资料", "guide.pdf", env=env)
    assert missing.returncode == 2 and "no file guide.pdf" in missing.stderr
