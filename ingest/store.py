"""The DuckDB store: opening the database, and loading records with all-or-nothing files.

Files are loaded in batches for speed, but a batch only ever commits whole files: readers
reject bad files before anything touches the database, and if the database refuses a batch,
it is rolled back and its files are retried one transaction each.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from ingest import reference as ref
from ingest import schema
from ingest.records import (
    Record,
    RejectedFile,
    assessment_id,
    content_hash,
    location_id,
    provider_id,
)

DB_ENV = "QSD_DB"
DEFAULT_DB = Path(__file__).resolve().parent.parent / "data" / "qsd.duckdb"


def db_path(path: str | Path | None = None) -> Path:
    """The database file: the argument, else $QSD_DB, else data/qsd.duckdb in the project."""
    return Path(path or os.environ.get(DB_ENV) or DEFAULT_DB)


@dataclass
class FileResult:
    """What happened to one file."""

    file: str
    format: str | None = None
    action: str = "rejected"  # loaded, unchanged, replaced or rejected
    loaded: int = 0
    unchanged: int = 0
    replaced: int = 0
    message: str | None = None
    warnings: list[str] = field(default_factory=list)
    assessment_ids: list[str] = field(default_factory=list)

    @property
    def line(self) -> str:
        """One line for the terminal: '<file>: <reason>' for a rejection."""
        return f"{self.file}: {self.message}"


@dataclass
class ReadFile:
    """A file read into records, waiting to be loaded."""

    file: str
    format: str
    file_hash: str
    records: list[Record]


def connect(path: str | Path | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the database, creating the schema on first use."""
    target = db_path(path)
    if read_only:
        return duckdb.connect(str(target), read_only=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(target))
    create_schema(con)
    return con


class DatabaseBusy(Exception):
    """The database file is held by another writer for longer than we are willing to wait."""


