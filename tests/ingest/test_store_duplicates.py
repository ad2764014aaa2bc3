"""One report, one assessment: ratings-only copies of a scored assessment are not stored.

Rowan Court's report text (assessed 3 March 2025, last updated 20 May 2025) and the rating
file's Rowan Court rows published 20/05/2025 are the same report: the text with scores,
dated by its assessment; the file ratings-only, dated by its publication. The file names the
CQC id 1-1000000404 and, with the same name and postcode, claims the text's derived id.

Counted by hand, for report text + rating file in any order:
  assessments           report text: Rowan 2025-03-03 (Safe, Caring, Well-led: 3 key questions)
                        rating file: Rowan 2022-01-12 (Effective, Responsive: 2),
                                     Elm Tree 2019-03-14 (all five: 5),
                                     Kestrel 2024-11-05 (Safe, Caring, Responsive, Well-led: 4)
                        = 4 assessments, 3 + 2 + 5 + 4 = 14 key question rows
  not stored            rating file: Rowan 2025-05-20 (Safe, Caring, Well-led), the copy
"""

from __future__ import annotations

import json
from itertools import permutations
from pathlib import Path

import pytest

from ingest import database, store
from ingest.files import FileResult, read_file
from ingest.records import assessment_id
from tests.conftest import FIXTURES, REPORTS

TEXT = REPORTS / "rowan-court-three-key-questions.txt"
RATINGS = FIXTURES / "rating-files" / "latest-ratings-locations.csv"
API = FIXTURES / "api" / "rowan-court.json"
ROWAN = "1-1000000404"
SCORED = assessment_id({"assessment_date": "2025-03-03", "service_group": None}, ROWAN)
COPY = assessment_id({"assessment_date": "2025-05-20", "service_group": None}, ROWAN)
# What a load adds or removes. Not every column of a location: fields no source ranks
# (address, provider) follow the source that described it last, whatever these tests do.
SNAPSHOT = {
    "assessments": "* EXCLUDE (loaded_at, source_file)",
    "key_question_results": "*",
    "statement_scores": "*",
    "locations": "location_id, cqc_location_id",
    "location_aliases": "alias_id, location_id",
}


@pytest.fixture
def con(db_path):
    con = database.connect(db_path, read_only=False)
    yield con
    con.close()


def read(path: Path, name: str | None = None, data: bytes | None = None):
    return read_file(name or str(path), path.read_bytes() if data is None else data)


def load(con, *paths: Path) -> list[FileResult]:
    return store.load_files(con, [read(p) for p in paths])


def assessments(con, location: str | None = None) -> list[tuple]:
    where = f"WHERE location_id = '{location}'" if location else ""
    return con.sql(
        f"SELECT location_id, assessment_date::VARCHAR, source FROM assessments {where}"
        " ORDER BY 1, 2"
    ).fetchall()


def count(con, table: str) -> int:
    return con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]


def snapshot(con) -> dict[str, set[str]]:
    return {t: {repr(r) for r in con.sql(f"SELECT {columns} FROM {t}").fetchall()}
            for t, columns in SNAPSHOT.items()}  # fmt: skip


def assert_held_once(con) -> None:
    """The state counted by hand in the module docstring."""
    assert assessments(con) == [
        ("1-1000000404", "2022-01-12", "rating-file"),
        ("1-1000000404", "2025-03-03", "report-text"),
        ("1-1000000505", "2019-03-14", "rating-file"),
        ("1-1000000606", "2024-11-05", "rating-file"),
    ]
    assert count(con, "assessments") == 4
    assert count(con, "key_question_results") == 3 + 2 + 5 + 4
    assert count(con, "statement_scores") == 5 + 5 + 7
    assert con.sql(
        "SELECT assessment_date::VARCHAR, key_question, key_question_rating, key_question_score"
        " FROM key_questions WHERE location_id = $loc ORDER BY 1, 2",
        params={"loc": ROWAN},
    ).fetchall() == [
        ("2022-01-12", "Effective", "Good", None),
        ("2022-01-12", "Responsive", "Good", None),
        ("2025-03-03", "Caring", "Good", 75),
        ("2025-03-03", "Safe", "Requires improvement", 56),
        ("2025-03-03", "Well-led", "Requires improvement", 50),
    ]
    assert [loc for (loc,) in con.sql("SELECT location_id FROM locations").fetchall()
            if loc.startswith("x-")] == []  # fmt: skip


def assert_reloads_add_nothing(con) -> None:
    before = snapshot(con)
    for path in (TEXT, RATINGS, RATINGS.with_suffix(".ods")):
        [again] = load(con, path)
        assert again.action == "unchanged", again.message
        assert snapshot(con) == before
    [text, ratings] = load(con, TEXT, RATINGS)  # and both in one batch
    assert (text.action, ratings.action) == ("unchanged", "unchanged")
    assert snapshot(con) == before


