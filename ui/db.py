"""Short-lived DuckDB connections for what the loaded frames do not hold (evidence, the log).

The app never keeps a connection between reruns: it opens the file, runs one named query
with bound parameters and closes it, so a loader can write in between. DuckDB refuses a
connection while another process holds the write lock (IOException) or while this process
has the file open in the other mode (ConnectionException); both clear within moments, so
opening retries for a few seconds before giving up with `DatabaseBusy`. A file that cannot be
written at all (read-only file system, no permission) is not waited for: opening it for
writing raises `store.DatabaseUnwritable` at once.

The settings and the ingest log change only when the file does, so their reads are cached per
data version (`store.data_version`: the file's and its WAL's mtime and size): a rerun that
only changes the filters opens nothing. A busy file raises and is not cached.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl
import streamlit as st

from ingest import store

BUSY_ERRORS = (duckdb.IOException, duckdb.ConnectionException)
ATTEMPTS = 100  # 5 s in all, tried often: a loader lets go of the file for 0.1 s at a time
WAIT_SECONDS = 0.05


class DatabaseBusy(RuntimeError):
    """Another writer kept the database locked for longer than we wait."""


def connect(
    path: str | Path | None = None,
    *,
    read_only: bool = True,
) -> duckdb.DuckDBPyConnection:
    """Open the database (read-only unless asked), retrying while another writer holds it."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return store.connect(path, read_only=read_only)
        except (duckdb.Error, OSError) as err:
            busy = isinstance(err, duckdb.ConnectionException) or store.is_lock_conflict(err)
            if not read_only and not busy and (reason := store.storage_failure(err)):
                raise store.DatabaseUnwritable(reason) from None
            if not isinstance(err, BUSY_ERRORS):
                raise
            if attempt == ATTEMPTS:
                raise DatabaseBusy(str(err).splitlines()[0]) from err
            time.sleep(WAIT_SECONDS)
    raise AssertionError("unreachable")


@contextmanager
def reading(path: str | Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection, closed on leaving the block."""
    con = connect(path, read_only=True)
    try:
        yield con
    finally:
        con.close()


def location_evidence(location_id: str, path: str | Path | None = None) -> pl.DataFrame:
    """Statements of every assessment of one location: assessment_id, key_question, position, statement, evidence."""  # noqa: E501
    with reading(path) as con:
        return con.sql(
            """
            SELECT s.assessment_id, s.key_question, s.position, s.statement, s.evidence
            FROM statement_scores s JOIN assessments a USING (assessment_id)
            WHERE a.location_id = ?
            ORDER BY s.assessment_id, s.key_question, s.position
            """,
            params=[location_id],
        ).pl()


def evidence_for(assessment_ids: pl.Series, path: str | Path | None = None) -> pl.DataFrame:
    """Evidence of the given assessments: assessment_id, key_question, statement, evidence."""
    wanted = pl.DataFrame({"assessment_id": assessment_ids.unique()})
    with reading(path) as con:
        con.register("wanted", wanted)
        return con.sql(
            "SELECT assessment_id, key_question, statement, evidence FROM statement_scores"
            " WHERE assessment_id IN (SELECT assessment_id FROM wanted)"
        ).pl()


def _file(path: str | Path | None) -> tuple[str, str]:
    """The database path and its current data version: the first arguments of a cached read."""
    target = store.db_path(path)
    return str(target), store.data_version(target)


def meta(path: str | Path | None = None) -> dict[str, str]:
    """Every setting of the `meta` table (schema_version, demo, last_sync, ...)."""
    return _meta(*_file(path))


@st.cache_data(max_entries=8, show_spinner=False)
def _meta(path: str, version: str) -> dict[str, str]:
    with reading(path) as con:
        return dict(con.execute("SELECT key, value FROM meta").fetchall())


def ingest_log_counts(path: str | Path | None = None) -> pl.DataFrame:
    """One row per action: action, files, warnings (lines of the log, warnings they carry)."""
    return _ingest_log_counts(*_file(path))


@st.cache_data(max_entries=8, show_spinner=False)
def _ingest_log_counts(path: str, version: str) -> pl.DataFrame:
    with reading(path) as con:
        return con.sql(
            "SELECT action, count(*) AS files, sum(len(warnings))::BIGINT AS warnings"
            " FROM ingest_log GROUP BY action ORDER BY files DESC"
        ).pl()


_PROBLEMS = " WHERE NOT $problems OR action = 'rejected' OR len(warnings) > 0"


def ingest_log_lines(*, problems_only: bool = False, path: str | Path | None = None) -> int:
    """How many lines the ingest log holds (only rejections and warnings when asked)."""
    return _ingest_log_lines(*_file(path), problems_only)


@st.cache_data(max_entries=16, show_spinner=False)
def _ingest_log_lines(path: str, version: str, problems_only: bool) -> int:
    with reading(path) as con:
        query = "SELECT count(*) FROM ingest_log" + _PROBLEMS
        return con.sql(query, params={"problems": problems_only}).fetchall()[0][0]


def ingest_log_page(
    limit: int, offset: int, *, problems_only: bool = False, path: str | Path | None = None
) -> pl.DataFrame:
    """Log lines, latest first: logged_at, file, format, action, message, warnings (joined)."""
    return _ingest_log_page(*_file(path), limit, offset, problems_only)


@st.cache_data(max_entries=32, show_spinner=False)
def _ingest_log_page(
    path: str, version: str, limit: int, offset: int, problems_only: bool
) -> pl.DataFrame:
    with reading(path) as con:
        return con.sql(
            "SELECT logged_at, file, format, action, message,"
            " array_to_string(warnings, ' | ') AS warnings FROM ingest_log"
            + _PROBLEMS
            + " ORDER BY log_id DESC LIMIT $limit OFFSET $offset",
            params={"problems": problems_only, "limit": limit, "offset": offset},
        ).pl()
