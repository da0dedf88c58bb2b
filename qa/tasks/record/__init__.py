"""The 病历提取 (record) task: a long medical record (pasted, or a TXT/DOCX/PDF file) in, structured fields out —
age, sex, chief complaint, diagnoses, labs, imaging, procedures, medications as drug classes, allergies, follow-up —
each tied to the exact words of the record it came from (see extract.py)."""

from __future__ import annotations

import yaml

from ...errors import PromptError
from ..base import AnswerView, Files, Task, load_prompts
from .extract import Extractor, load_example
from .view import render_extraction

ORDER = 30  # after the chat tabs
EXAMPLES = ()
VIEW = AnswerView(sections=(), extra=render_extraction)


def create(files: Files) -> Task:
    """The record-extraction task from its files."""
    prompts = load_prompts(files, "record")
    where = files.where("record.yaml")
    try:
        extra = yaml.safe_load(files.read("record.yaml"))
    except yaml.YAMLError as exc:  # load_prompts read it already; kept for a clear message all the same
        raise PromptError(f"prompt file {where} is not valid YAML: {exc}") from exc
    example = load_example(extra.get("record_example"), where)
    return Task(prompts=prompts, view=VIEW, examples=EXAMPLES, surface="extract", extractor=Extractor(prompts, example))
