"""Recognise a file's format from its content and read it into records."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ingest import report_text
from ingest.records import Record, RejectedFile

# A sniffer looks at the first bytes and says whether the reader below takes the file.
# Readers for other formats register themselves here (see register()).
Reader = Callable[[str, bytes], list[Record]]
_READERS: list[tuple[str, Callable[[bytes], bool], Reader]] = []


def register(name: str, sniff: Callable[[bytes], bool], reader: Reader) -> None:
    """Add a format: `sniff(head)` is tried on the file's first 64 KiB, before report text."""
    _READERS.append((name, sniff, reader))


def _read_report_text(name: str, data: bytes) -> list[Record]:
    text, warnings = report_text.decode(data, name)
    return [report_text.parse_report(text, name, warnings)]


def read(name: str, data: bytes) -> tuple[str, list[Record]]:
    """(format, records) of a file's bytes; RejectedFile with a one-line reason."""
    if not data.strip():
        raise RejectedFile("file is empty")
    head = data[:65536]
    for fmt, sniff, reader in _READERS:
        if sniff(head):
            return fmt, reader(name, data)
    return "report-text", _read_report_text(name, data)


def read_path(path: Path) -> tuple[str, list[Record]]:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise RejectedFile(f"cannot be read: {err.strerror or err}") from None
    return read(str(path), data)


def _load_optional_readers() -> None:
    """Import the readers of other formats, which register themselves when present."""
    import importlib

    for module in ("ingest.api_records", "ingest.rating_files"):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name != module:
                raise


_load_optional_readers()
