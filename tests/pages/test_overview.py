"""Overview page: headline numbers, current ratings and percentages, and "what changed recently".

Checked against SQL on the demo database, and on databases of the project's fixtures.
"""

from __future__ import annotations

import pytest

from ingest import database, store
from ingest.files import read_file
from ingest.reference import RATINGS
from queries.filters import MIN_N
from tests.conftest import FIXTURES, REPORTS
from tests.helpers import keyed, metric, page, sql
from tests.pages.oracle import CURRENT, PAIRS
from ui import session

ROWAN = REPORTS / "rowan-court-three-key-questions.txt"
RATINGS_CSV = FIXTURES / "rating-files" / "latest-ratings-locations.csv"
# Each location's latest *scored* assessment of each key question (the score views' picture).
CURRENT_SCORED = CURRENT.replace(
    "FROM key_questions", "FROM key_questions WHERE key_question_score IS NOT NULL"
)


def recent_metric(at, key_question: str):
    return next(m for m in at.metric if m.label.split(" (")[0] == key_question)


def test_latest_quarter_against_the_one_before_in_a_region(use_demo_db):
    ((region,),) = sql(use_demo_db, """
        SELECT region FROM key_questions GROUP BY region ORDER BY count(*) DESC, region LIMIT 1
    """)  # fmt: skip
    at = page("overview").run()
    assert not at.exception
    at.multiselect(key="region").select(region).run()
    assert not at.exception
    # Latest quarter with at least MIN_N scored assessments in the region (else the latest
    # with any), and the calendar quarter before it.
    quarters = """
        SELECT key_question, date_trunc('quarter', assessment_date)::DATE AS quarter,
               avg(key_question_score) AS mean, count(DISTINCT assessment_id) AS n
        FROM key_questions WHERE region = $region AND key_question_score IS NOT NULL
        GROUP BY ALL
    """
    ((latest, previous),) = sql(use_demo_db, """
        WITH q AS (
            SELECT date_trunc('quarter', assessment_date)::DATE AS quarter,
                   count(DISTINCT assessment_id) AS n
            FROM key_questions WHERE region = $region AND key_question_score IS NOT NULL
            GROUP BY ALL),
        latest AS (SELECT coalesce(max(quarter) FILTER (n >= $min_n), max(quarter)) AS quarter
                   FROM q)
        SELECT quarter, quarter - INTERVAL 3 MONTH FROM latest
    """, {"region": region, "min_n": MIN_N})  # fmt: skip
    rows = sql(use_demo_db, f"""
        SELECT l.key_question, l.mean, l.n, l.mean - p.mean, least(l.n, p.n)
        FROM ({quarters}) l LEFT JOIN ({quarters}) p
          ON p.key_question = l.key_question AND p.quarter = $previous
        WHERE l.quarter = $latest
    """, {"region": region, "previous": previous.date(), "latest": latest})  # fmt: skip
    assert rows
    for key_question, mean, n, change, fewest in rows:
        shown = recent_metric(at, key_question)
        assert shown.value == f"{mean:.1f}%"
        assert shown.label.endswith("(few)") == (fewest is None or fewest < MIN_N)
        if change is not None:
            assert shown.delta == f"{change:+.1f} points"
        assert f"{n} assessments in Q" in shown.help
    # Ratings up and down among key questions re-assessed in the latest quarter.
    order = f"{list(RATINGS)!r}"  # worst to best
    ((up, down, reassessed),) = sql(use_demo_db, f"""
        SELECT count(*) FILTER (list_position({order}, key_question_rating)
                                > list_position({order}, from_rating)),
               count(*) FILTER (list_position({order}, key_question_rating)
                                < list_position({order}, from_rating)),
               count(*)
        FROM ({PAIRS}) WHERE region = ? AND from_assessment_id IS NOT NULL
          AND date_trunc('quarter', assessment_date) = ?
    """, [region, latest])  # fmt: skip
    assert any(f"{up} up, {down} down of {reassessed}." in c.value for c in at.caption), (
        "rating moves"
    )


@pytest.fixture
def loaded_db(db_path):
    con = database.connect(db_path, read_only=False)
    files = [read_file(p.name, p.read_bytes()) for p in sorted(REPORTS.glob("*.txt"))]
    store.load_files(con, files)
    con.close()
    return db_path


def test_overview_headline_numbers_follow_the_region_filter(loaded_db):
    at = page("overview").run()
    assert not at.exception
    # Two fixture reports: Rowan Court (LS -> Yorkshire & Humberside) and Harbour View
    # (PL -> South West), each one assessment of one location by one provider.
    assert metric(at, "Assessments") == "2"
    assert metric(at, "Locations") == "2"
    # Rowan Court was assessed 3 March 2025, Harbour View 9 January 2025.
    assert metric(at, "Latest assessment") == "3 Mar 2025"
    # Key questions: Rowan 3 + Harbour 2 = 5 ratings, all of them scored.
    assert any(
        "9 January 2025 to 3 March 2025; 5 key question ratings, 5 with a score" in c.value
        for c in at.caption
    )
    at.multiselect(key="region").select("South West").run()
    assert not at.exception
    assert metric(at, "Assessments") == "1"
    assert metric(at, "Providers") == "1"
    assert metric(at, "Latest assessment") == "9 Jan 2025"
    # No demo label on data loaded by the user.
    assert not any("Demo data" in i.value for i in at.info)


