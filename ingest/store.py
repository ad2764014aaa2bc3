"""The DuckDB store: opening the database, and loading records with all-or-nothing files.

Files are loaded in batches for speed, but a batch only ever commits whole files: readers
reject bad files before anything touches the database, and if the database refuses a batch,
it is rolled back and its files are retried one transaction each. When the disk rather than a
file is at fault (full, read-only), loading stops with `DatabaseUnwritable` instead.

One location, many sources: records join on the CQC location id. Report text names no id,
so its location gets a derived 'x-' id from the normalised name and postcode; every record
with a CQC id, a name and a postcode leaves that derived id behind as an alias
(`location_aliases`), a location already stored under it moves to the CQC id, and report
text read later loads under the CQC id directly. Region, local authority and service type
are taken from the most authoritative source present (`FIELD_PRECEDENCE`), and the source
of each is kept beside it.

One report, one assessment: the rating file and the API's legacy ratings give a report
ratings-only, dated by its publication date, while report text and the API's SAF block give
it with scores, dated by its assessment date (its `published_date` is the publication date).
Such a ratings-only record (no statement scores, no stated percentage) of location L dated D
is a copy of a scored assessment of L published on D (exactly: both are CQC's publication
date of the report): it is not stored, and a copy stored before the scored assessment arrived
is deleted in the same transaction, whatever the order of loading (`_Copies`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import hashlib
import os
import threading
import time
from pathlib import Path

import duckdb
import polars as pl

from ingest import reference as ref
from ingest import schema
from ingest.files import FileResult, ReadFile, read_file  # read_file: part of the store API
from ingest.records import (
    Record,
    RejectedFile,
    assessment_id,
    content_hash,
    derived_location_id,
    is_publication_ratings,
    is_scored,
    location_id,
    provider_id,
)

DB_ENV = "QSD_DB"
DEFAULT_DB = Path(__file__).resolve().parent.parent / "data" / "qsd.duckdb"


def db_path(path: str | Path | None = None) -> Path:
    """The database file: the argument, else $QSD_DB, else data/qsd.duckdb in the project."""
    return Path(path or os.environ.get(DB_ENV) or DEFAULT_DB)


def connect(path: str | Path | None = None, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the database, creating the schema on first use."""
    target = db_path(path)
    if read_only:
        return duckdb.connect(str(target), read_only=True)
    make_folder(target.parent)
    con = duckdb.connect(str(target))
    try:
        with _WRITE_LOCK:  # two sessions of the app may open a new file at once
            create_schema(con)
    except BaseException:
        con.close()
        raise
    return con


def make_folder(folder: Path) -> None:
    """Create the database's folder if needed; NotADirectoryError when a file has its name."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder)) from None


class DatabaseBusy(Exception):
    """The database file is held by another writer for longer than we are willing to wait."""


class DatabaseUnwritable(Exception):
    """The database file cannot be written: read-only file system, disk full, no permission.

    Nothing of the transaction that failed is stored, and files committed before it are
    whole. `reason` is the system's words ('No space left on device'); `done` counts the
    files a caller had already processed when it happened.
    """

    def __init__(self, reason: str, done: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.done = done


# How DuckDB words a failure of the disk rather than of the data.
_STORAGE_WORDS = (
    "No space left", "Read-only file system", "Permission denied", "Disk quota exceeded",
    "File too large", "Could not write", "Cannot open file", "could not be written",
    "has been invalidated",
)  # fmt: skip


def storage_failure(err: BaseException) -> str | None:
    """The reason, when `err` says the database file could not be written; else None."""
    if isinstance(err, OSError):
        return f"{err.strerror}: {err.filename}" if err.strerror and err.filename else str(err)
    if not isinstance(err, duckdb.Error) or is_lock_conflict(err):
        return None
    text = _first_line(err)
    if isinstance(err, (duckdb.IOException, duckdb.FatalException)) or any(
        words in text for words in _STORAGE_WORDS
    ):
        return text.rsplit('": ', 1)[-1] if '": ' in text else text
    return None


def is_lock_conflict(err: BaseException) -> bool:
    """Another process holds the file's write lock (it clears when that process is done)."""
    text = str(err).lower()
    return isinstance(err, duckdb.IOException) and (
        "could not set lock" in text or "conflicting lock" in text
    )


