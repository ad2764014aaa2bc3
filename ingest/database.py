"""The one front door to the DuckDB file: where it is, how it is opened, its settings.

Every reader and writer opens the file through `connect`: the app's short read-only reads,
uploads, the command-line loader, the API sync, the demo build and the benchmark.

One retry policy. DuckDB refuses a connection while another process holds the write lock
(IOException "Could not set lock") or while this process has the file open in the other mode
(ConnectionException); both clear within moments (a loader lets go of the file every
HOLD_SECONDS, for a tenth of a second), so opening retries every RETRY_SECONDS for up to
`wait_seconds` (READ_WAIT_SECONDS for reads, WRITE_WAIT_SECONDS for writes unless the caller
says otherwise) before giving up with `DatabaseBusy`. A file that cannot be written at all
(read-only file system, no permission, a full disk) is not waited for: opening it for writing
raises `DatabaseUnwritable` at once.

Opening for writing creates the folder, the file and the schema (ingest.schema) when
missing, and brings an older file's tables and views up to date. It refuses, before writing
anything, a file it must not write (`DatabaseRefused`, with a line saying what to do): one
that is damaged (not a DuckDB database, cut short, a block that fails its checksum:
`DatabaseDamaged`) or set up by a newer version of this program (`DatabaseNewer`).
`check_file` tells the same of a file without opening it for writing, for the app.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from ingest import reference as ref
from ingest import schema
from ingest.records import one_line

DB_ENV = "QSD_DB"
DEFAULT_DB = Path(__file__).resolve().parent.parent / "data" / "qsd.duckdb"

READ_WAIT_SECONDS = 5.0  # the app: a page waits this long at most, then shows what it has
WRITE_WAIT_SECONDS = 30.0  # a loader: long enough to outlast another loader's hold
RETRY_SECONDS = 0.05  # often: a loader lets go of the file for 0.1 s at a time

# Writers in one process (two uploads from two app sessions, say) take turns, so their
# transactions never conflict; DuckDB's file lock keeps other processes out.
WRITE_LOCK = threading.RLock()


class DatabaseBusy(Exception):
    """Another process kept the database locked for longer than we wait; str() is one line."""


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


class DatabaseRefused(DatabaseBusy):
    """A database file this program must not write; str() is one line naming the file and
    saying what to do. Nothing was written to it.

    A subclass of DatabaseBusy only so that a caller written before it (the command line's
    `load`) still stops with its one line and exit code 3; catch it before DatabaseBusy.
    """


class DatabaseDamaged(DatabaseRefused):
    """The file is not a DuckDB database, is cut short, or has a block that fails its checksum."""


class DatabaseNewer(DatabaseRefused):
    """The file was set up by a newer version of this program (a higher schema version)."""


def db_path(path: str | Path | None = None) -> Path:
    """The database file: the argument, else $QSD_DB, else data/qsd.duckdb in the project."""
    return Path(path or os.environ.get(DB_ENV) or DEFAULT_DB)


def connect(
    path: str | Path | None = None,
    *,
    read_only: bool = True,
    wait_seconds: float | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open the database (read-only unless asked), retrying while another process holds it.

    DatabaseBusy when the wait runs out; DatabaseUnwritable when a file to write cannot be
    created or written at all.
    """
    target = db_path(path)
    wait = wait_seconds
    if wait is None:
        wait = READ_WAIT_SECONDS if read_only else WRITE_WAIT_SECONDS
    deadline = time.monotonic() + wait
    while True:
        try:
            return _open(target, read_only)
        except (duckdb.Error, OSError) as err:
            if not read_only and (refused := damaged(target, err)):
                raise refused from None
            busy = isinstance(err, duckdb.ConnectionException) or is_lock_conflict(err)
            if not busy:
                if not read_only and (reason := storage_failure(err)):
                    raise DatabaseUnwritable(reason) from None
                raise
            if time.monotonic() >= deadline:
                held = f"{target} is being written by another process"
                if not read_only:
                    held += "; nothing was loaded, try again when it has finished"
                raise DatabaseBusy(held) from None
            time.sleep(RETRY_SECONDS)


