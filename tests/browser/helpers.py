"""Helpers for the browser tests."""

from __future__ import annotations

from pathlib import Path

from qa.settings import REPO_ROOT

SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"


def shot(page, name: str) -> Path:
    """Save a screenshot of the whole page under the printed screenshots folder."""
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