def connect_for_writing(
    path: str | Path | None = None, wait_seconds: float = 30.0
) -> duckdb.DuckDBPyConnection:
    """Open for writing, waiting up to `wait_seconds` while another process holds the file.

    Raises DatabaseBusy when the wait runs out, DatabaseUnwritable when the file cannot be
    created or written at all.
    """
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return connect(path)
        except (duckdb.Error, OSError) as err:
            if is_lock_conflict(err) and time.monotonic() < deadline:
                time.sleep(0.2)
                continue
            if is_lock_conflict(err):
                raise DatabaseBusy(
                    f"{db_path(path)} is being written by another process; nothing was"
                    " loaded, try again when it has finished"
                ) from None
            if reason := storage_failure(err):
                raise DatabaseUnwritable(reason) from None
            raise


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create or update the tables and views, unless the file already has this exact schema.

    The check is one read: running the DDL (~50 statements) took as long as storing 150
    reports, and the loader opens the file for every batch.
    """
    statements = schema.ddl()
    fingerprint = hashlib.sha256("\n".join(statements).encode()).hexdigest()[:16]
    with contextlib.suppress(duckdb.CatalogException):  # a new file has no meta table
        if get_meta(con, "schema_hash") == fingerprint:
            return
    for statement in statements:
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
    set_meta(con, "schema_hash", fingerprint)


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute(
        "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )


def get_meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    rows = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
    return rows[0][0] if rows else None


def write_meta(con: duckdb.DuckDBPyConnection, values: dict[str, str | None]) -> None:
    """Set (or, for None, delete) several meta keys."""
    for key, value in values.items():
        if value is None:
            con.execute("DELETE FROM meta WHERE key = ?", [key])
        else:
            set_meta(con, key, value)


# Rows are written to the database (still inside the transaction) every this many assessments,
# so that a file of 50,000 locations is never held as rows and frames all at once.
FLUSH_ASSESSMENTS = 5000

# Writers in one process (e.g. two uploads from two app sessions) take turns, so their
# transactions never conflict; DuckDB's file lock keeps other processes out.
_WRITE_LOCK = threading.RLock()


def load_files(
    con: duckdb.DuckDBPyConnection,
    files: list[ReadFile | FileResult],
    meta: dict[str, str | None] | None = None,
) -> list[FileResult]:
    """Load read files in one transaction (rejections are only logged); see module doc.

    `meta` keys are written in the same transaction (None deletes a key): a caller that
    records its progress there never sees progress without the data, or data without it.
    """
    with _WRITE_LOCK:
        try:
            return _load_files(con, files, meta or {})
        except Exception as err:
            if reason := storage_failure(err):
                raise DatabaseUnwritable(reason) from err
            raise


def _load_files(
    con: duckdb.DuckDBPyConnection, files: list[ReadFile | FileResult], meta: dict
) -> list[FileResult]:
    read = [f for f in files if isinstance(f, ReadFile)]
    results: dict[int, FileResult] = {}
    try:
        results.update(zip(map(id, read), _load_batch(con, read, meta), strict=True))
    except Exception as err:  # retry one file per transaction to find the file(s) at fault
        if storage_failure(err):  # no file is at fault: the disk is; stop here
            raise
        for f in read:
            try:
                results[id(f)] = _load_batch(con, [f], {})[0]
            except Exception as refusal:
                if storage_failure(refusal):
                    raise
                results[id(f)] = FileResult(
                    f.file,
                    f.format,
                    message=f"database refused the file: {_first_line(refusal)}",
                )
        # Every file is now loaded or logged as refused, so the progress is true.
        write_meta(con, meta)
    ordered = [results.get(id(f), f) for f in files]
    _log(con, [r for r in ordered if r.action == "rejected"], files)
    return ordered


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def _load_batch(
    con: duckdb.DuckDBPyConnection, files: list[ReadFile], meta: dict
) -> list[FileResult]:
    con.execute("BEGIN TRANSACTION")
    try:
        results = _apply(con, files) if files else []
        _log(con, results, files)
        write_meta(con, meta)
        con.execute("COMMIT")
    except BaseException:
        # A failed COMMIT has already rolled back; the original error is the one to tell.
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise
    return results


def _apply(con: duckdb.DuckDBPyConnection, files: list[ReadFile]) -> list[FileResult]:
    """Insert, replace or skip each record's assessment; returns one result per file."""
    now = dt.datetime.now()
    aliases = _link_locations(con, files, now)
    existing = _existing_hashes(con, files, aliases)
    providers = _existing_providers(con, files)
    copies = _Copies(con, files, aliases)
    rows = _Rows()
    results = []
    for f in files:
        result = FileResult(f.file, f.format, action="unchanged")
        replaced_from: list[str] = []
        repeats: list[str] = []  # ratings-only copies of scored assessments, not stored
        removed: list[str] = []  # stored ratings-only copies deleted
        for i, record in enumerate(f.records):
            result.warnings.extend(record.get("warnings", []))
            if record.get("kind") == "provider":
                result.providers += rows.add_provider(record, providers)
                continue
            loc = _resolved_location(record, aliases)
            aid = assessment_id(record, loc)
            digest = f.digests[i] if f.digests else content_hash(record)
            result.assessment_ids.append(aid)
            original = copies.original(record, loc, aid)
            if original is not None:
                result.unchanged += 1
                repeats.append(f"{loc} {record['assessment_date']} duplicates {original}")
                rows.describe(record, loc)  # what it says of the location still counts
                removed += copies.remove(loc, record["assessment_date"], None, original, rows)
                continue
            if is_scored(record) and record.get("published_date"):
                removed += copies.remove(loc, record["published_date"], aid, aid, rows)
            previous = existing.get(aid)
            rank = _assessment_rank(record)
            if previous and previous[0] == digest:
                result.unchanged += 1
                continue
            if previous and _outranks(previous[2], rank):
                result.unchanged += 1  # held from a more authoritative source
                rows.describe(record, loc)  # what it says of the location still counts
                continue
            if previous is None:
                result.loaded += 1
            else:
                result.replaced += 1
                replaced_from.append(previous[1])
                rows.replaced.append(aid)
            existing[aid] = (digest, f.file, rank)
            rows.add(record, f.file, loc, aid, digest, now)
            if len(rows.assessments) >= FLUSH_ASSESSMENTS:  # bound memory on big files
                rows.write(con)
                rows = _Rows()
        result.action = (
            "replaced"
            if result.replaced
            else "loaded"
            if result.loaded or result.providers
            else "unchanged"
        )
        if repeats:
            result.warnings.append(_listed(
                f"{len(repeats)} ratings-only assessments are copies of scored assessments"
                " published the same day, not stored:" if len(repeats) > 1 else
                "a ratings-only assessment is a copy of the scored assessment published the"
                " same day, not stored:", repeats,
            ))  # fmt: skip
        result.message = _describe(result, replaced_from)
        if removed:
            result.message += "; " + _listed(
                f"removed {len(removed)} ratings-only cop{'ies' if len(removed) > 1 else 'y'}"
                " of scored assessments:",
                removed,
            )
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
    if result.providers:
        text += (
            f"; {result.providers} provider{'s' if result.providers > 1 else ''} added or updated"
        )
    return text


