"""Loads per-domain prompt files and answer schemas from prompts/, validated, and renders them strictly."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from .errors import PromptError
from .types import ChatMessage

DOMAINS = ("medical", "finance")
_REQUIRED_KEYS = ("name", "label", "label_en", "schema", "defaults", "system", "user", "repair")
_DEFAULT_KEYS = ("temperature", "top_p", "max_new_tokens")
_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)


@dataclass(frozen=True)
class Domain:
    """One domain's prompts, schema and sampling defaults, as loaded from files."""

    name: str
    label: str
    label_en: str
    schema: dict[str, Any]
    defaults: dict[str, float]
    system_template: str
    user_template: str
    repair_template: str

    def render(self, template: str, **variables: Any) -> str:
        """Render one of this domain's templates; a missing variable raises PromptError."""
        try:
            return _ENV.from_string(template).render(**variables).strip()
        except jinja2.UndefinedError as exc:
            raise PromptError(f"prompt for domain {self.name!r} needs a variable that was not given: {exc}") from exc
        except jinja2.TemplateError as exc:
            raise PromptError(f"prompt for domain {self.name!r} is not a valid template: {exc}") from exc

    def system_prompt(self) -> str:
        """The default system prompt with the answer format spelled out from the schema."""
        return self.render(self.system_template, answer_format=describe_schema(self.schema))

    def build_messages(
        self, question: str, system_prompt: str | None = None, history: list[ChatMessage] | None = None
    ) -> list[ChatMessage]:
        """Chat messages for one question after earlier turns (user questions and assistant JSON answers)."""
        earlier: list[ChatMessage] = [
            {"role": "user", "content": self.render(self.user_template, question=m["content"])}
            if m["role"] == "user"
            else m
            for m in history or []
        ]
        return [
            {"role": "system", "content": system_prompt if system_prompt is not None else self.system_prompt()},
            *earlier,
            {"role": "user", "content": self.render(self.user_template, question=question)},
        ]

    def repair_message(self, problems: str) -> ChatMessage:
        """The follow-up user turn that feeds a violation back to the model."""
        return {"role": "user", "content": self.render(self.repair_template, problems=problems)}


def describe_schema(schema: dict[str, Any]) -> str:
    """A short field list for the system prompt, generated from the schema so the two never drift."""
    lines = []
    for name, prop in schema["properties"].items():
        kind = prop.get("type")
        if kind == "array":
            item = prop.get("items", {})
            limit = (
                f"{prop.get('minItems', 0)}-{prop.get('maxItems', '∞')} 条，每条不超过 {item.get('maxLength', '∞')} 字"
            )
            text = f"字符串数组（{limit}）"
        elif kind == "string":
            text = f"字符串（不超过 {prop.get('maxLength', '∞')} 字）"
        elif kind == "boolean":
            text = "true 或 false"
        else:
            text = str(kind)
        lines.append(f"- {name}：{text}。{prop.get('description', '')}")
    return "\n".join(lines)


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PromptError(f"prompt file not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise PromptError(f"prompt file {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise PromptError(f"prompt file {path} must hold a mapping")
    missing = [k for k in _REQUIRED_KEYS if k not in data]
    if missing:
        raise PromptError(f"prompt file {path} lacks keys: {', '.join(missing)}")
    return data


def load_schema(path: Path) -> dict[str, Any]:
    """Read an answer schema and check it is valid and closed (required fields, no extra properties)."""
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PromptError(f"schema file not found: {path}") from exc
    except json.JSONDecodeError as exc:
        raise PromptError(f"schema file {path} is not valid JSON: {exc}") from exc
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise PromptError(f"schema file {path} is not a valid JSON Schema: {exc.message}") from exc
    if schema.get("type") != "object" or schema.get("additionalProperties") is not False:
        raise PromptError(f"schema {path} must be an object with additionalProperties: false")
    if set(schema.get("required", [])) != set(schema.get("properties", {})):
        raise PromptError(f"schema {path} must list every property as required")
    return schema


def load_domain(prompts_dir: Path, name: str) -> Domain:
    """Load and validate one domain's prompt file and schema."""
    data = _load_yaml(prompts_dir / f"{name}.yaml")
    if data["name"] != name:
        raise PromptError(f"{prompts_dir / (name + '.yaml')} declares name {data['name']!r}, expected {name!r}")
    defaults = data["defaults"]
    if not isinstance(defaults, dict) or any(k not in defaults for k in _DEFAULT_KEYS):
        raise PromptError(f"{name}.yaml defaults must set {', '.join(_DEFAULT_KEYS)}")
    for key in ("system", "user", "repair"):
        if not isinstance(data[key], str) or not data[key].strip():
            raise PromptError(f"{name}.yaml: {key} must be a non-empty string")
    domain = Domain(
        name=name,
        label=str(data["label"]),
        label_en=str(data["label_en"]),
        schema=load_schema(prompts_dir / str(data["schema"])),
        defaults={k: defaults[k] for k in _DEFAULT_KEYS},
        system_template=data["system"],
        user_template=data["user"],
        repair_template=data["repair"],
    )
    domain.system_prompt()  # fail at load, not at the first question, if the template is broken
    return domain


def load_domains(prompts_dir: Path) -> dict[str, Domain]:
    """Load every domain the app serves."""
    return {name: load_domain(prompts_dir, name) for name in DOMAINS}
