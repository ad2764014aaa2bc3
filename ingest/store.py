"""Loading records into the database: one transaction per batch, all-or-nothing files.

`load_files(con, files)` is the one way records reach the database; ingest.load drives it
(batches, progress, holding and releasing the file) for the CLI, uploads, the demo build, the
API sync and the benchmark. Opening the file and its errors are ingest.database's; which
source wins is ingest.precedence's.

Files are loaded in batches for speed, but a batch only ever commits whole files: readers
reject bad files before anything touches the database, and if the database refuses a batch,
it is rolled back and its files are retried one transaction each. When the disk rather than a
file is at fault (full, read-only), loading stops with `DatabaseUnwritable` instead.

One location, many sources: records join on the CQC location id. Report text names no id,
so its location gets a derived 'x-' id from the normalised name and postcode; every record
with a CQC id, a name and a postcode leaves that derived id behind as an alias
(`location_aliases`), a location already stored under it moves to the CQC id, and report
text read later loads under the CQC id directly. Region, local authority and service type
are taken from the most authoritative source present (ingest.precedence), and the source of
each is kept beside it.

One report, one assessment: the rating file and the API's legacy ratings give a report
ratings-only, dated by its publication date, while report text and the API's SAF block give
it with scores, dated by its assessment date (its `published_date` is the publication date).
Such a ratings-only record (no statement scores, no stated percentage) of location L dated D
is a copy of a scored assessment of L published on D (exactly: both are CQC's publication
date of the report): it is not stored, and a copy stored before the scored assessment arrived
is deleted in the same transaction, whatever the order of loading (`_Copies`).

One assessment, many files: report text is often saved a page per key question, so the
files of one assessment (same location, date and service group) each carry some of its key
questions. A report text file replaces only the key questions it carries: the others stay,
and the assessment holds the union, the same whatever the order the files come in
(`_merge_report_text`). The ingest log says which key questions a file added or replaced.
Other sources give whole assessments, and a new version replaces the old one whole.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from dataclasses import dataclass

import duckdb
import polars as pl

from ingest import reference as ref
from ingest import schema, search_index
from ingest.database import (
    WRITE_LOCK,
    DatabaseUnwritable,
    damaged,
    first_line,
    storage_failure,
    write_meta,
)
from ingest.files import NO_RATINGS, FileResult, ReadFile
from ingest.precedence import (
    LOCATION_MERGE_SQL,
    Rank,
    assessment_rank,
    merge_location,
    outranks,
    record_rank,
)
from ingest.records import (
    LOCATION_KIND,
    PROVIDER_KIND,
    Record,
    assessment_id,
    derived_location_id,
    digests_of,
    is_publication_ratings,
    is_scored,
    location_id,
    one_line,
    provider_id,
)

# Rows are written to the database (still inside the transaction) every this many assessments,
# so that a file of 50,000 locations is never held as rows and frames all at once.
FLUSH_ASSESSMENTS = 5000


def load_files(
    con: duckdb.DuckDBPyConnection,
    files: list[ReadFile | FileResult],
    meta: dict[str, str | None] | None = None,
) -> list[FileResult]:
    """Load read files in one transaction (rejections are only logged); see module doc.

    `meta` keys are written in the same transaction (None deletes a key): a caller that
    records its progress there never sees progress without the data, or data without it.
    """
    with WRITE_LOCK:
        try:
            return _load_files(con, files, meta or {})
        except Exception as err:
            if reason := storage_failure(err):
                raise DatabaseUnwritable(reason) from err
            if refused := damaged(con, err):
                raise refused from err
            raise


def _load_files(
    con: duckdb.DuckDBPyConnection, files: list[ReadFile | FileResult], meta: dict
) -> list[FileResult]:
    read = [f for f in files if isinstance(f, ReadFile)]
    results: dict[int, FileResult] = {}
    try:
        results.update(zip(map(id, read), _load_batch(con, read, meta), strict=True))
    except Exception as err:  # retry one file per transaction to find the file(s) at fault
        if storage_failure(err) or damaged(con, err):  # no file is at fault: the disk is
            raise
        for f in read:
            try:
                results[id(f)] = _load_batch(con, [f], {})[0]
            except Exception as refusal:
                if storage_failure(refusal) or damaged(con, refusal):
                    raise
                results[id(f)] = FileResult(
                    f.file,
                    f.format,
                    message=f"database refused the file: {first_line(refusal)}",
                )
        # Every file is now loaded or logged as refused, so the progress is true.
        write_meta(con, meta)
    ordered = [results.get(id(f), f) for f in files]
    _log(con, [r for r in ordered if r.action == "rejected"], files)
    return ordered


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


class _Batch:
    """What the store knows of one batch while applying it: its aliases, the stored versions
    of its assessments, its providers, its copies, and the rows to write."""

    def __init__(self, con: duckdb.DuckDBPyConnection, files: list[ReadFile]) -> None:
        self.con = con
        self.now = dt.datetime.now()
        self.aliases = _link_locations(con, files, self.now)
        self.existing = _existing_hashes(con, files, self.aliases)
        self.providers = _existing_providers(con, files)
        self.copies = _Copies(con, files, self.aliases)
        # Stored report text assessments of the batch: key question -> its _Part.
        self.parts = _stored_parts(con, self.existing)
        self.rows = _Rows()

    def flush_if_full(self) -> None:
        if len(self.rows.assessments) >= FLUSH_ASSESSMENTS:  # bound memory on big files
            self.rows.write(self.con)
            self.rows = _Rows()
            for parts in self.parts.values():  # written: no longer waiting in the rows
                for part in parts.values():
                    part.pending = False


@dataclass
class _Part:
    """One key question of a report text assessment: its hash, file and date; `pending` while
    its rows wait to be written (else it is in the database)."""

    digest: str | None
    file: str | None
    published: str | None
    pending: bool = False


def _stored_parts(
    con: duckdb.DuckDBPyConnection, existing: dict[str, tuple[str, str, Rank]]
) -> dict[str, dict[str, _Part]]:
    """The key questions of the stored report text assessments among `existing`."""
    ids = [aid for aid, (_, _, rank) in existing.items() if rank.source == "report-text"]
    if not ids:
        return {}
    found = con.sql(
        "SELECT assessment_id, key_question, content_hash, source_file,"
        " CAST(published_date AS VARCHAR) FROM key_question_results"
        " WHERE assessment_id IN (SELECT unnest($ids))",
        params={"ids": ids},
    ).fetchall()
    parts: dict[str, dict[str, _Part]] = {}
    for aid, name, digest, file, published in found:
        parts.setdefault(aid, {})[name] = _Part(digest, file, published)
    return parts


class _FileOutcome:
    """What one file did, gathered record by record, then described in one result."""

    def __init__(self, f: ReadFile) -> None:
        self.result = FileResult(f.file, f.format, action="unchanged")
        self.replaced_from: list[str] = []
        self.repeats: list[str] = []  # ratings-only copies of scored assessments, not stored
        self.removed: list[str] = []  # stored ratings-only copies deleted
        self.parts: list[str] = []  # key questions added to or replaced in a stored assessment

    def finish(self) -> FileResult:
        result = self.result
        if result.replaced:
            result.action = "replaced"
        elif result.loaded or result.providers:
            result.action = "loaded"
        elif result.unrated and not result.unchanged:
            result.action = NO_RATINGS
        else:
            result.action = "unchanged"
        if self.repeats:
            many = len(self.repeats) > 1
            result.warnings.append(
                _listed(
                    f"{len(self.repeats)} ratings-only assessments are copies of scored"
                    " assessments published the same day, not stored:"
                    if many
                    else "a ratings-only assessment is a copy of the scored assessment"
                    " published the same day, not stored:",
                    self.repeats,
                )
            )
        result.message = _describe(result, self.replaced_from)
        if self.parts:
            result.message += "; " + _listed("", self.parts).strip()
        if self.removed:
            copies = f"cop{'ies' if len(self.removed) > 1 else 'y'}"
            result.message += "; " + _listed(
                f"removed {len(self.removed)} ratings-only {copies} of scored assessments:",
                self.removed,
            )
        # File names and ids it quotes came from sources: one line whatever they hold.
        result.message = one_line(result.message)
        if self.repeats:
            result.warnings[-1] = one_line(result.warnings[-1])
        return result


def _apply(con: duckdb.DuckDBPyConnection, files: list[ReadFile]) -> list[FileResult]:
    """Insert, replace or skip each record's assessment; returns one result per file."""
    batch = _Batch(con, files)
    results = []
    for f in files:
        outcome = _FileOutcome(f)
        for i, record in enumerate(f.records):
            outcome.result.warnings.extend(record.get("warnings", []))
            if record.get("kind") == PROVIDER_KIND:
                outcome.result.providers += batch.rows.add_provider(record, batch.providers)
                continue
            if record.get("kind") == LOCATION_KIND:  # a location with no ratings: itself only
                batch.rows.describe(record, _resolved_location(record, batch.aliases))
                outcome.result.unrated += 1
                continue
            if f.digests and f.key_question_digests:
                digests = f.digests[i], f.key_question_digests[i]
            else:
                digests = digests_of(record)
            _apply_record(batch, outcome, f.file, record, digests)
            batch.flush_if_full()
        results.append(outcome.finish())
    batch.rows.write(con)
    return results


