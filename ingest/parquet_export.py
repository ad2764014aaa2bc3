"""`python -m ingest export --parquet DIR`: the whole store as a Parquet dataset.

Two datasets under DIR, one per view of the data contract (ingest.schema.VIEW_COLUMNS):
`scores/` (one row per statement score, with its evidence) and `key_questions/` (one row per
assessed key question, ratings-only ones included). Each is partitioned Hive-style by era and
assessment year (`scores/era=SAF by statement/year=2025/data_0.parquet`), which DuckDB, Polars,
Spark and Trino read unchanged (`hive_partitioning`). Every file's key-value metadata carries
the contract: `qsd_columns` (JSON: each column's name and meaning), `qsd_view`,
`qsd_schema_version` and `qsd_exported_at` (UTC, ISO 8601).

The dataset is written into a new folder beside DIR and moved into place when whole, so DIR
never holds half an export; an existing DIR is refused, not overwritten.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path

from ingest import database, schema

VIEWS = ("scores", "key_questions")
PARTITIONS = ("era", "year")


class ExportRefused(Exception):
    """The export cannot be written where asked; str() is one line."""


def export(out: Path, db: str | Path | None = None) -> dict[str, int]:
    """Write the store under `out` (module doc); rows written per view."""
    out = Path(out)
    if out.exists():
        raise ExportRefused(f"{out}: already exists; choose a new folder (nothing was written)")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        with database.reading(db) as con:
            exported = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            counts = {}
            for view in VIEWS:
                contract = json.dumps(
                    [{"name": c, "description": d} for c, d in schema.VIEW_COLUMNS[view]]
                )
                meta = {
                    "qsd_view": view,
                    "qsd_columns": contract,
                    "qsd_schema_version": str(schema.SCHEMA_VERSION),
                    "qsd_exported_at": exported,
                }
                pairs = ", ".join(f"{k}: {_quoted(v)}" for k, v in meta.items())
                [(counts[view],)] = con.sql(f"SELECT count(*) FROM {view}").fetchall()
                con.execute(
                    f"COPY (SELECT *, year(assessment_date) AS year FROM {view})"
                    f" TO {_quoted(str(staging / view))}"
                    f" (FORMAT parquet, PARTITION_BY ({', '.join(PARTITIONS)}),"
                    f" KV_METADATA {{{pairs}}})"
                )
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return counts


def _quoted(text: str) -> str:
    """A SQL string literal of `text`."""
    return "'" + text.replace("'", "''") + "'"