def _open(target: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    if read_only:
        return duckdb.connect(str(target), read_only=True)
    make_folder(target.parent)
    con = duckdb.connect(str(target))
    try:
        if problem := _problem(con, target):  # before anything is written
            raise problem
        con.execute("SET enable_progress_bar = false")  # a loader reports its own progress
        with WRITE_LOCK:  # two sessions of the app may open a new file at once
            create_schema(con)
    except BaseException:
        con.close()
        raise
    return con


@contextlib.contextmanager
def reading(path: str | Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection (see connect), closed on leaving the block."""
    con = connect(path, read_only=True)
    try:
        yield con
    finally:
        con.close()


def make_folder(folder: Path) -> None:
    """Create the database's folder if needed; NotADirectoryError when a file has its name."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder)) from None


# How DuckDB words a file that is damaged: (words, what they mean).
_DAMAGE = (
    ("not a valid DuckDB database file", "it is not a DuckDB database"),
    ("Could not read enough bytes", "it is cut short"),
    ("Corrupt database file", "a block of it fails its checksum"),
    ("checksum", "a block of it fails its checksum"),
    ("Failed to load metadata", "its metadata cannot be read"),
    ("but we can only read version", "it was written by a newer version of DuckDB"),
)
# DuckDB's file starts with a main header and two database headers, of 4 KiB each; blocks
# follow (PRAGMA database_size gives their number and size).
_HEADER_BYTES = 3 * 4096


def damaged(target: Path | duckdb.DuckDBPyConnection, err: BaseException) -> DatabaseDamaged | None:
    """DatabaseDamaged for the file (`target`, or the file a connection has open) when `err`
    is DuckDB saying that it is damaged; else None."""
    if not isinstance(err, duckdb.Error) or is_lock_conflict(err):
        return None
    text = str(err)
    for words, meaning in _DAMAGE:
        if words in text:
            if isinstance(target, duckdb.DuckDBPyConnection):
                target = file_of(target)
            return DatabaseDamaged(_damaged_line(target, meaning))
    return None


def file_of(con: duckdb.DuckDBPyConnection) -> Path:
    """The database file a connection has open (':memory:' for none)."""
    try:
        [(file,)] = con.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
        ).fetchall()
    except duckdb.Error:
        file = None
    return Path(file or ":memory:")


def _damaged_line(target: Path, meaning: str) -> str:
    return one_line(
        f"{target} is damaged: {meaning}. It was left as it is and nothing was loaded into it;"
        f" move it aside (or point --db or {DB_ENV} at another file) and load the source files"
        " into a new database"
    )


def _newer_line(target: Path, version: str) -> str:
    return one_line(
        f"{target} was set up by a newer version of this program (schema version {version};"
        f" this one knows up to {schema.SCHEMA_VERSION}). It was left as it is and nothing was"
        f" loaded into it; use the newer version, or point --db or {DB_ENV} at another file"
    )


def _newer_version(con: duckdb.DuckDBPyConnection) -> str | None:
    """The file's schema version when it is newer than this program's (or not a number)."""
    try:
        version = get_meta(con, "schema_version")
    except duckdb.CatalogException:  # no meta table: a new file, or one set up by other code
        return None
    if version is None:
        return None
    if version.isascii() and version.isdigit() and int(version) <= schema.SCHEMA_VERSION:
        return None
    return version[:40]


def _problem(con: duckdb.DuckDBPyConnection, target: Path) -> DatabaseRefused | None:
    """Why an open file must not be written (a newer schema), checked before writing."""
    if (version := _newer_version(con)) is not None:
        return DatabaseNewer(_newer_line(target, version))
    return None


def refused(path: str | Path | None = None) -> DatabaseRefused | None:
    """What `check_file` says, as the error `connect` would raise for it (None: usable)."""
    target = db_path(path)
    if not target.is_file():
        return None
    try:
        con = duckdb.connect(str(target), read_only=True)
    except duckdb.Error as err:
        return damaged(target, err)
    try:
        return _problem(con, target) or _cut_short(con, target)
    except duckdb.Error as err:
        return damaged(target, err)
    finally:
        con.close()


def _cut_short(con: duckdb.DuckDBPyConnection, target: Path) -> DatabaseDamaged | None:
    """DatabaseDamaged when a block that holds table data lies past the end of the file.

    DuckDB reads a block only when a query needs it, so a file cut short may open and fail
    later; the blocks in use are listed by pragma_storage_info (one row per column segment:
    a tenth of a second for a small file, half a second at national scale). A write-ahead
    log beside the file may hold what the file lacks: then the file is not judged.
    """
    if target.with_name(target.name + ".wal").exists():
        return None
    tables = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
    ).fetchall()
    last = -1
    for (table,) in tables:
        [(block,)] = con.execute(
            "SELECT max(block_id) FROM pragma_storage_info(?) WHERE persistent", [table]
        ).fetchall()
        last = max(last, block if block is not None else -1)
    [(size,)] = con.execute(
        "SELECT block_size FROM pragma_database_size() WHERE database_name = current_database()"
    ).fetchall()
    needed = _HEADER_BYTES + (last + 1) * size
    if last >= 0 and (held := target.stat().st_size) < needed:
        meaning = f"it is cut short ({held:,} bytes; its data reaches to byte {needed:,})"
        return DatabaseDamaged(_damaged_line(target, meaning))
    return None


