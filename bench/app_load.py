"""Loading the data for the app, cold: DuckDB file to Polars frames in a fresh process.

Every run is a new process (python -m bench.app_load DB STEP), so nothing is cached in
DuckDB or Polars; the operating system's file cache is warm after the first run, as it is
for a server that has read its file before. Steps:
    load_frames  queries.frames.load_frames: what every query reads (timed, with peak memory)
    app_data     ui.app_data.load_app_data outside Streamlit: load_frames plus the app's other reads
    breakdown    the same load in parts: DuckDB -> Polars fetch (queries.frames.fetch, else
                 both views whole), then the preparation in Polars (dtypes, sequence columns)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench.context import Context
from bench.timing import Row, peak_rss_mb, say, timed

ROOT = Path(__file__).resolve().parent.parent
STEPS = ("load_frames", "app_data")
# The breakdown fetches both views whole, which at scale 10 needs more memory than the app.
BREAKDOWN_UP_TO = 2


def _child(db: str, step: str) -> dict:
    """Run one step in this (fresh) process; seconds and peak memory."""
    import duckdb

    from queries import frames as data

    def fetch() -> tuple:
        con = duckdb.connect(db, read_only=True)
        try:
            if hasattr(data, "fetch"):  # what load_frames reads
                return data.fetch(con)
            scores = con.sql("SELECT * EXCLUDE (evidence) FROM scores").pl()
            key_questions = con.sql("SELECT * FROM key_questions").pl()
        finally:
            con.close()
        return scores, key_questions

    out: dict = {}
    if step == "load_frames":

        def load():
            con = duckdb.connect(db, read_only=True)
            try:
                return data.load_frames(con)
            finally:
                con.close()

        out["seconds"], _ = timed(load)
    elif step == "app_data":
        from ui import app_data

        out["seconds"], _ = timed(lambda: app_data.load_app_data(db, "bench"))
    elif step == "breakdown":
        out["fetch"], (scores, key_questions) = timed(fetch)
        if hasattr(data, "prepare"):
            out["prepare"], _ = timed(lambda: data.prepare(scores.lazy(), key_questions.lazy()))
        out["rows"] = {"scores": scores.height, "key_questions": key_questions.height}
    out["peak_mb"] = peak_rss_mb()
    return out


def _spawn(ctx: Context, step: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bench.app_load", str(ctx.db), step],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise RuntimeError(f"load step {step} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(ctx: Context) -> list[Row]:
    rows = []
    for step in STEPS:
        results = [_spawn(ctx, step) for _ in range(min(3, ctx.runs))]
        times = [r["seconds"] for r in results]
        loads = {"load_frames": "queries.frames.load_frames"}
        what = loads.get(step, "ui.app_data.load_app_data")
        median = statistics.median(times)
        rows.append(Row("load", what, "cold, new process", median, runs=times))
        peak = max(r["peak_mb"] for r in results)
        rows.append(Row("load", what, "peak memory", peak, unit="MB"))
        say(f"  load: {what} {median:.2f} s, peak {peak:.0f} MB")
    if ctx.scale > BREAKDOWN_UP_TO:
        rows.append(Row("load", "breakdown", note=f"skipped above scale {BREAKDOWN_UP_TO:g}"))
        return rows
    parts = _spawn(ctx, "breakdown")
    fetch = "DuckDB -> Polars fetch (queries.frames.fetch)"
    rows.append(Row("load", fetch, "cold", parts["fetch"]))
    if "prepare" in parts:
        rows.append(Row("load", "queries.frames.prepare (Polars)", "after fetch", parts["prepare"]))
    rows.append(
        Row(
            "load",
            "rows loaded",
            "scores / key_questions",
            note=f"{parts['rows']['scores']:,} / {parts['rows']['key_questions']:,}",
        )
    )
    return rows


if __name__ == "__main__":
    print(json.dumps(_child(sys.argv[1], sys.argv[2])))
