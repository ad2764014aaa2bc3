"""Hostile input, as an attacker would write it (issue 15): every file ends in records or a
one-line rejection that names it, within bounded time and memory; a rejection leaves the
data as it was; a bad file never costs a good one its place in the batch; a damaged or newer
database is refused in one line and left byte for byte as it was.

The hostile files are made here: zip bombs from deflate streams built in a few milliseconds,
runs of repeats, numbers of thousands of digits, Unicode digits, names with line breaks.
The bounds they meet are ingest.limits' (docs/DATA_SAFETY.md).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import random
import signal
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from ingest import database, demo, limits, load, schema, store
from ingest.files import FileResult, ReadFile, read_file
from ingest.readers import rating_files
from tests.conftest import FIXTURES, REPORTS

ROOT = Path(__file__).resolve().parents[2]
ROWAN = (REPORTS / "rowan-court-three-key-questions.txt").read_text(encoding="utf-8")
API = FIXTURES / "api"
DATA_TABLES = (
    "providers",
    "locations",
    "location_aliases",
    "assessments",
    "key_question_results",
    "statement_scores",
    "meta",
)
# What reading one hostile file may cost at most: far below what the issue saw (minutes,
# gigabytes), far above what a linear reader needs.
MAX_SECONDS = 20.0
MAX_PEAK_BYTES = 96 * limits.MIB


# Report text --------------------------------------------------------------------------------
def report(old: str, new: str, count: int = 1) -> bytes:
    assert old in ROWAN, old
    return ROWAN.replace(old, new, count).encode()


def many_statements(names: Callable[[int], str], count: int) -> bytes:
    """Rowan Court with `count` more statements under Safe, the i-th named names(i)."""
    extra = "".join(f"{names(i)}\n\nScore: 3\n\nEvidence.\n\n" for i in range(count))
    return report("Learning culture\n\nScore: 2", extra + "Learning culture\n\nScore: 2")


def nul_after_the_head() -> bytes:
    text = ROWAN.replace("Staff knew how", "Staff knew how " + "x" * 70_000 + "\x00", 1)
    return text.encode()


# API records (JSON) -------------------------------------------------------------------------
def api_record(**changes: object) -> dict:
    record = json.loads((API / "birchwood-two-service-groups.json").read_text(encoding="utf-8"))
    record.update(changes)
    return record


def with_topics(topics: list[dict]) -> bytes:
    record = api_record()
    safe = record["assessment"][0]["ratings"]["asgRatings"][0]["keyQuestionRatings"][0]
    safe["topicareas"] = topics
    return json.dumps(record).encode()


def scored(score: object) -> bytes:
    """A record whose first statement has the score `score`."""
    record = api_record()
    topic = record["assessment"][0]["ratings"]["asgRatings"][0]["keyQuestionRatings"][0]
    topic["topicareas"][0]["qualityStatementscore"] = score
    return json.dumps(record, ensure_ascii=False).encode()


def percentage(value: object) -> bytes:
    record = api_record()
    kq = record["assessment"][0]["ratings"]["asgRatings"][0]["keyQuestionRatings"][0]
    kq.pop("percengtageScore", None)
    kq["percentageScore"] = value
    return json.dumps(record).encode()


def huge_integer() -> bytes:
    text = json.dumps(api_record(registrationDate="2020-01-01"))
    return text.replace(
        '"registrationDate"', '"size": ' + "9" * 5000 + ', "registrationDate"', 1
    ).encode()


def deep_json(depth: int) -> bytes:
    text = json.dumps(api_record(), ensure_ascii=False)
    return text.replace(
        '"contacts": ', '"contacts": ' + "[" * depth + "]" * depth + ', "x": ', 1
    ).encode()


# Spreadsheets -------------------------------------------------------------------------------
ODS_MIME = "application/vnd.oasis.opendocument.spreadsheet"
ODS_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?><office:document-content'
    ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
    ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
    ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body>'
    "<office:spreadsheet>"
)
ODS_TAIL = "</office:spreadsheet></office:body></office:document-content>"
HEADER = list(rating_files.REQUIRED)
ROW = ["1-1000000404", "Rowan Court", "Overall", "Safe", "Good", "20/05/2025"]


def cell(text: str, attrs: str = "") -> str:
    return (
        f'<table:table-cell{attrs} office:value-type="string"><text:p>{text}</text:p>'
        "</table:table-cell>"
    )


def row(values: list[str], attrs: str = "", tail: str = "") -> str:
    return (
        f"<table:table-row{attrs}>" + "".join(cell(v) for v in values) + tail + "</table:table-row>"
    )


def sheet(body: str, name: str = "Locations") -> str:
    return f'<table:table table:name="{name}">{body}</table:table>'


def ods(content: str | bytes, mimetype: bytes = ODS_MIME.encode(), **members: bytes) -> bytes:
    """An ODS file (a zip) whose content.xml is ODS_HEAD + content + ODS_TAIL."""
    if isinstance(content, str):
        content = (ODS_HEAD + content + ODS_TAIL).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", mimetype)
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        for name, data in members.items():
            z.writestr(name.replace("_", "/"), data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def good_sheet(*rows: str) -> str:
    return sheet(row(HEADER) + "".join(rows or (row(ROW),)))


def deflated(head: bytes, junk: bytes, copies: int) -> tuple[bytes, int]:
    """(a raw deflate stream of head + junk * copies, its inflated size), built from one
    compressed copy of `junk` (after a full flush every copy compresses the same)."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    one = c.compress(junk) + c.flush(zlib.Z_FULL_FLUSH)
    return start + one * copies + c.flush(), len(head) + len(junk) * copies


