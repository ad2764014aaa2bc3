"""Where the selected locations are: the map's rows.

Safe (8 statements scored alike; dates 2025-01-01 unless said):
    L1 London      2024: 8 x 3 = 75 Good; 2025: 8 x 2 = 50 Requires improvement (current)
    L2 London      2024: 8 x 4 = 100 Outstanding; 2025: rated Good without scores (a
                   ratings-only copy): the rated picture's Good, the scored picture's 100
    L3 London      8 x 1 = 25 Inadequate; no coordinates known
    L4 London      Caring only (5 x 3 = 75): no Safe row
    L5 London      8 x 3, deregistered: out of every current picture
    L6 North East  8 x 4 = 100 Outstanding
Coordinates (the locations table): L1 53.80 N 1.55 W, L2 51.50 N 0.10 W, L3 none, L5 and L6
given; L9 is a location with no assessment at all.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from queries.filters import Filters
from queries.places import location_places
from tests.queries.builders import build, kq, rows

FRAMES = build(
    kq("L1", "2024-01-01", "Safe", [3] * 8),
    kq("L1", "2025-01-01", "Safe", [2] * 8),
    kq("L2", "2024-01-01", "Safe", [4] * 8),
    kq("L2", "2025-01-01", "Safe", rating="Good"),
    kq("L3", "2025-01-01", "Safe", [1] * 8),
    kq("L4", "2025-01-01", "Caring", [3] * 5),
    kq("L5", "2025-01-01", "Safe", [3] * 8, registration="Deregistered"),
    kq("L6", "2025-01-01", "Safe", [4] * 8, region="North East"),
)
LOCATIONS = pl.LazyFrame(
    {
        "location_id": ["L1", "L2", "L3", "L5", "L6", "L9"],
        "latitude": [53.80, 51.50, None, 52.0, 54.97, 50.0],
        "longitude": [-1.55, -0.10, None, -1.0, -1.61, -4.0],
    }
)
SHOWN = ("location_id", "key_question_rating", "key_question_score", "latitude", "longitude")


def test_the_rated_picture_with_coordinates_where_known():
    result = location_places(FRAMES.key_questions, LOCATIONS, key_question="Safe")
    assert rows(result, *SHOWN) == [
        ("L1", "Requires improvement", 50, 53.80, -1.55),  # the 2025 assessment, not 2024's
        ("L2", "Good", None, 51.50, -0.10),  # the ratings-only copy is the latest rating
        ("L3", "Inadequate", 25, None, None),  # no coordinates: kept, null
        ("L6", "Outstanding", 100, 54.97, -1.61),
    ]  # L4 has no Safe, L5 is deregistered, L9 has no assessment
    assert result.columns[-2:] == ["latitude", "longitude"]
    assert set(result["key_question"].cast(pl.String)) == {"Safe"}


def test_the_scored_picture_takes_the_latest_percentage():
    result = location_places(FRAMES.key_questions, LOCATIONS, key_question="Safe", scored=True)
    assert rows(result, *SHOWN) == [
        ("L1", "Requires improvement", 50, 53.80, -1.55),
        ("L2", "Outstanding", 100, 51.50, -0.10),  # 2024's 100: its latest with a percentage
        ("L3", "Inadequate", 25, None, None),
        ("L6", "Outstanding", 100, 54.97, -1.61),
    ]


def test_the_sidebar_filters_and_the_switches_apply():
    london = Filters(regions=("London",))
    result = location_places(FRAMES.key_questions, LOCATIONS, key_question="Safe", filters=london)
    assert result["location_id"].cast(pl.String).to_list() == ["L1", "L2", "L3"]
    # As at the end of 2024: L1 and L2 as assessed in 2024, the others not yet assessed.
    before = Filters(date_to=dt.date(2024, 12, 31))
    result = location_places(FRAMES.key_questions, LOCATIONS, key_question="Safe", filters=before)
    assert rows(result, "location_id", "key_question_score") == [("L1", 75), ("L2", 100)]
    # The sidebar's key question choice does not change which key question the map shows.
    caring_too = Filters(key_questions=("Safe", "Caring"), include_deregistered=True)
    result = location_places(
        FRAMES.key_questions, LOCATIONS, key_question="Caring", filters=caring_too
    )
    assert rows(result, "location_id", "key_question_score", "latitude") == [("L4", 75, None)]
    deregistered = location_places(
        FRAMES.key_questions, LOCATIONS, key_question="Safe", filters=caring_too
    )
    assert "L5" in deregistered["location_id"].cast(pl.String).to_list()
