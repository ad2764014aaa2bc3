"""Every format the loader reads, in one table: its name, how it is recognised, its reader.

A file's format is decided by its content, whatever its name: each sniffer looks at the first
SNIFF_BYTES bytes, in the order of READERS, and the first that takes the file reads it.
Report text comes last and takes anything the others do not.

A reader is `read(name, data, progress=None) -> list[Record]` (ingest.records): it raises
RejectedFile with a one-line reason for a file it cannot read, and calls `progress(n)`, when
given, with the bytes it has read since its last call (the rating file's reader does; a
report or an API record is read at once).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from ingest.readers import api_records, pdf, rating_files, report_text
from ingest.records import Record, RejectedFile

SNIFF_BYTES = 65536

Progress = Callable[[int], object]


class Reader(NamedTuple):
    """One format: its name (the `format` of its records), its sniffer and its reader."""

    name: str
    sniff: Callable[[bytes], bool]
    read: Callable[..., list[Record]]


READERS: tuple[Reader, ...] = (
    Reader(api_records.FORMAT, api_records.sniff, api_records.read),
    Reader(pdf.FORMAT, pdf.sniff, pdf.read),
    Reader(rating_files.FORMAT, rating_files.sniff, rating_files.read),
    Reader(report_text.FORMAT, report_text.sniff, report_text.read),
)


def read(name: str, data: bytes, progress: Progress | None = None) -> tuple[str, list[Record]]:
    """(format, records) of a file's bytes; RejectedFile with a one-line reason."""
    if not data.strip():
        raise RejectedFile("file is empty")
    head = data[:SNIFF_BYTES]
    reader = next(r for r in READERS if r.sniff(head))
    return reader.name, reader.read(name, data, progress)
