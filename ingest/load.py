"""The one loading loop: files (paths, or names and bytes) read and stored in batches.

Every way data reaches the database goes through here: `python -m ingest load`, uploads in
the app, the demo build, the API sync and the benchmark. `load()` reads the files (by worker
processes when asked: ingest.files) and stores each batch in one transaction
(ingest.store.load_files); `Writer` is the storing half on its own, for a caller that makes
its batches itself (the API sync fetches them over the network).

The writer holds the database open across batches (opening and closing it costs more than
storing a batch) for at most HOLD_SECONDS, then lets go for PAUSE_SECONDS so the app and
other loaders get in: right after a batch is stored, not when the next one has been read
(reading may take long, say a big rating file). Every result is counted in one `Summary`,
whose `line` is what the CLI and the upload print.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ingest import database
from ingest.files import NO_RATINGS, FileResult, ReadFile, read_batches, read_file

BATCH_FILES = 2000  # files a transaction (each commit costs ~0.1 s: 1,000 loaded 10% slower)
HOLD_SECONDS = 2.0  # the writer keeps the database open this long at a time,
PAUSE_SECONDS = 0.1  # then lets others in for this long
ACTIONS = ("loaded", "unchanged", "replaced", "rejected")

# (files done, files in all): called after each batch is stored.
Progress = Callable[[int, int], None]
# Called with each file's result as soon as it is known (the CLI prints rejections).
OnResult = Callable[[FileResult], None]


@dataclass
class Summary:
    """What a load did: counts per action and warnings; the results too when kept."""

    files: int = 0
    actions: Counter = field(default_factory=Counter)
    warnings: int = 0
    results: list[FileResult] = field(default_factory=list)

    def count(self, result: FileResult, keep: bool) -> None:
        self.files += 1
        self.actions[result.action] += 1
        self.warnings += len(result.warnings)
        if keep:
            self.results.append(result)

    @property
    def rejected(self) -> int:
        return self.actions["rejected"]

    @property
    def line(self) -> str:
        """'3 files: 1 loaded, 1 unchanged, 0 replaced, 1 rejected; 2 warnings'.

        Files whose records hold no ratings (locations only) add ', N without ratings' after
        'rejected', so the counts add up to the files.
        """
        counts = ", ".join(f"{self.actions[a]} {a}" for a in ACTIONS)
        if unrated := self.actions[NO_RATINGS]:
            counts += f", {unrated} without ratings"
        files = f"{self.files} file{'s' * (self.files != 1)}"
        return f"{files}: {counts}; {self.warnings} warning{'s' * (self.warnings != 1)}"


class Writer:
    """Stores batches of read files, holding the database for `hold_seconds` at a time.

    A writer whose batches come slowly (the API sync waits on the network between them)
    passes hold_seconds=0: it lets go of the file after every batch.

    Use it as a context manager (the file is let go on leaving). DatabaseBusy when another
    process holds the file for longer than `wait_seconds`; DatabaseUnwritable (with `done`,
    the files stored before it) when the file cannot be written.
    """

    def __init__(
        self,
        db: str | Path | None = None,
        *,
        wait_seconds: float | None = None,
        hold_seconds: float = HOLD_SECONDS,
        keep_results: bool = False,
        on_result: OnResult | None = None,
    ) -> None:
        self.db = db
        self.wait_seconds = wait_seconds
        self.hold_seconds = hold_seconds
        self.keep_results = keep_results
        self.on_result = on_result
        self.summary = Summary()
        self._con = None
        self._opened = 0.0

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def store(
        self, files: Sequence[ReadFile | FileResult], meta: dict[str, str | None] | None = None
    ) -> list[FileResult]:
        """Store one batch in one transaction, with `meta` keys (None deletes); its results."""
        from ingest import store  # DuckDB and Polars: not for the reader processes

        try:
            if self._con is None:
                self._con = database.connect(
                    self.db, read_only=False, wait_seconds=self.wait_seconds
                )
                self._opened = time.monotonic()
            results = store.load_files(self._con, list(files), meta)
        except database.DatabaseUnwritable as err:
            err.done = self.summary.files
            raise
        for result in results:
            self.summary.count(result, self.keep_results)
            if self.on_result is not None:
                self.on_result(result)
        if time.monotonic() - self._opened >= self.hold_seconds:
            self.close()
            if self.hold_seconds:  # a loader in a hurry: the others' turn, and the collector's
                gc.collect()  # once per hold: see load()
                time.sleep(PAUSE_SECONDS)
        return results

    def set_meta(self, values: dict[str, str | None]) -> None:
        """Write meta keys in a transaction of their own."""
        self.store([], values)

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


def iter_files(paths: Sequence[Path]) -> Iterator[Path]:
    """Files as given, and every non-hidden file under the folders given, in sorted order."""
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                relative = child.relative_to(path).parts
                if child.is_file() and not any(p.startswith(".") for p in relative):
                    yield child
        else:
            yield path


def load(
    sources: Sequence[Path] | Sequence[tuple[str, bytes]],
    db: str | Path | None = None,
    *,
    workers: int = 1,
    batch: int = BATCH_FILES,
    progress: Progress | None = None,
    on_result: OnResult | None = None,
    keep_results: bool = False,
    bars: bool = False,
    wait_seconds: float | None = None,
    hold_seconds: float = HOLD_SECONDS,
    meta: dict[str, str | None] | None = None,
) -> Summary:
    """Read and store files, `batch` at a time, in order; what was done.

    `sources` are paths (read by `workers` processes when over one) or (name, bytes) pairs
    (read in this process). `bars`: a progress bar on stderr for a file whose reading takes
    over a second. `meta` keys are written with the last batch. `hold_seconds` as for Writer
    (infinite: one connection throughout, for a file nobody else opens or a short upload).
    database.DatabaseRefused, before anything is read, for a file that is damaged or was set
    up by a newer version (database.check_file says why in one line).
    """
    if (refusal := database.refused(db)) is not None:  # damaged or newer: not written to
        raise refusal
    total = len(sources)
    # Records hold no reference cycles: reference counting frees each batch, and the cyclic
    # collector, left on, kept scanning the batches in flight (15% of the time). The writer
    # runs it once per hold instead.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with Writer(
            db,
            wait_seconds=wait_seconds,
            hold_seconds=hold_seconds,
            keep_results=keep_results,
            on_result=on_result,
        ) as writer:
            done = 0
            for files in _batches(sources, batch, workers, bars):
                done += len(files)
                writer.store(files, meta if done == total else None)
                if progress is not None:
                    progress(done, total)
            if not total and meta:
                writer.set_meta(meta)
    finally:
        if collecting:
            gc.enable()
    return writer.summary


def _batches(
    sources: Sequence[Path] | Sequence[tuple[str, bytes]], size: int, workers: int, bars: bool
) -> Iterator[list[ReadFile | FileResult]]:
    if sources and isinstance(sources[0], tuple):
        for start in range(0, len(sources), size):
            yield [read_file(name, data) for name, data in sources[start : start + size]]
    else:
        yield from read_batches(list(sources), size, workers, bars=bars)