def test_report_text_then_rating_file(con):
    [text] = load(con, TEXT)
    assert text.action == "loaded"
    assert count(con, "assessments") == 1
    [ratings] = load(con, RATINGS)
    # The text's location moves to the CQC id, and the copy is matched there.
    assert (ratings.action, ratings.loaded, ratings.unchanged) == ("loaded", 3, 1)
    assert ratings.warnings[-1] == (
        "a ratings-only assessment is a copy of the scored assessment published the same day,"
        f" not stored: {ROWAN} 2025-05-20 duplicates {SCORED}"
    )
    assert_held_once(con)
    [(warnings,)] = con.sql(
        "SELECT warnings FROM ingest_log WHERE file = $f", params={"f": str(RATINGS)}
    ).fetchall()
    assert any(SCORED in w for w in warnings)
    assert_reloads_add_nothing(con)


def test_rating_file_then_report_text(con):
    [ratings] = load(con, RATINGS)
    assert (ratings.action, ratings.loaded) == ("loaded", 4)
    assert (ROWAN, "2025-05-20", "rating-file") in assessments(con)
    assert count(con, "key_question_results") == 3 + 2 + 5 + 4  # the copy's 3 for now
    [text] = load(con, TEXT)
    # Loaded under the CQC id directly; the copy is deleted in the same transaction.
    assert (text.action, text.loaded, text.replaced) == ("loaded", 1, 0)
    assert text.assessment_ids == [SCORED]
    assert text.message == (
        f"1 new assessment; removed 1 ratings-only copy of scored assessments: {COPY}"
        f" (from {RATINGS}) of {SCORED}"
    )
    assert_held_once(con)
    [(logged,)] = con.sql(
        "SELECT message FROM ingest_log WHERE file = $f", params={"f": str(TEXT)}
    ).fetchall()
    assert logged == text.message
    assert_reloads_add_nothing(con)


@pytest.mark.parametrize("order", [(TEXT, RATINGS), (RATINGS, TEXT)], ids=["text", "ratings"])
def test_both_in_one_batch(con, order):
    results = {r.format: r for r in load(con, *order)}
    assert (results["report-text"].action, results["report-text"].loaded) == ("loaded", 1)
    rating = results["rating-file"]
    assert (rating.action, rating.loaded, rating.unchanged) == ("loaded", 3, 1)
    assert "removed" not in results["report-text"].message  # the copy was never written
    assert_held_once(con)
    assert_reloads_add_nothing(con)


def test_either_order_ends_in_the_same_rows(con, tmp_path):
    load(con, TEXT)
    load(con, RATINGS)
    first = snapshot(con)
    other = database.connect(tmp_path / "other.duckdb", read_only=False)
    try:
        load(other, RATINGS)
        load(other, TEXT)
        assert snapshot(other) == first
    finally:
        other.close()


def _republished(date: str) -> bytes:
    """The rating file with Rowan Court's 2025 ratings published on another day, Safe now
    rated Good: a newer rating of the location, not a copy of the scored report."""
    lines = RATINGS.read_text(encoding="utf-8").splitlines(keepends=True)
    out = []
    for line in lines:
        if line.startswith(ROWAN) and "20/05/2025" in line:
            line = line.replace("20/05/2025", date)
            line = line.replace("Overall,Safe,Requires improvement", "Overall,Safe,Good")
        out.append(line)
    return "".join(out).encode()


@pytest.mark.parametrize("text_first", [True, False])
def test_a_rating_published_on_another_day_is_kept(con, text_first):
    newer = read_file("next-month.csv", _republished("01/09/2025"))
    files = [read(TEXT), newer] if text_first else [newer, read(TEXT)]
    results = store.load_files(con, files)
    assert {r.format: (r.loaded, r.unchanged) for r in results} == {
        "report-text": (1, 0),
        "rating-file": (4, 0),
    }
    assert assessments(con, ROWAN) == [
        (ROWAN, "2022-01-12", "rating-file"),
        (ROWAN, "2025-03-03", "report-text"),
        (ROWAN, "2025-09-01", "rating-file"),
    ]
    assert count(con, "assessments") == 5
    assert count(con, "key_question_results") == 3 + 3 + 2 + 5 + 4
    assert con.sql(
        "SELECT key_question_rating FROM key_questions WHERE location_id = $loc"
        " AND assessment_date = '2025-09-01' AND key_question = 'Safe'",
        params={"loc": ROWAN},
    ).fetchall() == [("Good",)]


def test_a_copy_one_day_off_is_not_a_copy(con):
    # Exact dates: a publication the day after the scored report's is another publication.
    load(con, TEXT)
    [ratings] = store.load_files(con, [read_file("r.csv", _republished("21/05/2025"))])
    assert (ratings.loaded, ratings.unchanged) == (4, 0)
    assert (ROWAN, "2025-05-21", "rating-file") in assessments(con, ROWAN)


