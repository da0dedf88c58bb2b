"""Take the README's screenshot of the 医疗 tab from a running app: one example question asked in the real page.

Start the app first (e.g. `./start.sh --port 7861 --threads 1 --seed 14 --max-batch 1 --no-answer-cache`), then:

    .venv/bin/python scripts/readme_screenshot.py http://127.0.0.1:7861 docs/screenshot-medical.png [--example 0]

Needs Debian's Chromium (/usr/bin/chromium, or QA_CHROMIUM) and the playwright package from requirements-dev.txt;
Playwright downloads no browser.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """Ask the tab's example question (or the one given), wait for the finished answer (its validation report), save the page."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("out", type=Path)
    parser.add_argument("--example", type=int, default=0, help="which example button of the 医疗 tab")
    parser.add_argument("--question", default=None, help="type this question instead of clicking an example")
    parser.add_argument("--timeout-s", type=float, default=600.0)
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("QA_CHROMIUM", "/usr/bin/chromium"), headless=True, args=["--no-sandbox"]
        )
        page = browser.new_page(viewport={"width": 1200, "height": 1000})
        page.goto(args.url)
        page.wait_for_selector("#medical-send", timeout=args.timeout_s * 1000)
        if args.question:
            page.fill("#medical-question textarea", args.question)
            page.click("#medical-send")
        else:
            page.click(f"#medical-example-{args.example}")
        # a finished answer carries its validation report
        page.wait_for_selector("#medical-chat .qa-report", timeout=args.timeout_s * 1000)
        page.wait_for_selector("#medical-send:not([disabled])")
        print(page.inner_text("#medical-chat"))  # noqa: T201 - the CLI's output: what the screenshot shows
        args.out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.out), full_page=True)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
