"""CSV export of every `scores` row and of a typical filtered selection.

Timed the way the Export page builds its file (ui.export.builder: select, sort, provenance,
formula guard, CSV bytes), without and with evidence text (fetched from DuckDB), and as a
plain Polars write_csv of the loaded frame as the floor. The page itself builds the file
only when the button is clicked (a deferred download), so its reruns stay quick: the pages
phase times those.
"""

from __future__ import annotations

import io
from functools import partial

import duckdb
import polars as pl

from bench.context import Context
from bench.query_times import typical_filters
from bench.timing import Row, median_time, say, timed
from queries.data import load_frames
from queries.filters import ALL, Filters

TARGET = "< 3"


def _plain_csv(scores: pl.LazyFrame, filters: Filters) -> int:
    """Bytes of the selected rows as CSV, written by Polars alone."""
    out = io.BytesIO()
    filters.apply(scores).collect().write_csv(out)
    return out.getbuffer().nbytes


def run(ctx: Context) -> list[Row]:
    con = duckdb.connect(str(ctx.db), read_only=True)
    try:
        _, frames = timed(lambda: load_frames(con))
    finally:
        con.close()
    selections = {"all rows": ALL, "typical filter": typical_filters(ctx)}
    rows = []
    runs = min(3, ctx.runs)  # each run writes up to a gigabyte
    try:
        from ui import db, export
    except ImportError:
        export = None
    for label, filters in selections.items():
        if export is not None and hasattr(export, "builder"):
            for evidence in (None, db.evidence_for):
                build = export.builder(
                    "csv",
                    frames.scores,
                    filters,
                    export.COLUMNS,
                    evidence=(lambda ids, fetch=evidence: fetch(ids, ctx.db)) if evidence else None,
                    data_as_of="bench",
                    demo=False,
                )
                # No warm-up: the frames are loaded, and one all-rows build takes seconds.
                median, times, data = median_time(build, runs, warmup=0 if filters == ALL else 1)
                variant = f"{label}, {'with' if evidence else 'without'} evidence"
                row = Row("export", "ui.export.builder('csv')", variant, median, runs=times,
                          target=TARGET if not evidence else "")  # fmt: skip
                row.note = f"{len(data) / 1e6:,.0f} MB"
                rows.append(row.check())
                say(f"  export: builder csv [{variant}] {median:.2f} s, {row.note}")
                del data
        median, times, size = median_time(partial(_plain_csv, frames.scores, filters), runs)
        note = f"{size / 1e6:,.0f} MB"
        rows.append(Row("export", "Polars write_csv of the loaded frame", label, median,
                        runs=times, note=note))  # fmt: skip
        say(f"  export: plain write_csv [{label}] {median:.2f} s")
    return rows
