"""python -m bench [--scale N]: the dashboard's performance at national scale.

Generates (or reuses) the scale database, runs every phase in a process of its own, prints
one table, writes JSON to bench/out/results-<scale>.json and, with --record, puts the table
and the machine into bench/RESULTS.md: the whole scale's table after a run of every phase,
only the rows of the phases run after --only or --skip (the block names the run each
phase's rows come from). Phases: ingest, load, queries, pages, export, search, compare,
first-start (see each module's docstring); `--only concurrent` runs the concurrent-sessions
phase, left out of the default run (~30 minutes at scale 1). Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bench import machine, scale
from bench.page_times import APP_MEMORY
from bench.phase import EXTRA_PHASES, PHASES
from bench.process import run_watched, total_memory_mb
from bench.report import record, table
from bench.timing import RUNS, Row, memory_target, say

ROOT = Path(__file__).resolve().parent.parent
RESULTS_MD = ROOT / "bench" / "RESULTS.md"


def run_phase(name: str, args: argparse.Namespace, db: Path) -> list[Row]:
    """Rows of one phase, run in a fresh process; an error row if the process fails."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        target = Path(out.name)
    command = [
        sys.executable, "-m", "bench.phase", name, "--scale", f"{args.scale:g}", "--db", str(db),
        "--seed", str(args.seed), "--runs", str(args.runs), "--data", str(args.out),
        "--json", str(target),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STREAMLIT_LOGGER_LEVEL": "error"}
    started = time.perf_counter()
    limit = args.memory_limit * 1024
    done = run_watched(command, ROOT, env, limit)
    try:
        if done.stopped:
            note = f"stopped at {limit:,.0f} MB, the memory limit (--memory-limit)"
            return [Row(name, "phase failed", value=done.peak_mb, unit="MB", note=note)]
        if done.returncode:
            tail = " | ".join(done.tail[-3:])
            return [Row(name, "phase failed", note=f"exit {done.returncode}: {tail}"[:400])]
        rows = [Row(**row) for row in json.loads(target.read_text())]
    finally:
        target.unlink(missing_ok=True)
    say(f"{name}: {time.perf_counter() - started:.0f} s")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 82,000 locations")
    parser.add_argument("--seed", type=int, default=scale.DEFAULT_SEED)
    parser.add_argument("--runs", type=int, default=RUNS, help="timed runs per median")
    parser.add_argument(
        "--only",
        help=f"comma-separated phases to run (default: all but {', '.join(EXTRA_PHASES)})",
    )
    parser.add_argument("--skip", default="", help="comma-separated phases to leave out")
    parser.add_argument("--out", type=Path, default=scale.OUT, help="data and results folder")
    parser.add_argument(
        "--memory-limit",
        type=float,
        default=round(0.7 * total_memory_mb() / 1024, 1),
        help="GB a phase may use before it is stopped (default: 70%% of this machine's memory)",
    )
    parser.add_argument(
        "--any-data",
        action="store_true",
        help="reuse this scale's database even if the code that made it has changed since",
    )
    parser.add_argument(
        "--record", action="store_true", help="write the table into bench/RESULTS.md"
    )
    parser.add_argument("--results", type=Path, default=RESULTS_MD, help="the file --record writes")
    args = parser.parse_args(argv)
    phases = args.only.split(",") if args.only else list(PHASES)
    phases = [p for p in phases if p not in args.skip.split(",")]
    if unknown := set(phases) - set(PHASES) - set(EXTRA_PHASES):
        known = [*PHASES, *EXTRA_PHASES]
        parser.error(f"unknown phases {sorted(unknown)}; choose from {known}")

    started = time.perf_counter()
    about = machine.describe()
    about["code"] = machine.code_state(ROOT)
    say(f"machine: {machine.one_line(about)}")
    seconds_db, db = _timed_database(args)
    counts = machine.counts(db)
    say(
        f"data: {db.name} ({seconds_db:.0f} s); "
        + ", ".join(f"{k} {v:,}" for k, v in counts.items())
    )
    rows: list[Row] = []
    for name in phases:
        say(f"{name}: running")
        rows.extend(run_phase(name, args, db))
    for peak in [r for r in rows if r.phase == "pages" and r.name == APP_MEMORY]:
        rows.append(Row("memory", f"{APP_MEMORY} (all pages in one process)", peak.variant,
                        peak.value, "MB", target=memory_target(args.scale)).check())  # fmt: skip
    about["load_after"] = machine.load_average()
    total = time.perf_counter() - started
    result = {
        "scale": args.scale,
        "seed": args.seed,
        "runs": args.runs,
        "database": db.name,
        "phases": phases,
        "counts": counts,
        "generated_seconds": seconds_db,
        "machine": about,
        "finished": dt.datetime.now().isoformat(timespec="seconds"),
        "total_seconds": total,
        "rows": [r.as_dict() for r in rows],
    }
    out = args.out / f"results-{args.scale:g}.json"
    out.write_text(json.dumps(result, indent=1, default=str))
    print(table(rows))
    print(f"\n{len(rows)} rows in {total:.0f} s; JSON: {out}")
    if args.record:
        record(args.results, result)
        print(f"recorded in {args.results}")
    return 0


def _timed_database(args: argparse.Namespace) -> tuple[float, Path]:
    started = time.perf_counter()
    db = scale.database(args.scale, args.seed, args.out, any_version=args.any_data)
    return time.perf_counter() - started, db


if __name__ == "__main__":
    sys.exit(main())
