"""Reader for CQC's "Care directory with ratings" file: the `Locations` sheet, as ODS or CSV.

The sheet has one row per location x service/population group x domain. Rows whose group
is "Overall" are the ratings of the location itself; the other groups (a GP practice's
population groups, a hospital's core services) rate parts of a location and are not read,
so that rating shares count each location once. The location's rows become ratings-only
records, one per publication date: the domains published on the same date form one
record, whose assessment date *is that publication date* (the file gives no assessment
date), and the "Overall" domain gives its overall rating.

The real file has about 320,000 rows. Both formats are read as a stream (the ODS sheet
straight from the zip, one row at a time), with a progress bar over the bytes read.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
import sys
import zipfile
from collections.abc import Callable, Iterable, Iterator
from html import unescape
from pathlib import Path

from tqdm import tqdm

from ingest import formats
from ingest import reference as ref
from ingest.records import Record, RejectedFile

FORMAT = "rating-file"
SHEET = "Locations"
LOCATION_GROUP = "Overall"

# Columns read: the required ones, and the optional ones when present.
REQUIRED = (
    "Location ID",
    "Location Name",
    "Service / Population Group",
    "Domain",
    "Latest Rating",
    "Publication Date",
)
OPTIONAL = (
    "Location Type",
    "Location Primary Inspection Category",
    "Location Street Address",
    "Location Address Line 2",
    "Location City",
    "Location Post Code",
    "Location Local Authority",
    "Location Region",
    "Provider ID",
    "Provider Name",
)
_DIRECTORY_ID = "CQC Location ID (for office use only)"
_KNOWN = {*REQUIRED, *OPTIONAL}
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_HEADER_SEARCH_ROWS = 20

# Progress bars are shown on a terminal; the CLI's --quiet turns them off.
show_progress = True


def sniff(head: bytes) -> bool:
    """A zip (ODS, or another spreadsheet we can name) or a CSV with a CQC 'Location ID' column."""
    if head.startswith(b"PK\x03\x04"):
        return True
    if b"Location ID" not in head[:16384]:  # as text (UTF-8 or Windows-1252) it cannot be either
        return False
    text = _decode(head[:16384])
    for line in text.splitlines()[:_HEADER_SEARCH_ROWS]:
        if "Location ID" in line:
            cells = {c.strip() for c in next(csv.reader([line]), [])}
            if _DIRECTORY_ID in cells or ("Location ID" in cells and len(cells & _KNOWN) > 1):
                return True
    return False


def read(name: str, data: bytes) -> list[Record]:
    """Records of a rating file's bytes; RejectedFile with the reason otherwise."""
    with _progress(len(data), name) as bar:
        if data.startswith(b"PK\x03\x04"):
            rows = _ods_rows(data, SHEET, bar.update)
        else:
            rows = _csv_rows(data, bar.update)
        return _records(rows, name)


def _progress(total: int, name: str) -> tqdm:
    return tqdm(
        total=total,
        unit="B",
        unit_scale=True,
        desc=Path(name).name[:30],
        leave=False,
        file=sys.stderr,
        disable=None if show_progress else True,
    )


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        if err.start > len(data) - 4:  # a character cut by the end of a sniffed head
            return data[: err.start].decode("utf-8-sig")
        return data.decode("cp1252", errors="replace")


# Turning rows into records ------------------------------------------------------------------
class _Columns:
    """Where each wanted column sits, from the header row."""

    def __init__(self, header: list[str]) -> None:
        names = [str(h).strip() for h in header]
        self.index = {n: i for i, n in reversed(list(enumerate(names))) if n}
        if _DIRECTORY_ID in self.index:
            raise RejectedFile(
                "the CQC care directory CSV has no ratings; load the 'Care directory with"
                " ratings' file (Latest_ratings.ods, or its Locations sheet saved as CSV)"
            )
        missing = [c for c in REQUIRED if c not in self.index]
        if missing:
            raise RejectedFile(
                "not the 'Care directory with ratings' Locations table: missing column"
                + ("s " if len(missing) > 1 else " ")
                + ", ".join(f"'{c}'" for c in missing)
            )
        self.wanted = {self.index[c] for c in (*REQUIRED, *OPTIONAL) if c in self.index}

    def get(self, row: Row, column: str) -> str:
        i = self.index.get(column)
        if i is None:
            return ""
        if isinstance(row, list):
            return row[i].strip() if i < len(row) else ""
        return row.get(i)


