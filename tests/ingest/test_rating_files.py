"""CQC's "Care directory with ratings" file, as CSV and ODS: records, rejections, streaming."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest

from ingest import database, readers, store
from ingest.files import read_file
from ingest.readers import ods, rating_files
from ingest.records import RejectedFile
from tests.conftest import FIXTURES, SHARED

RATINGS = FIXTURES / "rating-files"
CSV = RATINGS / "latest-ratings-locations.csv"
ODS = RATINGS / "latest-ratings-locations.ods"
SAMPLES = SHARED / "samples" / "cqc-files"


@pytest.fixture
def con(db_path):
    con = database.connect(db_path, read_only=False)
    yield con
    con.close()


def read(path: Path) -> list[dict]:
    fmt, records = readers.read(str(path), path.read_bytes())
    assert fmt == "rating-file"
    return records


def without_source(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k != "source"} for r in records]


def test_csv_gives_one_ratings_only_record_per_location_and_publication_date():
    records = read(CSV)
    assert [(r["location_cqc_id"], r["assessment_date"]) for r in records] == [
        ("1-1000000404", "2022-01-12"),  # Rowan Court: Effective and Responsive
        ("1-1000000404", "2025-05-20"),  # ... Overall, Safe, Caring, Well-led
        ("1-1000000505", "2019-03-14"),  # Elm Tree: its population groups are not read
        ("1-1000000606", "2024-11-05"),  # Kestrel: an ISO date in the file
    ]
    older, rowan = records[0], records[1]
    assert older["overall_rating"] is None
    assert [(k["name"], k["rating"]) for k in older["key_questions"]] == [
        ("Effective", "Good"), ("Responsive", "Good"),
    ]  # fmt: skip
    assert rowan["overall_rating"] == "Requires improvement"
    assert [(k["name"], k["rating"]) for k in rowan["key_questions"]] == [
        ("Safe", "Requires improvement"), ("Caring", "Good"), ("Well-led", "Requires improvement"),
    ]  # fmt: skip
    for key_question in rowan["key_questions"]:
        assert key_question["score"] is None and key_question["computed_score"] is None
        assert list(key_question["statements"]) == []
        assert key_question["published_date"] == "2025-05-20"
    assert {k: rowan[k] for k in (
        "format", "location_name", "provider_cqc_id", "provider_name", "postcode", "address",
        "region", "local_authority", "location_type", "inspection_category", "service_types",
        "service_type", "published_date", "era", "service_group",
    )} == {
        "format": "rating-file",
        "location_name": "Rowan Court Nursing Home",
        "provider_cqc_id": "1-2000000404",
        "provider_name": "Meadowfield Care Partnership Ltd",
        "postcode": "LS6 2QT",
        "address": "12 Quarry Lane, Leeds",
        "region": "Yorkshire and The Humber",
        "local_authority": "Leeds",
        "location_type": "Social Care Org",
        "inspection_category": "Residential social care",
        # A care home ("Care Home?" Y) whose nursing the file does not state (issue 12).
        "service_types": ["Care home service (nursing not stated)"],
        "service_type": "Care home service (nursing not stated)",
        "published_date": "2025-05-20",
        "era": "SAF by statement",
        "service_group": None,
    }  # fmt: skip
    kestrel = records[3]
    assert kestrel["location_name"] == "Kestrel Home Care, Lakeside Office"
    assert kestrel["provider_name"] == "Kestrel & Co Care Ltd"
    assert kestrel["address"] == "Unit 5, Lakeside, Bristol"
    # "Requires Improvement" normalised; Effective ("Insufficient evidence to rate") left out.
    assert [(k["name"], k["rating"]) for k in kestrel["key_questions"]] == [
        ("Safe", "Good"), ("Caring", "Requires improvement"), ("Responsive", "Good"),
        ("Well-led", "Good"),
    ]  # fmt: skip
    # Elm Tree: 2 population groups x 3 domains = 6 rows of parts of a location.
    assert records[0]["warnings"] == [
        "6 rows rate a service or population group, a part of a location: not loaded",
        "1 row has no rating of the four (e.g. 'Insufficient evidence to rate'): not loaded",
        "1 row has no Location ID: not loaded",
    ]
    assert all(r["warnings"] == [] for r in records[1:])


def test_ods_gives_the_same_records_as_csv():
    assert without_source(read(ODS)) == without_source(read(CSV))


def _calamine_rows(path: Path) -> list[list[str]]:
    from python_calamine import CalamineWorkbook

    rows = []
    for row in CalamineWorkbook.from_path(str(path)).get_sheet_by_name("Locations").to_python():
        cells = [v.isoformat() if isinstance(v, dt.date) else str(v) for v in row]
        while cells and not cells[-1]:
            cells.pop()
        rows.append(cells)
    return rows


def test_streaming_ods_reader_agrees_with_calamine():
    # Repeated columns and rows, a span, an encoded space, an entity, a sheet before
    # Locations and date cells are all in the fixture (see make_ods.py).
    ours = [list(row) for row in rating_files.rows_of(ODS.read_bytes())]
    assert ours == _calamine_rows(ODS)
    assert len(ours) == 1 + 25


def _ods(rows: list[list[str]], sheet: str = "Locations") -> bytes:
    cells = "".join(
        "<table:table-row>"
        + "".join(f"<table:table-cell><text:p>{v}</text:p></table:table-cell>" for v in row)
        + "</table:table-row>"
        for row in rows
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content'
        ' xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body>'
        f'<office:spreadsheet><table:table table:name="{sheet}">{cells}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def test_ods_is_read_as_a_stream():
    header = list(rating_files.REQUIRED)
    body = [[f"1-{i // 6}", f"Home {i // 6}", "Overall", "Safe", "Good", "01/02/2024"]
            for i in range(60_000)]  # fmt: skip
    data = _ods([header, *body])
    read = []
    rows = ods.OdsRows(data, "Locations", read.append)
    iterator = iter(rows)
    first = [next(iterator) for _ in range(10)]
    assert first[0] == header
    # Ten rows in, only the first chunks of the compressed sheet have been inflated.
    assert sum(read) < len(data) / 4
    assert sum(1 for _ in iterator) == 60_000 + 1 - 10
    assert sum(read) >= 0.9 * len(data)  # the progress bar reaches the end


def test_csv_progress_counts_every_byte():
    data = CSV.read_bytes()
    read = []
    assert sum(1 for _ in rating_files._csv_rows(data, read.append)) == 26
    assert sum(read) == len(data)


def test_missing_or_renamed_columns_are_named():
    with pytest.raises(RejectedFile) as err:
        readers.read(
            str(RATINGS / "ratings-missing-columns.csv"),
            (RATINGS / "ratings-missing-columns.csv").read_bytes(),
        )
    assert str(err.value) == (
        "not the 'Care directory with ratings' Locations table: missing columns 'Domain',"
        " 'Latest Rating'"
    )


def test_header_without_rows_is_rejected():
    with pytest.raises(RejectedFile, match="no location ratings"):
        readers.read("ratings.csv", CSV.read_bytes().splitlines(keepends=True)[0])


@pytest.mark.parametrize(
    ("sample", "reason"),
    [
        ("cqc-directory-header.csv", "the CQC care directory CSV has no ratings"),
        ("hsca-active-locations-header.csv", "CQC's HSCA Active Locations list: registered"
         " locations, no key question ratings"),
        ("latest-ratings-locations-header.csv", "no location ratings"),
    ],
)  # fmt: skip
def test_other_cqc_files_are_recognised_and_refused_clearly(sample, reason):
    path = SAMPLES / sample
    if not path.exists():
        pytest.skip(f"the shared samples are not beside this checkout ({path})")
    with pytest.raises(RejectedFile, match=reason.replace("(", r"\(").replace(")", r"\)")):
        readers.read(str(path), path.read_bytes())


def test_spreadsheets_that_cannot_be_read_are_refused():
    xlsx = io.BytesIO()
    with zipfile.ZipFile(xlsx, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(RejectedFile, match="an Excel workbook, not an ODS spreadsheet"):
        readers.read("ratings.xlsx", xlsx.getvalue())
    with pytest.raises(RejectedFile, match="damaged ODS file"):
        readers.read("ratings.ods", ODS.read_bytes()[:1500])
    with pytest.raises(RejectedFile, match="ODS file has no 'Locations' sheet"):
        readers.read("ratings.ods", _ods([["Location ID"]], sheet="Sheet1"))
    with pytest.raises(RejectedFile, match="the Providers sheet of CQC's ratings file"):
        readers.read("ratings.ods", _ods([["Location ID"]], sheet="Providers"))


@pytest.mark.parametrize(
    ("text", "date"),
    [("20/05/2025", "2025-05-20"), ("2025-05-20", "2025-05-20"),
     ("2025-05-20T00:00:00", "2025-05-20"), ("20 May 2025", "2025-05-20"),
     ("45797", "2025-05-20"), ("31/02/2025", None), ("", None)],
)  # fmt: skip
def test_publication_dates_as_the_file_may_give_them(text, date):
    assert rating_files._date(text) == date


def test_loaded_rating_file_is_ratings_only(con):
    [result] = store.load_files(con, [read_file(str(CSV), CSV.read_bytes())])
    assert (result.action, result.loaded, len(result.warnings)) == ("loaded", 4, 3)
    assert con.sql("SELECT count(*) FROM scores").fetchall() == [(0,)]
    rows = con.sql(
        "SELECT location_id, assessment_date::VARCHAR, key_question, key_question_rating,"
        " key_question_score, statements_scored, source, region"
        " FROM key_questions WHERE location_id = '1-1000000404' ORDER BY 2, 3"
    ).fetchall()
    assert rows == [
        ("1-1000000404", "2022-01-12", "Effective", "Good", None, None, "rating-file",
         "Yorkshire & Humberside"),
        ("1-1000000404", "2022-01-12", "Responsive", "Good", None, None, "rating-file",
         "Yorkshire & Humberside"),
        ("1-1000000404", "2025-05-20", "Caring", "Good", None, None, "rating-file",
         "Yorkshire & Humberside"),
        ("1-1000000404", "2025-05-20", "Safe", "Requires improvement", None, None,
         "rating-file", "Yorkshire & Humberside"),
        ("1-1000000404", "2025-05-20", "Well-led", "Requires improvement", None, None,
         "rating-file", "Yorkshire & Humberside"),
    ]  # fmt: skip
    overall = con.sql(
        "SELECT location_id, overall_rating FROM assessments WHERE overall_rating IS NOT NULL"
        " ORDER BY 1"
    ).fetchall()
    assert overall == [
        ("1-1000000404", "Requires improvement"), ("1-1000000505", "Good"),
        ("1-1000000606", "Good"),
    ]  # fmt: skip


def test_next_months_file_replaces_only_what_changed(con, tmp_path):
    store.load_files(con, [read_file(str(CSV), CSV.read_bytes())])
    changed = CSV.read_text(encoding="utf-8").replace(
        "Overall,Safe,Good,2024-11-05", "Overall,Safe,Requires improvement,2024-11-05"
    )
    assert changed != CSV.read_text(encoding="utf-8")
    [result] = store.load_files(con, [read_file("next-month.csv", changed.encode())])
    assert (result.action, result.replaced, result.unchanged) == ("replaced", 1, 3)
    assert con.sql(
        "SELECT key_question_rating FROM key_questions WHERE location_id = '1-1000000606'"
        " AND key_question = 'Safe'"
    ).fetchall() == [("Requires improvement",)]
    assert con.sql("SELECT count(*) FROM assessments").fetchall() == [(4,)]
