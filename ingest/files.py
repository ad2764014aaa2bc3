"""Reading files into records, apart from the database.

`python -m ingest load` reads (decodes, parses, hashes) in worker processes while its own
process writes the batches already read, in order, so the database keeps a single writer and
every batch is still one transaction (ingest.store, driven by ingest.load). This module
imports neither DuckDB nor Polars, so a worker starts in a fraction of a second.

Any exception while reading one file becomes that file's one-line rejection: a file never
stops the others of its batch. Every reason and warning is one line (ingest.records.one_line),
a file's name is kept as the file system gives it but for bytes that are not UTF-8 (shown as
'\\xff': they could not be stored), and a file keeps at most limits.MAX_WARNINGS warnings.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import signal
import sys
import threading
import time
import types
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

from ingest import limits, readers
from ingest.readers import ods
from ingest.records import Record, RejectedFile, digests_of, one_line

# Files a worker reads per task: small enough that every worker has a share of each batch.
CHUNK_FILES = 50


# The action of a file whose records describe locations that hold no ratings (ingest.store).
NO_RATINGS = "no ratings"


@dataclass
class FileResult:
    """What happened to one file."""

    file: str
    format: str | None = None
    action: str = "rejected"  # loaded, unchanged, replaced, no ratings or rejected
    loaded: int = 0
    unchanged: int = 0
    replaced: int = 0
    unrated: int = 0  # records of a location that hold no ratings (the location is stored)
    message: str | None = None
    warnings: list[str] = field(default_factory=list)
    assessment_ids: list[str] = field(default_factory=list)
    providers: int = 0  # provider records that added or changed a provider

    @property
    def line(self) -> str:
        """One line for the terminal: '<file>: <reason>' for a rejection."""
        return one_line(f"{self.file}: {self.message}")


@dataclass
class ReadFile:
    """A file read into records, waiting to be loaded."""

    file: str
    format: str
    file_hash: str
    records: list[Record]
    # records.content_hash of records[i] at i, worked out while reading (read_file does, in
    # the worker process); None, the store works them out. Whoever changes `records` resets it.
    digests: list[str] | None = None
    # records.digests_of(records[i])[1] at i (the hashes of its key questions), or None.
    key_question_digests: list[tuple[str, ...]] | None = None


def read_file(
    name: str, data: bytes, progress: readers.Progress | None = None
) -> ReadFile | FileResult:
    """Read one file's bytes; a FileResult (rejected) when it cannot be read."""
    name = storable_name(name)
    try:
        fmt, records = readers.read(name, data, progress)
        if (problem := _binary(fmt, data)) is not None:
            return FileResult(file=name, format=fmt, message=problem)
        _bound_warnings(records)
        both = [digests_of(r) for r in records]
    except RejectedFile as err:
        return FileResult(file=name, message=one_line(str(err)))
    except RecursionError:
        return FileResult(file=name, message="structure is nested too deeply to read")
    except MemoryError:
        return FileResult(file=name, message="too large to read into memory")
    except Exception as err:  # a value no reader anticipated: this file only is refused
        reason = (str(err).strip().split("\n") or [""])[0][:200]
        return FileResult(
            file=name, message=one_line(f"cannot be read: {type(err).__name__}: {reason}")
        )
    return ReadFile(
        name,
        fmt,
        hashlib.sha256(data).hexdigest(),
        records,
        [d for d, _ in both],
        [parts for _, parts in both],
    )


def storable_name(name: str) -> str:
    """A file name as given, but for what cannot be stored as text: bytes that are not UTF-8
    (which os.fsdecode turns into lone surrogates) are written '\\xff'."""
    if name.isascii():
        return name
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub(lambda m: one_line(m[0]), name)
    return name


_SURROGATE = re.compile("[\ud800-\udfff]")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_BINARY = {"report-text": "binary file, not report text", "rating-file": "binary file, not CSV"}


def _binary(fmt: str, data: bytes) -> str | None:
    """Why a text file is binary: a NUL anywhere in it (the readers look at its start only).

    A NUL is no character of a text file; in UTF-16 (with its byte order mark) it is the
    character U+0000. JSON holds none (it would not parse) and an ODS file is a zip.
    """
    if fmt not in _BINARY or ods.is_zip(data):
        return None
    if data.startswith(_UTF16_BOMS):
        found = "\x00" in data.decode("utf-16", errors="replace")
    else:
        found = b"\x00" in data
    return _BINARY[fmt] if found else None


