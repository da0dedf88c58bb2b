"""What a task is: its prompt files and schema, input rules, checks, examples, how its answer renders, and the
UI surface it uses. Prompt and schema files are package data beside the task's module, validated at load; a
folder given in settings (`prompts_dir`) may override any of them by file name.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import jinja2
import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from ..checks import Check, InputRule
from ..errors import PromptError
from ..types import ChatMessage

_REQUIRED_KEYS = ("name", "label", "label_en", "schema", "defaults", "system", "user", "repair")
_DEFAULT_KEYS = ("temperature", "top_p", "max_new_tokens")
_ENV = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)


@lru_cache(maxsize=128)
def compile_template(template: str) -> jinja2.Template:
    """A template compiled once per text: rendering a long history renders the user template per turn."""
    return _ENV.from_string(template)


class Files:
    """Reads a task's data files: from the override folder when it has the file, else from the package."""

    def __init__(self, package: str, override: Path | None = None) -> None:
        self.package = package
        self.override = override

    def where(self, name: str) -> str:
        """Where a file is read from, for messages."""
        if self.override is not None and (self.override / name).is_file():
            return str(self.override / name)
        return f"{self.package.replace('.', '/')}/{name}"

    def read(self, name: str) -> str:
        """A file's text; PromptError when it is missing."""
        try:
            if self.override is not None and (self.override / name).is_file():
                return (self.override / name).read_text(encoding="utf-8")
            return resources.files(self.package).joinpath(name).read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise PromptError(f"file not found: {self.where(name)}") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise PromptError(f"cannot read {self.where(name)}: {exc}") from exc


