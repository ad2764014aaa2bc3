"""Command line: python -m ingest {parse,load,api,demo} ...

Exit codes: 0 every file read, 1 some file rejected (the rest still processed), 2 usage error;
`api` also 3: the sync stopped before the end (its progress is kept: run it again to resume);
`load` also 3: the database could not be written (held by another writer, read-only, disk full).
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from ingest import files as files_module
from ingest.records import RejectedFile

# ingest.store (DuckDB, Polars), tqdm and the demo model are imported where they are used:
# the worker processes that read files import this module too, and need none of them.

BATCH_FILES = 1000  # files a transaction
HOLD_SECONDS = 2.0  # the loader keeps the database open this long at a time (opening and
PAUSE_SECONDS = 0.1  # closing cost more than storing did), then lets the app in for this long


def iter_files(paths: list[Path]) -> Iterator[Path]:
    """Files as given, and every non-hidden file under the folders given, in sorted order."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path).parts
                if child.is_file() and not any(p.startswith(".") for p in relative):
                    yield child
        else:
            yield path


def _parse(args: argparse.Namespace) -> int:
    from ingest import formats

    status = 0
    for path in iter_files(args.files):
        try:
            _fmt, records = formats.read_path(path)
        except RejectedFile as err:
            print(f"{path}: {err}", file=sys.stderr)
            status = 1
            continue
        for record in records:
            print(json.dumps(record, ensure_ascii=False))
    return status


def load_paths(
    db: Path | None, paths: list[Path], quiet: bool = False, workers: int | None = None
) -> tuple[int, str]:
    """Load files and folders into the database; (exit status, summary line).

    Files are read by `workers` processes (default: one per CPU, up to 4; 1: this process)
    while this process writes the batches read so far, in order, one transaction each. It
    lets go of the file every HOLD_SECONDS for PAUSE_SECONDS, so the app can read meanwhile.
    """
    from tqdm import tqdm

    from ingest import rating_files, store

    rating_files.show_progress = not quiet  # the row-level bar of a big rating file
    files = list(iter_files(paths))
    workers = files_module.default_workers() if workers is None else workers
    totals = {"loaded": 0, "unchanged": 0, "replaced": 0, "rejected": 0}
    warnings = 0
    done = 0
    con, opened = None, 0.0
    bar = tqdm(total=len(files), unit="file", file=sys.stderr, disable=quiet or None)
    # Records hold no reference cycles: reference counting frees each batch, and the cyclic
    # collector, left on, kept scanning the batches in flight (15% of this process's time).
    # It runs once per hold instead.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for batch in files_module.read_batches(files, BATCH_FILES, workers):
            try:
                if con is None:
                    con, opened = store.connect_for_writing(db), time.monotonic()
                results = store.load_files(con, batch)
            except store.DatabaseUnwritable as err:
                err.done = done
                raise
            for result in results:
                totals[result.action] += 1
                warnings += len(result.warnings)
                if result.action == "rejected":
                    tqdm.write(result.line, file=sys.stderr)
            done += len(batch)
            bar.update(len(batch))
            # Let go now, not when the next batch is read: reading it may take long (a big
            # rating file), and the app should not wait for that.
            if time.monotonic() - opened > HOLD_SECONDS:
                con.close()
                con = None
                gc.collect()
                time.sleep(PAUSE_SECONDS)
    finally:
        if collecting:
            gc.enable()
        if con is not None:
            con.close()
    bar.close()
    summary = ", ".join(f"{n} {action}" for action, n in totals.items())
    summary = f"{len(files)} files: {summary}; {warnings} warnings"
    return (1 if totals["rejected"] else 0), summary