def _dated_as_assessed() -> bytes:
    """The rating file with Rowan Court's 2025 rows dated 03/03/2025, the text's assessment
    date, instead of its publication (the real files at hand do not settle which date a
    rating-file copy of a SAF report carries: docs/SOURCES.md)."""
    text = RATINGS.read_text(encoding="utf-8")
    lines = [
        line.replace("20/05/2025", "03/03/2025") if line.startswith(ROWAN) else line
        for line in text.splitlines(keepends=True)
    ]
    return "".join(lines).encode()


@pytest.mark.parametrize("text_first", [True, False])
def test_a_copy_dated_on_the_assessment_date_is_a_copy_too(con, text_first):
    # Same location, date and (no) service group: the same assessment id, and the scored
    # report text outranks the rating file (ingest.precedence), in either order.
    text, ratings = read(TEXT), read_file("as-assessed.csv", _dated_as_assessed())
    for f in [text, ratings] if text_first else [ratings, text]:
        store.load_files(con, [f])
    assert assessments(con, ROWAN) == [
        (ROWAN, "2022-01-12", "rating-file"),
        (ROWAN, "2025-03-03", "report-text"),
    ]
    assert count(con, "assessments") == 4
    assert count(con, "key_question_results") == 3 + 2 + 5 + 4


@pytest.mark.parametrize("order", list(permutations(["text", "ratings", "api"])))
def test_api_legacy_ratings_are_copies_too_in_any_order(con, order):
    paths = {"text": TEXT, "ratings": RATINGS, "api": API}
    for source in order:
        load(con, paths[source])
    # 2025: the text's scored assessment; 2022: ratings only, the API's ranking highest.
    assert assessments(con, ROWAN) == [
        (ROWAN, "2022-01-12", "api-json"),
        (ROWAN, "2025-03-03", "report-text"),
    ]
    assert count(con, "assessments") == 4
    assert count(con, "key_question_results") == 2 + 3 + 5 + 4
    before = snapshot(con)
    load(con, TEXT, RATINGS, API)
    assert snapshot(con) == before


def test_api_sync_batch_with_report_text_and_legacy_ratings(con):
    # What the sync writes for a location: its record and its report's text, in one batch.
    load(con, API, TEXT)
    assert assessments(con, ROWAN) == [
        (ROWAN, "2022-01-12", "api-json"),
        (ROWAN, "2025-03-03", "report-text"),
    ]


def test_a_later_link_joins_the_copy_to_its_scored_assessment(con):
    # The text under a shorter name: no record links its derived id to the CQC id, so the
    # rating file's copy is stored beside it. When the API's record names the location that
    # way too, the scored assessment moves to the CQC id, and the copy goes.
    short = TEXT.read_text(encoding="utf-8").replace("Rowan Court Nursing Home", "Rowan Court")
    store.load_files(con, [read_file("rowan-short.txt", short.encode())])
    load(con, RATINGS)
    assert count(con, "assessments") == 5
    api = json.loads(API.read_text(encoding="utf-8")) | {"name": "Rowan Court"}
    [result] = store.load_files(con, [read_file("rowan.json", json.dumps(api).encode())])
    assert f"removed 1 ratings-only copy of scored assessments: {COPY}" in result.message
    assert assessments(con, ROWAN) == [
        (ROWAN, "2022-01-12", "api-json"),
        (ROWAN, "2025-03-03", "report-text"),
    ]
    assert count(con, "key_question_results") == 2 + 3 + 5 + 4


def test_a_refused_scored_file_leaves_the_copy(con):
    # All or nothing: the copy is deleted only if the file that makes it one is loaded.
    load(con, RATINGS)
    before = snapshot(con)
    broken = read(TEXT)
    broken.records[0]["key_questions"][0]["statements"][1]["name"] = None  # NOT NULL column
    [result] = store.load_files(con, [broken])
    assert result.action == "rejected"
    assert snapshot(con) == before
    assert (ROWAN, "2025-05-20", "rating-file") in assessments(con, ROWAN)


def test_other_locations_on_the_same_day_are_untouched(con):
    # Kestrel's ratings published 2024-11-05; a scored report of Rowan Court published that
    # day is no reason to drop them.
    text = TEXT.read_text(encoding="utf-8").replace("20 May 2025", "5 November 2024")
    text = text.replace("14 May 2025", "5 November 2024").replace("3 March 2025", "1 Oct 2024")
    store.load_files(con, [read_file("rowan-2024.txt", text.encode())])
    [ratings] = load(con, RATINGS)
    assert (ratings.loaded, ratings.unchanged) == (4, 0)
    assert ("1-1000000606", "2024-11-05", "rating-file") in assessments(con)