def _apply_record(
    batch: _Batch,
    outcome: _FileOutcome,
    file: str,
    record: Record,
    digests: tuple[str, tuple[str, ...]],
) -> None:
    """Store, replace or skip one assessment record, and count what happened."""
    digest, parts = digests
    result, rows = outcome.result, batch.rows
    loc = _resolved_location(record, batch.aliases)
    aid = assessment_id(record, loc)
    result.assessment_ids.append(aid)
    original = batch.copies.original(record, loc, aid)
    if original is not None:
        result.unchanged += 1
        outcome.repeats.append(f"{loc} {record['assessment_date']} duplicates {original}")
        rows.describe(record, loc)  # what it says of the location still counts
        outcome.removed += batch.copies.remove(loc, record["assessment_date"], None, original, rows)
        return
    if is_scored(record) and record.get("published_date"):
        outcome.removed += batch.copies.remove(loc, record["published_date"], aid, aid, rows)
    previous = batch.existing.get(aid)
    rank = record_rank(record)
    if previous and previous[0] == digest:
        result.unchanged += 1
        return
    if previous and outranks(previous[2], rank):
        result.unchanged += 1  # held from a more authoritative source
        rows.describe(record, loc)  # what it says of the location still counts
        return
    if previous and previous[2].source == rank.source == "report-text":
        _merge_report_text(batch, outcome, file, record, loc, aid, parts, previous)
        return
    if previous is None:
        result.loaded += 1
    else:
        result.replaced += 1
        outcome.replaced_from.append(previous[1])
        rows.replaced.append(aid)
    batch.existing[aid] = (digest, file, rank)
    rows.add(record, file, loc, aid, digest, batch.now, parts)
    batch.parts[aid] = {
        kq["name"]: _Part(part, file, kq.get("published_date"), pending=True)
        for kq, part in zip(record["key_questions"], parts, strict=True)
    }


