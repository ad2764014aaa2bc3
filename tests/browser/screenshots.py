"""Screenshots of the main pages for the README, taken from the running app on demo data.

    python -m tests.browser.screenshots            # writes docs/screenshots/<page>.png

Not a test: it builds the default demo database (as the app's first start does: 600
locations, seed 7) in a temporary folder, starts `streamlit run`, opens each page in headless
Chromium and saves what a user sees at 1400 x 1000.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import duckdb
from playwright.sync_api import sync_playwright

from ingest import demo
from tests.browser.app_server import CHROMIUM, CHROMIUM_ARGS, PAGES, ROOT, running_app, settle
from tests.helpers import build_demo_db

OUT = ROOT / "docs" / "screenshots"
VIEWPORT = {"width": 1400, "height": 1000}


def busiest_location(db: Path) -> str:
    """The location with the most assessments: the Location page's example."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT location_id FROM assessments GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchall()[0][0]
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--locations",
        type=int,
        default=demo.DEFAULT_LOCATIONS,
        help="demo corpus size (default: the app's own demo build, which the README describes)",
    )
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = build_demo_db(Path(tmp), locations=args.locations, seed=demo.DEFAULT_SEED)
        query = {"location": "?" + urlencode({"location_id": busiest_location(db)})}
        with running_app(db) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(url)  # the entry script first, so every page runs inside its navigation
            settle(page)
            for name, (path, _) in PAGES.items():
                page.goto(url + path + query.get(name, ""))
                settle(page)
                page.wait_for_timeout(1500)  # charts draw after the script has finished
                target = args.out / f"{name}.png"
                page.screenshot(path=target)
                print(
                    f"wrote {target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}"
                )
            browser.close()


if __name__ == "__main__":
    main()