def connect_for_writing(
    path: str | Path | None = None, wait_seconds: float = 30.0
) -> duckdb.DuckDBPyConnection:
    """Open for writing, waiting up to `wait_seconds` while another process holds the file."""
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return connect(path)
        except duckdb.IOException as err:
            if "lock" not in str(err).lower() or time.monotonic() >= deadline:
                if "lock" in str(err).lower():
                    raise DatabaseBusy(
                        f"{db_path(path)} is being written by another process; nothing was"
                        " loaded, try again when it has finished"
                    ) from None
                raise
            time.sleep(0.2)


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    for statement in schema.ddl():
        con.execute(statement)
    if not con.execute("SELECT count(*) FROM quality_statements").fetchall()[0][0]:
        con.executemany(
            "INSERT INTO quality_statements VALUES (?, ?, ?)",
            [(s.id, s.key_question, s.name) for s in ref.STATEMENTS],
        )
    con.execute(
        "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT DO NOTHING",
        [str(schema.SCHEMA_VERSION)],
    )


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute(
        "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )


def get_meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    rows = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
    return rows[0][0] if rows else None


def read_file(name: str, data: bytes) -> ReadFile | FileResult:
    """Read one file's bytes; a FileResult (rejected) when it cannot be read."""
    from ingest import formats

    try:
        fmt, records = formats.read(name, data)
    except RejectedFile as err:
        return FileResult(file=name, message=str(err))
    except RecursionError:
        return FileResult(file=name, message="structure is nested too deeply to read")
    return ReadFile(name, fmt, hashlib.sha256(data).hexdigest(), records)


# Writers in one process (e.g. two uploads from two app sessions) take turns, so their
# transactions never conflict; DuckDB's file lock keeps other processes out.
_WRITE_LOCK = threading.RLock()


def load_files(
    con: duckdb.DuckDBPyConnection, files: list[ReadFile | FileResult]
) -> list[FileResult]:
    """Load read files in one transaction (rejections are only logged); see module doc."""
    with _WRITE_LOCK:
        return _load_files(con, files)


def _load_files(
    con: duckdb.DuckDBPyConnection, files: list[ReadFile | FileResult]
) -> list[FileResult]:
    read = [f for f in files if isinstance(f, ReadFile)]
    results: dict[int, FileResult] = {}
    try:
        results.update(zip(map(id, read), _load_batch(con, read) if read else []))
    except Exception:  # retry one file per transaction to find the file(s) at fault
        for f in read:
            try:
                results[id(f)] = _load_batch(con, [f])[0]
            except Exception as err:
                results[id(f)] = FileResult(
                    f.file,
                    f.format,
                    message=f"database refused the file: {_first_line(err)}",
                )
    ordered = [results.get(id(f), f) for f in files]
    _log(con, [r for r in ordered if r.action == "rejected"], files)
    return ordered


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def _load_batch(con: duckdb.DuckDBPyConnection, files: list[ReadFile]) -> list[FileResult]:
    con.execute("BEGIN TRANSACTION")
    try:
        results = _apply(con, files)
        _log(con, results, files)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return results


def _apply(con: duckdb.DuckDBPyConnection, files: list[ReadFile]) -> list[FileResult]:
    """Insert, replace or skip each record's assessment; returns one result per file."""
    now = dt.datetime.now()
    existing = _existing_hashes(con, files)
    rows = _Rows()
    results = []
    for f in files:
        result = FileResult(f.file, f.format, action="unchanged")
        replaced_from: list[str] = []
        for record in f.records:
            result.warnings.extend(record.get("warnings", []))
            loc = location_id(record)
            aid = assessment_id(record, loc)
            digest = content_hash(record)
            result.assessment_ids.append(aid)
            previous = existing.get(aid)
            if previous and previous[0] == digest:
                result.unchanged += 1
                continue
            if previous is None:
                result.loaded += 1
            else:
                result.replaced += 1
                replaced_from.append(previous[1])
                rows.replaced.append(aid)
            existing[aid] = (digest, f.file)
            rows.add(record, f.file, loc, aid, digest, now)
        result.action = (
            "replaced" if result.replaced else "loaded" if result.loaded else "unchanged"
        )
        result.message = _describe(result, replaced_from)
        results.append(result)
    rows.write(con)
    return results


def _describe(result: FileResult, replaced_from: list[str]) -> str:
    counts = {
        "new": result.loaded,
        "replaced": result.replaced,
        "unchanged": result.unchanged,
    }
    text = ", ".join(f"{n} {label}" for label, n in counts.items() if n) or "no assessments"
    noun = "assessment" if sum(counts.values()) == 1 else "assessments"
    text = f"{text} {noun}" if sum(counts.values()) else text
    if replaced_from:
        text += "; replaced versions loaded earlier from " + ", ".join(sorted(set(replaced_from)))
    return text


def _existing_hashes(
    con: duckdb.DuckDBPyConnection, files: list[ReadFile]
) -> dict[str, tuple[str, str]]:
    """Content hash and source file of the stored assessments these files would write."""
    ids = [assessment_id(r, location_id(r)) for f in files for r in f.records]
    if not ids:
        return {}
    found = con.sql(
        "SELECT assessment_id, content_hash, source_file FROM assessments"
        " WHERE assessment_id IN (SELECT unnest($ids))",
        params={"ids": ids},
    ).fetchall()
    return {aid: (digest, file) for aid, digest, file in found}


class _Rows:
    """Rows to write, gathered per table, later records winning over earlier ones."""

    def __init__(self) -> None:
        self.providers: dict[str, tuple] = {}
        self.locations: dict[str, tuple] = {}
        self.assessments: dict[str, tuple] = {}
        self.key_questions: dict[str, list[tuple]] = {}
        self.statements: dict[str, list[tuple]] = {}
        self.replaced: list[str] = []

    def add(
        self,
        record: Record,
        file: str,
        loc: str,
        aid: str,
        digest: str,
        now: dt.datetime,
    ) -> None:
        source = record["format"]
        prov = provider_id(record)
        if prov:
            self.providers[prov] = (
                prov,
                record.get("provider_cqc_id"),
                record["provider_name"],
                source,
            )
        stated_region = ref.canonical_region(record.get("region"))
        postcode = ref.normalise_postcode(record.get("postcode"))
        region = stated_region or ref.region_for_postcode(postcode)
        types = record.get("service_types") or []
        service_type = record.get("service_type") or (types[-1] if types else None)
        self.locations[loc] = (
            loc, record.get("location_cqc_id"), record["location_name"], prov,
            record.get("address"), postcode, record.get("phone"), types, service_type,
            source if service_type else None, region,
            (source if stated_region else "derived") if region else None,
            record.get("local_authority"), source if record.get("local_authority") else None,
            record.get("overall_rating"), source,
        )  # fmt: skip
        self.assessments[aid] = (
            aid, loc, record["assessment_date"], record.get("published_date"), record["era"],
            record.get("overall_rating"), record.get("service_group"), source, file, digest, now,
        )  # fmt: skip
        self.key_questions[aid] = []
        self.statements[aid] = []
        for kq in record["key_questions"]:
            scores = [s["score"] for s in kq["statements"]]
            self.key_questions[aid].append((
                aid, kq["name"], kq.get("rating"), kq.get("published_date"), kq.get("score"),
                kq.get("computed_score"), sum(scores) if scores else None, len(scores) or None,
            ))  # fmt: skip
            for pos, st in enumerate(kq["statements"], start=1):
                self.statements[aid].append(
                    (
                        aid,
                        kq["name"],
                        pos,
                        st["id"],
                        st["name"],
                        st["score"],
                        st.get("evidence"),
                    )
                )

    def write(self, con: duckdb.DuckDBPyConnection) -> None:
        if self.replaced:
            for table in ("statement_scores", "key_question_results", "assessments"):
                con.execute(f"DELETE FROM {table} WHERE assessment_id IN (SELECT unnest($ids))",
                            {"ids": self.replaced})  # fmt: skip
        self._upsert(con, "providers", list(self.providers.values()), "provider_id")
        self._upsert(con, "locations", list(self.locations.values()), "location_id")
        self._insert(con, "assessments", list(self.assessments.values()))
        self._insert(
            con,
            "key_question_results",
            [r for rs in self.key_questions.values() for r in rs],
        )
        self._insert(con, "statement_scores", [r for rs in self.statements.values() for r in rs])

    @staticmethod
    def _frame(table: str, rows: list[tuple]) -> pl.DataFrame:
        columns = [c for c, _, _ in schema.COLUMNS[table]]
        return pl.DataFrame(rows, schema=columns, orient="row", infer_schema_length=None)

    def _insert(self, con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
        if rows:
            frame = self._frame(table, rows)  # noqa: F841 - read by DuckDB's replacement scan
            con.execute(f"INSERT INTO {table} SELECT * FROM frame")

    def _upsert(
        self, con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple], key: str
    ) -> None:
        if not rows:
            return
        frame = self._frame(table, rows)  # noqa: F841 - read by DuckDB's replacement scan
        updates = ", ".join(_MERGE.get(table, {}).get(c, f"{c} = COALESCE(excluded.{c}, {table}.{c})")
                            for c, _, _ in schema.COLUMNS[table] if c != key)  # fmt: skip
        con.execute(
            f"INSERT INTO {table} SELECT * FROM frame ON CONFLICT ({key}) DO UPDATE SET {updates}"
        )


# A region stated by a source beats one derived from the postcode area.
_MERGE = {
    "locations": {
        "region": "region = CASE WHEN excluded.region_source = 'derived' AND locations.region_source"
        " NOT IN ('derived') THEN locations.region ELSE COALESCE(excluded.region, locations.region) END",
        "region_source": "region_source = CASE WHEN excluded.region_source = 'derived' AND"
        " locations.region_source NOT IN ('derived') THEN locations.region_source"
        " ELSE COALESCE(excluded.region_source, locations.region_source) END",
    }
}


def _log(con: duckdb.DuckDBPyConnection, results: list[FileResult], files: list) -> None:
    if not results:
        return
    hashes = {f.file: f.file_hash for f in files if isinstance(f, ReadFile)}
    now = dt.datetime.now()
    con.executemany(
        "INSERT INTO ingest_log (logged_at, file, format, content_hash, action, assessment_id,"
        " message, warnings) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                now,
                r.file,
                r.format,
                hashes.get(r.file),
                r.action,
                r.assessment_ids[0] if len(r.assessment_ids) == 1 else None,
                r.message,
                r.warnings,
            )
            for r in results
        ],  # fmt: skip
    )


def data_version(path: str | Path | None = None) -> str:
    """A string that changes whenever the database file changes (no lock needed)."""
    target = db_path(path)
    try:
        stat = target.stat()
    except FileNotFoundError:
        return "missing"
    wal = target.with_name(target.name + ".wal")
    wal_mtime = wal.stat().st_mtime_ns if wal.exists() else 0
    return f"{stat.st_mtime_ns}-{stat.st_size}-{wal_mtime}"


__all__ = [
    "DB_ENV",
    "FileResult",
    "ReadFile",
    "RejectedFile",
    "connect",
    "data_version",
    "db_path",
    "get_meta",
    "load_files",
    "read_file",
    "set_meta",
]  # fmt: skip