class _Location:
    """What the rows of one location say, gathered before it becomes records."""

    __slots__ = ("identity", "reports")

    def __init__(self, identity: Record) -> None:
        self.identity = identity
        self.reports: dict[str, dict[str, str]] = {}  # date -> {"Overall" or key question: rating}


def _records(rows: Iterable[Row], source: str) -> list[Record]:
    iterator = iter(rows)
    columns: _Columns | None = None
    for _, row in zip(range(_HEADER_SEARCH_ROWS), iterator, strict=False):
        if isinstance(row, list) and {"Location ID", _DIRECTORY_ID} & {c.strip() for c in row}:
            columns = _Columns(row)
            break
    if columns is None:
        raise RejectedFile(
            f"no header row with a 'Location ID' column in the first {_HEADER_SEARCH_ROWS}"
            f" rows of the {SHEET} table"
        )
    if isinstance(rows, _OdsRows):
        rows.wanted = columns.wanted  # from here on it decodes only these cells
    locations: dict[str, _Location] = {}
    counts = {"parts": 0, "not rated": 0, "no date": 0, "no id": 0, "domain": 0, "twice": 0}
    for row in iterator:
        loc = columns.get(row, "Location ID")
        if not loc:
            counts["no id"] += any(columns.get(row, c) for c in ("Domain", "Latest Rating"))
            continue
        if not _is_location_group(columns.get(row, "Service / Population Group")):
            counts["parts"] += 1
            continue
        kq = _domain(columns.get(row, "Domain"))
        if kq is None:
            counts["domain"] += 1
            continue
        rating = _rating(columns.get(row, "Latest Rating"))
        if rating is None:
            counts["not rated"] += 1
            continue
        date = _date(columns.get(row, "Publication Date"))
        if date is None:
            counts["no date"] += 1
            continue
        entry = locations.get(loc)
        if entry is None:
            entry = locations[loc] = _Location(_identity(columns, row, loc, source))
        report = entry.reports.setdefault(date, {})
        counts["twice"] += kq in report
        report[kq] = rating
    if not locations:
        raise RejectedFile(
            f"no location ratings: no rated row with Service / Population Group '{LOCATION_GROUP}'"
        )
    records = [r for entry in locations.values() for r in _location_records(entry)]
    records[0]["warnings"] = _summary(counts)
    _key_question.cache_clear()
    return records


# Cached: the real file repeats a few dozen groups, domains, ratings and dates 320,000 times.
@functools.cache
def _is_location_group(group: str) -> bool:
    return ref.normalise(group) == ref.normalise(LOCATION_GROUP)


@functools.cache
def _domain(domain: str) -> str | None:
    """Key question of a Domain cell; 'Overall' for the overall rating; None otherwise."""
    return "Overall" if ref.normalise(domain) == "overall" else ref.canonical_key_question(domain)


@functools.cache
def _rating(text: str) -> str | None:
    return ref.canonical_rating(text)


def _identity(columns: _Columns, row: Row, loc: str, source: str) -> Record:
    def get(column: str) -> str | None:
        return columns.get(row, column) or None

    address = ", ".join(
        part
        for part in (
            get("Location Street Address"),
            get("Location Address Line 2"),
            get("Location City"),
        )
        if part
    )
    category = get("Location Primary Inspection Category")
    return {
        "source": source,
        "format": FORMAT,
        "location_cqc_id": loc,
        "provider_cqc_id": get("Provider ID"),
        "location_name": get("Location Name") or loc,
        "provider_name": get("Provider Name"),
        # The file's only type of service is the inspection category; it yields to the
        # registered service types of report text and the API (see store.FIELD_PRECEDENCE).
        "service_types": [category] if category else [],
        "service_type": category,
        "overall_rating": None,
        "address": address or None,
        "postcode": get("Location Post Code"),
        "phone": None,
        "region": get("Location Region"),
        "local_authority": get("Location Local Authority"),
        "location_type": get("Location Type"),
        "inspection_category": category,
    }


