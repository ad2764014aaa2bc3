"""Every page's full rerun through AppTest on the scale data ($QSD_DB set to the scale file).

All pages run in this one process, like one app server: the first run of the first page
loads the data (cold), later pages find it cached. Per page:
    first run        the page as a visitor first opens it (data already loaded, except page 1)
    rerun            the same page again, nothing changed (a widget touched elsewhere)
    filter change    the sidebar's Region set to a different region each run: the target
With a typical selection of the page's own (a provider on Compare, a location on Location).
The process's peak memory is the app's: every page's data, caches and reruns.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import polars as pl

from bench.context import Context
from bench.timing import Row, peak_rss_mb, say, timed

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "pages"
# Pages the dashboard declares (dashboard.py); a missing file is reported, not failed.
EXPECTED = ("overview", "compare", "trends", "statements", "location", "export", "data")
TARGET = "< 0.3"
EMPTY_PAGE = "import streamlit as st\nst.write('empty')\n"
TIMEOUT = 900
APP_MEMORY = "peak memory of the app"


def _regions(db: Path) -> list[str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT region FROM locations WHERE region IS NOT NULL"
            " GROUP BY ALL ORDER BY count(*) DESC"
        ).fetchall()
    finally:
        con.close()
    return [r for (r,) in rows]


def _busiest_location(db: Path) -> str:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            "SELECT location_id FROM assessments GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchall()[0][0]
    finally:
        con.close()


def _setups(ctx: Context) -> dict[str, Callable]:
    """Per page, what a typical visitor chooses before the numbers mean anything."""
    typical = ctx.typical()

    def compare(at):
        at.multiselect(key="compare_providers").set_value([typical["provider"]])

    location = _busiest_location(ctx.db)

    def location_page(at):
        at.query_params["location_id"] = location

    return {"compare": compare, "location": location_page}


def _run(at) -> float:
    started = time.perf_counter()
    at.run()
    seconds = time.perf_counter() - started
    if at.exception:
        raise RuntimeError(at.exception[0].message[:300])
    return seconds


def _page_rows(
    name: str, path: Path, ctx: Context, regions: list[str], setup, loads_data: bool
) -> list[Row]:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(path), default_timeout=TIMEOUT)
    if setup and name == "location":
        setup(at)
    first = _run(at)
    rows = [Row("pages", name, "first run (loads the data)" if loads_data else "first run", first)]
    if setup and name != "location":
        setup(at)
        rows.append(Row("pages", name, "typical choice made", _run(at)))
    reruns = [_run(at) for _ in range(ctx.runs)]
    rows.append(Row("pages", name, "rerun, no change", statistics.median(reruns), runs=reruns))
    try:
        at.multiselect(key="region")
    except KeyError:
        rows.append(Row("pages", name, "filter change", note="no Region filter on this page"))
        return rows
    changes = _filter_changes(at, regions, ctx.runs)
    row = Row("pages", name, "filter change", statistics.median(changes), runs=changes,
              target=TARGET)  # fmt: skip
    rows.append(row.check())
    if name == "export":
        _EXPORT_PAGE.append(at)  # the download test runs after every page (memory)
    return rows


_EXPORT_PAGE: list = []


def _filter_changes(at, regions: list[str], runs: int, offset: int = 0) -> list[float]:
    """Seconds of `runs` reruns, each after setting Region to another region (one warm-up)."""
    changes = []
    for i in range(runs + 1):  # the first change warms the page's caches
        at.multiselect(key="region").set_value([regions[(offset + i) % len(regions)]])
        seconds = _run(at)
        if i:
            changes.append(seconds)
    return changes


def _while_exporting(at, ctx: Context, regions: list[str]) -> Row:
    """Export page filter changes while another thread builds the all-rows download the page
    offers (the CSV, gzipped above the download limit), as the server does for a click
    (Streamlit runs a deferred download in a worker thread)."""
    from ingest import database
    from queries.filters import ALL
    from ui import app_data, export

    frames = app_data.load_app_data(str(ctx.db), database.data_version(ctx.db)).frames
    # What the page offers for all rows: the CSV, or above the download limit the same gzipped.
    rows = frames.scores.select(pl.len()).collect().item()
    sample = export.export_frame(frames.scores, ALL, limit=100)
    kind = export.csv_kind(export.estimated_sizes(sample, rows), export.download_limit())
    build = export.builder(kind or export.CSV_GZ, frames.scores, ALL, export.COLUMNS,
                           evidence=None, data_as_of="bench", demo=False)  # fmt: skip
    stop, builds = threading.Event(), []

    def keep_building() -> None:
        while not stop.is_set():
            seconds, _ = timed(build)
            builds.append(seconds)

    worker = threading.Thread(target=keep_building, daemon=True)
    worker.start()
    try:
        changes = _filter_changes(at, regions, ctx.runs, offset=3)
    finally:
        stop.set()
        worker.join()
    note = (
        f"{len(builds)} all-row CSV builds ran alongside, median {statistics.median(builds):.2f} s"
    )
    return Row("pages", "export", "filter change while the all-rows CSV builds",
               statistics.median(changes), runs=changes, target=TARGET, note=note)  # fmt: skip


def run(ctx: Context) -> list[Row]:
    from streamlit.testing.v1 import AppTest

    os.environ["QSD_DB"] = str(ctx.db)
    regions = _regions(ctx.db)
    setups = _setups(ctx)
    rows = []
    empty = AppTest.from_string(EMPTY_PAGE, default_timeout=TIMEOUT)
    _run(empty)
    overhead = [_run(empty) for _ in range(ctx.runs)]
    rows.append(Row("pages", "(empty page)", "AppTest overhead per run",
                    statistics.median(overhead), runs=overhead))  # fmt: skip
    loads_data = True
    for name in EXPECTED:
        path = PAGES / f"{name}.py"
        if not path.exists():
            rows.append(Row("pages", name, note="skipped: page file not written yet"))
            say(f"  pages: {name} skipped (no page file)")
            continue
        try:
            page_rows = _page_rows(name, path, ctx, regions, setups.get(name), loads_data)
        except Exception as err:  # a page in progress elsewhere: report, keep going
            page_rows = [Row("pages", name, note=f"error: {err}"[:300])]
        loads_data = False
        rows.extend(page_rows)
        for row in page_rows:
            shown = f"{row.value:.3f} s" if row.value is not None else row.note
            say(f"  pages: {name} [{row.variant}] {shown}")
    rows.append(Row("pages", APP_MEMORY, "every page", peak_rss_mb(), unit="MB"))
    if _EXPORT_PAGE:
        row = _while_exporting(_EXPORT_PAGE[0], ctx, regions).check()
        rows.append(row)
        say(f"  pages: export [{row.variant}] {row.value:.3f} s")
        rows.append(Row("pages", APP_MEMORY, "every page + an all-rows CSV download",
                        peak_rss_mb(), unit="MB"))  # fmt: skip
    return rows