def _load(args: argparse.Namespace) -> int:
    from ingest import store

    try:
        status, summary = load_paths(args.db, args.paths, quiet=args.quiet, workers=args.workers)
    except store.DatabaseBusy as err:
        print(f"error: {err}", file=sys.stderr)
        return 3
    except store.DatabaseUnwritable as err:
        done = f"Stopped after the first {err.done:,} files" if err.done else "Nothing was loaded"
        print(
            f"error: cannot write to {store.db_path(args.db)}: {err.reason}. {done}; run the"
            " same command again once the database can be written (files already loaded count"
            " as unchanged).",
            file=sys.stderr,
        )
        return 3
    print(summary)
    return status


def _api(args: argparse.Namespace) -> int:
    import os

    from ingest import api_client, store

    key = os.environ.get(api_client.API_KEY_ENV, "").strip()
    if not key:
        print(
            f"error: set {api_client.API_KEY_ENV} to your CQC API subscription key"
            " (https://api-portal.service.cqc.org.uk/)",
            file=sys.stderr,
        )
        return 2
    client = api_client.Client(
        key,
        base_url=args.base_url,
        rate=args.rate,
        retries=args.retries,
        backoff=args.backoff,
    )
    try:
        result = api_client.sync(
            client,
            args.db,
            full=args.full,
            location_ids=args.location,
            reports=not args.no_reports,
            per_page=args.per_page,
            quiet=args.quiet,
        )
    except (api_client.ApiError, store.DatabaseBusy, store.DatabaseUnwritable) as err:
        print(f"sync stopped: {err}", file=sys.stderr)
        print("what was fetched is loaded; run the same command again to resume", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("sync interrupted; run the same command again to resume", file=sys.stderr)
        return 3
    print(result.line)
    return 1 if result.actions["rejected"] else 0


def _demo(args: argparse.Namespace) -> int:
    from ingest import demo

    written = demo.write_demo_corpus(args.out, locations=args.locations, seed=args.seed)
    print(f"wrote {len(written)} demo reports to {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    from ingest import demo as demo_defaults
    from ingest import store

    parser = argparse.ArgumentParser(prog="python -m ingest", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    parse = commands.add_parser("parse", help="print each file as one JSON line")
    parse.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parse.set_defaults(run=_parse)

    load = commands.add_parser("load", help="load files and folders into the database")
    load.add_argument("--db", type=Path, help=f"database file (default ${store.DB_ENV} or data/)")
    load.add_argument("--quiet", action="store_true", help="no progress bar")
    load.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="processes reading files (default: one per CPU, up to 4; 1: no extra process)",
    )
    load.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    load.set_defaults(run=_load)

    api = commands.add_parser("api", help="sync with the CQC Syndication API (key in $CQC_API_KEY)")
    api.add_argument("--db", type=Path, help=f"database file (default ${store.DB_ENV} or data/)")
    api.add_argument(
        "--full", action="store_true", help="every location, not only changes since the last sync"
    )
    api.add_argument(
        "--location", action="append", metavar="ID", help="fetch only this location (repeatable)"
    )
    api.add_argument("--no-reports", action="store_true", help="do not fetch report text")
    api.add_argument("--base-url", default="https://api.service.cqc.org.uk/public/v1")
    api.add_argument("--rate", type=float, default=10.0, help="requests per second at most")
    api.add_argument("--retries", type=int, default=5, help="retries of a failed request")
    api.add_argument(
        "--backoff", type=float, default=1.0, help="seconds before the first retry (doubling)"
    )
    api.add_argument("--per-page", type=int, default=500, help="locations per listing page")
    api.add_argument("--quiet", action="store_true", help="no progress bar")
    api.set_defaults(run=_api)

    demo = commands.add_parser("demo", help="write the demo corpus of report text files")
    demo.add_argument("--out", type=Path, default=Path("data/demo-reports"))
    demo.add_argument("--locations", type=int, default=demo_defaults.DEFAULT_LOCATIONS)
    demo.add_argument("--seed", type=int, default=demo_defaults.DEFAULT_SEED)
    demo.set_defaults(run=_demo)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
