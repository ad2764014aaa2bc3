"""One location: search, its key questions with their band arithmetic, history and statements.

L1 2024-03-01  Safe    3 + 3 = 6/8 = 75%  Good: Outstanding at 7/8 (+1), Good down to 5/8 (1 spare)
   2025-03-01  Safe    4 + 3 = 7/8 = 87.5% Outstanding: top band, none spare (6/8 is Good)
               Caring  rated Good, no scores
L2 2025-01-01  Safe    2 + 2 = 4/8 = 50%, in the East
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from queries.filters import ALL, Filters
from queries.locations import (
    EVIDENCE_SCHEMA,
    assessment_history,
    assessment_statements,
    location_key_questions,
    matching_locations,
    selectable_locations,
)
from tests.queries.builders import build, kq, rows

D = dt.date
FRAMES = build(
    kq("L1", "2024-03-01", "Safe", [3, 3]),
    kq("L1", "2025-03-01", "Safe", [4, 3]),
    kq("L1", "2025-03-01", "Caring", rating="Good"),
    kq("L2", "2025-01-01", "Safe", [2, 2], region="East"),
)
BANDS = ("band", "next_band", "points_to_next_band", "points_to_spare")


@pytest.fixture
def places() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "location_id": ["1-101", "x-abc", "1-202"],
            "cqc_location_id": ["1-101", None, "1-202"],
            "location_name": ["Oak House", "Care at Oakwood", "Birch Care Home"],
            "postcode": ["LS6 2QT", "PL1 1AA", "LS6 9ZZ"],
        }
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("oak", ["x-abc", "1-101"]),  # 'Oak House' starts with it, but both are name matches
        ("  OAK   house ", ["1-101"]),  # case and spacing ignored
        ("ls62qt", ["1-101"]),  # postcode without its space
        ("ls6", ["1-202", "1-101"]),  # by name among equal ranks
        ("1-202", ["1-202"]),  # an id
        ("", []),
    ],
)
def test_matching_locations_by_name_postcode_or_id(places, text, expected):
    found = matching_locations(places, text)["location_id"].to_list()
    assert sorted(found) == sorted(expected)
    if text.strip() == "1-202":
        assert found[0] == "1-202"


def test_matching_locations_ranks_an_exact_id_then_names_starting_with_the_text(places):
    places = places.with_columns(location_name=pl.Series(["Oak House", "An Oak", "1-101 Club"]))
    assert matching_locations(places, "1-101")["location_id"].to_list() == ["1-101", "1-202"]
    assert matching_locations(places, "oak")["location_id"].to_list() == ["1-101", "x-abc"]
    within = pl.Series(["x-abc"])
    assert matching_locations(places, "oak", within=within)["location_id"].to_list() == ["x-abc"]
    assert matching_locations(places, "").columns == ["location_id", "location_name", "postcode"]


def test_selectable_locations():
    assert selectable_locations(FRAMES.key_questions, ALL) is None  # no filter: no narrowing
    east = selectable_locations(FRAMES.key_questions, Filters(regions=("East",)))
    assert east.to_list() == ["L2"]
    since = selectable_locations(FRAMES.key_questions, Filters(date_from=D(2025, 1, 1)))
    assert sorted(since) == ["L1", "L2"]


def test_location_key_questions_latest_first_with_band_arithmetic():
    found = location_key_questions(FRAMES.key_questions, "L1")
    assert rows(found, "assessment_date", "key_question", "key_question_score", *BANDS) == [
        (D(2025, 3, 1), "Safe", 88, "Outstanding", None, None, 0),
        (D(2025, 3, 1), "Caring", None, None, None, None, None),  # ratings only
        (D(2024, 3, 1), "Safe", 75, "Good", "Outstanding", 1, 1),
    ]
    assert found.schema["band"] == pl.String
    assert location_key_questions(FRAMES.key_questions, "L9").height == 0


def test_assessment_history_one_row_per_assessment():
    history = assessment_history(location_key_questions(FRAMES.key_questions, "L1"))
    # 7/8 = 87.5% is published as 88% (half-up); the 2024 assessment did not cover Caring
    assert history.rows() == [
        (D(2025, 3, 1), "SAF by statement", "88% Outstanding", "Good (no score)", "L1@2025-03-01"),
        (D(2024, 3, 1), "SAF by evidence category", "75% Good", "not assessed", "L1@2024-03-01"),
    ]
    assert history.columns == ["assessment_date", "era", "Safe", "Caring", "assessment_id"]


def test_assessment_statements_in_published_order_with_evidence():
    texts = pl.DataFrame(
        [
            ("L1@2025-03-01", "Safe", 2, "Learning culture", "Lessons shared."),
            ("L1@2025-03-01", "Safe", 1, "Safe systems, pathways and transitions", "Smooth."),
            ("L1@2024-03-01", "Safe", 1, "Learning culture", "Another assessment's text."),
        ],
        schema=EVIDENCE_SCHEMA,
        orient="row",
    )
    shown = assessment_statements(FRAMES.scores, texts, "L1@2025-03-01", "Safe")
    # published positions put statement 2 first; scores 4 (statement 1) and 3 (statement 2)
    assert shown.rows() == [
        ("Safe systems, pathways and transitions", 3, "Smooth."),
        ("Learning culture", 4, "Lessons shared."),
    ]
    without = assessment_statements(FRAMES.scores, None, "L1@2025-03-01", "Safe")
    assert without.rows() == [
        ("Learning culture", 4, None),
        ("Safe systems, pathways and transitions", 3, None),
    ]
