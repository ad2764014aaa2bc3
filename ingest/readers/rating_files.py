"""Reader for CQC's "Care directory with ratings" file: the `Locations` sheet, as ODS or CSV.

The sheet has one row per location x service/population group x domain. Rows whose group
is "Overall" are the ratings of the location itself; the other groups (a GP practice's
population groups, a hospital's core services) rate parts of a location and are not read,
so that rating shares count each location once. The location's rows become ratings-only
records, one per publication date: the domains published on the same date form one
record, whose assessment date *is that publication date* (the file gives no assessment
date), and the "Overall" domain gives its overall rating.

The real file has about 320,000 rows. Both formats are read as a stream (the ODS sheet
straight from the zip, one row at a time: ingest.readers.ods); a caller that shows progress
passes `progress`, called with the bytes read so far since its last call. A CSV keeps the
bounds of a sheet (ingest.limits): at most MAX_SHEET_ROWS rows of MAX_SHEET_COLUMNS fields,
a line of at most MAX_ROW_BYTES and a field of at most MAX_CELL_CHARS characters.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import re
from collections.abc import Callable, Iterable, Iterator

from ingest import limits
from ingest import reference as ref
from ingest.readers.ods import MissingSheet, OdsRows, Row, is_zip
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
    "Care Home?",
)
_HEADER_SEARCH_ROWS = 20
_SQUASHED: dict[str, str] = {}  # filled below: column name -> squash(name), looked up per cell


def squash(name: str) -> str:
    """A column name without case, spaces or punctuation: 'Latest Rating' = 'LatestRating'."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


# CQC's other tables, recognised by their columns and refused with a line saying what each is
# and what to load instead (squashed names; the first whose columns are all there wins).
_LOAD_INSTEAD = (
    "load the 'Care directory with ratings' file (Latest_ratings.ods, or its Locations sheet"
    " saved as CSV)"
)
_PROVIDERS_SHEET = (
    "the Providers sheet of CQC's ratings file: it rates providers, not locations; load its"
    " Locations sheet (Latest_ratings.ods, or the Locations sheet saved as CSV)"
)
_HSCA_LIST = (
    "CQC's HSCA Active Locations list: registered locations, no key question ratings;"
    f" {_LOAD_INSTEAD}"
)
_OTHER_TABLES: tuple[tuple[frozenset[str], str], ...] = (
    (
        frozenset({"cqclocationidforofficeuseonly"}),
        f"the CQC care directory CSV has no ratings; {_LOAD_INSTEAD}",
    ),
    (
        frozenset({"providerid", "servicepopulationgroup", "domain", "latestrating"}),
        _PROVIDERS_SHEET,
    ),
    (
        frozenset({"locationid", "locationsaferating"}),
        "CQC's adult social care locations export (ratings as columns, a row per location)"
        f" is not read; {_LOAD_INSTEAD}",
    ),
    (frozenset({"locationid", "locationhscastartdate"}), _HSCA_LIST),
)
_LOCATIONS_TABLE = frozenset(squash(c) for c in REQUIRED)
_IDENTIFIERS = frozenset({"locationid", "providerid", "cqclocationidforofficeuseonly"})
# On lower-cased bytes: 3x faster than the same search case-insensitive (most files pass here).
_MAYBE_TABLE = re.compile(rb"(?:location|provider).?id")


def _table_kind(cells: Iterable[str]) -> str | None:
    """None when `cells` are not a CQC table's header; else LOCATION_TABLE or why not."""
    names = {squash(c) for c in cells if c}
    if not names & _IDENTIFIERS:
        return None
    if _LOCATIONS_TABLE <= names:
        return LOCATION_TABLE
    for columns, what in _OTHER_TABLES:
        if columns <= names:
            return what
    return LOCATION_TABLE if "locationid" in names and len(names) > 2 else None


LOCATION_TABLE = "locations"
_SQUASHED.update((c, squash(c)) for c in (*REQUIRED, *OPTIONAL))


def sniff(head: bytes) -> bool:
    """A zip (ODS, or another spreadsheet we can name) or a CSV with a header of CQC's."""
    if is_zip(head):
        return True
    # Fast: most files name neither id in the rows a header may sit on. Bytes split on fewer
    # line ends than text does, so these rows hold at least the text rows searched below.
    top = b"\n".join(head[:16384].splitlines()[:_HEADER_SEARCH_ROWS])
    if not _MAYBE_TABLE.search(top.lower()):
        return False
    text = _decode(head[:16384])
    for line in text.splitlines()[:_HEADER_SEARCH_ROWS]:
        if _table_kind(next(csv.reader([line]), [])) is not None:
            return True
    return False


