"""Ingest throughput: report text files through the real parser and store.

The files are rendered from the full demo model (evidence text included) by bench.scale.
Each run loads them all into a new database with `ingest.load.load`, exactly what
`python -m ingest load FOLDER` does: worker processes (one per CPU) read the files while the
loading process stores them, batches of 2,000 files. The same load with `--workers 1` (all
in one process) is timed too. Then one run in parts, to say where the time goes: reading and
parsing the files (`ingest.files.read_file`) and storing them (`ingest.store.load_files`),
and a profile of the one-process load (functions by own time).
"""

from __future__ import annotations

import cProfile
import pstats
import statistics
import tempfile
from pathlib import Path

from bench.context import Context
from bench.scale import ROOT, report_corpus
from bench.timing import Row, say, timed
from ingest import database, store
from ingest.files import default_workers, read_path
from ingest.load import BATCH_FILES, iter_files, load

TARGET_RATE = 2000
FULL_REPORTS = 5000
MIN_REPORTS = 200
RUNS = 3
PROFILE_LINES = 12


def reports_for(scale: float) -> int:
    """Files to load: 5,000 at scale 1 and above, fewer (at least 200) below."""
    return max(MIN_REPORTS, min(FULL_REPORTS, round(scale * FULL_REPORTS)))


def _load_all(paths: list[Path], tmp: Path, run: str, workers: int | None = None) -> float:
    db = tmp / f"ingest-{run}.duckdb"
    workers = default_workers() if workers is None else workers
    seconds, summary = timed(lambda: load(paths, db, workers=workers))
    if summary.rejected:
        raise RuntimeError(f"the demo reports did not all load: {summary.line}")
    return seconds


def _parts(files: list[Path], tmp: Path) -> tuple[float, float]:
    """(seconds reading and parsing, seconds storing) of one load, batch by batch."""
    parse = storing = 0.0
    con = database.connect(tmp / "parts.duckdb", read_only=False)
    try:
        for start in range(0, len(files), BATCH_FILES):
            chunk = files[start : start + BATCH_FILES]
            seconds, batch = timed(lambda chunk=chunk: [read_path(p) for p in chunk])
            parse += seconds
            seconds, _ = timed(lambda batch=batch: store.load_files(con, batch))
            storing += seconds
    finally:
        con.close()
    return parse, storing


def _profile(files: list[Path], tmp: Path) -> str:
    profile = cProfile.Profile()
    profile.enable()
    load(files, tmp / "profile.duckdb", workers=1)
    profile.disable()
    stats = pstats.Stats(profile)
    total = stats.total_tt
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)
    lines = []
    for (file, line, name), (_, calls, own, _cum, _) in rows[:PROFILE_LINES]:
        where = file.split("/site-packages/")[-1].replace(f"{ROOT}/", "")
        lines.append(f"{own / total:5.1%} {own:6.2f} s {calls:>9,} {name} ({where}:{line})")
    return "\n".join(lines)


def run(ctx: Context) -> list[Row]:
    count = reports_for(ctx.scale)
    seconds, folder = timed(lambda: report_corpus(count, ctx.seed, ctx.out))
    say(f"  ingest: {count:,} report files ready in {seconds:.0f} s ({folder.name})")
    rows = []
    with tempfile.TemporaryDirectory(dir=ctx.out) as name:
        tmp = Path(name)
        files = list(iter_files([folder]))
        part = files[: max(MIN_REPORTS, count // 5)]  # enough for the warm-up and the parts
        _load_all(part, tmp, "warm-up")  # imports, file cache
        workers = default_workers()
        for key, count_workers, label, target in (
            ("workers", None, f"{workers} worker processes", f">= {TARGET_RATE}"),
            ("alone", 1, "one process (--workers 1)", ""),
        ):
            runs = min(RUNS, ctx.runs)
            times = [_load_all(files, tmp, f"{key}-{r}", count_workers) for r in range(runs)]
            rates = [count / t for t in times]
            rate = statistics.median(rates)
            row = Row("ingest", "python -m ingest load (parse + store)",
                      f"{count:,} reports, {label}", rate, unit="reports/s", runs=rates,
                      target=target)  # fmt: skip
            rows.append(row.check())
            say(f"  ingest: {rate:,.0f} reports/s ({label})")
        parse, load = _parts(part, tmp)
        rows.append(Row("ingest", "read + parse only (files.read_file)", f"{len(part):,} reports",
                        len(part) / parse, unit="reports/s"))  # fmt: skip
        rows.append(Row("ingest", "store only (store.load_files)", f"{len(part):,} reports",
                        len(part) / load, unit="reports/s"))  # fmt: skip
        say(f"  ingest: parse {len(part) / parse:,.0f}/s, store {len(part) / load:,.0f}/s")
        profile = _profile(part, tmp)
        rows.append(Row("ingest", "profile of a one-process load", "own time", note=profile))
        say("  ingest: profile (own time, calls, function):\n" + profile)
    return rows