def test_overview_rating_table_counts_current_ratings(loaded_db):
    at = page("overview").run()
    shares = keyed(at, session.OVERVIEW_SHARES).value
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
    at = page("overview").run()
    assert not at.exception

    # Rated: Rowan Court, Elm Tree and Kestrel, from every source.
    ((rated,),) = sql(db, f"SELECT count(DISTINCT location_id) FROM ({CURRENT})"
                          " WHERE key_question_rating IS NOT NULL")  # fmt: skip
    assert rated == 3
    assert any(f"All rated locations ({rated}), from every source." in c.value for c in at.caption)
    shares = keyed(at, session.OVERVIEW_SHARES).value
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
    bins = keyed(at, session.OVERVIEW_BINS).value
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


# The map: each location's current rating (or percentage) at its coordinates ---------------

MAP_ROW = ("location_id", "key_question_rating", "key_question_score", "latitude", "longitude")


def test_the_map_places_an_icbs_current_ratings_at_their_coordinates(use_demo_db):
    db = use_demo_db
    ((icb,),) = sql(db, """
        SELECT icb_name FROM locations GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1
    """)  # fmt: skip
    at = page("overview").run()
    assert not at.exception
    at.multiselect(key="icb").select(icb).run()
    assert not at.exception
    # Oracle: the rated picture's current Safe of the ICB's locations, with the locations
    # table's coordinates (every demo location has them: its API location record's).
    expected = sql(db, f"""
        SELECT c.location_id, c.key_question_rating, c.key_question_score, l.latitude,
               l.longitude
        FROM ({CURRENT}) c JOIN locations l USING (location_id)
        WHERE c.key_question = 'Safe' AND c.icb_name = ? AND c.key_question_rating IS NOT NULL
    """, [icb])  # fmt: skip
    assert expected
    shown = keyed(at, session.OVERVIEW_MAP_ROWS).value
    assert sorted(_rows(shown, MAP_ROW)) == sorted(expected)
    assert set(shown["icb_name"]) == {icb} and set(shown["key_question"]) == {"Safe"}
    n = len({row[0] for row in expected})
    assert any(f"{n:,} of {n:,} locations have coordinates; 0 have none" in c.value
               and f"All rated locations ({n:,}), from every source." in c.value
               for c in at.caption)  # fmt: skip

    # Coloured by percentage: the scored picture, and Well-led instead of Safe.
    at.segmented_control(key=session.OVERVIEW_MAP_COLOUR).set_value("Percentage").run()
    at.selectbox(key=session.OVERVIEW_MAP_KEY_QUESTION).set_value("Well-led").run()
    assert not at.exception
    expected = sql(db, f"""
        SELECT c.location_id, c.key_question_rating, c.key_question_score, l.latitude,
               l.longitude
        FROM ({CURRENT_SCORED}) c JOIN locations l USING (location_id)
        WHERE c.key_question = 'Well-led' AND c.icb_name = ?
    """, [icb])  # fmt: skip
    shown = keyed(at, session.OVERVIEW_MAP_ROWS).value
    assert sorted(_rows(shown, MAP_ROW)) == sorted(expected)
    assert any("current Well-led percentage (its latest scored assessment)" in c.value
               for c in at.caption)  # fmt: skip


def test_locations_without_coordinates_are_counted_and_listed_not_drawn(loaded_db):
    # Two report text fixtures: report text gives no coordinates, so neither is drawn.
    at = page("overview").run()
    assert not at.exception
    shown = keyed(at, session.OVERVIEW_MAP_ROWS).value
    # Safe: Rowan Court only, 56 (Requires improvement); Harbour View has Effective and
    # Responsive.
    assert _rows(shown, ("location_name", *MAP_ROW[1:])) == [
        ("Rowan Court Nursing Home", "Requires improvement", 56, None, None)
    ]
    assert any("0 of 1 locations have coordinates; 1 has none" in c.value for c in at.caption)
    at.selectbox(key=session.OVERVIEW_MAP_KEY_QUESTION).set_value("Effective").run()
    shown = keyed(at, session.OVERVIEW_MAP_ROWS).value
    assert list(shown["location_name"]) == ["Harbour View Community Team"]


def _rows(frame, columns) -> list[tuple]:
    """The rows of a shown table as tuples, missing values as None (as DuckDB gives them)."""
    return [
        tuple(None if value != value else value for value in row)  # NaN is not equal to itself
        for row in frame[list(columns)].astype(object).itertuples(index=False)
    ]