def _listed(text: str, items: list[str], most: int = 3) -> str:
    """'text a; b; c and 4 more': a sentence naming the first few of many items."""
    shown = "; ".join(items[:most])
    return f"{text} {shown}" + (f" and {len(items) - most} more" if len(items) > most else "")


class _Copies:
    """Ratings-only copies of scored assessments, for the locations of a batch (module doc).

    A copy is a ratings-only record dated by its publication (`is_publication_ratings`): the
    rating file's, or the API's legacy ratings. It repeats the scored assessment of the same
    location whose `published_date` is its date, stored or in the batch; the match is on
    the final location id, after aliases. Knowing the whole batch up front, a copy is never
    written when its scored assessment comes later in the batch, so counts stay true.
    """

    def __init__(
        self, con: duckdb.DuckDBPyConnection, files: list[ReadFile], aliases: dict[str, str]
    ) -> None:
        records = _assessment_records(files)
        located = [(r, _resolved_location(r, aliases)) for r in records]
        scored: dict[str, tuple[str, str]] = {}  # scored assessment -> (location, published)
        # (location, date) -> stored copies that a scored assessment would make redundant
        self.stored: dict[tuple[str, str], list[tuple[str, str | None]]] = {}
        locations = list({loc for _, loc in located})
        for aid, loc, date, published, group, file, is_scored_row in (
            con.sql(
                "WITH batch AS (SELECT * FROM assessments"
                " WHERE location_id IN (SELECT unnest($locs))),"
                " scored AS (SELECT assessment_id FROM statement_scores"
                " WHERE assessment_id IN (SELECT assessment_id FROM batch)"
                " UNION SELECT assessment_id FROM key_question_results"
                " WHERE stated_score IS NOT NULL"
                " AND assessment_id IN (SELECT assessment_id FROM batch))"
                " SELECT assessment_id, location_id, CAST(assessment_date AS VARCHAR),"
                " CAST(published_date AS VARCHAR), service_group, source_file,"
                " assessment_id IN (SELECT assessment_id FROM scored) FROM batch",
                params={"locs": locations},
            ).fetchall()
            if locations
            else []
        ):
            if is_scored_row and published:
                scored[aid] = (loc, published)
            elif not is_scored_row and group is None and published == date:
                self.stored.setdefault((loc, date), []).append((aid, file))
        for r, loc in located:  # the batch's own version of an assessment is the one to match
            if is_scored(r) and r.get("published_date"):
                scored[assessment_id(r, loc)] = (loc, r["published_date"])
        self.scored: dict[tuple[str, str], str] = {}
        for aid, key in sorted(scored.items()):  # the first id, when two share a day
            self.scored.setdefault(key, aid)

    def original(self, record: Record, loc: str, aid: str) -> str | None:
        """The scored assessment a ratings-only record copies, else None."""
        if not is_publication_ratings(record):
            return None
        original = self.scored.get((loc, record["assessment_date"]))
        return original if original != aid else None  # the same id: precedence decides

    def remove(
        self, loc: str, date: str, keep: str | None, original: str, rows: _Rows
    ) -> list[str]:
        """Queue the deletion of stored copies of `original` (published on `date`)."""
        if (loc, date) not in self.scored:
            return []
        gone = [(aid, file) for aid, file in self.stored.pop((loc, date), []) if aid != keep]
        rows.replaced += [aid for aid, _ in gone]
        return [f"{aid} (from {file}) of {original}" for aid, file in gone]