def raw_zip(members: list[tuple[str, bytes, int, int, int, int]]) -> bytes:
    """A zip of (name, stored bytes, compression method, declared size, flags, CRC) members,
    each declared as given (a CRC is checked only at the end of a member, which a bomb's
    reader never reaches)."""
    out, central = io.BytesIO(), []
    for name, data, method, size, flags, crc in members:
        offset = out.tell()
        sizes = (crc, len(data), size, len(name), 0)  # compressed, inflated, name, extra
        out.write(struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, flags, method, 0, 0, *sizes))
        out.write(name.encode() + data)
        entry = (b"PK\x01\x02", 20, 20, flags, method, 0, 0, *sizes, 0, 0, 0, 0, offset)
        central.append(struct.pack("<4sHHHHHHIIIHHHHHII", *entry) + name.encode())
    start = out.tell()
    out.write(b"".join(central))
    count, length = len(central), out.tell() - start
    return out.getvalue() + struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, count, count, length, start, 0
    )


STORED, DEFLATED = 0, 8
MIME_MEMBER = (
    "mimetype",
    ODS_MIME.encode(),
    STORED,
    len(ODS_MIME),
    0,
    zlib.crc32(ODS_MIME.encode()),
)


def stored(name: str, data: bytes) -> tuple[str, bytes, int, int, int, int]:
    return (name, data, STORED, len(data), 0, zlib.crc32(data))


def bomb(name: str, head: bytes, junk: bytes, copies: int) -> tuple:
    stream, size = deflated(head, junk, copies)
    return (name, stream, DEFLATED, size, 0, 0)


def content_bomb() -> bytes:
    """content.xml that inflates about 1,000 times its size: 256 MB of spaces after a header."""
    head = (ODS_HEAD + '<table:table table:name="Locations">' + row(HEADER)).encode()
    return raw_zip([MIME_MEMBER, bomb("content.xml", head, b" " * limits.MIB, 256)])


def mimetype_bomb(prefix: bytes) -> bytes:
    """A mimetype member of 1 GB: the ODS type and spaces, or zeros; a good content.xml."""
    mimetype = bomb("mimetype", prefix, (b" " if prefix else b"\0") * limits.MIB, 1024)
    return raw_zip([mimetype, stored("content.xml", (ODS_HEAD + good_sheet() + ODS_TAIL).encode())])


def declared(size: int, flags: int = 0, method: int = DEFLATED) -> bytes:
    """A good sheet whose content.xml declares `size`, flags and compression method."""
    content = (ODS_HEAD + good_sheet() + ODS_TAIL).encode()
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = c.compress(content) + c.flush()
    member = ("content.xml", stream, method, size, flags, zlib.crc32(content))
    return raw_zip([MIME_MEMBER, member])


def xlsx_bomb() -> bytes:
    return raw_zip([bomb("xl/workbook.xml", b"<workbook>", b"\0" * limits.MIB, 1024)])


