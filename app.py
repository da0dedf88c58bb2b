"""Entry point for tools that expect a module-level Gradio `demo` (e.g. `gradio app.py`).

Importing this module builds nothing; `demo` is created on first access from QA_* settings, and the model
loads on the first request (or up front with `./start.sh`, which runs `python -m qa serve`).
"""

from __future__ import annotations

from typing import Any


def build() -> Any:
    """settings → backend → service → UI."""
    from qa.settings import Settings
    from qa.ui import build_demo
    from qa.wiring import build_service

    return build_demo(build_service(Settings()))


def __getattr__(name: str) -> Any:
    if name == "demo":
        demo = build()
        globals()["demo"] = demo
        return demo
    raise AttributeError(name)