def _resolved_location(record: Record, aliases: dict[str, str]) -> str:
    loc = location_id(record)
    return aliases.get(loc, loc)


def _assessment_records(files: list[ReadFile]) -> list[Record]:
    return [r for f in files for r in f.records if r.get("kind") != "provider"]


def _link_locations(
    con: duckdb.DuckDBPyConnection, files: list[ReadFile], now: dt.datetime
) -> dict[str, str]:
    """Derived id -> CQC id for these records; new aliases are stored and their locations moved.

    A record with a CQC id, a name and a postcode claims the derived id of that name and
    postcode (the latest claim wins when two CQC locations share both). A location stored
    under a claimed derived id moves to the CQC id with its assessments.
    """
    records = _assessment_records(files)
    claims: dict[str, tuple[str, str]] = {}
    for r in records:
        if (
            r.get("location_cqc_id")
            and r.get("location_name")
            and ref.normalise_postcode(r.get("postcode"))
        ):
            claims[derived_location_id(r)] = (r["location_cqc_id"], r["format"])
    wanted = list(claims.keys() | {location_id(r) for r in records if not r.get("location_cqc_id")})
    if not wanted:
        return {}
    known = dict(
        con.sql(
            "SELECT alias_id, location_id FROM location_aliases"
            " WHERE alias_id IN (SELECT unnest($ids))",
            params={"ids": wanted},
        ).fetchall()
    )
    new = {alias: claim for alias, claim in claims.items() if known.get(alias) != claim[0]}
    if new:
        frame = pl.DataFrame(  # noqa: F841 - read by DuckDB's replacement scan
            [(alias, cqc, source, now) for alias, (cqc, source) in new.items()],
            schema=[c for c, _, _ in schema.COLUMNS["location_aliases"]],
            orient="row",
        )
        con.execute(
            "INSERT INTO location_aliases SELECT * FROM frame ON CONFLICT (alias_id) DO UPDATE"
            " SET location_id = excluded.location_id, source = excluded.source,"
            " linked_at = excluded.linked_at"
        )
        stored = con.sql(
            "SELECT location_id FROM locations WHERE location_id IN (SELECT unnest($ids))",
            params={"ids": list(new)},
        ).fetchall()
        for (alias,) in stored:
            _move_location(con, alias, new[alias][0])
    return known | {alias: cqc for alias, (cqc, _) in claims.items()}