def _bound_warnings(records: list[Record]) -> None:
    """Each warning on one line, and at most limits.MAX_WARNINGS of them in the file: the
    first ones and the last few (where a reader sums up), and a line counting the others."""
    total = sum(len(r.get("warnings") or ()) for r in records)
    if total <= limits.MAX_WARNINGS:
        for record in records:
            if record.get("warnings"):
                record["warnings"] = [one_line(w) for w in record["warnings"]]
        return
    last = limits.MAX_WARNINGS // 20
    head, tail = limits.MAX_WARNINGS - last, total - last  # kept: [0, head) and [tail, total)
    seen = 0
    for record in records:
        warnings = record.get("warnings") or []
        kept = []
        for number, warning in enumerate(warnings, start=seen):
            if number == tail:
                kept.append(f"{tail - head:,} more warnings like these (not kept)")
            if number < head or number >= tail:
                kept.append(one_line(warning))
        seen += len(warnings)
        if warnings:
            record["warnings"] = kept


def read_path(path: Path, progress: readers.Progress | None = None) -> ReadFile | FileResult:
    """Read one file from disk (see read_file)."""
    try:
        data = path.read_bytes()
    except OSError as err:
        reason = one_line(f"cannot be read: {err.strerror or err}")
        return FileResult(storable_name(str(path)), message=reason)
    except MemoryError:
        return FileResult(storable_name(str(path)), message="too large to read into memory")
    return read_file(str(path), data, progress)


def _read_paths(paths: list[Path], bars: bool = False) -> list[ReadFile | FileResult]:
    return [_read_with_bar(p) if bars else read_path(p) for p in paths]


def _read_with_bar(path: Path) -> ReadFile | FileResult:
    """read_path with a progress bar on stderr, shown only if reading takes over a second."""
    from tqdm import tqdm

    try:
        size = path.stat().st_size
    except OSError:
        size = None
    bar = tqdm(
        total=size,
        unit="B",
        unit_scale=True,
        desc=path.name[:30],
        leave=False,
        file=sys.stderr,
        delay=1.0,
    )
    with bar:
        return read_path(path, bar.update)


# More readers than this would outrun the one process that writes (about twice as fast as a
# reader), whatever the number of CPUs.
MAX_WORKERS = 4


def default_workers() -> int:
    """Worker processes for reading: one per CPU this process may use, at most MAX_WORKERS."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return min(cpus, MAX_WORKERS)


def read_batches(
    paths: list[Path], size: int, workers: int = 1, *, bars: bool = False
) -> Iterator[list[ReadFile | FileResult]]:
    """The files read, `size` at a time and in order; by `workers` processes when over one.

    At most two batches are read ahead of the one the caller holds, so memory stays bounded
    however many files there are. `bars`: a progress bar on stderr for any file whose reading
    takes over a second (a big rating file).
    """
    if workers <= 1 or len(paths) <= size:  # one batch: starting processes would not pay
        for start in range(0, len(paths), size):
            yield _read_paths(paths[start : start + size], bars)
        return
    step = min(CHUNK_FILES, size)
    chunks = [paths[i : i + step] for i in range(0, len(paths), step)]
    ahead = 2 * size // step + workers
    context = get_context("spawn")  # not fork: the parent may hold DuckDB and Polars threads
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_setup) as pool:
        pending: deque[Future[list[ReadFile | FileResult]]] = deque()
        submitted = 0
        batch: list[ReadFile | FileResult] = []
        try:
            while pending or submitted < len(chunks):
                while submitted < len(chunks) and len(pending) < ahead:
                    with _no_main_module():  # a submit may start a worker
                        pending.append(pool.submit(_read_paths, chunks[submitted], bars))
                    submitted += 1
                batch += pending.popleft().result()
                while len(batch) >= size:
                    yield batch[:size]
                    batch = batch[size:]
            if batch:
                yield batch
        finally:
            for future in pending:
                future.cancel()


@contextlib.contextmanager
def _no_main_module() -> Iterator[None]:
    """Start workers without the parent's __main__: a spawned worker would run it again, and
    it may be anything (a script without a main guard, a page an app or test is running)."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")  # no file or spec: nothing to run
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _worker_setup() -> None:
    """A worker leaves Ctrl-C to the loader, and exits when the loader is gone (even killed:
    the pool's own pipes would leave it waiting for work forever)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