@dataclass(frozen=True)
class PromptSet:
    """One task's prompts, answer schema and sampling defaults, as loaded from its files."""

    name: str
    label: str
    label_en: str
    schema: dict[str, Any]
    defaults: dict[str, float]
    system_template: str
    user_template: str
    repair_template: str
    # one short example exchange (question, answer JSON) shown before the conversation: small models copy the
    # shape and length of an answer far better than they follow a description of it
    example: tuple[str, str] | None = None
    # field → language ("zh"/"en") → a standard sentence the repetition check writes in place of a required field
    # that only repeats a field which cannot give it up (both lists' only items); empty: such a repeat stays
    fallbacks: dict[str, dict[str, str]] = field(default_factory=dict)

    def render(self, template: str, **variables: Any) -> str:
        """Render one of this task's templates; a missing variable raises PromptError."""
        try:
            return compile_template(template).render(**variables).strip()
        except jinja2.UndefinedError as exc:
            raise PromptError(f"prompt for task {self.name!r} needs a variable that was not given: {exc}") from exc
        except jinja2.TemplateError as exc:
            raise PromptError(f"prompt for task {self.name!r} is not a valid template: {exc}") from exc

    def system_prompt(self) -> str:
        """The default system prompt with the answer format spelled out from the schema."""
        return self.render(self.system_template, answer_format=describe_schema(self.schema))

    def build_messages(
        self,
        question: str,
        system_prompt: str | None = None,
        history: list[ChatMessage] | None = None,
        example: bool = True,
    ) -> list[ChatMessage]:
        """Chat messages for one question after earlier turns (user questions and assistant JSON answers); the
        task's example exchange goes first when there are no earlier turns (then the model's own answers show the
        form) and `example` is left on."""
        earlier: list[ChatMessage] = [
            {"role": "user", "content": self.render(self.user_template, question=m["content"])}
            if m["role"] == "user"
            else m
            for m in history or []
        ]
        shown: list[ChatMessage] = []
        if self.example is not None and example and not history:
            shown = [
                {"role": "user", "content": self.render(self.user_template, question=self.example[0])},
                {"role": "assistant", "content": self.example[1]},
            ]
        return [
            {"role": "system", "content": system_prompt if system_prompt is not None else self.system_prompt()},
            *shown,
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
        if kind == "array" and prop.get("items", {}).get("type") == "object":
            item = prop["items"]
            fields = "、".join(item.get("properties", {}))
            text = f"对象数组（{prop.get('minItems', 0)}-{prop.get('maxItems', '∞')} 条），每条含 {fields}"
        elif kind == "array":
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


def check_schema(schema: Any, where: str) -> dict[str, Any]:
    """An answer schema must be a valid, closed object schema (every field required, no extra properties)."""
    if not isinstance(schema, dict):
        raise PromptError(f"schema {where} must be a JSON object")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise PromptError(f"schema file {where} is not a valid JSON Schema: {exc.message}") from exc
    if schema.get("type") != "object" or schema.get("additionalProperties") is not False:
        raise PromptError(f"schema {where} must be an object with additionalProperties: false")
    if set(schema.get("required", [])) != set(schema.get("properties", {})):
        raise PromptError(f"schema {where} must list every property as required")
    return schema


def load_schema(files: Files, name: str) -> dict[str, Any]:
    """Read an answer schema file and check it."""
    text = files.read(name)
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PromptError(f"schema file {files.where(name)} is not valid JSON: {exc}") from exc
    return check_schema(schema, files.where(name))


def load_prompts(files: Files, name: str) -> PromptSet:
    """Load and validate one task's prompt file (`<name>.yaml`) and the schema it names."""
    where = files.where(f"{name}.yaml")
    try:
        data = yaml.safe_load(files.read(f"{name}.yaml"))
    except yaml.YAMLError as exc:
        raise PromptError(f"prompt file {where} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise PromptError(f"prompt file {where} must hold a mapping")
    missing = [k for k in _REQUIRED_KEYS if k not in data]
    if missing:
        raise PromptError(f"prompt file {where} lacks keys: {', '.join(missing)}")
    if data["name"] != name:
        raise PromptError(f"{where} declares name {data['name']!r}, expected {name!r}")
    defaults = data["defaults"]
    if not isinstance(defaults, dict) or any(k not in defaults for k in _DEFAULT_KEYS):
        raise PromptError(f"{where}: defaults must set {', '.join(_DEFAULT_KEYS)}")
    for key in ("system", "user", "repair"):
        if not isinstance(data[key], str) or not data[key].strip():
            raise PromptError(f"{where}: {key} must be a non-empty string")
    schema = load_schema(files, str(data["schema"]))
    prompts = PromptSet(
        name=name,
        label=str(data["label"]),
        label_en=str(data["label_en"]),
        schema=schema,
        defaults={k: defaults[k] for k in _DEFAULT_KEYS},
        system_template=data["system"],
        user_template=data["user"],
        repair_template=data["repair"],
        example=_example(data.get("example"), where, schema),
        fallbacks=_fallbacks(data.get("fallbacks"), where, schema),
    )
    prompts.system_prompt()  # fail at load, not at the first question, if the template is broken
    prompts.render(prompts.user_template, question="")
    prompts.render(prompts.repair_template, problems="")
    return prompts


def _example(value: Any, where: str, schema: dict[str, Any]) -> tuple[str, str] | None:
    """The optional example exchange of a prompt file: a question and an answer that satisfies the schema."""
    if value is None:
        return None
    if (
        not isinstance(value, dict)
        or not isinstance(value.get("question"), str)
        or not isinstance(value.get("answer"), dict)
    ):
        raise PromptError(f"{where}: example must have a question (text) and an answer (a mapping)")
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(value["answer"])]
    if errors:
        raise PromptError(f"{where}: the example answer does not satisfy the schema: {'; '.join(errors)}")
    return value["question"], json.dumps(value["answer"], ensure_ascii=False)


def _fallbacks(value: Any, where: str, schema: dict[str, Any]) -> dict[str, dict[str, str]]:
    """The optional standard sentences of a prompt file, per prose field and language, each within its bounds."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PromptError(f"{where}: fallbacks must map field names to {{zh: …, en: …}}")
    out: dict[str, dict[str, str]] = {}
    for name, texts in value.items():
        prop = schema.get("properties", {}).get(name, {})
        spec = prop.get("items", {}) if prop.get("type") == "array" else prop
        if spec.get("type") != "string":
            raise PromptError(f"{where}: fallbacks.{name} is not a prose field of the schema")
        if not isinstance(texts, dict) or set(texts) - {"zh", "en"}:
            raise PromptError(f"{where}: fallbacks.{name} must map zh/en to a sentence")
        for lang, text in texts.items():
            if not isinstance(text, str) or not spec.get("minLength", 1) <= len(text) <= spec.get("maxLength", 10**6):
                raise PromptError(f"{where}: fallbacks.{name}.{lang} must be a string within the field's bounds")
        out[str(name)] = {str(lang): str(text) for lang, text in texts.items()}
    return out


@dataclass(frozen=True)
class Section:
    """One part of an answer as the page and the Markdown export show it."""

    key: str
    title: str
    style: Literal["section", "notice"] = "section"  # notice: set off as a warning box


@dataclass(frozen=True)
class Alert:
    """A banner shown above an answer when a boolean field of it is true."""

    key: str
    html: str  # trusted text of the task's own, not model output
    markdown: str


@dataclass(frozen=True)
class AnswerView:
    """How a task's answer renders: its sections in order and its alerts."""

    sections: tuple[Section, ...]
    alerts: tuple[Alert, ...] = ()
    # HTML of the task's own parts under the sections (finance: its calculations over the question's table),
    # from the question and the finished answer; it must escape every model or user string itself
    extra: Callable[[str, dict[str, Any]], str] | None = None

    def active_alerts(self, data: dict[str, Any]) -> list[Alert]:
        """The alerts this answer raises."""
        return [a for a in self.alerts if data.get(a.key) is True]


@dataclass(frozen=True)
class Task:
    """The unit of a feature: everything the pipeline, the page, the API and the CLI need to serve it."""

    prompts: PromptSet
    view: AnswerView
    examples: tuple[str, ...] = ()
    input_rules: tuple[InputRule, ...] = ()
    checks: tuple[Check, ...] = ()  # the task's own, run after the checks every task gets
    # the page component that serves it: a chat tab, or an extraction tab (a document in, fields with spans out)
    surface: Literal["chat", "extract"] = "chat"
    triage: bool = False  # its questions go through triage (emergency, department) before the answer
    # text the model sees under the question (finance: the question's figures, numbered for its programs)
    context: Callable[[str], str] | None = None
    # a task that runs its own generation loop instead of the chat pipeline (record extraction: one generation per
    # window of the record, each under a schema built for that window); see qa.tasks.record.extract.Extractor
    extractor: Any = None
    # the task as it answers one question, when its schema depends on the question (finance: programs may name
    # only the figures the question has); None: the same task for every question
    narrow: Callable[[Task, str], Task] | None = None

    def for_question(self, question: str) -> Task:
        """The task for this question: narrowed by its `narrow` hook, else itself."""
        return self.narrow(self, question) if self.narrow is not None else self

    def model_question(self, question: str) -> str:
        """The question as the model sees it: with the task's context under it, when it has any."""
        extra = self.context(question) if self.context is not None else ""
        return f"{question}\n\n{extra}" if extra else question

    @property
    def name(self) -> str:
        """The task's id: the page tab, the API model (qa-<name>), the CLI --task value."""
        return self.prompts.name

    @property
    def label(self) -> str:
        """The tab label."""
        return self.prompts.label

    @property
    def label_en(self) -> str:
        """The tab label in English."""
        return self.prompts.label_en

    @property
    def schema(self) -> dict[str, Any]:
        """The answer schema."""
        return self.prompts.schema

    @property
    def defaults(self) -> dict[str, float]:
        """Sampling defaults: temperature, top_p, max_new_tokens."""
        return self.prompts.defaults

    @property
    def response_schema(self) -> dict[str, Any]:
        """The shape of what the task returns (the API's response_schema): the answer schema, or the extractor's."""
        return self.extractor.response_schema if self.extractor is not None else self.schema

    def system_prompt(self) -> str:
        """The default system prompt."""
        return self.prompts.system_prompt()