def _move_location(con: duckdb.DuckDBPyConnection, old: str, new: str) -> None:
    """Re-key a derived-id location and its assessments under its CQC id."""
    assessments = con.execute(
        "SELECT assessment_id, CAST(assessment_date AS VARCHAR), service_group FROM assessments"
        " WHERE location_id = ?",
        [old],
    ).fetchall()
    for aid, date, group in assessments:
        target = assessment_id({"assessment_date": date, "service_group": group}, new)
        held = _stored_rank(con, target)
        if held is not None:  # the same assessment also came in under the CQC id: keep one
            loser = target if _outranks(_stored_rank(con, aid), held) else aid
            for table in ("statement_scores", "key_question_results", "assessments"):
                con.execute(f"DELETE FROM {table} WHERE assessment_id = ?", [loser])
            if loser == aid:
                continue
        for table in ("statement_scores", "key_question_results"):
            con.execute(
                f"UPDATE {table} SET assessment_id = ? WHERE assessment_id = ?", [target, aid]
            )
        con.execute(
            "UPDATE assessments SET assessment_id = ?, location_id = ? WHERE assessment_id = ?",
            [target, new, aid],
        )
    [row] = con.execute("SELECT * FROM locations WHERE location_id = ?", [old]).fetchall()
    columns = [c for c, _, _ in schema.COLUMNS["locations"]]
    moved = dict(zip(columns, row, strict=True)) | {"location_id": new, "cqc_location_id": new}
    con.execute("DELETE FROM locations WHERE location_id = ?", [old])
    _Rows._upsert(con, "locations", [tuple(moved.values())], "location_id")


def _stored_rank(con: duckdb.DuckDBPyConnection, aid: str) -> tuple[bool, int, str] | None:
    """The rank (see ASSESSMENT_PRECEDENCE) of a stored assessment, None if there is none."""
    found = con.execute(
        "SELECT source, EXISTS (SELECT 1 FROM statement_scores WHERE assessment_id = $aid)"
        " FROM assessments WHERE assessment_id = $aid",
        {"aid": aid},
    ).fetchall()
    if not found:
        return None
    source, scored = found[0]
    ranking = ASSESSMENT_PRECEDENCE
    return scored, ranking.index(source) if source in ranking else -1, source


def _existing_providers(con: duckdb.DuckDBPyConnection, files: list[ReadFile]) -> dict[str, str]:
    """Stored names of the providers that provider records in these files describe."""
    ids = [provider_id(r) for f in files for r in f.records if r.get("kind") == "provider"]
    if not ids:
        return {}
    return dict(
        con.sql(
            "SELECT provider_id, provider_name FROM providers"
            " WHERE provider_id IN (SELECT unnest($ids))",
            params={"ids": ids},
        ).fetchall()
    )


# The same assessment (same location, date and service group) read from two sources is
# stored once: a version with statement scores beats one without, then the API beats the
# rating file, which beats report text. A source's own new version always replaces its old.
ASSESSMENT_PRECEDENCE = ("report-text", "rating-file", "api-json")


def _assessment_rank(record: Record) -> tuple[bool, int, str]:
    scored = any(kq["statements"] for kq in record["key_questions"])
    source = record["format"]
    ranking = ASSESSMENT_PRECEDENCE
    return scored, ranking.index(source) if source in ranking else -1, source