def read(name: str, data: bytes, progress: Callable[[int], object] | None = None) -> list[Record]:
    """Records of a rating file's bytes; RejectedFile with the reason otherwise."""
    step = progress or _ignore
    rows = OdsRows(data, SHEET, step) if is_zip(data) else _csv_rows(data, step)
    try:
        return _records(rows, name)
    except MissingSheet as err:
        for sheet in err.sheets:  # one of CQC's other tables, by its sheet's name
            if squash(sheet) == "providers":
                raise RejectedFile(_PROVIDERS_SHEET) from None
            if squash(sheet) == "hscaactivelocations":
                raise RejectedFile(_HSCA_LIST) from None
        raise
    finally:  # what one file's cells filled the caches with goes with it
        for cached in (_is_location_group, _domain, _rating, _date, _key_question):
            cached.cache_clear()


def _ignore(_: int) -> None:
    return None


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
        names = [squash(str(h)) for h in header]
        self.index = {n: i for i, n in reversed(list(enumerate(names))) if n}
        if (kind := _table_kind(header)) not in (None, LOCATION_TABLE):
            raise RejectedFile(kind)
        missing = [c for c in REQUIRED if squash(c) not in self.index]
        if missing:
            raise RejectedFile(
                "not the 'Care directory with ratings' Locations table: missing column"
                + ("s " if len(missing) > 1 else " ")
                + ", ".join(f"'{c}'" for c in missing)
            )
        self.wanted = {
            self.index[squash(c)] for c in (*REQUIRED, *OPTIONAL) if squash(c) in self.index
        }

    def get(self, row: Row, column: str) -> str:
        i = self.index.get(_SQUASHED.get(column) or squash(column))
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
        if isinstance(row, list) and _table_kind(row) is not None:
            columns = _Columns(row)
            break
    if columns is None:
        raise RejectedFile(
            f"no header row with a 'Location ID' column in the first {_HEADER_SEARCH_ROWS}"
            f" rows of the {SHEET} table"
        )
    if isinstance(rows, OdsRows):
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
    care_home = {"Y": True, "N": False}.get((get("Care Home?") or "").upper())
    service_type = ref.service_type_of_category(category, care_home)
    return {
        "source": source,
        "format": FORMAT,
        "location_cqc_id": loc,
        "provider_cqc_id": get("Provider ID"),
        "location_name": get("Location Name") or loc,
        "provider_name": get("Provider Name"),
        # The file's only type of service is the inspection category, mapped onto the
        # registered types where it means one (reference.service_type_of_category); it yields
        # to the registered service types of report text and the API (ingest.precedence).
        "service_types": [service_type] if service_type else [],
        "service_type": service_type,
        "service_type_label": category,
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
    count = 0
    try:
        for row in csv.reader(_bounded_lines(stream)):
            count += 1
            if count > limits.MAX_SHEET_ROWS:
                raise RejectedFile(
                    f"CSV too large to read: more than {limits.MAX_SHEET_ROWS:,} rows, the most"
                    " a sheet holds"
                )
            if len(row) > limits.MAX_SHEET_COLUMNS:
                raise RejectedFile(
                    f"CSV too large to read: row {count:,} has {len(row):,} fields; a sheet has"
                    f" at most {limits.MAX_SHEET_COLUMNS:,} columns"
                )
            yield row
    except csv.Error as err:
        raise RejectedFile(f"CSV cannot be read: {err}") from None


def _bounded_lines(stream: io.TextIOWrapper) -> Iterator[str]:
    """The lines of a CSV stream, each at most MAX_ROW_BYTES characters (csv's own limit on
    a field, MAX_CELL_CHARS, bounds a quoted field that spans lines)."""
    while line := stream.readline(limits.MAX_ROW_BYTES + 1):
        if len(line) > limits.MAX_ROW_BYTES:
            raise RejectedFile(
                f"CSV too large to read: a line is longer than {limits.MAX_ROW_BYTES:,} characters"
            )
        yield line


def rows_of(data: bytes) -> Iterable[Row]:
    """The Locations table's rows, for tests and tools: ODS or CSV by content."""
    return OdsRows(data, SHEET, _ignore) if is_zip(data) else _csv_rows(data, _ignore)
