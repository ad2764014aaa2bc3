"""AppTest of the Overview page on a real database built from the project's fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ingest import database, store
from ingest.files import read_file
from tests.conftest import FIXTURES, REPORTS
from tests.pages.oracle import CURRENT, sql

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "overview.py")
ROWAN = REPORTS / "rowan-court-three-key-questions.txt"
RATINGS_CSV = FIXTURES / "rating-files" / "latest-ratings-locations.csv"
# Each location's latest *scored* assessment of each key question (the score views' picture).
CURRENT_SCORED = CURRENT.replace(
    "FROM key_questions", "FROM key_questions WHERE key_question_score IS NOT NULL"
)


@pytest.fixture
def loaded_db(db_path):
    con = database.connect(db_path, read_only=False)
    files = [read_file(p.name, p.read_bytes()) for p in sorted(REPORTS.glob("*.txt"))]
    store.load_files(con, files)
    con.close()
    return db_path


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_overview_headline_numbers_follow_the_region_filter(loaded_db):
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception
    # Two fixture reports: Rowan Court (LS -> Yorkshire & Humberside) and Harbour View
    # (PL -> South West), each one assessment of one location by one provider.
    assert metric(at, "Assessments") == "2"
    assert metric(at, "Locations") == "2"
    # Rowan Court was assessed 3 March 2025, Harbour View 9 January 2025.
    assert metric(at, "Latest assessment") == "3 Mar 2025"
    # Key questions: Rowan 3 + Harbour 2 = 5 ratings, all of them scored.
    assert "9 January 2025 to 3 March 2025; 5 key question ratings, 5 with a score" in (
        at.caption[1].value
    )
    at.multiselect(key="region").select("South West").run()
    assert not at.exception
    assert metric(at, "Assessments") == "1"
    assert metric(at, "Providers") == "1"
    assert metric(at, "Latest assessment") == "9 Jan 2025"
    # No demo label on data loaded by the user.
    assert not any("Demo data" in i.value for i in at.info)


def test_overview_rating_table_counts_current_ratings(loaded_db):
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    shares = at.dataframe[0].value
    caring = shares[shares["key_question"] == "Caring"]
    # Only Rowan Court has Caring, rated Good: 1 of 1 rated location.
    assert caring[["key_question_rating", "count", "n"]].values.tolist() == [["Good", 1, 1]]


@pytest.fixture
def report_then_rating_file(db_path):
    """Rowan Court's report (assessed 3 Mar 2025: Safe 56, Caring 75, Well-led 50), then a
    rating file that names its CQC id and rates the same key questions again, without scores,
    in a later publication (1 Sep 2025); it also rates Elm Tree and Kestrel. (The fixture's
    own date, 20 May 2025, is the report's publication: a copy the loader does not store.)"""
    later = RATINGS_CSV.read_text(encoding="utf-8").replace("20/05/2025", "01/09/2025")
    con = database.connect(db_path, read_only=False)
    try:
        for name, data in ((ROWAN.name, ROWAN.read_bytes()), ("later.csv", later.encode())):
            store.load_files(con, [read_file(name, data)])
    finally:
        con.close()
    return db_path


def test_rating_file_row_counts_as_rated_and_the_report_keeps_its_scores(
    report_then_rating_file,
):
    db = report_then_rating_file
    # The report's location now sits under the CQC id, and its latest row of each key
    # question is the rating file's (ratings only).
    assert sql(db, f"""
        SELECT DISTINCT source FROM ({CURRENT}) WHERE location_id = '1-1000000404'
          AND key_question IN ('Safe', 'Caring', 'Well-led')
    """) == [("rating-file",)]  # fmt: skip
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    assert not at.exception

    # Rated: Rowan Court, Elm Tree and Kestrel, from every source.
    ((rated,),) = sql(db, f"SELECT count(DISTINCT location_id) FROM ({CURRENT})"
                          " WHERE key_question_rating IS NOT NULL")  # fmt: skip
    assert rated == 3
    assert any(f"All rated locations ({rated}), from every source." in c.value for c in at.caption)
    shares = at.dataframe[0].value
    safe = shares[shares["key_question"] == "Safe"]
    # Safe: Rowan Court Requires improvement (the file's row), Elm Tree and Kestrel Good
    assert safe[["key_question_rating", "count", "n"]].values.tolist() == [
        ["Requires improvement", 1, 3],
        ["Good", 2, 3],
    ]

    # Scored: Rowan Court's report still counts, with its three percentages.
    scored = sql(db, f"SELECT key_question_score FROM ({CURRENT_SCORED}) ORDER BY 1")
    assert scored == [(50,), (56,), (75,)]
    assert any("Scored assessments only: 1 location." in c.value for c in at.caption)
    bins = at.dataframe[1].value
    # Safe 56 in 55-59, Caring 75 in 75-79, Well-led 50 in 50-54 (framework order)
    assert bins[["key_question", "bin_start", "count"]].values.tolist() == [
        ["Safe", 55, 1],
        ["Caring", 75, 1],
        ["Well-led", 50, 1],
    ]

    # A region filter: only Kestrel (South West) is left, rated and never scored.
    ((region,),) = sql(db, "SELECT region FROM locations WHERE location_id = '1-1000000606'")
    at.multiselect(key="region").select(region).run()
    assert not at.exception
    assert any("All rated locations (1), from every source." in c.value for c in at.caption)
    assert any("Scored assessments only: 0 locations." in c.value for c in at.caption)