def _outranks(stored: tuple[bool, int, str], new: tuple[bool, int, str]) -> bool:
    """Whether a stored version beats a new one from another source (see above)."""
    return stored[2] != new[2] and stored[:2] > new[:2]


def _existing_hashes(
    con: duckdb.DuckDBPyConnection, files: list[ReadFile], aliases: dict[str, str]
) -> dict[str, tuple[str, str, tuple[bool, int, str]]]:
    """Content hash, source file and rank of the stored assessments these files would write."""
    ids = [assessment_id(r, _resolved_location(r, aliases)) for r in _assessment_records(files)]
    if not ids:
        return {}
    found = con.sql(
        "SELECT assessment_id, content_hash, source_file, source, assessment_id IN"
        " (SELECT assessment_id FROM statement_scores WHERE assessment_id IN (SELECT unnest($ids)))"
        " FROM assessments WHERE assessment_id IN (SELECT unnest($ids))",
        params={"ids": ids},
    ).fetchall()
    ranking = ASSESSMENT_PRECEDENCE
    return {
        aid: (digest, file, (scored, ranking.index(source) if source in ranking else -1, source))
        for aid, digest, file, source, scored in found
    }


class _Rows:
    """Rows to write, gathered per table, later records winning over earlier ones."""

    def __init__(self) -> None:
        self.providers: dict[str, tuple] = {}
        self.locations: dict[str, dict] = {}
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
        self.describe(record, loc)
        source = record["format"]
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
                    (aid, kq["name"], pos, st["id"], st["name"], st["score"], st.get("evidence"))
                )

    def describe(self, record: Record, loc: str) -> None:
        """Queue the provider and location rows of what a record says about them."""
        source = record["format"]
        prov = provider_id(record)
        if prov and record.get("provider_name"):  # API location records name no provider
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
        row = {
            "location_id": loc, "cqc_location_id": None if loc.startswith("x-") else loc,
            "location_name": record["location_name"], "provider_id": prov,
            "address": record.get("address"), "postcode": postcode, "phone": record.get("phone"),
            "service_types": types, "service_type": service_type,
            "service_type_source": source if service_type else None,
            "region": region,
            "region_source": (source if stated_region else "derived") if region else None,
            "local_authority": record.get("local_authority"),
            "local_authority_source": source if record.get("local_authority") else None,
            "overall_rating": record.get("overall_rating"), "source": source,
            "location_type": record.get("location_type"),
            "inspection_category": record.get("inspection_category"),
        }  # fmt: skip
        self.locations[loc] = _merge_location(self.locations.get(loc), row)

    def add_provider(self, record: Record, stored: dict[str, str]) -> int:
        """Queue a provider record's row; 1 when it adds or renames a provider, else 0."""
        prov = provider_id(record)
        name = record.get("provider_name")
        if not prov or not name or stored.get(prov) == name:
            return 0
        self.providers[prov] = (prov, record.get("provider_cqc_id"), name, record["format"])
        stored[prov] = name
        return 1

    def write(self, con: duckdb.DuckDBPyConnection) -> None:
        if self.replaced:
            for table in ("statement_scores", "key_question_results", "assessments"):
                con.execute(f"DELETE FROM {table} WHERE assessment_id IN (SELECT unnest($ids))",
                            {"ids": self.replaced})  # fmt: skip
        self._upsert(con, "providers", list(self.providers.values()), "provider_id")
        self._upsert(
            con, "locations", [tuple(r.values()) for r in self.locations.values()], "location_id"
        )
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
        # Built by column: 3x faster than by row for the statement rows.
        return pl.DataFrame(dict(zip(columns, map(list, zip(*rows, strict=True)), strict=True)))

    def _insert(self, con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple]) -> None:
        if rows:
            frame = self._frame(table, rows)  # noqa: F841 - read by DuckDB's replacement scan
            con.execute(f"INSERT INTO {table} SELECT * FROM frame")

    @staticmethod
    def _upsert(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple], key: str) -> None:
        if not rows:
            return
        frame = _Rows._frame(table, rows)  # noqa: F841 - read by DuckDB's replacement scan
        merge = _MERGE.get(table, {})
        updates = ", ".join(merge.get(c, f"{c} = COALESCE(excluded.{c}, {table}.{c})")
                            for c, _, _ in schema.COLUMNS[table] if c != key)  # fmt: skip
        con.execute(
            f"INSERT INTO {table} SELECT * FROM frame ON CONFLICT ({key}) DO UPDATE SET {updates}"
        )


