"""Command line: python -m ingest {parse,load,api,demo,reindex,search} ...

Exit codes: 0 every file read, 1 some file rejected (the rest still processed), 2 usage error;
`api` also 3: the sync stopped before the end (its progress is kept: run it again to resume);
`load` also 3: the database could not be written (held by another writer, read-only, disk full).
`search` (ingest.search_cli): 0 matches, 1 none, 2 a bad query, 3 the database cannot be searched.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ingest.files import ReadFile, default_workers, read_path

# DuckDB, Polars, tqdm and the demo model are imported where they are used: the worker
# processes that read files import this package too, and need none of them.


def _parse(args: argparse.Namespace) -> int:
    from ingest.load import iter_files

    status = 0
    for path in iter_files(args.files):
        read = read_path(path)
        if not isinstance(read, ReadFile):
            print(read.line, file=sys.stderr)
            status = 1
            continue
        for record in read.records:
            print(json.dumps(record, ensure_ascii=False))
    return status


def _load(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ingest import database, load

    files = list(load.iter_files(args.paths))
    workers = default_workers() if args.workers is None else args.workers
    bar = tqdm(total=len(files), unit="file", file=sys.stderr, disable=args.quiet or None)

    def rejected(result) -> None:
        if result.action == "rejected":
            tqdm.write(result.line, file=sys.stderr)

    try:
        summary = load.load(
            files,
            args.db,
            workers=workers,
            progress=lambda done, total: bar.update(done - bar.n),
            on_result=rejected,
            bars=not args.quiet,
        )
    except database.DatabaseBusy as err:
        print(f"error: {err}", file=sys.stderr)
        return 3
    except database.DatabaseUnwritable as err:
        done = f"Stopped after the first {err.done:,} files" if err.done else "Nothing was loaded"
        print(
            f"error: cannot write to {database.db_path(args.db)}: {err.reason}. {done}; run the"
            " same command again once the database can be written (files already loaded count"
            " as unchanged).",
            file=sys.stderr,
        )
        return 3
    finally:
        bar.close()
    print(summary.line)
    return 1 if summary.rejected else 0


def _api(args: argparse.Namespace) -> int:
    import os

    from ingest import api_client, database

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
    except database.DatabaseRefused as err:  # damaged or newer: running again cannot help
        print(f"sync stopped: {err}", file=sys.stderr)
        return 3
    except (api_client.ApiError, database.DatabaseBusy, database.DatabaseUnwritable) as err:
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

    written = demo.write_demo_corpus(
        args.out, locations=args.locations, seed=args.seed, api_records=True
    )
    print(f"wrote {len(written)} demo files (report text and API records) to {args.out}")
    return 0


def _reindex(args: argparse.Namespace) -> int:
    import time

    import duckdb

    from ingest import database, search_index

    started = time.perf_counter()
    try:
        con = database.connect(args.db, read_only=False)
        try:  # one transaction: the old index stays whole until the new one is
            with database.WRITE_LOCK:
                con.execute("BEGIN TRANSACTION")
                indexed = search_index.rebuild(con)
                con.execute("COMMIT")
        finally:
            con.close()
    except (database.DatabaseBusy, database.DatabaseUnwritable, duckdb.Error) as err:
        print(
            f"error: the search index was not rebuilt: {database.first_line(err)}", file=sys.stderr
        )
        return 3
    seconds = time.perf_counter() - started
    print(f"search index rebuilt: {indexed:,} statements with evidence in {seconds:.1f} s")
    return 0


def _export(args: argparse.Namespace) -> int:
    import duckdb

    from ingest import database, parquet_export

    if not database.db_path(args.db).exists():
        print(f"error: {database.db_path(args.db)}: no such database", file=sys.stderr)
        return 2
    try:
        counts = parquet_export.export(args.parquet, args.db)
    except parquet_export.ExportRefused as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (database.DatabaseBusy, duckdb.Error, OSError) as err:
        print(f"error: nothing exported: {database.first_line(err)}", file=sys.stderr)
        return 3
    print(
        f"wrote {counts['scores']:,} statement scores and {counts['key_questions']:,} key"
        f" question rows to {args.parquet} (Parquet, partitioned by era and year)"
    )
    return 0


def main(argv: list[str] | None = None, prog: str = "python -m ingest") -> int:
    from ingest import database
    from ingest import demo as demo_defaults

    db_help = f"database file (default ${database.DB_ENV} or data/)"

    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    parse = commands.add_parser("parse", help="print each file as one JSON line")
    parse.add_argument("files", nargs="+", type=Path, metavar="FILE")
    parse.set_defaults(run=_parse)

    load = commands.add_parser("load", help="load files and folders into the database")
    load.add_argument("--db", type=Path, help=db_help)
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
    api.add_argument("--db", type=Path, help=db_help)
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

    demo = commands.add_parser(
        "demo", help="write the demo corpus (report text, and API records for what CQC rates so)"
    )
    demo.add_argument("--out", type=Path, default=Path("data/demo-reports"))
    demo.add_argument("--locations", type=int, default=demo_defaults.DEFAULT_LOCATIONS)
    demo.add_argument("--seed", type=int, default=demo_defaults.DEFAULT_SEED)
    demo.set_defaults(run=_demo)

    reindex = commands.add_parser("reindex", help="rebuild the search index of the evidence")
    reindex.add_argument("--db", type=Path, help=db_help)
    reindex.set_defaults(run=_reindex)

    export = commands.add_parser(
        "export", help="write the whole store as a Parquet dataset (partitioned by era and year)"
    )
    export.add_argument("--db", type=Path, help=db_help)
    export.add_argument("--parquet", type=Path, required=True, metavar="DIR", help="a new folder")
    export.set_defaults(run=_export)

    from ingest import search_cli

    search_cli.add_parser(commands, db_help)

    args = parser.parse_args(argv)
    return args.run(args)


def cli() -> None:
    """The `qsd` console script: the same subcommands as `python -m ingest`."""
    sys.exit(main(prog="qsd"))


if __name__ == "__main__":
    sys.exit(main())