def _merge_report_text(
    batch: _Batch,
    outcome: _FileOutcome,
    file: str,
    record: Record,
    loc: str,
    aid: str,
    parts: tuple[str, ...],
    previous: tuple[str, str, Rank],
) -> None:
    """Another report text file of a stored assessment: its key questions added or replaced.

    Key questions it does not carry stay as they are. The assessment row is written anew
    from all its key questions: its published date is the latest of theirs, its source file
    and content hash follow from them, whatever the order the files came in.
    """
    rows, result = batch.rows, outcome.result
    held = batch.parts.setdefault(aid, {})
    added, replaced = [], []
    for kq, part in zip(record["key_questions"], parts, strict=True):
        name = kq["name"]
        old = held.get(name)
        if old is not None and old.digest == part:
            continue
        (added if old is None else replaced).append(name)
        if old is not None:
            outcome.replaced_from.append(old.file)
            if not old.pending:
                rows.replaced_parts.append((aid, name))
        held[name] = _Part(part, file, kq.get("published_date"), pending=True)
        rows.add_key_question(aid, kq, file, part)
    if not (added or replaced):
        result.unchanged += 1
        return
    rows.describe(record, loc)
    if replaced:
        result.replaced += 1
    else:
        result.loaded += 1
    outcome.parts.append(
        "; ".join(
            f"{', '.join(names)} {verb}"
            for names, verb in ((added, "added to"), (replaced, "replaced in"))
            if names
        )
        + f" the assessment of {record['assessment_date']} loaded from {previous[1]}"
    )
    ordered = sorted(held.items(), key=lambda item: ref.KEY_QUESTIONS.index(item[0]))
    digest = hashlib.sha256("|".join(p.digest for _, p in ordered).encode()).hexdigest()
    published = max((p.published for _, p in ordered if p.published), default=None)
    first_file = ordered[0][1].file
    if aid not in rows.assessments:  # stored before this batch (or flushed): rewrite its row
        rows.merged.append(aid)
    rows.assessments[aid] = (
        aid,
        loc,
        record["assessment_date"],
        published or record.get("published_date"),
        record["era"],
        record.get("overall_rating"),
        record.get("service_group"),
        "report-text",
        first_file,
        digest,
        batch.now,
        record.get("report_url"),
    )
    batch.existing[aid] = (digest, first_file, previous[2])


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
    if result.unrated:
        many = result.unrated > 1
        text += f"; {result.unrated} location{'s' * many} with no ratings (details stored)"
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
    return [r for f in files for r in f.records if r.get("kind") is None]


