"""One phase of the benchmark in a process of its own: python -m bench.phase NAME ...

Each phase runs in a fresh process so its peak memory is its own and caches start cold.
It writes its rows, plus one row with the process's peak resident memory, as JSON to --out.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from bench.context import Context
from bench.timing import Row, peak_rss_mb

# Phase name -> module with run(ctx) -> list[Row].
PHASES = {
    "ingest": "bench.ingest_rate",
    "load": "bench.app_load",
    "queries": "bench.query_times",
    "pages": "bench.page_times",
    "export": "bench.export_times",
    "search": "bench.search_times",
    "compare": "bench.comparison",
    "first-start": "bench.first_start",
}
# Phases run only when named (python -m bench.phase NAME): they would lengthen the default run
# by far (concurrent sessions: ~30 minutes at scale 1; also python -m bench.concurrent).
EXTRA_PHASES = {"concurrent": "bench.concurrent"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.phase")
    parser.add_argument("phase", choices={**PHASES, **EXTRA_PHASES})
    parser.add_argument("--scale", type=float, required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--runs", type=int, required=True)
    parser.add_argument("--data", type=Path, required=True, help="folder for generated data")
    parser.add_argument("--json", type=Path, required=True, help="file to write the rows to")
    args = parser.parse_args(argv)
    ctx = Context(scale=args.scale, db=args.db, seed=args.seed, runs=args.runs, out=args.data)
    rows = importlib.import_module({**PHASES, **EXTRA_PHASES}[args.phase]).run(ctx)
    rows.append(Row(args.phase, "peak memory of the phase process", value=peak_rss_mb(), unit="MB"))
    args.json.write_text(json.dumps([r.as_dict() for r in rows], default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
