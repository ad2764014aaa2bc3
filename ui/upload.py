"""The Data page's upload: files read and loaded by the loop `python -m ingest load` uses.

Uploaded files go through ingest.load: read, then stored in batches of BATCH_FILES, each
file whole or not at all, every file leaving a line in the ingest log. When another writer
keeps the database locked for over WAIT_SECONDS, loading gives up before writing anything
(`database.DatabaseBusy`), so nothing is lost: the files can be loaded again. When the file
cannot be written (read-only, disk full), loading stops with `database.DatabaseUnwritable`;
the batches before it are stored.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl

from ingest import load
from ingest.files import FileResult

ACCEPTED_TYPES = ("txt", "json", "ods", "csv", "pdf")
MAX_FILE_MB = 50
BATCH_FILES = 50
WAIT_SECONDS = 5.0  # a user waits for a page, not for half a minute
UPLOAD_PREFIX = "upload/"  # how uploaded files are named in the ingest log

Progress = Callable[[float, str], None]


def load_uploads(
    files: Sequence[tuple[str, bytes]],
    progress: Progress | None = None,
    path: str | Path | None = None,
) -> list[FileResult]:
    """Read then load (name, bytes) pairs; one result per file, in order."""

    def say(done: int, total: int) -> None:
        if progress is not None:
            progress(done / total, f"Loaded {done:,} of {total:,} files")

    summary = load.load(
        [(UPLOAD_PREFIX + name, data) for name, data in files],
        path,
        batch=BATCH_FILES,
        progress=say,
        keep_results=True,
        wait_seconds=WAIT_SECONDS,
        hold_seconds=float("inf"),  # a failed upload is all or nothing before its first batch
    )
    return summary.results


def summary(results: Sequence[FileResult]) -> str:
    """One line, as the CLI prints it: '3 files: 1 loaded, 1 unchanged, ...; 2 warnings'."""
    done = load.Summary()
    for result in results:
        done.count(result, keep=False)
    return done.line


def results_table(results: Sequence[FileResult]) -> pl.DataFrame:
    """One row per file: file, format, action, message, warnings."""
    return pl.DataFrame(
        {
            "file": [r.file.removeprefix(UPLOAD_PREFIX) for r in results],
            "format": [r.format for r in results],
            "action": [r.action for r in results],
            "message": [r.message for r in results],
            "warnings": [" | ".join(r.warnings) for r in results],
        },
        schema={c: pl.String for c in ("file", "format", "action", "message", "warnings")},
    )