def _location_records(files: list[ReadFile]) -> list[Record]:
    """The records that say something of a location: assessments and location-only ones."""
    return [r for f in files for r in f.records if r.get("kind") != PROVIDER_KIND]


def _link_locations(
    con: duckdb.DuckDBPyConnection, files: list[ReadFile], now: dt.datetime
) -> dict[str, str]:
    """Derived id -> CQC id for these records; new aliases are stored and their locations moved.

    A record with a CQC id, a name and a postcode claims the derived id of that name and
    postcode (the latest claim wins when two CQC locations share both). A location stored
    under a claimed derived id moves to the CQC id with its assessments.
    """
    records = _location_records(files)
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
            loser = target if outranks(_stored_rank(con, aid), held) else aid
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


def _stored_rank(con: duckdb.DuckDBPyConnection, aid: str) -> Rank | None:
    """The rank (ingest.precedence) of a stored assessment, None if there is none."""
    found = con.execute(
        "SELECT source, EXISTS (SELECT 1 FROM statement_scores WHERE assessment_id = $aid)"
        " FROM assessments WHERE assessment_id = $aid",
        {"aid": aid},
    ).fetchall()
    if not found:
        return None
    source, scored = found[0]
    return assessment_rank(scored, source)


def _existing_providers(con: duckdb.DuckDBPyConnection, files: list[ReadFile]) -> dict[str, str]:
    """Stored names of the providers that provider records in these files describe."""
    ids = [provider_id(r) for f in files for r in f.records if r.get("kind") == PROVIDER_KIND]
    if not ids:
        return {}
    return dict(
        con.sql(
            "SELECT provider_id, provider_name FROM providers"
            " WHERE provider_id IN (SELECT unnest($ids))",
            params={"ids": ids},
        ).fetchall()
    )


def _existing_hashes(
    con: duckdb.DuckDBPyConnection, files: list[ReadFile], aliases: dict[str, str]
) -> dict[str, tuple[str, str, Rank]]:
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
    return {
        aid: (digest, file, assessment_rank(scored, source))
        for aid, digest, file, source, scored in found
    }


# Location columns copied as a record states them (absent keys: None, which fills no gap).
_LOCATION_FACTS = (
    "registration_status",
    "registration_date",
    "deregistration_date",
    "icb_code",
    "icb_name",
    "latitude",
    "longitude",
)