@functools.cache
def _key_question(name: str, rating: str, date: str) -> dict:
    """One ratings-only key question. Cached: records share these (nothing changes them),
    which keeps 50,000 locations' records in a fraction of the memory."""
    return {
        "name": name,
        "rating": rating,
        "score": None,
        "computed_score": None,
        "published_date": date,
        "statements": (),
    }


def _location_records(entry: _Location) -> list[Record]:
    records = []
    for date, report in sorted(entry.reports.items()):
        records.append(
            {
                **entry.identity,
                "overall_rating": report.get("Overall"),
                "assessment_date": date,
                "published_date": date,
                "era": ref.era_for(dt.date.fromisoformat(date)),
                "service_group": None,
                "key_questions": [
                    _key_question(kq, report[kq], date) for kq in ref.KEY_QUESTIONS if kq in report
                ],
                "warnings": [],
            }
        )
    return records


def _summary(counts: dict[str, int]) -> list[str]:
    """One warning per kind of row not loaded, with its count."""
    text = {  # (one row ..., several rows ...)
        "parts": ("rates", "rate", "a service or population group, a part of a location"),
        "not rated": (
            "has",
            "have",
            "no rating of the four (e.g. 'Insufficient evidence to rate')",
        ),
        "no date": ("has", "have", "no valid Publication Date"),
        "no id": ("has", "have", "no Location ID"),
        "domain": ("has", "have", "a Domain that is neither Overall nor a key question"),
    }
    warnings = []
    for kind, (one, many, what) in text.items():
        if n := counts[kind]:
            warnings.append(
                f"{n:,} {'row ' + one if n == 1 else 'rows ' + many} {what}: not loaded"
            )
    if n := counts["twice"]:
        verb = "row repeats" if n == 1 else "rows repeat"
        warnings.append(f"{n:,} {verb} a location's domain on the same date: the last is kept")
    return warnings


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d %B %Y", "%d %b %Y", "%d/%m/%y")


@functools.cache
def _date(text: str) -> str | None:
    """A publication date as the file may give it -> 'YYYY-MM-DD', else None."""
    text = text.strip()
    if not text:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T[\d:.]+", text):  # ODS date-time value
        text = text[:10]
    if re.fullmatch(r"\d{5}(\.0+)?", text):  # a spreadsheet serial number
        return (dt.date(1899, 12, 30) + dt.timedelta(days=int(float(text)))).isoformat()
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


# CSV -------------------------------------------------------------------------------------
class _CountingReader(io.RawIOBase):
    """A byte stream over `data` that reports how much has been read."""

    def __init__(self, data: bytes, progress: Callable[[int], object]) -> None:
        self._view = memoryview(data)
        self._pos = 0
        self._progress = progress

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), len(self._view) - self._pos)
        buffer[:n] = self._view[self._pos : self._pos + n]
        self._pos += n
        self._progress(n)
        return n


def _csv_rows(data: bytes, progress: Callable[[int], object]) -> Iterator[list[str]]:
    encoding = "utf-8-sig"
    try:
        data[:65536].decode("utf-8-sig")
    except UnicodeDecodeError as err:
        if err.start < 65530:
            encoding = "cp1252"
    stream = io.TextIOWrapper(
        io.BufferedReader(_CountingReader(data, progress), 1 << 20),
        encoding=encoding,
        errors="replace",
        newline="",
    )
    try:
        yield from csv.reader(stream)
    except csv.Error as err:
        raise RejectedFile(f"CSV cannot be read: {err}") from None


