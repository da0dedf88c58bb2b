"""Headless Debian Chromium through Playwright, a recorder of every request the page makes, and screenshots."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .helpers import SCREENSHOTS

CHROMIUM = os.environ.get("QA_CHROMIUM", "/usr/bin/chromium")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the session; skipped (or failed, when QA_REQUIRE_BROWSER=1) if it is not installed."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        message = f"{CHROMIUM} not found: install Debian's chromium (see .ci/run) to run the browser tests"
        if os.environ.get("QA_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield chromium
        chromium.close()


class PageWatch:
    """Every request a page made and every dialog it opened, to prove answers cannot reach outside the host."""

    def __init__(self, base_url: str) -> None:
        self.host = urlsplit(base_url).netloc
        self.requests: list[str] = []
        self.dialogs: list[str] = []

    def outside(self) -> list[str]:
        """Requests that left the app's host."""
        return [u for u in self.requests if not u.startswith(("data:", "blob:")) and urlsplit(u).netloc != self.host]


@pytest.fixture
def open_page(browser):
    """Factory: a fresh browser session (own cookies, own Gradio session) on a URL, watched until the test ends."""
    contexts = []
    watches: list[PageWatch] = []

    def open_(url: str, width: int = 1200, height: int = 1000, ready: str = "#medical-send", **context_kwargs):
        context = browser.new_context(viewport={"width": width, "height": height}, **context_kwargs)
        contexts.append(context)
        page = context.new_page()
        watch = PageWatch(url)
        watches.append(watch)
        page.on("request", lambda r: watch.requests.append(r.url))

        def on_dialog(dialog) -> None:
            watch.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.goto(url)
        page.wait_for_selector(ready)
        page.watch = watch  # type: ignore[attr-defined]
        return page

    yield open_
    for context in contexts:
        context.close()
    # whatever the test did, the page never reached outside the host and no answer opened a dialog
    for watch in watches:
        assert watch.outside() == [], watch.outside()
        assert watch.dialogs == []


def pytest_terminal_summary(terminalreporter) -> None:
    if SCREENSHOTS.exists() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"browser screenshots: {SCREENSHOTS}")