# Where sources disagree on a location field, the source ranked higher wins, and on equal
# rank the later load. Report text states no region: it is derived from the postcode area
# ('derived', lowest). The rating file's service type is CQC's primary inspection category
# ('Residential social care'), a coarser taxonomy than the registered service types report
# text and the API list ('Care home service with nursing'), so it only fills a gap.
FIELD_PRECEDENCE: dict[tuple[str, ...], tuple[str, ...]] = {
    ("region", "region_source"): ("derived", "report-text", "rating-file", "api-json"),
    ("local_authority", "local_authority_source"): ("report-text", "rating-file", "api-json"),
    ("service_types", "service_type", "service_type_source"): (
        "rating-file",
        "report-text",
        "api-json",
    ),
}


def _rank(columns: tuple[str, ...], source: str | None) -> int:
    ranking = FIELD_PRECEDENCE[columns]
    return ranking.index(source) if source in ranking else -1


def _merge_location(old: dict | None, new: dict) -> dict:
    """Two rows for one location merged: new values fill gaps, ranked fields by precedence."""
    if old is None:
        return new
    merged = {c: old[c] if new[c] is None else new[c] for c in new}
    for columns in FIELD_PRECEDENCE:
        source = columns[-1]
        if new[source] is None or _rank(columns, old[source]) > _rank(columns, new[source]):
            merged.update({c: old[c] for c in columns})
        else:
            merged.update({c: new[c] for c in columns})
    return merged


def _ranked_merge_sql(columns: tuple[str, ...]) -> dict[str, str]:
    """SET clauses that apply FIELD_PRECEDENCE to an upsert of the locations table."""
    source = columns[-1]

    def rank(side: str) -> str:  # the source names are constants of this module, not input
        cases = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(FIELD_PRECEDENCE[columns]))
        return f"CASE {side}.{source} {cases} ELSE -1 END"

    wins = (
        f"excluded.{source} IS NOT NULL AND (locations.{source} IS NULL"
        f" OR {rank('excluded')} >= {rank('locations')})"
    )
    return {c: f"{c} = CASE WHEN {wins} THEN excluded.{c} ELSE locations.{c} END" for c in columns}


_MERGE = {
    "locations": {
        clause: sql
        for columns in FIELD_PRECEDENCE
        for clause, sql in _ranked_merge_sql(columns).items()
    }
}


def _log(con: duckdb.DuckDBPyConnection, results: list[FileResult], files: list) -> None:
    if not results:
        return
    hashes = {f.file: f.file_hash for f in files if isinstance(f, ReadFile)}
    now = dt.datetime.now()
    columns = ("logged_at", "file", "format", "content_hash", "action", "assessment_id",
               "message", "warnings")  # fmt: skip
    rows = [
        (now, r.file, r.format, hashes.get(r.file), r.action,
         r.assessment_ids[0] if len(r.assessment_ids) == 1 else None, r.message, r.warnings)
        for r in results
    ]  # fmt: skip
    # One insert from a frame: executemany costs a round trip per file.
    log = pl.DataFrame(  # noqa: F841 - read by DuckDB's replacement scan
        rows,
        schema={"logged_at": pl.Datetime("us"), "file": pl.String, "format": pl.String,
                "content_hash": pl.String, "action": pl.String, "assessment_id": pl.String,
                "message": pl.String, "warnings": pl.List(pl.String)},
        orient="row",
    )  # fmt: skip
    con.execute(f"INSERT INTO ingest_log ({', '.join(columns)}) SELECT * FROM log")


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
    "DatabaseBusy",
    "DatabaseUnwritable",
    "FileResult",
    "ReadFile",
    "RejectedFile",
    "connect",
    "data_version",
    "db_path",
    "get_meta",
    "is_lock_conflict",
    "load_files",
    "make_folder",
    "read_file",
    "set_meta",
    "storage_failure",
    "write_meta",
]  # fmt: skip