# ODS -------------------------------------------------------------------------------------
_NS_TABLE = b"urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_NS_OFFICE = b"urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_NS_TEXT = b"urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_MAX_REPEAT = 4096  # a run of repeated empty columns or rows pads the sheet to its edge


class _OdsRows:
    """The rows of one sheet of an ODS file, read from the zip as a stream.

    An XML parser builds objects for ~18 million elements in the real file, which takes a
    minute; the sheet's XML is regular enough to cut with byte searches instead. Each row is
    a list of cell texts, or, once `wanted` is set, a {column: text} dict of those columns.
    Cells give their text, date cells their ISO date; repeated cells and rows are expanded.
    """

    def __init__(self, data: bytes, sheet: str, progress: Callable[[int], object]) -> None:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            mimetype = archive.read("mimetype") if "mimetype" in archive.namelist() else b""
            if mimetype.strip() != _ODS_MIME:
                names = archive.namelist()
                kind = "an Excel workbook" if "xl/workbook.xml" in names else "a zip archive"
                raise RejectedFile(
                    f"{kind}, not an ODS spreadsheet; save the ratings file as ODS or CSV"
                )
            self._stream = archive.open("content.xml")
        except (zipfile.BadZipFile, KeyError, OSError, EOFError) as err:
            raise RejectedFile(f"damaged ODS file: {err}") from None
        self.sheet = sheet
        self.wanted: set[int] | None = None
        self._progress = progress
        self._scale = len(data) / max(archive.getinfo("content.xml").file_size, 1)

    def __iter__(self) -> Iterator[Row]:
        try:
            yield from self._rows()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
            raise RejectedFile(f"damaged ODS file: {err}") from None

    def _read(self, size: int = 1 << 20) -> bytes:
        chunk = self._stream.read(size)
        self._progress(int(len(chunk) * self._scale))
        return chunk

    def _rows(self) -> Iterator[Row]:
        buf = self._read(1 << 16)
        root = re.search(rb"<(?:[\w.-]+:)?document-content\b[^>]*>", buf)
        if root is None:
            raise RejectedFile("damaged ODS file: content.xml has no document")
        prefixes = {uri: p for p, uri in re.findall(rb'xmlns:([\w.-]+)="([^"]*)"', root[0])}
        t, o = prefixes.get(_NS_TABLE, b"table"), prefixes.get(_NS_OFFICE, b"office")
        x = prefixes.get(_NS_TEXT, b"text")
        self._cell = b"<" + t + b":table-cell"
        self._covered = b"<" + t + b":covered-table-cell"
        self._repeat = re.compile(rb"\b" + t + rb':number-columns-repeated="(\d+)"')
        self._date = re.compile(rb"\b" + o + rb':date-value="([^"]*)"')
        self._p = (b"<" + x + b":p>", b"</" + x + b":p>")
        self._tags = re.compile(rb"<[^>]*>")
        self._space = re.compile(rb"<" + x + rb":s(?:\s+" + x + rb':c="(\d+)")?\s*/>')
        table_open = b"<" + t + b":table "
        row_open, row_close = b"<" + t + b":table-row", b"</" + t + b":table-row>"
        row_repeat = re.compile(rb"\b" + t + rb':number-rows-repeated="(\d+)"')
        name = re.compile(rb"\b" + t + rb':name="([^"]*)"')
        found = False  # in the sheet, or past it
        current = None
        pos = root.end()
        while True:
            next_table = buf.find(table_open, pos)
            while True:
                if next_table != -1 and next_table < pos:
                    next_table = buf.find(table_open, pos)
                row = buf.find(row_open, pos)
                if next_table != -1 and (row == -1 or next_table < row):
                    end = buf.find(b">", next_table)
                    if end == -1:
                        break
                    if found:
                        return  # the next sheet: no need to inflate the rest of the file
                    match = name.search(buf, next_table, end)
                    current = unescape(match[1].decode()) if match else None
                    found = current == self.sheet
                    pos = end + 1
                    continue
                if row == -1:
                    break
                head_end = buf.find(b">", row)
                if head_end == -1:
                    break
                if buf[head_end - 1 : head_end] == b"/":  # <table:table-row/>, an empty row
                    pos = head_end + 1
                    continue
                end = buf.find(row_close, head_end)
                if end == -1:
                    break
                text = buf[row:end]
                pos = end + len(row_close)
                if current != self.sheet:
                    continue
                cells = self._cells(text)
                if not cells:
                    continue
                match = row_repeat.search(text, 0, head_end - row)
                for _ in range(min(int(match[1]), _MAX_REPEAT) if match else 1):
                    yield cells
            buf = buf[pos:]
            pos = 0
            chunk = self._read()
            if not chunk:
                break
            buf += chunk
        if not found:
            raise RejectedFile(f"ODS file has no '{self.sheet}' sheet")

    def _cells(self, row: bytes) -> Row:
        if self._covered in row:
            row = row.replace(self._covered, self._cell)
        pieces = row.split(self._cell)[1:]
        wanted = self.wanted
        if wanted is None:
            cells: list[str] = []
            for piece in pieces:
                end = piece.find(b">")
                repeat = self._repeat.search(piece, 0, end)
                value = self._value(piece)
                cells.extend([value] * (min(int(repeat[1]), _MAX_REPEAT) if repeat else 1))
            while cells and not cells[-1]:
                cells.pop()
            return cells
        if b"repeated" not in row:  # the common case: one piece per column
            return _LazyRow(self._value, {c: pieces[c] for c in wanted if c < len(pieces)})
        picked: dict[int, bytes] = {}
        column = 0
        for piece in pieces:
            end = piece.find(b">")
            span = 1
            if b"repeated" in piece[:end]:
                span = int(self._repeat.search(piece, 0, end)[1])
            picked.update(dict.fromkeys((c for c in wanted if column <= c < column + span), piece))
            column += span
        return _LazyRow(self._value, picked)

    def _value(self, piece: bytes) -> str:
        """The text of one cell: '<table:table-cell attrs>content</...' cut at its start."""
        end = piece.find(b">")
        if piece[end - 1 : end] == b"/":
            return ""
        attrs = piece[:end]
        if b"date-value" in attrs and (match := self._date.search(attrs)):
            return match[1].decode()
        inner = piece[end + 1 : piece.rfind(b"</")]
        p_open, p_close = self._p
        if inner.startswith(p_open) and inner.count(b"<") == 2:
            text = inner[len(p_open) : -len(p_close)]
        else:
            inner = self._space.sub(lambda m: b" " * int(m[1] or 1), inner)
            text = self._tags.sub(b"", inner.replace(p_close + p_open, b"\n"))
        value = text.decode("utf-8", errors="replace")
        return unescape(value).strip() if "&" in value else value.strip()


class _LazyRow:
    """The wanted cells of an ODS row, decoded when first asked for."""

    __slots__ = ("_decode", "_pieces")

    def __init__(self, decode: Callable[[bytes], str], pieces: dict[int, bytes]) -> None:
        self._decode = decode
        self._pieces = pieces

    def __bool__(self) -> bool:  # False when every wanted cell is an empty element
        return any(p[p.find(b">") - 1 : p.find(b">")] != b"/" for p in self._pieces.values())

    def get(self, column: int) -> str:
        piece = self._pieces.get(column)
        return "" if piece is None else self._decode(piece)


Row = list[str] | _LazyRow


def _ods_rows(data: bytes, sheet: str, progress: Callable[[int], object]) -> _OdsRows:
    return _OdsRows(data, sheet, progress)


def rows_of(data: bytes) -> Iterable[Row]:
    """The Locations table's rows, for tests and tools: ODS or CSV by content."""
    if data.startswith(b"PK\x03\x04"):
        return _OdsRows(data, SHEET, lambda n: None)
    return _csv_rows(data, lambda n: None)


formats.register(FORMAT, sniff, read)