def noise(size: int, seed: int = 1) -> str:
    """Text that does not compress (hex of random bytes): XML without a tag in it."""
    return random.Random(seed).randbytes(size // 2).hex()


def csv_file(*lines: str) -> bytes:
    header = ",".join(f'"{c}"' for c in HEADER)
    return ("\n".join([header, *lines]) + "\n").encode()


CSV_ROW = ",".join(ROW)


# The corpus ---------------------------------------------------------------------------------
# (case, file bytes, expected action, text the message or a warning must contain)
CASES: list[tuple[str, Callable[[], bytes], str, str]] = [
    # 1. A value no reader anticipated: a rejection, never a traceback.
    ("json integer of 5,000 digits", huge_integer, "rejected", "more than 4,300 digits"),
    ("json score of 5,000 digits", lambda: scored("3" * 5000), "rejected", "not a number 1-4"),
    ("json score as a number of 4,000 digits", lambda: scored(int("3" * 4000)), "rejected",
     "not a number 1-4"),
    ("json score in arabic-indic digits", lambda: scored("\u0663"), "rejected",
     "not a number 1-4"),
    ("json score as a superscript two", lambda: scored("\u00b2"), "rejected", "not a number 1-4"),
    ("json score as a circled one", lambda: scored("\u2460"), "rejected", "not a number 1-4"),
    ("json score as a fullwidth three", lambda: scored("\uff13"), "rejected", "not a number 1-4"),
    ("json percentage of 20 digits", lambda: percentage("9" * 20), "loaded", "is not 0-100"),
    ("json percentage as a float of 400 digits", lambda: percentage(float("1e300")), "loaded",
     "is not 0-100"),
    ("json lone surrogate in the name", lambda: json.dumps(api_record(name="Birch\ud800wood"))
     .encode(), "loaded", ""),
    ("json nul character in the name", lambda: json.dumps(api_record(name="Birch\x00wood"))
     .encode(), "loaded", ""),
    ("json line breaks and escapes in a rating", lambda: json.dumps(api_record(
     currentRatings={"overall": {"rating": "Goo\nd\x1b[2J\u202e", "reportDate": "2024-01-01"}}))
     .encode(), "loaded", "rating 'Goo\\nd\\x1b[2J\\u202e' is not a known rating"),
    ("json locationId an object", lambda: json.dumps(api_record(locationId={"a": 1})).encode(),
     "rejected", "empty locationId"),
    ("json NaN and Infinity coordinates", lambda: json.dumps(api_record(
     onspdLatitude=float("nan"), onspdLongitude=float("inf"))).encode(), "loaded", ""),
    ("json nested 100,000 deep inside a record", lambda: deep_json(100_000), "rejected",
     "nested too deeply"),
    ("json over 64 MB", lambda: b"{" + b" " * limits.MAX_JSON_BYTES + b"}", "rejected",
     "at most 64 MB"),
    ("json statement scored twice among 20,000", lambda: with_topics(
     [{"name": f"Topic {i}", "qualityStatementscore": "3"} for i in range(20_000)]
     + [{"name": "Topic 7", "qualityStatementscore": "2"}]), "rejected",
     "'Topic 7' is scored twice"),
    ("json 20,000 statements not among the 34", lambda: with_topics(
     [{"name": f"Topic {i}", "qualityStatementscore": "3"} for i in range(20_000)]), "loaded",
     "more warnings like these (not kept)"),
    ("json 2,000 copies of one location", lambda: json.dumps([api_record()] * 2_000).encode(),
     "loaded", "appears more than once; the last is kept"),
    # 2. Expansions: ODS members and runs, spaces, rows never closed.
    ("ods number-columns-repeated not a number", lambda: ods(good_sheet(row(ROW, tail=cell(
     "x", ' table:number-columns-repeated="abc"')))), "rejected",
     "a count of columns 'abc' is not a whole number"),
    ("ods number-columns-repeated not a number in the header", lambda: ods(sheet(row(
     HEADER, tail=cell("x", ' table:number-columns-repeated="1e3"')) + row(ROW))), "rejected",
     "a count of columns '1e3'"),
    ("ods number-columns-repeated of 5,000 digits", lambda: ods(good_sheet(row(ROW, tail=cell(
     "x", ' table:number-columns-repeated="' + "9" * 5000 + '"')))), "rejected",
     "is not a whole number above 0"),
    ("ods number-columns-repeated of zero", lambda: ods(good_sheet(row(ROW, tail=cell(
     "x", ' table:number-columns-repeated="0"')))), "rejected", "a count of columns '0'"),
    ("ods number-rows-repeated negative", lambda: ods(good_sheet(row(
     ROW, ' table:number-rows-repeated="-5"'))), "rejected", "a count of rows '-5'"),
    ("ods number-rows-repeated in unicode digits", lambda: ods(good_sheet(row(
     ROW, ' table:number-rows-repeated="\u0663"'))), "rejected", "a count of rows"),
    ("ods rows repeated past the sheet's last row", lambda: ods(good_sheet(row(
     ROW, ' table:number-rows-repeated="2000000"'))), "rejected", "past row 1,048,576"),
    ("ods 8 KB of rows each repeated 4,096 times", lambda: ods(good_sheet(*(row(
     [f"1-{1000000000 + i}", f"Home {i}", *ROW[2:]], ' table:number-rows-repeated="4096"')
     for i in range(100)))), "loaded", "repeat a location's domain"),
    ("ods rows repeated past 50 million cells", lambda: ods(good_sheet(row(
     ROW, ' table:number-rows-repeated="4000"', tail=cell("x", ' table:number-columns-repeated='
     '"16000"')))), "rejected", "expands to more than 50,000,000 cells"),
    ("ods cells with content past column 16,384", lambda: ods(good_sheet(row(ROW, tail=cell(
     "x", ' table:number-columns-repeated="20000"')))), "rejected", "past column 16,384"),
    ("ods cells with content past column 16,384 in the header", lambda: ods(sheet(row(
     HEADER, tail=cell("x", ' table:number-columns-repeated="20000"')) + row(ROW))),
     "rejected", "past column 16,384"),
    ("ods 17,000 cells written out in a row", lambda: ods(good_sheet(row(ROW + [
     noise(16, i) for i in range(17_000)]))), "rejected", "past column 16,384"),
    ("ods empty padding past the last column", lambda: ods(good_sheet(row(
     ROW, tail='<table:table-cell table:number-columns-repeated="1000000000"/>'))), "loaded", ""),
    ("ods empty padding rows past the last row", lambda: ods(good_sheet(row(ROW),
     '<table:table-row table:number-rows-repeated="999999999"><table:table-cell'
     ' table:number-columns-repeated="16384"/></table:table-row>')), "loaded", ""),
    ("ods rows of empty text repeated past the last row", lambda: ods(good_sheet(row(ROW), row(
     ["", " "], ' table:number-rows-repeated="999999999"'))), "loaded", ""),
    ("ods a billion spaces in a 635-byte cell", lambda: ods(good_sheet(row(
     ["1-1000000404", 'Rowan<text:s text:c="1000000000"/>Court', *ROW[2:]]))), "rejected",
     "more than 131,072 characters"),
    ("ods space count not a number", lambda: ods(good_sheet(row(
     ["1-1000000404", 'Rowan<text:s text:c="many"/>Court', *ROW[2:]]))), "rejected",
     "a count of spaces 'many'"),
    ("ods space runs adding up past a cell's text", lambda: ods(good_sheet(row(
     ["1-1000000404", '<text:s text:c="65536"/>' * 3, *ROW[2:]]))), "rejected",
     "more than 131,072 characters"),
    ("ods a cell of 140,000 characters", lambda: ods(good_sheet(row(
     ["1-1000000404", "x" * 140_000, *ROW[2:]]))), "rejected", "more than 131,072 characters"),
    ("ods a date-value of 140,000 characters", lambda: ods(good_sheet(
     "<table:table-row>" + "".join(cell(v) for v in ROW[:5])
     + f'<table:table-cell office:date-value="{"1" * 140_000}"><text:p>x</text:p>'
     "</table:table-cell></table:table-row>")), "rejected", "more than 131,072 characters"),
    ("ods a row never closed", lambda: ods(ODS_HEAD + '<table:table table:name="Locations">'
     + row(HEADER) + "<table:table-row>" + cell(ROW[0])), "rejected", "is never closed"),
    ("ods a row longer than 8 MB", lambda: ods(ODS_HEAD + '<table:table table:name="Locations">'
     + row(HEADER) + "<table:table-row>" + cell(noise(9 * limits.MIB))), "rejected",
     "a row of its XML is longer than 8,388,608 bytes"),
    ("ods a tag never closed", lambda: ods(ODS_HEAD + '<table:table table:name="Locations">'
     + row(HEADER) + "<table:table-row table:style-name=" + noise(9 * limits.MIB)), "rejected",
     "is longer than 8,388,608 bytes"),
    ("ods 5 MB of xml outside any row", lambda: ods(sheet(row(HEADER) + noise(5 * limits.MIB)
     + row(ROW))), "loaded", ""),
    ("ods content.xml inflating 1,000 times its size", content_bomb, "rejected",
     "says it inflates to 256.0 MB; at most 63.4 MB is read"),
    ("ods content.xml saying it inflates to 3 GB", lambda: declared(3 * 2**30), "rejected",
     "says it inflates to 3.0 GB"),
    ("ods content.xml saying it is smaller than it is", lambda: declared(100), "rejected",
     "damaged ODS file"),
    ("ods content.xml encrypted", lambda: declared(1000, flags=1), "rejected",
     "save it without a password"),
    ("ods content.xml in a method zipfile lacks", lambda: declared(1000, method=99), "rejected",
     "damaged ODS file"),
    ("ods without content.xml", lambda: raw_zip([MIME_MEMBER]), "rejected", "damaged ODS file"),
    ("ods mimetype of 1 GB of spaces, sheet fine", lambda: mimetype_bomb(ODS_MIME.encode()),
     "loaded", ""),
    ("ods mimetype of 1 GB of zeros", lambda: mimetype_bomb(b""), "rejected",
     "a zip archive, not an ODS spreadsheet"),
    ("xlsx workbook inflating to 1 GB", xlsx_bomb, "rejected",
     "an Excel workbook, not an ODS spreadsheet"),
    ("ods sheet names with line breaks and escapes", lambda: ods(sheet(row(HEADER),
     "Read\nme\x1b[31m")), "rejected", "no 'Locations' sheet (its sheets: 'Read\\nme\\x1b[31m')"),
    ("ods sheet name not utf-8", lambda: ods((ODS_HEAD + sheet(row(HEADER), "Loc\udcffations")
     + ODS_TAIL).encode("utf-8", "surrogateescape")), "rejected", "no 'Locations' sheet"),
    # ... and the CSV of the same table: the same bounds.
    ("csv a line longer than 8 MB", lambda: csv_file(CSV_ROW + "," + "x" * (9 * limits.MIB)),
     "rejected", "a line is longer than 8,388,608 characters"),
    ("csv a field longer than 131,072 characters", lambda: csv_file(
     '1-1000000404,"' + "ab\n" * 50_000 + '",Overall,Safe,Good,20/05/2025'), "rejected",
     "field larger than field limit (131072)"),
    ("csv more columns than a sheet has", lambda: csv_file(CSV_ROW + "," * 20_000), "rejected",
     "a sheet has at most 16,384 columns"),
    ("csv more rows than a sheet has", lambda: csv_file(CSV_ROW, *[","] * 1_048_576),
     "rejected", "more than 1,048,576 rows"),
    ("csv nul after the first 64 KiB", lambda: csv_file(CSV_ROW, *["x"] * 40_000, "\x00"),
     "rejected", "binary file, not CSV"),
    ("csv line breaks and escapes in values", lambda: csv_file(
     '"1-1000000404","Rowan\n\x1b[2JCourt",Overall,Safe,Good,20/05/2025'), "loaded", ""),
    # 6. The binary check reads the whole of a text file.
    ("report nul after the first 64 KiB", nul_after_the_head, "rejected",
     "binary file, not report text"),
    ("report utf-16 with a nul character after 64 KiB", lambda: nul_after_the_head().decode()
     .encode("utf-16"), "rejected", "binary file, not report text"),
    # Report text: numbers and names (ingest.readers.report_text).
    ("report stated percentage of 5,000 digits", lambda: report(
     "scored 56 (out", "scored " + "5" * 5000 + " (out"), "loaded", "is not 0-100"),
    ("report the same statement 100,000 times", lambda: many_statements(
     lambda i: "Safeguarding", 100_000), "rejected", "scored twice"),
    ("report line breaks and escapes in a statement name", lambda: report(
     "Safeguarding", "Safeguarding\x1b[2J\u202e adults\x0bboard"), "loaded",
     "\\x1b[2J\\u202e"),
    ("report bidi override in the location name", lambda: report(
     "Rowan Court Nursing Home", "Rowan \u202eCourt Nursing Home"), "loaded", ""),
]  # fmt: skip

# Report text cases: the parser is linear and reads ASCII digits only.
PENDING: list[tuple[str, Callable[[], bytes], str, str]] = [
    ("report superscript two after 'This service scored'", lambda: report(
     "scored 56 (out", "scored \u00b2 (out"), "loaded", "is not 0-100"),
    ("report score of 5,000 digits", lambda: report("Score: 3", "Score: " + "3" * 5000),
     "rejected", "not a number 1-4"),
    ("report circled one as a score", lambda: report("Score: 3", "Score: \u2460"), "rejected",
     "not a number 1-4"),
    ("report arabic-indic digit as a score", lambda: report("Score: 3", "Score: \u0663"),
     "rejected", "not a number 1-4"),
    ("report 100,000 statements in one key question", lambda: many_statements(
     lambda i: f"Topic {i}", 100_000), "loaded", "statements scored; the framework has"),
]  # fmt: skip


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The bytes of a database holding one report (set up once: copying it is quicker)."""
    path = tmp_path_factory.mktemp("baseline") / "baseline.duckdb"
    con = database.connect(path, read_only=False)
    report = REPORTS / "harbour-view-variants-and-mismatches.txt"
    store.load_files(con, [read_file(str(report), report.read_bytes())])
    con.close()
    return path.read_bytes()


@pytest.fixture
def con(db_path, baseline):
    db_path.write_bytes(baseline)
    con = database.connect(db_path, read_only=False)
    yield con
    con.close()


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Every row of every data table, as text, in order."""
    return {
        t: sorted(repr(r) for r in con.sql(f"SELECT * FROM {t}").fetchall()) for t in DATA_TABLES
    }


def measured(name: str, data: bytes) -> tuple[ReadFile | FileResult, float, int]:
    """read_file(name, data), the seconds it took and the most memory it added, read in a
    child process (fork) whose peak resident size is reset when it starts; it is stopped
    after MAX_SECONDS."""
    out = io.BytesIO()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: read, measure, hand the result back, exit
        try:
            os.close(reader)
            signal.alarm(int(MAX_SECONDS) + 1)
            Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
            start = _status("VmRSS")
            started = time.perf_counter()
            read = read_file(name, data)
            seconds = time.perf_counter() - started
            answer = pickle.dumps((read, seconds, _status("VmHWM") - start))
        except BaseException as err:  # read_file itself raised: the test says so
            answer = pickle.dumps(repr(err))
        finally:
            with os.fdopen(writer, "wb") as pipe:
                pipe.write(answer)
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        out.write(pipe.read())
    _, status = os.waitpid(pid, 0)
    assert out.getvalue(), f"reading was stopped after {MAX_SECONDS:.0f} s (status {status})"
    answer = pickle.loads(out.getvalue())
    assert isinstance(answer, tuple), f"read_file raised {answer}"
    return answer


def _status(field: str) -> int:
    """A size from /proc/self/status, in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def check_case(con, case: str, build: Callable[[], bytes], action: str, text: str) -> None:
    data = build()
    name = f"{case}.dat"
    before = snapshot(con)
    read, seconds, peak = measured(name, data)
    assert seconds < MAX_SECONDS, f"{seconds:.1f} s"
    # Linear: memory within a small multiple of the file (a parsed JSON file is the largest).
    assert peak < max(MAX_PEAK_BYTES, 12 * len(data)), f"{peak / limits.MIB:.0f} MB"
    [result] = store.load_files(con, [read])
    assert result.action == action, result.message
    logged = con.execute(
        "SELECT message, warnings FROM ingest_log WHERE file = ? ORDER BY log_id DESC LIMIT 1",
        [name],
    ).fetchall()
    messages = [result.message or "", *result.warnings]
    assert all("\n" not in m and "\r" not in m and "\x1b" not in m for m in messages)
    if action == "rejected":
        assert text in result.message, result.message
        assert result.line == f"{name}: {result.message}"
        assert len(result.line.splitlines()) == 1
        assert snapshot(con) == before
        assert logged and logged[0][0] == result.message
    else:
        assert not text or any(text in w for w in result.warnings), result.warnings
        assert len(result.warnings) <= limits.MAX_WARNINGS + 1


@pytest.mark.parametrize(("case", "build", "action", "text"), CASES, ids=[c[0] for c in CASES])
def test_hostile_input(con, case, build, action, text):
    check_case(con, case, build, action, text)


@pytest.mark.parametrize(("case", "build", "action", "text"), PENDING, ids=[c[0] for c in PENDING])
def test_hostile_report_text(con, case, build, action, text):
    check_case(con, case, build, action, text)


def test_every_pending_case_still_ends_in_records_or_one_line(con):
    """Whatever the report text parser makes of them, these never cost a traceback."""
    for case, build, _, _ in PENDING:
        result = read_file(f"{case}.txt", build())
        if isinstance(result, FileResult):
            assert len(result.line.splitlines()) == 1 and result.line.startswith(case)


# File names ----------------------------------------------------------------------------------
BAD = b"\x00\x01binary"
GOOD = (REPORTS / "rowan-court-three-key-questions.txt").read_bytes()
NAMES = [
    ("a line break", "reports/rowan\ncourt.txt", "reports/rowan\\ncourt.txt"),
    ("a carriage return and a terminal escape", "x\r\x1b[2Jy.txt", "x\\r\\x1b[2Jy.txt"),
    ("a byte that is not utf-8", os.fsdecode(b"rowan-\xff.txt"), "rowan-\\xff.txt"),
    ("a lone surrogate", "rowan-\ud800.txt", "rowan-\\ud800.txt"),
    ("a bidi override", "evil\u202etxt.exe", "evil\\u202etxt.exe"),
]


@pytest.mark.parametrize(("case", "name", "shown"), NAMES, ids=[n[0] for n in NAMES])
def test_a_file_name_is_shown_on_one_line_and_stored(con, case, name, shown):
    [rejected, loaded] = store.load_files(con, [read_file(name, BAD), read_file(name, GOOD)])
    assert rejected.action == "rejected" and loaded.action == "loaded", loaded.message
    assert rejected.line == f"{shown}: binary file, not report text"
    # Stored as given, but for what is not text (a byte that is not UTF-8), written as shown.
    stored = shown if any("\ud800" <= c <= "\udfff" for c in name) else name
    assert con.execute(
        "SELECT action FROM ingest_log WHERE file = ? ORDER BY action", [stored]
    ).fetchall() == [("loaded",), ("rejected",)]
    assert con.execute(
        "SELECT count(*) FROM assessments WHERE source_file = ?", [stored]
    ).fetchall() == [(1,)]


def test_paths_with_bytes_that_are_not_utf8_load_from_disk(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / os.fsdecode(b"rowan-\xff.txt")).write_bytes(GOOD)
    (folder / os.fsdecode(b"bad-\xfe\n.txt")).write_bytes(BAD)
    summary = load.load(list(load.iter_files([folder])), tmp_path / "db.duckdb", keep_results=True)
    assert summary.line.startswith("2 files: 1 loaded, 0 unchanged, 0 replaced, 1 rejected")
    [line] = [r.line for r in summary.results if r.action == "rejected"]
    assert line == f"{folder}/bad-\\xfe\\n.txt: binary file, not report text"


# A batch never loses a good file for a bad one -------------------------------------------------
@pytest.fixture(scope="module")
def mixed_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, dict[str, str]]:
    """Demo reports with a file of every rejected kind of the corpus between them: the
    folder, the number of good files, the message text expected of each bad file by name."""
    folder = tmp_path_factory.mktemp("mixed")
    good = demo.write_demo_corpus(folder / "good", locations=8, seed=4)
    bad: dict[str, str] = {}
    for number, (_, build, action, text) in enumerate(CASES):
        if action == "rejected" and len(data := build()) < 20 * limits.MIB:
            name = f"bad-{number:02d}.dat"
            (folder / name).write_bytes(data)
            bad[name] = text
    return folder, len(good), bad


@pytest.mark.parametrize("workers", [1, 2])
def test_a_batch_keeps_every_good_file_whatever_lies_between(mixed_folder, tmp_path, workers):
    folder, good, bad = mixed_folder
    paths = list(load.iter_files([folder]))
    summary = load.load(paths, tmp_path / "db.duckdb", workers=workers, batch=7, keep_results=True)
    assert (summary.actions["loaded"], summary.actions["rejected"]) == (good, len(bad))
    for result in summary.results:
        if result.action == "rejected":
            assert bad[Path(result.file).name] in result.message
            assert len(result.line.splitlines()) == 1
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    try:
        files = con.sql("SELECT count(DISTINCT source_file) FROM assessments").fetchall()
        rejected = con.sql("SELECT count(*) FROM ingest_log WHERE action = 'rejected'").fetchall()
    finally:
        con.close()
    assert (files, rejected) == ([(good,)], [(len(bad),)])


def test_the_command_line_prints_one_line_per_rejection(mixed_folder, tmp_path):
    folder, good, bad = mixed_folder
    done = subprocess.run(
        [sys.executable, "-m", "ingest", "load", "--quiet", "--workers", "2",
         "--db", str(tmp_path / "db.duckdb"), str(folder)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == len(bad), done.stderr
    for line in lines:
        name, reason = line.removeprefix(f"{folder}/").split(": ", 1)
        assert bad[name] in reason
    assert f"{good} loaded, 0 unchanged, 0 replaced, {len(bad)} rejected;" in done.stdout


# A damaged or newer database ----------------------------------------------------------------
def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database of a few demo reports, closed."""
    folder = tmp_path_factory.mktemp("built")
    paths = demo.write_demo_corpus(folder / "reports", locations=20, seed=9)
    load.load(paths, folder / "built.duckdb")
    return folder / "built.duckdb"


def copy(built: Path, tmp_path: Path, name: str = "copy.duckdb") -> Path:
    target = tmp_path / name
    target.write_bytes(built.read_bytes())
    return target


def newer(path: Path, version: str = str(schema.SCHEMA_VERSION + 1)) -> Path:
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [version])
    con.execute("UPDATE meta SET value = 'from-a-newer-version' WHERE key = 'schema_hash'")
    con.execute("CREATE OR REPLACE VIEW scores AS SELECT 'newer' AS shape")
    con.close()
    return path