def check_file(path: str | Path | None = None) -> str | None:
    """Whether the database file can be used: None, or one line saying why not and what to do.

    The line says the file is damaged (not a DuckDB database; cut short; a block failing its
    checksum) or was set up by a newer version of this program, which is what the loader
    refuses to write. None when the file is usable, or missing (it will be created), or
    cannot be judged now (this process has it open for writing, or another process is
    writing it; no permission: `connect` says so). Opens the file read-only and writes
    nothing; it reads the file's metadata, which takes a tenth of a second for a small file
    and half a second at national scale. A block that fails its checksum shows only when it
    is read: `damaged(path, err)` tells such an error from the others.
    """
    problem = refused(path)
    return str(problem) if problem else None


# How DuckDB words a failure of the disk rather than of the data.
_STORAGE_WORDS = (
    "No space left",
    "Read-only file system",
    "Permission denied",
    "Disk quota exceeded",
    "File too large",
    "Could not write",
    "Cannot open file",
    "could not be written",
    "has been invalidated",
)


def storage_failure(err: BaseException) -> str | None:
    """The reason, when `err` says the database file could not be written; else None."""
    if isinstance(err, OSError):
        return f"{err.strerror}: {err.filename}" if err.strerror and err.filename else str(err)
    if not isinstance(err, duckdb.Error) or is_lock_conflict(err):
        return None
    text = first_line(err)
    if any(words in text for words, _ in _DAMAGE):  # the data, not the disk (see `damaged`)
        return None
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


def first_line(err: BaseException) -> str:
    """The first line of an error's message (its type's name when it has none), escaped as
    ingest.records.one_line escapes (a file name in it may hold anything)."""
    text = str(err).strip()
    return one_line(text.splitlines()[0]) if text else type(err).__name__


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
    if (version := _newer_version(con)) is not None:  # its views are not ours to replace
        raise DatabaseNewer(_newer_line(file_of(con), version))
    for statement in statements:
        con.execute(statement)
    if not con.execute("SELECT count(*) FROM quality_statements").fetchall()[0][0]:
        con.executemany(
            "INSERT INTO quality_statements VALUES (?, ?, ?)",
            [(s.id, s.key_question, s.name) for s in ref.STATEMENTS],
        )
    set_meta(con, "schema_version", str(schema.SCHEMA_VERSION))  # an older file is now this one
    set_meta(con, "schema_hash", fingerprint)


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    """Set one `meta` key."""
    con.execute(
        "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )


def get_meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    """One `meta` key's value, None when it is not set."""
    rows = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
    return rows[0][0] if rows else None


def read_meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every `meta` key and value (schema_version, demo, last_sync, ...)."""
    return dict(con.execute("SELECT key, value FROM meta").fetchall())


def write_meta(con: duckdb.DuckDBPyConnection, values: dict[str, str | None]) -> None:
    """Set (or, for None, delete) several meta keys."""
    for key, value in values.items():
        if value is None:
            con.execute("DELETE FROM meta WHERE key = ?", [key])
        else:
            set_meta(con, key, value)


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
