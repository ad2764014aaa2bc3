"""First start on a fresh clone to a usable Overview, on the demo data.

The working tree is copied (without data/, bench/out/, .git and caches) to a temporary
folder, so the copy has no database and no demo reports, as after `git clone`. There,
`streamlit run dashboard.py` starts with $QSD_DB unset; the clock runs from starting the
process until headless Chromium shows the Overview's "Assessments" metric: the server
starts, the page builds the demo database (writes the demo reports, loads them through the
parser) and draws. Python's own bytecode caches are cold too (no __pycache__ copied).
Without a browser, the fallback times ingest.demo.build_database plus a first AppTest run
of the Overview, and says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.context import Context
from bench.server import CHROMIUM, CHROMIUM_ARGS, ROOT, USER_FLAGS, serve
from bench.timing import Row, say, timed

TARGET = "< 10"
IGNORE = shutil.ignore_patterns(
    ".git", "data", "out", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis",
    ".benchmarks", ".venv", "*.duckdb", "*.duckdb.wal",
)  # fmt: skip
DEADLINE = 180


def _clone(into: Path) -> Path:
    tree = into / "clone"
    shutil.copytree(ROOT, tree, ignore=IGNORE)
    return tree


def browser_first_start(tree: Path) -> tuple[float, float]:
    """(seconds to a usable Overview, seconds until the server answered)."""
    from playwright.sync_api import sync_playwright

    env = {k: v for k, v in os.environ.items() if k != "QSD_DB"}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        started = time.monotonic()
        try:
            with serve(env, cwd=tree, flags=USER_FLAGS, timeout=DEADLINE) as (url, _):
                answered = time.monotonic() - started
                page.goto(url, timeout=DEADLINE * 1000)
                metric = page.get_by_test_id("stMetricLabel").filter(has_text="Assessments")
                metric.first.wait_for(timeout=DEADLINE * 1000)
                usable = time.monotonic() - started
        finally:
            browser.close()
    return usable, answered


def fallback_first_start(tree: Path) -> float:
    """Seconds to build the demo database and run the Overview once through AppTest."""
    code = (
        "import time, sys; t = time.perf_counter()\n"
        "from pathlib import Path\n"
        "from ingest import database, demo\n"
        "demo.build_database(database.db_path(), Path('data/demo-reports'))\n"
        "from streamlit.testing.v1 import AppTest\n"
        "AppTest.from_file('pages/overview.py', default_timeout=300).run()\n"
        "print(time.perf_counter() - t)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "QSD_DB"} | {"PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tree, env=env, capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip().splitlines()[-1])


def run(ctx: Context) -> list[Row]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="qsd-first-start-") as name:
        seconds, tree = timed(lambda: _clone(Path(name)))
        say(f"  first start: working tree copied in {seconds:.1f} s")
        try:
            usable, answered = browser_first_start(tree)
        except Exception as err:  # no browser here: time the same work without one
            say(f"  first start: no browser ({err!r}); timing the build and an AppTest run")
            shutil.rmtree(tree / "data", ignore_errors=True)
            value = fallback_first_start(tree)
            row = Row("first-start", "build demo database + Overview via AppTest", "fallback",
                      value, target=TARGET, note=f"browser unavailable: {err!r}"[:200])  # fmt: skip
            return [row.check()]
        demo_files = sum(1 for _ in (tree / "data" / "demo-reports").glob("*.txt"))
    note = f"server answered after {answered:.1f} s; {demo_files:,} demo reports"
    row = Row("first-start", "fresh copy to usable Overview (headless Chromium)", "demo data",
              usable, target=TARGET, note=note)  # fmt: skip
    rows.append(row.check())
    say(f"  first start: Overview usable after {usable:.1f} s ({row.note})")
    return rows