def written(folder: Path, data: bytes) -> Path:
    (path := folder / "written.duckdb").write_bytes(data)
    return path


def cut(path: Path, keep: int) -> Path:
    path.write_bytes(path.read_bytes()[:keep])
    return path


def corrupt_table(path: Path, table: str) -> Path:
    """Overwrite part of every block that holds `table`'s data: its checksum no longer holds."""
    con = duckdb.connect(str(path), read_only=True)
    blocks = con.execute(
        "SELECT DISTINCT block_id FROM pragma_storage_info(?) WHERE persistent AND block_id >= 0",
        [table],
    ).fetchall()
    [(size,)] = con.execute("SELECT block_size FROM pragma_database_size()").fetchall()
    con.close()
    data = bytearray(path.read_bytes())
    for (block,) in blocks:
        start = 3 * 4096 + block * size + 64
        data[start : start + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    return path


def loader(db: Path, *paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ingest", "load", "--quiet", "--db", str(db), *map(str, paths)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip


# (case, how to make the file from a good one, what the line says); the last case is only
# found by reading its data (check_file and load do; opening it for writing does not).
DATABASES: list[tuple[str, Callable[[Path, Path], Path], str]] = [
    ("newer schema version", lambda b, t: newer(copy(b, t)),
     "was set up by a newer version of this program (schema version 2; this one knows up to 1)"),
    ("schema version not a number", lambda b, t: newer(copy(b, t), "2.0-beta\n"),
     "was set up by a newer version of this program (schema version 2.0-beta\\n;"),
    ("random bytes", lambda b, t: written(t, random.Random(2).randbytes(40_000)),
     "is damaged: it is not a DuckDB database"),
    ("an empty file", lambda b, t: written(t, b""), "is damaged: it is not a DuckDB database"),
    ("a text file", lambda b, t: written(t, ROWAN.encode()),
     "is damaged: it is not a DuckDB database"),
    ("cut short in its headers", lambda b, t: cut(copy(b, t), 8192), "is damaged: it is cut short"),
    ("cut short in its metadata", lambda b, t: cut(copy(b, t), 200_000),
     "is damaged: it is cut short"),
    ("cut short in its data", lambda b, t: cut(copy(b, t), b.stat().st_size - 4096),
     "is damaged: it is cut short"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "make", "says"), DATABASES, ids=[d[0] for d in DATABASES])
def test_the_loader_refuses_a_damaged_or_newer_database_and_changes_nothing(
    built, tmp_path, case, make, says
):
    db = make(built, tmp_path)
    before = digest(db)
    assert says in (database.check_file(db) or "")
    done = loader(db, REPORTS)
    assert done.returncode == 3, done.stderr
    [line] = done.stderr.splitlines()
    assert line == f"error: {database.check_file(db)}"
    assert says in line and "same command again" not in line
    assert digest(db) == before
    assert not db.with_name(db.name + ".wal").exists()
    with pytest.raises(database.DatabaseRefused, match="nothing was loaded into it"):
        load.load([REPORTS / "rowan-court-three-key-questions.txt"], db)
    if case != "cut short in its data":
        with pytest.raises(database.DatabaseRefused):
            database.connect(db, read_only=False)
    assert digest(db) == before


def test_a_block_that_fails_its_checksum_stops_the_loader_in_one_line(built, tmp_path):
    db = corrupt_table(copy(built, tmp_path), "assessments")
    before = digest(db)
    assert database.check_file(db) is None  # the block is read only when a query needs it
    done = loader(db, REPORTS)
    assert done.returncode == 3, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith(f"error: {db} is damaged: a block of it fails its checksum.")
    assert digest(db) == before
    con = duckdb.connect(str(db), read_only=True)
    try:
        with pytest.raises(duckdb.Error) as err:
            con.sql("SELECT * FROM assessments").fetchall()
    finally:
        con.close()
    refused = database.damaged(db, err.value)  # what the app can tell the error by
    assert refused is not None and str(refused) == line.removeprefix("error: ")


def test_what_the_loader_may_write(built, tmp_path):
    """A usable file: this schema, an older one (brought up to date), one set up by other
    code (given the schema), none (created)."""
    assert database.check_file(built) is None
    assert database.check_file(tmp_path / "missing.duckdb") is None
    older = copy(built, tmp_path, "older.duckdb")
    con = duckdb.connect(str(older))
    con.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    con.execute("UPDATE meta SET value = 'old' WHERE key = 'schema_hash'")
    con.close()
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE notes AS SELECT 'kept' AS note")
    con.close()
    for db in (older, other, tmp_path / "new.duckdb"):
        assert database.check_file(db) is None
        done = loader(db, REPORTS / "rowan-court-three-key-questions.txt")
        assert done.returncode == 0, done.stderr
        con = duckdb.connect(str(db), read_only=True)
        try:
            assert database.get_meta(con, "schema_version") == str(schema.SCHEMA_VERSION)
            assert con.sql("SELECT count(*) FROM assessments").fetchall()[0][0] >= 1
        finally:
            con.close()


def test_the_corpus_is_well_past_60_kinds():
    from tests.ingest.test_bad_input import CASES as EARLIER

    kinds = {c[0] for c in (*EARLIER, *CASES, *PENDING)} | {n[0] for n in NAMES}
    kinds |= {d[0] for d in DATABASES} | {"a block that fails its checksum"}
    assert len(kinds) >= 120, len(kinds)
