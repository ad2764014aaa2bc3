"""The app's named reads of what the loaded frames do not hold: evidence, report links, the log.

Each opens the file read-only through ingest.database.reading (its one retry policy; it
raises database.DatabaseBusy when a loader keeps the file), runs one query with bound
parameters and closes it, so a loader can write in between. Reads that depend only on the
data version go through AppData.read (ui.app_data), which caches them per version.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from ingest.database import reading


def location_evidence(location_id: str, *, path: str | Path | None = None) -> pl.DataFrame:
    """Statements of every assessment of one location, with their evidence.

    Columns: assessment_id, key_question, position, statement, evidence.
    """
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


def assessment_reports(location_id: str, *, path: str | Path | None = None) -> pl.DataFrame:
    """The addresses of one location's assessment reports on CQC's website, where stored.

    Columns: assessment_id, report_url. Empty for a file loaded before they were kept (its
    next load brings the column: ingest.schema).
    """
    with reading(path) as con:
        try:
            return con.sql(
                "SELECT assessment_id, report_url FROM assessments"
                " WHERE location_id = ? AND report_url IS NOT NULL ORDER BY assessment_id",
                params=[location_id],
            ).pl()
        except duckdb.BinderException:  # no report_url column yet
            return pl.DataFrame(schema={"assessment_id": pl.String, "report_url": pl.String})


def evidence_for(assessment_ids: pl.Series, path: str | Path | None = None) -> pl.DataFrame:
    """Evidence of the given assessments: assessment_id, key_question, statement, evidence."""
    wanted = pl.DataFrame({"assessment_id": assessment_ids.unique()})
    with reading(path) as con:
        con.register("wanted", wanted)
        return con.sql(
            "SELECT assessment_id, key_question, statement, evidence FROM statement_scores"
            " WHERE assessment_id IN (SELECT assessment_id FROM wanted)"
        ).pl()


def ingest_log_counts(*, path: str | Path | None = None) -> pl.DataFrame:
    """One row per action: action, files, warnings (lines of the log, warnings they carry)."""
    with reading(path) as con:
        return con.sql(
            "SELECT action, count(*) AS files, sum(len(warnings))::BIGINT AS warnings"
            " FROM ingest_log GROUP BY action ORDER BY files DESC"
        ).pl()


# An absolute path's folders ("/srv/reports/" of "/srv/reports/a.txt"), where a path starts.
_NO_FOLDERS = "regexp_replace({}, '(^|[\\s(])/(?:[^/\\s]+/)+', '\\1', 'g')"
_PROBLEMS = " WHERE NOT $problems OR action = 'rejected' OR len(warnings) > 0"


def ingest_log_lines(*, problems_only: bool = False, path: str | Path | None = None) -> int:
    """How many lines the ingest log holds (only rejections and warnings when asked)."""
    with reading(path) as con:
        query = "SELECT count(*) FROM ingest_log" + _PROBLEMS
        return con.sql(query, params={"problems": problems_only}).fetchall()[0][0]


def ingest_log_page(
    limit: int, offset: int, *, problems_only: bool = False, path: str | Path | None = None
) -> pl.DataFrame:
    """Log lines, latest first: logged_at, file, format, action, message, warnings (joined).

    Files are named without their folders, in the messages too: a path on the machine that
    loaded them says nothing to the reader and tells strangers how the server is laid out.
    """
    message = _NO_FOLDERS.format("message")
    warnings = _NO_FOLDERS.format("array_to_string(warnings, ' | ')")
    with reading(path) as con:
        return con.sql(
            "SELECT logged_at, regexp_replace(file, '^.*/', '') AS file, format, action,"
            f" {message} AS message, {warnings} AS warnings FROM ingest_log"
            + _PROBLEMS
            + " ORDER BY log_id DESC LIMIT $limit OFFSET $offset",
            params={"problems": problems_only, "limit": limit, "offset": offset},
        ).pl()
