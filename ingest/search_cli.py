"""`python -m ingest search QUERY`: every statement whose evidence matches, one a line.

The query means what it means on the Search page (queries.search.parse_query: words,
"phrases", OR, -exclusions, case and accents ignored, plurals and -ed/-ing forms) and is
found by the same index (ingest.search_index.matching); the rows are those the page counts
with no sidebar filter: statement scores judged in their own assessment (a score CQC carried
forward from an earlier one only with --carried-forward), narrowed by --key-question,
--score and --statement. Printed as CSV with a header row (csv module quoting: evidence
with line breaks stays one record) or as JSON Lines, in COLUMNS, by location, assessment
date, key question (in the framework's order) and statement. Values are printed as stored
(unlike the app's downloads, text that looks like a spreadsheet formula is not quoted).

Exit codes: 0 some statement matches, 1 none, 2 a query that cannot be searched (or bad
arguments), 3 the database cannot be searched (missing, busy, damaged, newer, no index).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from ingest import reference

# The Search page's download columns (ui.search.DOWNLOAD_COLUMNS), in the same order.
COLUMNS = (
    "location_id", "location_name", "provider_id", "provider_name", "region", "service_type",
    "assessment_id", "assessment_date", "key_question", "statement_id", "statement", "score",
    "evidence",
)  # fmt: skip
FORMATS = ("csv", "jsonl")
MATCHES, NONE, BAD_QUERY, NO_DATABASE = 0, 1, 2, 3
# Seconds to wait while a loader holds the file (a loader lets go of it every 2 s).
WAIT_SECONDS = 30.0
# Matches whose evidence is read at a time (one read of the table's texts per batch).
BATCH = 50_000
# Characters JSON may leave unescaped that some line readers split at (str.splitlines).
_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}
_KQ_ORDER = list(reference.KEY_QUESTIONS)


def add_parser(commands: Any, db_help: str) -> None:
    """Register the `search` subcommand on `commands` (argparse subparsers)."""
    parser = commands.add_parser(
        "search",
        help="print the statements whose evidence matches a search, one a line",
        description="Print every statement whose evidence matches QUERY, as the Search page"
        ' finds it: words (all of them), "a phrase", OR between alternatives, -word to leave'
        " one out; case and accents ignored; a word also finds its plural and -ed/-ing forms."
        f" Columns: {', '.join(COLUMNS)}. Rows by location, assessment date, key question and"
        " statement. Exit codes: 0 matches, 1 none, 2 a bad query, 3 the database cannot be"
        " searched.",
    )
    parser.add_argument("query", metavar="QUERY", help='what to look for, e.g. "agency staff"')
    parser.add_argument(
        "--key-question",
        action="append",
        type=_key_question,
        metavar="NAME",
        help="only statements of this key question (repeatable): Safe, Effective, Caring,"
        " Responsive, Well-led",
    )
    parser.add_argument(
        "--score",
        action="append",
        type=int,
        choices=range(1, 5),
        metavar="N",
        help="only statements scored N, 1-4 (repeatable)",
    )
    parser.add_argument(
        "--statement",
        action="append",
        type=_statement,
        metavar="ID",
        help="only this quality statement (repeatable): its id 1-34 or its name",
    )
    parser.add_argument(
        "--carried-forward",
        action="store_true",
        help="include scores CQC carried forward from an earlier assessment (the Search"
        " page's sidebar switch; left out by default)",
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="csv", help="csv with a header (default) or jsonl"
    )
    parser.add_argument("--db", type=Path, help=db_help)
    parser.set_defaults(run=run)


def _key_question(text: str) -> str:
    found = reference.canonical_key_question(text)
    if found is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a key question: choose from {', '.join(reference.KEY_QUESTIONS)}"
        )
    return found


def _statement(text: str) -> int:
    if text.strip().isdigit() and int(text) in reference.STATEMENTS_BY_ID:
        return int(text)
    if (found := reference.statement_id(text)) is not None:
        return found
    raise argparse.ArgumentTypeError(
        f"{text!r} is not a quality statement: give its id (1-34) or its name"
    )


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """The `search` subcommand: print the matches to `out` (stdout); its exit code."""
    import duckdb

    from ingest import database
    from queries.search import QueryError, parse_query

    out = out or sys.stdout
    try:
        query = parse_query(args.query)
    except QueryError as err:
        print(f"error: {err}", file=sys.stderr)
        return BAD_QUERY
    path = database.db_path(args.db)
    if not path.is_file():
        print(
            f"error: there is no database at {path}: load files into it first"
            " (python -m ingest load PATH ...), or point --db or"
            f" ${database.DB_ENV} at another file",
            file=sys.stderr,
        )
        return NO_DATABASE
    try:
        if refused := database.refused(path):  # damaged, cut short, or a newer version's
            raise refused
        con = database.connect(path, read_only=True, wait_seconds=WAIT_SECONDS)
        try:
            rows = matches(
                con,
                query,
                key_questions=args.key_question or (),
                scores=args.score or (),
                statements=args.statement or (),
                carried_forward=args.carried_forward,
            )
            if rows is None:
                print(
                    f"error: {path} has no search index (it was made before the index"
                    f" existed): run python -m ingest reindex --db {path}, then search again",
                    file=sys.stderr,
                )
                return NO_DATABASE
            written, locations = _write(rows, args.format, out)
        finally:
            con.close()
    except database.DatabaseRefused as err:
        print(f"error: cannot search: {err}", file=sys.stderr)
        return NO_DATABASE
    except database.DatabaseBusy as err:
        print(f"error: {err}; search again when it has finished", file=sys.stderr)
        return NO_DATABASE
    except duckdb.Error as err:
        problem = database.damaged(path, err)
        line = str(problem) if problem else f"{path} cannot be read: {database.first_line(err)}"
        print(f"error: cannot search: {line}", file=sys.stderr)
        return NO_DATABASE
    except BrokenPipeError:  # `... | head`: the reader has what it wanted
        _quiet_stdout()
        return MATCHES
    found = "1 statement matches" if written == 1 else f"{written:,} statements match"
    where = f" at {locations:,} location{'s' * (locations != 1)}" if written else ""
    print(f"{found} {query.text}{where}", file=sys.stderr)
    return MATCHES if written else NONE


def matches(
    con: Any,
    query: Any,
    *,
    key_questions: Sequence[str] = (),
    scores: Sequence[int] = (),
    statements: Sequence[int] = (),
    carried_forward: bool = False,
) -> Iterator[tuple] | None:
    """The statements of `con` matching `query` (queries.search.Query) and the filters, as
    tuples of COLUMNS in the order printed; None when the file holds no search index.

    Each filter keeps the rows with one of its values (none given: every row).
    """
    from ingest import search_index

    if not search_index.is_built(con):
        return None
    found = search_index.matching(con, query)
    con.register("_matched", found.to_frame("doc_id"))
    where = ["TRUE"]
    params: dict[str, Any] = {"kq_order": _KQ_ORDER}
    for column, values in (
        ("key_question", key_questions),
        ("score", scores),
        ("statement_id", statements),
    ):
        if values:
            where.append(f"s.{column} IN (SELECT unnest(${column}))")
            params[column] = list(values)
    if not carried_forward:
        where.append(f"s.statement_status IS DISTINCT FROM '{reference.CARRIED_FORWARD}'")
    shown = ", ".join(f"s.{c}" for c in COLUMNS if c != "evidence")
    # The rows without their evidence first, with the row id of each statement's text: a
    # sort or a join that carried the evidence would hold every matching text at once.
    keyed = con.sql(
        f"SELECT {shown}, t.rowid AS _row FROM scores s"
        " JOIN statement_scores t ON t.assessment_id = s.assessment_id"
        " AND t.key_question = s.key_question AND t.statement = s.statement"
        " SEMI JOIN (SELECT d.* FROM search_documents d SEMI JOIN _matched USING (doc_id)) d"
        " ON s.assessment_id = d.assessment_id AND s.key_question = d.key_question"
        " AND s.statement = d.statement"
        f" WHERE {' AND '.join(where)}"
        " ORDER BY s.location_id, s.assessment_date, s.assessment_id,"
        " list_position($kq_order, s.key_question), s.statement_id NULLS LAST, s.statement",
        params=params,
    ).pl()
    return _with_evidence(con, keyed)


def _with_evidence(con: Any, keyed: Any) -> Iterator[tuple]:
    """The rows of `keyed` (COLUMNS but evidence, and _row: the statement_scores row id of
    each) with their evidence, read BATCH rows at a time, as tuples of COLUMNS."""
    for start in range(0, keyed.height, BATCH):
        batch = keyed.slice(start, BATCH)
        con.register("_rows", batch.select("_row"))
        texts = con.sql(
            "SELECT rowid AS _row, evidence FROM statement_scores"
            " WHERE rowid IN (SELECT _row FROM _rows)"
        ).pl()
        with_text = batch.join(texts, on="_row", how="left", maintain_order="left")
        yield from with_text.select(COLUMNS).iter_rows()


def _write(rows: Iterator[tuple], form: str, out: TextIO) -> tuple[int, int]:
    """Print `rows` to `out` in `form`; how many, and at how many locations."""
    locations: set[str] = set()
    written = 0
    if form == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow(row)
            written += 1
            locations.add(row[0])
    else:
        for row in rows:
            line = json.dumps(dict(zip(COLUMNS, row, strict=True)), ensure_ascii=False, default=str)
            for char, escaped in _LINE_BREAKS.items():
                line = line.replace(char, escaped)
            out.write(line + "\n")
            written += 1
            locations.add(row[0])
    out.flush()
    return written, len(locations)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null, so Python's flush at exit does not fail on a closed pipe."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
