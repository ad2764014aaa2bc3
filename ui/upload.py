"""The Data page's upload: report files read and loaded by the same code as `python -m ingest load`.

Files are read (parsed) first, then loaded in batches through store.load_files, where each
file loads whole or not at all and every file leaves a line in the ingest log. When another
writer keeps the database locked, loading gives up before writing anything (`DatabaseBusy`),
so nothing is lost: the files can be loaded again. When the file cannot be written (read-only,
disk full), loading stops with `store.DatabaseUnwritable`; the batches before it are stored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import polars as pl

from ingest import store
from ui import db

ACCEPTED_TYPES = ("txt", "json", "ods", "csv")
MAX_FILE_MB = 50
BATCH_FILES = 50
UPLOAD_PREFIX = "upload/"  # how uploaded files are named in the ingest log
ACTIONS = ("loaded", "unchanged", "replaced", "rejected")

Progress = Callable[[float, str], None]


def load_uploads(
    files: Sequence[tuple[str, bytes]],
    progress: Progress | None = None,
    path: str | Path | None = None,
) -> list[store.FileResult]:
    """Read then load (name, bytes) pairs; one result per file, in order."""
    say = progress or (lambda fraction, text: None)
    total = len(files)
    read = []
    for i, (name, data) in enumerate(files, start=1):
        read.append(store.read_file(UPLOAD_PREFIX + name, data))
        say(0.5 * i / total, f"Read {i:,} of {total:,} files")
    con = db.connect(path, read_only=False)
    results: list[store.FileResult] = []
    try:
        for start in range(0, total, BATCH_FILES):
            try:
                results += store.load_files(con, read[start : start + BATCH_FILES])
            except store.DatabaseUnwritable as err:
                err.done = start
                raise
            done = min(start + BATCH_FILES, total)
            say(0.5 + 0.5 * done / total, f"Loaded {done:,} of {total:,} files")
    finally:
        con.close()
    return results


def summary(results: Sequence[store.FileResult]) -> str:
    """One line, as the CLI prints it: '3 files: 1 loaded, 1 unchanged, ...; 2 warnings'."""
    counts = Counter(r.action for r in results)
    warnings = sum(len(r.warnings) for r in results)
    actions = ", ".join(f"{counts[a]} {a}" for a in ACTIONS)
    return f"{len(results)} files: {actions}; {warnings} warnings"


def results_table(results: Sequence[store.FileResult]) -> pl.DataFrame:
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
