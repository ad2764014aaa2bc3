"""The Export page's download of every `scores` row and of a typical filtered selection.

Each is built the way the page's button builds it (ui.export.builder), as the kind the page
offers for it: the plain CSV up to ui.export.download_limit() (1 GB), else the same CSV
gzip-compressed (the page's estimate from its 100-row preview decides); without and with
evidence text (fetched from DuckDB a chunk at a time). Also the Parquet download of every
row, and Polars write_csv of the loaded frame to /dev/null as the floor. Each row notes the
file's size and how much the process's resident memory grew while building it (sampled):
Streamlit keeps the whole file in memory, so that is what a click costs the server. The page
builds a file only when its button is clicked (a deferred download), so its reruns stay quick:
the pages phase times those.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import duckdb
import polars as pl

from bench.context import Context
from bench.query_times import typical_filters
from bench.timing import Row, median_time, say, timed
from queries.filters import ALL, Filters
from queries.frames import load_frames

TARGET = "< 3"
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def _resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_SIZE / 2**20


class _Growth:
    """Calls `fn`, keeping the largest growth of resident memory (MB) seen during a call."""

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn, self.mb = fn, 0.0

    def __call__(self) -> Any:
        before, done = _resident_mb(), threading.Event()

        def sample() -> None:
            while not done.wait(0.02):
                self.mb = max(self.mb, _resident_mb() - before)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            return self.fn()
        finally:
            done.set()
            sampler.join()


def _plain_csv(scores: pl.LazyFrame, filters: Filters) -> None:
    """The selected rows as CSV, written by Polars alone (to /dev/null: no memory for it)."""
    with open(os.devnull, "wb") as sink:
        filters.apply(scores).collect().write_csv(sink)


def _offered_kind(export, scores: pl.LazyFrame, filters: Filters, evidence) -> str | None:
    """The CSV kind the Export page offers for the selection (its estimate, its limit)."""
    rows = export.selected_rows(scores, filters).select(pl.len()).collect().item()
    sample = export.export_frame(scores, filters, evidence=evidence, limit=100)
    return export.csv_kind(export.estimated_sizes(sample, rows), export.download_limit())


def run(ctx: Context) -> list[Row]:
    from ui import db, export

    con = duckdb.connect(str(ctx.db), read_only=True)
    try:
        _, frames = timed(lambda: load_frames(con))
    finally:
        con.close()
    selections = {"all rows": ALL, "typical filter": typical_filters(ctx)}
    rows = []
    runs = min(3, ctx.runs)  # each run writes up to a gigabyte
    fetch = lambda ids: db.evidence_for(ids, ctx.db)  # noqa: E731
    for label, filters in selections.items():
        builds = [(_offered_kind(export, frames.scores, filters, ev), ev) for ev in (None, fetch)]
        if filters == ALL:
            builds.append((export.PARQUET, None))
        for kind, evidence in builds:
            variant = f"{label}, {'with' if evidence else 'without'} evidence"
            if kind is None:
                note = "not offered: over the download limit even gzip-compressed"
                rows.append(Row("export", "ui.export.builder", variant, note=note))
                continue
            made = export.builder(kind, frames.scores, filters, export.COLUMNS,
                                  evidence=evidence, data_as_of="bench", demo=False)  # fmt: skip
            build = _Growth(made)
            # No warm-up for all rows: the frames are loaded, and one build takes seconds.
            median, times, data = median_time(build, runs, warmup=0 if filters == ALL else 1)
            target = TARGET if not evidence and kind != export.PARQUET else ""
            name = f"ui.export.builder('{kind}')"
            size = f"{len(data) / 1e6:,.1f} MB file"
            rows.append(Row("export", name, variant, median, runs=times, target=target,
                            note=size).check())  # fmt: skip
            rows.append(Row("export", f"{name}: resident memory added", variant, build.mb,
                            unit="MB", note=size))  # fmt: skip
            say(f"  export: builder {kind} [{variant}] {median:.2f} s, {size}, +{build.mb:,.0f} MB")
            del data
        seconds, times, _ = median_time(lambda f=filters: _plain_csv(frames.scores, f), runs)
        rows.append(Row("export", "Polars write_csv of the loaded frame", label, seconds,
                        runs=times, note="to /dev/null"))  # fmt: skip
        say(f"  export: plain write_csv [{label}] {seconds:.2f} s")
    return rows
