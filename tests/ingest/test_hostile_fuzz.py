"""Fuzzing with hostile values (issue 15): huge integers, Unicode digits, repeat attributes,
deep expansions, names and text of any characters. Every example ends in records or a
one-line rejection, within bounded time and memory (ingest.limits); text of any kind is
stored in a real DuckDB file without refusing the batch.

Examples are few (see SETTINGS) so that the suite stays fast; the corpus of
test_hostile_input.py holds the extreme cases of each kind.
"""

from __future__ import annotations

import json
import os
import time
import tracemalloc

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import database, limits, store
from ingest.files import FileResult, ReadFile, read_file
from ingest.readers import rating_files
from ingest.records import RejectedFile, one_line
from tests.ingest.test_hostile_input import (
    CSV_ROW,
    HEADER,
    ODS_HEAD,
    ODS_TAIL,
    ROW,
    api_record,
    cell,
    csv_file,
    ods,
    report,
    row,
    sheet,
)

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MAX_SECONDS = 10.0
MAX_PEAK_BYTES = 64 * limits.MIB


def bounded_read(name: str, data: bytes) -> ReadFile | FileResult:
    """read_file, checked: within MAX_SECONDS and MAX_PEAK_BYTES (or 8 times the file), and
    a rejection is one line that names the file."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        result = read_file(name, data)
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seconds < MAX_SECONDS, f"{seconds:.1f} s"
    assert peak < max(MAX_PEAK_BYTES, 8 * len(data)), f"{peak / limits.MIB:.0f} MB"
    if isinstance(result, FileResult):
        assert result.message and len(result.line.splitlines()) == 1
        assert result.line.startswith(one_line(result.file) + ": ")
        assert "\x1b" not in result.line and "\r" not in result.line
    else:
        for record in result.records:
            assert all(len(w.splitlines()) == 1 for w in record["warnings"])
            for kq in record.get("key_questions", ()):
                assert all(1 <= s["score"] <= 4 for s in kq["statements"])
    return result


# Huge integers -----------------------------------------------------------------------------
DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=12_000)
FIELDS = ("qualityStatementscore", "percentageScore", "onspdLatitude", "name", "extra")


def _with_number(number: str, field: str, quoted: bool) -> bytes:
    record = api_record()
    kq = record["assessment"][0]["ratings"]["asgRatings"][0]["keyQuestionRatings"][0]
    target = {"qualityStatementscore": kq["topicareas"][0], "percentageScore": kq}.get(
        field, record
    )
    target[field] = "@NUMBER@"
    value = f'"{number}"' if quoted else number.lstrip("0") or "0"
    return json.dumps(record).replace('"@NUMBER@"', value).encode()


@SETTINGS
@given(DIGITS, st.sampled_from(FIELDS), st.booleans())
def test_huge_integers_in_api_records(number, field, quoted):
    result = bounded_read("huge.json", _with_number(number, field, quoted))
    digits = len(number.lstrip("0") or "0")
    if not quoted and digits > limits.MAX_INT_DIGITS:
        assert isinstance(result, FileResult)
        assert "more than 4,300 digits" in result.message
    if field == "qualityStatementscore" and isinstance(result, ReadFile):
        assert len(number) <= 9 and number.lstrip("0") in ("1", "2", "3", "4")


@SETTINGS
@given(DIGITS)
def test_huge_integers_in_report_text(number):
    for data in (
        report("Score: 3", f"Score: {number}"),
        report("scored 56 (out", f"scored {number} (out"),
        report("3 March 2025", f"{number} March 2025"),
    ):
        bounded_read("huge.txt", data)


# Unicode digits ----------------------------------------------------------------------------
UNICODE_DIGITS = st.text(
    st.characters(categories=("Nd", "No", "Nl"), exclude_characters="0123456789"),
    min_size=1,
    max_size=6,
)


@SETTINGS
@given(UNICODE_DIGITS, st.sampled_from(["", "3", " - Good"]))
def test_unicode_digits_are_no_score_in_api_records(digits, around):
    record = api_record()
    kq = record["assessment"][0]["ratings"]["asgRatings"][0]["keyQuestionRatings"][0]
    kq["topicareas"][0]["qualityStatementscore"] = digits + around
    kq["percentageScore"] = digits
    result = bounded_read("digits.json", json.dumps(record, ensure_ascii=False).encode())
    assert isinstance(result, FileResult), "a score that is not ASCII digits"
    assert "is not a number 1-4" in result.message


@SETTINGS
@given(UNICODE_DIGITS)
def test_unicode_digits_in_report_text(digits):
    bounded_read("digits.txt", report("Score: 3", f"Score: {digits}"))
    bounded_read("digits.txt", report("scored 56 (out", f"scored {digits} (out"))
    bounded_read("digits.txt", report("Updated 14 May 2025", f"Updated {digits} May 2025"))


# Repeat attributes -------------------------------------------------------------------------
COUNTS = st.one_of(
    st.integers(1, 5000).map(str),
    st.sampled_from(["0", "-1", "1e3", "", " 7", "0x10", "\u0663", "9" * 30, "1048577",
                     "16385", "2000000000"]),
    st.text(max_size=6),
)  # fmt: skip
CELLS = st.lists(
    st.tuples(st.sampled_from(["", "Good", "1-1000000404", "x" * 300]), st.none() | COUNTS),
    max_size=8,
)


def _cell(value: str, repeat: str | None) -> str:
    attrs = f' table:number-columns-repeated="{repeat}"' if repeat is not None else ""
    return cell(value, attrs) if value else f"<table:table-cell{attrs}/>"


def _row(cells: list[tuple[str, str | None]], repeat: str | None) -> str:
    attrs = f' table:number-rows-repeated="{repeat}"' if repeat is not None else ""
    return (
        f"<table:table-row{attrs}>" + "".join(_cell(v, c) for v, c in cells) + "</table:table-row>"
    )


@SETTINGS
@given(st.lists(st.tuples(CELLS, st.none() | COUNTS), max_size=6), st.booleans())
def test_any_repeat_attributes_in_an_ods_sheet(rows, in_header):
    body = "".join(_row(cells, repeat) for cells, repeat in rows)
    content = row(HEADER) + body if not in_header else body + row(HEADER)
    data = ods(sheet(content + row(ROW)))
    bounded_read("repeats.ods", data)
    rows_read = 0
    try:
        for cells in rating_files.rows_of(data):  # the reader's rows, bounded as the limits say
            rows_read += 1
            assert rows_read <= limits.MAX_SHEET_ROWS
            assert len(cells) <= limits.MAX_SHEET_COLUMNS
            assert all(len(c) <= limits.MAX_CELL_CHARS for c in cells)
    except RejectedFile as err:
        assert len(str(err).splitlines()) == 1


@SETTINGS
@given(st.lists(st.none() | COUNTS, min_size=1, max_size=20), st.integers(0, 2000))
def test_any_space_counts_in_an_ods_cell(counts, depth):
    spaces = "".join("<text:s/>" if c is None else f'<text:s text:c="{c}"/>' for c in counts)
    text = "<text:span>" * depth + "Rowan" + spaces + "Court" + "</text:span>" * depth
    result = bounded_read("spaces.ods", ods(sheet(row(HEADER) + row([ROW[0], text, *ROW[2:]]))))
    if isinstance(result, ReadFile):
        [record] = [r for r in result.records if r.get("location_name")]
        assert len(record["location_name"]) <= limits.MAX_CELL_CHARS


# Deep expansions ---------------------------------------------------------------------------
@SETTINGS
@given(st.integers(0, 20_000), st.sampled_from(["[]", "{}"]), st.sampled_from(FIELDS))
def test_deeply_nested_json(depth, brackets, field):
    opening, closing = brackets[0], brackets[1]
    inner = (opening + '"a":' if opening == "{" else opening) * depth
    value = inner + "1" + closing * depth if opening == "[" else inner + "1" + "}" * depth
    record = api_record()
    record[field] = "@DEEP@"
    bounded_read("deep.json", json.dumps(record).replace('"@DEEP@"', value).encode())


@SETTINGS
@given(st.integers(1, 50_000), st.integers(1, 50))
def test_csv_fields_that_span_many_lines(lines, width):
    field = '"' + ("y" * width + "\n") * lines + '"'
    bounded_read("fields.csv", csv_file(f"1-1000000404,{field},Overall,Safe,Good,20/05/2025"))


@SETTINGS
@given(st.integers(0, 30_000), st.integers(0, 3))
def test_csv_rows_of_any_width(fields, extra_rows):
    bounded_read("wide.csv", csv_file(CSV_ROW + "," * fields, *[CSV_ROW] * extra_rows))


@SETTINGS
@given(st.integers(0, 3_000_000), st.booleans())
def test_ods_rows_never_closed(size, tag):
    start = "<table:table-row table:style-name=" if tag else "<table:table-row>" + "<text:p>"
    junk = os.urandom(size // 2).hex()
    content = ODS_HEAD + '<table:table table:name="Locations">' + row(HEADER) + start + junk
    result = bounded_read("open.ods", ods(content + (ODS_TAIL if size % 2 else "")))
    assert isinstance(result, FileResult)


# Names and text of any characters, stored in a real database ------------------------------
@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory):
    con = database.connect(tmp_path_factory.mktemp("fuzz") / "fuzz.duckdb", read_only=False)
    yield con
    con.close()


ANY_TEXT = st.text(st.characters(codec=None), min_size=1, max_size=40)  # surrogates included


@SETTINGS
@given(name=ANY_TEXT, raw=st.binary(min_size=1, max_size=20), value=ANY_TEXT)
def test_names_and_values_of_any_characters_are_stored_and_shown_on_one_line(con, name, raw, value):
    record = api_record(name=value, postalCode=value, region=value)
    record["currentRatings"] = {"overall": {"rating": value, "reportDate": "2024-01-01"}}
    files = [
        read_file(name, json.dumps(record).encode()),
        read_file(os.fsdecode(raw), b"\x00 binary"),
        read_file(
            name,
            f"Report from {value} assessment\n\nSafe\n\nScore: {value}".encode(
                "utf-8", "surrogatepass"
            ),
        ),
    ]
    results = store.load_files(con, files)  # the batch is stored whatever the text holds
    assert [r.action for r in results][1] == "rejected"
    for result in results:
        for message in (result.line, *result.warnings):
            assert len(message.splitlines()) == 1 and "\x1b" not in message
    logged = con.execute("SELECT message FROM ingest_log ORDER BY log_id DESC LIMIT 3").fetchall()
    assert all(m is None or len(m.splitlines()) == 1 for (m,) in logged)
