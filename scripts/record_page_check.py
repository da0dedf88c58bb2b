"""The record tab end to end with the real model: start ./start.sh, paste a ~5,000-character record into the page
in headless Chromium, wait for the extraction, and check every highlighted span against the stored record text.

    python scripts/record_page_check.py [--chars 5000] [--timeout-min 60] [--shot PATH]

Prints one JSON object: characters, seconds, fields by status, and spans whose page text differs from the record
at their offsets (must be 0). Needs Debian's chromium (/usr/bin/chromium) and Playwright (both installed by
./start.sh / .ci/run)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.documents import normalise  # noqa: E402
from qa.eval.record import long_record  # noqa: E402
from tests.serving import running_server  # noqa: E402  (./start.sh on a free port, until /ready; stopped after)


def main() -> int:
    """Run the check and print its JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chars", type=int, default=5000)
    parser.add_argument("--timeout-min", type=float, default=60)
    parser.add_argument("--shot", default=str(ROOT / "test-artifacts" / "screenshots" / "record-page-real.png"))
    args = parser.parse_args()
    record = long_record(args.chars)
    stored = normalise(record)
    with running_server("--no-answer-cache", timeout=600) as url:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.goto(url)
            page.wait_for_selector("#medical-send")
            page.get_by_role("tab", name="病历提取 Record").click()
            page.fill("#record-record textarea", record)
            started = time.perf_counter()
            page.click("#record-extract")
            page.wait_for_selector("#record-result .qa-extract", timeout=args.timeout_min * 60_000)
            seconds = time.perf_counter() - started
            rows = page.locator("#record-result tbody tr")
            statuses: Counter[str] = Counter()
            mismatched = []
            for i in range(rows.count()):
                cells = rows.nth(i).locator("td")
                statuses[cells.nth(6).inner_text().split(" ")[0]] += 1
                where = cells.nth(5).inner_text()
                if "–" not in where:
                    continue
                start, end = (int(x) for x in where.split("–"))
                shown = "".join(page.locator(f"#record-result .qa-s{i}").all_inner_texts())  # all its pieces
                if shown != stored[start:end]:
                    mismatched.append({"row": i, "offsets": [start, end], "page": shown, "record": stored[start:end]})
            Path(args.shot).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.shot, full_page=True)
            browser.close()
    print(
        json.dumps(
            {
                "chars": len(stored),
                "seconds": round(seconds, 1),
                "fields": sum(statuses.values()),
                "status": dict(statuses),
                "spans_differing_from_record": mismatched,
                "screenshot": args.shot,
            },
            ensure_ascii=False,
        )
    )
    return 1 if mismatched else 0


if __name__ == "__main__":
    raise SystemExit(main())
