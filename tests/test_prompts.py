import json
import shutil
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from qa.errors import PromptError
from qa.tasks import builtin_tasks
from qa.tasks.base import Files, load_prompts, load_schema

TASK_DIR = Path(__file__).resolve().parent.parent / "qa" / "tasks"


def load_domains():
    # the chat tasks (record extraction has its own prompt form; tests/test_record.py)
    return {task.name: task.prompts for task in builtin_tasks() if task.surface == "chat"}


def load_domain(name, override=None):
    return load_prompts(Files(f"qa.tasks.{name}", override), name)


def test_both_domains_load_with_closed_schemas():
    domains = load_domains()
    assert set(domains) == {"medical", "finance"}
    assert set(domains["medical"].schema["required"]) == {"summary", "analysis", "suggestions", "urgent"}
    assert set(domains["finance"].schema["required"]) == {
        "calculations",
        "summary",
        "analysis",
        "suggestions",
        "risk_notice",
    }
    for d in domains.values():
        assert d.schema["additionalProperties"] is False
        for key in ("analysis", "suggestions"):
            assert d.schema["properties"][key]["maxItems"] >= d.schema["properties"][key]["minItems"] >= 1


def test_medical_default_temperature_is_lower_than_finance():
    domains = load_domains()
    assert domains["medical"].defaults["temperature"] < domains["finance"].defaults["temperature"]


def test_system_prompt_lists_every_schema_field():
    for d in load_domains().values():
        prompt = d.system_prompt()
        for field in d.schema["properties"]:
            assert f"- {field}：" in prompt
        assert "{{" not in prompt


def test_messages_use_system_then_example_then_user():
    d = load_domain("medical")
    messages = d.build_messages("头痛")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[-1]["content"] == "头痛" and messages[2]["content"].startswith('{"summary"')


def test_missing_variable_fails_loudly():
    d = load_domain("finance")
    with pytest.raises(PromptError, match="question"):
        d.render(d.user_template)


@pytest.mark.parametrize(
    "mutate,message",
    [
        (lambda y: y.replace("name: medical", "name: finance"), "declares name"),
        (lambda y: y.replace("schema: medical.schema.json", "schema: nowhere.json"), "not found"),
        (lambda y: y.replace("{{ answer_format }}", "{{ answer_fromat }}"), "answer_fromat"),
        (lambda y: y.replace("defaults:", "defaultz:"), "lacks keys"),
        (lambda y: "broken: [unclosed\n" + y, "YAML"),
    ],
)
def test_broken_prompt_files_are_rejected(tmp_path, mutate, message):
    shutil.copytree(TASK_DIR / "medical", tmp_path / "p", ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = tmp_path / "p" / "medical.yaml"
    path.write_text(mutate(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(PromptError, match=message):
        load_domain("medical", tmp_path / "p")
    with pytest.raises(PromptError, match=message):  # the same file given through the settings' override folder
        builtin_tasks(tmp_path / "p")


def test_an_override_folder_replaces_a_packaged_prompt(tmp_path):
    shutil.copytree(
        TASK_DIR / "finance", tmp_path, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.py", "__pycache__")
    )
    path = tmp_path / "finance.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("严谨的金融知识助手", "本行的金融知识助手"), encoding="utf-8"
    )
    tasks = builtin_tasks(tmp_path)
    assert "本行的金融知识助手" in tasks.get("finance").system_prompt()
    assert "本行" not in tasks.get("medical").system_prompt()  # files it does not have come from the package


@pytest.mark.parametrize(
    "schema,message",
    [
        ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}, "additionalProperties"),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": [], "additionalProperties": False},
            "required",
        ),
        ({"type": "object", "properties": {"a": {"type": "strin"}}}, "not a valid JSON Schema"),
    ],
)
def test_bad_schemas_are_rejected(tmp_path, schema, message):
    path = tmp_path / "s.json"
    path.write_text(json.dumps(schema))
    with pytest.raises(PromptError, match=message):
        load_schema(Files("qa.tasks.medical", tmp_path), "s.json")


@pytest.mark.parametrize(
    "domain,answer,valid",
    [
        ("medical", {"summary": "s", "analysis": ["a"], "suggestions": ["b"], "urgent": False}, True),
        ("medical", {"summary": "s", "analysis": [], "suggestions": ["b"], "urgent": False}, False),
        ("medical", {"summary": "s", "analysis": ["a"], "suggestions": ["b"]}, False),
        ("medical", {"summary": "s", "analysis": ["a"], "suggestions": ["b"], "urgent": "yes"}, False),
        ("medical", {"summary": "s" * 500, "analysis": ["a"], "suggestions": ["b"], "urgent": True}, False),
        ("medical", {"summary": "s", "analysis": ["a"] * 9, "suggestions": ["b"], "urgent": True}, False),
        ("medical", {"summary": "s", "analysis": ["a"], "suggestions": ["b"], "urgent": True, "x": 1}, False),
        (
            "finance",
            {"calculations": [], "summary": "s", "analysis": ["a"], "suggestions": ["b"], "risk_notice": "有风险。"},
            True,
        ),
        (
            "finance",
            {"calculations": [], "summary": "s", "analysis": ["a"], "suggestions": ["b"], "risk_notice": ""},
            False,
        ),
        ("finance", {"calculations": [], "summary": "s", "analysis": ["a"], "suggestions": ["b"]}, False),
    ],
)
def test_schema_table(domain, answer, valid):
    schema = load_domain(domain).schema
    assert Draft202012Validator(schema).is_valid(answer) is valid
