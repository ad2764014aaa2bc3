"""Distance to the next band, on the exact fraction points / (4 x statements)."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.reference import RATINGS, rating_for
from queries.bands import band_of, band_table, distance_to_next_band
from queries.filters import Filters
from queries.frames import KEY_QUESTION, RATING
from tests.queries.builders import build, kq, rows


def entry(statements: int, points: int) -> tuple:
    table = band_table().filter(
        pl.col("statements_scored") == statements, pl.col("points") == points
    )
    return table.select("band", "next_band", "points_to_next_band", "points_to_spare").row(0)


@pytest.mark.parametrize(
    ("statements", "points", "expected"),
    [
        # 26/32 = 81.25% Good; Outstanding needs 87.5% = 28 points (+2); Good holds down to
        # 62.5% = 20 points (26 - 20 = 6 to spare)
        (8, 26, ("Good", "Outstanding", 2, 6)),
        # the seed report: 23/28 = 82.1% Good; Outstanding needs 0.875 x 28 = 24.5 -> 25 (+2);
        # Good needs 0.625 x 28 = 17.5 -> 18 (23 - 18 = 5)
        (7, 23, ("Good", "Outstanding", 2, 5)),
        # exactly on the edge: 28/32 = 87.5% is Outstanding, nothing to spare
        (8, 28, ("Outstanding", None, None, 0)),
        # all 4s: Outstanding; 32 - 28 = 4 to spare
        (8, 32, ("Outstanding", None, None, 4)),
        # 12/32 = 37.5% is Inadequate (the band above starts above 37.5%); 13/32 = 40.6%
        # is Requires improvement (+1); it can fall to all 1s: 12 - 8 = 4
        (8, 12, ("Inadequate", "Requires improvement", 1, 4)),
        # 20/32 = 62.5% Good on the edge: Requires improvement one point below
        (8, 20, ("Good", "Outstanding", 8, 0)),
        # one statement scored 1: 25%; a 2 is 50%, Requires improvement
        (1, 1, ("Inadequate", "Requires improvement", 1, 0)),
        # one statement scored 3: 75% Good; 4 is 100% Outstanding; 2 would be 50%
        (1, 3, ("Good", "Outstanding", 1, 0)),
    ],
)
def test_band_table_by_hand(statements, points, expected):
    assert entry(statements, points) == expected


@given(st.integers(1, 12).flatmap(lambda n: st.tuples(st.just(n), st.integers(n, 4 * n))))
def test_band_table_agrees_with_reference_rating_for(case):
    n, p = case
    band, next_band, up, spare = entry(n, p)
    assert band == rating_for(p, n)
    better = [
        k
        for k in range(1, 4 * n - p + 1)
        if RATINGS.index(rating_for(p + k, n)) > RATINGS.index(band)
    ]
    assert up == (better[0] if better else None)
    assert next_band == (rating_for(p + up, n) if up else None)
    assert spare == max(k for k in range(p - n + 1) if rating_for(p - k, n) == band)


FRAMES = build(
    kq("L1", "2024-01-01", "Safe", [2] * 8),  # superseded
    kq("L1", "2025-01-01", "Safe", [4, 4, 3, 3, 3, 3, 3, 3]),  # 26/32
    kq("L1", "2025-01-01", "Well-led", [4, 3, 3, 3, 3, 3, 4], stated=82),  # the seed: 23/28
    kq("L2", "2025-01-01", "Safe", [4] * 7 + [3], rating="Outstanding"),  # 31/32
    kq("L2", "2025-01-01", "Caring", rating="Good"),  # ratings only: no distance
)


def test_distance_to_next_band_for_current_key_questions():
    distance = distance_to_next_band(FRAMES.key_questions)
    assert rows(
        distance,
        "location_id",
        "key_question",
        "points",
        "statements_scored",
        "exact_percentage",
        "band",
        "next_band",
        "points_to_next_band",
        "points_to_spare",
    ) == [
        ("L1", "Safe", 26, 8, 81.25, "Good", "Outstanding", 2, 6),
        ("L1", "Well-led", 23, 7, pytest.approx(2300 / 28), "Good", "Outstanding", 2, 5),
        # 31/32 = 96.9%: Outstanding holds down to 28 points, 3 to spare
        ("L2", "Safe", 31, 8, 96.875, "Outstanding", None, None, 3),
    ]


def test_distance_to_next_band_schema_and_filters():
    distance = distance_to_next_band(FRAMES.key_questions, filters=Filters(locations=("L2",)))
    assert distance.schema == pl.Schema(
        {
            "location_id": pl.Categorical(),
            "location_name": pl.Categorical(),
            "provider_id": pl.Categorical(),
            "provider_name": pl.Categorical(),
            "key_question": KEY_QUESTION,
            "assessment_id": pl.Categorical(),
            "assessment_date": pl.Date,
            "key_question_rating": RATING,
            "key_question_score": pl.Int32,
            "points": pl.Int32,
            "statements_scored": pl.Int32,
            "exact_percentage": pl.Float64,
            "band": RATING,
            "next_band": RATING,
            "points_to_next_band": pl.Int32,
            "points_to_spare": pl.Int32,
        }
    )
    assert distance.height == 1


def test_band_of_rounds_half_up_then_bands_the_percentage():
    medians = pl.DataFrame({"median": [38.4, 38.5, 62.49, 62.5, 87.5, 100.0, 24.0, None]})
    # 38.4 -> 38 (up to 38 Inadequate); 38.5 -> 39 Requires improvement; 62.49 -> 62 still
    # Requires improvement; 62.5 -> 63 Good; 87.5 -> 88 Outstanding; 100 Outstanding;
    # 24 is below the lowest percentage a key question can have (all 1s = 25%): no band
    banded = medians.select(band_of("median"))
    assert banded.schema == pl.Schema({"band": RATING})
    assert rows(banded) == [
        ("Inadequate",),
        ("Requires improvement",),
        ("Requires improvement",),
        ("Good",),
        ("Outstanding",),
        ("Outstanding",),
        (None,),
        (None,),
    ]
