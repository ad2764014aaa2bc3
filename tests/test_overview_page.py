"""AppTest of the Overview page on a real database built from the project's fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ingest import store
from tests.conftest import REPORTS

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "overview.py")


@pytest.fixture
def loaded_db(db_path):
    con = store.connect(db_path)
    files = [store.read_file(p.name, p.read_bytes()) for p in sorted(REPORTS.glob("*.txt"))]
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
    at.multiselect(key="region").select("South West").run()
    assert not at.exception
    assert metric(at, "Assessments") == "1"
    assert metric(at, "Providers") == "1"
    # No demo label on data loaded by the user.
    assert not any("Demo data" in i.value for i in at.info)


def test_overview_rating_table_counts_current_ratings(loaded_db):
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    shares = at.dataframe[0].value
    caring = shares[shares["key_question"] == "Caring"]
    # Only Rowan Court has Caring, rated Good: 1 of 1 rated location.
    assert caring[["key_question_rating", "count", "n"]].values.tolist() == [["Good", 1, 1]]