class _Rows:
    """Rows to write, gathered per table, later records winning over earlier ones."""

    def __init__(self) -> None:
        self.providers: dict[str, tuple] = {}
        self.locations: dict[str, dict] = {}
        self.assessments: dict[str, tuple] = {}
        # assessment -> key question -> its row, and its statements' rows
        self.key_questions: dict[str, dict[str, tuple]] = {}
        self.statements: dict[str, dict[str, list[tuple]]] = {}
        self.replaced: list[str] = []  # stored assessments to delete whole
        self.merged: list[str] = []  # stored assessments whose row is written anew
        self.replaced_parts: list[tuple[str, str]] = []  # stored (assessment, key question)

    def add(
        self,
        record: Record,
        file: str,
        loc: str,
        aid: str,
        digest: str,
        now: dt.datetime,
        parts: tuple[str, ...],
    ) -> None:
        self.describe(record, loc)
        source = record["format"]
        self.assessments[aid] = (
            aid,
            loc,
            record["assessment_date"],
            record.get("published_date"),
            record["era"],
            record.get("overall_rating"),
            record.get("service_group"),
            source,
            file,
            digest,
            now,
            record.get("report_url"),
        )
        self.key_questions[aid] = {}
        self.statements[aid] = {}
        for kq, part in zip(record["key_questions"], parts, strict=True):
            self.add_key_question(aid, kq, file, part)

    def add_key_question(self, aid: str, kq: dict, file: str, digest: str) -> None:
        """Queue one key question's row and its statements' (replacing a queued one)."""
        scores = [s["score"] for s in kq["statements"]]
        name = kq["name"]
        self.key_questions.setdefault(aid, {})[name] = (
            aid,
            name,
            kq.get("rating"),
            kq.get("published_date"),
            kq.get("score"),
            kq.get("computed_score"),
            sum(scores) if scores else None,
            len(scores) or None,
            kq.get("status"),
            kq.get("judgement"),
            file,
            digest,
        )
        self.statements.setdefault(aid, {})[name] = [
            (
                aid,
                name,
                pos,
                st["id"],
                st["name"],
                st["score"],
                st.get("evidence"),
                st.get("status"),
            )
            for pos, st in enumerate(kq["statements"], start=1)
        ]

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
            "location_id": loc,
            "cqc_location_id": None if loc.startswith("x-") else loc,
            "location_name": record["location_name"],
            "provider_id": prov,
            "address": record.get("address"),
            "postcode": postcode,
            "phone": record.get("phone"),
            "service_types": types,
            "service_type": service_type,
            "service_type_source": source if service_type else None,
            "region": region,
            "region_source": (source if stated_region else "derived") if region else None,
            "local_authority": record.get("local_authority"),
            "local_authority_source": source if record.get("local_authority") else None,
            "overall_rating": record.get("overall_rating"),
            "source": source,
            "location_type": record.get("location_type"),
            "inspection_category": record.get("inspection_category"),
            # The source's own label goes with the type it was mapped to (precedence).
            "service_type_label": record.get("service_type_label") if service_type else None,
            **{column: record.get(column) for column in _LOCATION_FACTS},
        }
        for column in ("registration_date", "deregistration_date"):  # typed: the upsert
            row[column] = row[column] and dt.date.fromisoformat(row[column])  # compares them
        self.locations[loc] = merge_location(self.locations.get(loc), row)

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
                con.execute(
                    f"DELETE FROM {table} WHERE assessment_id IN (SELECT unnest($ids))",
                    {"ids": self.replaced},
                )
        if self.merged:
            con.execute(
                "DELETE FROM assessments WHERE assessment_id IN (SELECT unnest($ids))",
                {"ids": self.merged},
            )
        if self.replaced_parts:
            pairs = pl.DataFrame(  # noqa: F841 - read by DuckDB's replacement scan
                self.replaced_parts, schema=["assessment_id", "key_question"], orient="row"
            )
            for table in ("statement_scores", "key_question_results"):
                con.execute(
                    f"DELETE FROM {table} USING pairs WHERE {table}.assessment_id ="
                    f" pairs.assessment_id AND {table}.key_question = pairs.key_question"
                )
        self._upsert(con, "providers", list(self.providers.values()), "provider_id")
        self._upsert(
            con, "locations", [tuple(r.values()) for r in self.locations.values()], "location_id"
        )
        self._insert(con, "assessments", list(self.assessments.values()))
        self._insert(
            con,
            "key_question_results",
            [r for kqs in self.key_questions.values() for r in kqs.values()],
        )
        self._insert(
            con,
            "statement_scores",
            [r for kqs in self.statements.values() for rs in kqs.values() for r in rs],
        )
        search_index.update(con, self)  # the evidence index, in step in the same transaction

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
        merge = LOCATION_MERGE_SQL if table == "locations" else {}
        updates = ", ".join(
            merge.get(c, f"{c} = COALESCE(excluded.{c}, {table}.{c})")
            for c, _, _ in schema.COLUMNS[table]
            if c != key
        )
        con.execute(
            f"INSERT INTO {table} SELECT * FROM frame ON CONFLICT ({key}) DO UPDATE SET {updates}"
        )


def _log(con: duckdb.DuckDBPyConnection, results: list[FileResult], files: list) -> None:
    if not results:
        return
    hashes = {f.file: f.file_hash for f in files if isinstance(f, ReadFile)}
    now = dt.datetime.now()
    columns = (
        "logged_at",
        "file",
        "format",
        "content_hash",
        "action",
        "assessment_id",
        "message",
        "warnings",
    )
    rows = [
        (
            now,
            r.file,
            r.format,
            hashes.get(r.file),
            r.action,
            r.assessment_ids[0] if len(r.assessment_ids) == 1 else None,
            one_line(r.message) if r.message else r.message,  # whoever made the result
            [one_line(w) for w in r.warnings],
        )
        for r in results
    ]
    # One insert from a frame: executemany costs a round trip per file.
    log = pl.DataFrame(  # noqa: F841 - read by DuckDB's replacement scan
        rows,
        schema={
            "logged_at": pl.Datetime("us"),
            "file": pl.String,
            "format": pl.String,
            "content_hash": pl.String,
            "action": pl.String,
            "assessment_id": pl.String,
            "message": pl.String,
            "warnings": pl.List(pl.String),
        },
        orient="row",
    )
    con.execute(f"INSERT INTO ingest_log ({', '.join(columns)}) SELECT * FROM log")
