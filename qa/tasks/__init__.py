"""The registry of tasks. Each task is a subpackage here with `create(files) -> Task` and an `ORDER` (its place
among the page's tabs); adding a feature means adding one such package with its prompt and schema files.

How to add a task `notes`:
  1. `qa/tasks/notes/__init__.py` with `ORDER = 30` and `create(files)` returning a `Task` (prompts loaded by
     `load_prompts(files, "notes")`, its `AnswerView`, examples, input rules and checks).
  2. `qa/tasks/notes/notes.yaml` and the schema file it names, beside the module.
It then has a tab on the page, the API model `qa-notes`, and `./start.sh ask --task notes`.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import ConfigurationError, InputError, PromptError
from .base import Files, Task

__all__ = ["Task", "TaskRegistry", "builtin_tasks", "task_packages"]


class TaskRegistry:
    """Tasks by name, in tab order."""

    def __init__(self, tasks: list[Task] | tuple[Task, ...] = ()) -> None:
        self._tasks: dict[str, Task] = {}
        for task in tasks:
            self.register(task)

    def register(self, task: Task) -> Task:
        """Add a task; a second task with the same name is a configuration error."""
        if task.name in self._tasks:
            raise ConfigurationError(f"two tasks are named {task.name!r}")
        self._tasks[task.name] = task
        return task

    def get(self, name: str) -> Task:
        """The task by name, or InputError listing the ones there are."""
        try:
            return self._tasks[name]
        except (KeyError, TypeError):
            raise InputError(f"unknown task {name!r}; choose one of {', '.join(self._tasks)}", param="domain") from None

    def names(self) -> list[str]:
        """Task names in tab order."""
        return list(self._tasks)

    def __iter__(self) -> Iterator[Task]:
        return iter(list(self._tasks.values()))

    def __contains__(self, name: object) -> bool:
        return name in self._tasks

    def __len__(self) -> int:
        return len(self._tasks)


def _packages() -> list[tuple[int, str, Any]]:
    found = []
    for info in pkgutil.iter_modules(__path__):
        if not info.ispkg or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        create = getattr(module, "create", None)
        if create is None:
            raise PromptError(f"task package qa.tasks.{info.name} has no create(files) function")
        found.append((getattr(module, "ORDER", 100), info.name, create))
    return sorted(found, key=lambda f: (f[0], f[1]))


def task_packages() -> list[str]:
    """Names of the task packages under qa/tasks, in tab order (their files are not read)."""
    return [name for _, name, _ in _packages()]


def builtin_tasks(prompts_dir: Path | None = None) -> TaskRegistry:
    """Every task package under qa/tasks, loaded and validated (files from prompts_dir override packaged ones)."""
    return TaskRegistry([create(Files(f"{__name__}.{name}", prompts_dir)) for _, name, create in _packages()])
