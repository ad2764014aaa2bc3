"""The current picture: latest assessment per location and key question, shares and summaries.

Frames used throughout (percentage = 100 x points / (4 x statements), half-up):
    L1 (P1, London, Care home)
        2024-05-01 Safe      8 x 3        = 24/32 = 75.0%   Good
        2025-02-01 Safe      4 x 4, 4 x 3 = 28/32 = 87.5%   Outstanding (on the edge), shown 88
        2024-05-01 Well-led  7 x 2        = 14/28 = 50.0%   Requires improvement
    L2 (P2, London, Care home): one assessment, no Well-led
        2025-01-10 Safe      8 x 2        = 16/32 = 50.0%   Requires improvement
    L3 (P2, North East, Homecare)
        2023-01-01 Caring    rated Good, no scores (pre-SAF)
        2025-01-10 Safe      8 x 3        = 24/32 = 75.0%   Good
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queries.current import (
    current,
    latest_key_questions,
    percentage_summary,
    rating_shares,
)
from queries.filters import Filters
from queries.frames import ERA, KEY_QUESTION, RATING
from tests.queries.builders import build, kq, rows

D = dt.date
NE = {"provider": "P2", "region": "North East", "service_type": "Homecare"}
FRAMES = build(
    kq("L1", "2024-05-01", "Safe", [3] * 8),
    kq("L1", "2025-02-01", "Safe", [4] * 4 + [3] * 4),
    kq("L1", "2024-05-01", "Well-led", [2] * 7),
    kq("L2", "2025-01-10", "Safe", [2] * 8, provider="P2"),
    kq("L3", "2023-01-01", "Caring", rating="Good", **NE),
    kq("L3", "2025-01-10", "Safe", [3] * 8, **NE),
)
KQ = FRAMES.key_questions
PICK = (
    "location_id",
    "key_question",
    "assessment_date",
    "key_question_rating",
    "key_question_score",
)


def test_latest_takes_each_key_questions_own_latest_assessment():
    # L1's Safe comes from 2025 but its Well-led from 2024; rows sorted by location, key question
    assert rows(latest_key_questions(KQ), *PICK) == [
        ("L1", "Safe", D(2025, 2, 1), "Outstanding", 88),
        ("L1", "Well-led", D(2024, 5, 1), "Requires improvement", 50),
        ("L2", "Safe", D(2025, 1, 10), "Requires improvement", 50),  # single assessment
        ("L3", "Safe", D(2025, 1, 10), "Good", 75),
        ("L3", "Caring", D(2023, 1, 1), "Good", None),  # ratings only: still current
    ]


def test_latest_key_questions_schema():
    assert latest_key_questions(KQ).schema == pl.Schema(
        {
            "location_id": pl.Categorical(),
            "location_name": pl.Categorical(),
            "provider_id": pl.Categorical(),
            "provider_name": pl.Categorical(),
            "service_type": pl.Categorical(),
            "region": pl.Categorical(),
            "assessment_id": pl.Categorical(),
            "assessment_date": pl.Date,
            "era": ERA,
            "key_question": KEY_QUESTION,
            "key_question_rating": RATING,
            "key_question_score": pl.Int32,
            "points": pl.Int32,
            "statements_scored": pl.Int32,
        }
    )


def test_date_to_gives_the_picture_as_it_stood():
    # at 2024-12-31: L1 Safe is still the 2024 assessment; L2 and L3's Safe not yet assessed
    as_at = latest_key_questions(KQ, filters=Filters(date_to=D(2024, 12, 31)))
    assert rows(as_at, *PICK) == [
        ("L1", "Safe", D(2024, 5, 1), "Good", 75),
        ("L1", "Well-led", D(2024, 5, 1), "Requires improvement", 50),
        ("L3", "Caring", D(2023, 1, 1), "Good", None),
    ]


def test_date_from_drops_current_assessments_older_than_it():
    recent = latest_key_questions(KQ, filters=Filters(date_from=D(2024, 6, 1)))
    # L1 Well-led (2024-05-01) and L3 Caring (2023) are current but older than 2024-06-01;
    # L1's 2024 Safe is not brought back
    assert rows(recent, "location_id", "key_question", "assessment_date") == [
        ("L1", "Safe", D(2025, 2, 1)),
        ("L2", "Safe", D(2025, 1, 10)),
        ("L3", "Safe", D(2025, 1, 10)),
    ]


def test_rating_filter_picks_among_current_ratings():
    # L1 was Good for Safe in 2024 but is Outstanding now: not "currently Good"
    good = latest_key_questions(KQ, filters=Filters(ratings=("Good",)))
    assert rows(good, "location_id", "key_question") == [("L3", "Safe"), ("L3", "Caring")]


def test_ties_on_date_go_to_later_published_then_larger_id():
    frames = build(
        kq("L9", "2025-01-01", "Safe", [1] * 8, assessment="a-2", published="2025-01-15"),
        kq("L9", "2025-01-01", "Safe", [4] * 8, assessment="a-1", published="2025-02-01"),
        kq("L8", "2025-01-01", "Safe", [1] * 8, assessment="b-1"),
        kq("L8", "2025-01-01", "Safe", [4] * 8, assessment="b-2"),
    )
    latest = latest_key_questions(frames.key_questions)
    # L8: same publication date, so the larger id b-2; L9: a-1 was published later
    assert rows(latest, "location_id", "assessment_id") == [("L8", "b-2"), ("L9", "a-1")]
    # the scores frame agrees: only the current assessment's 8 statements
    assert current(frames.scores).collect()["assessment_id"].unique().sort().to_list() == [
        "a-1",
        "b-2",
    ]


def test_rating_shares_overall():
    # current Safe: L1 Outstanding, L2 Requires improvement, L3 Good -> 1 of 3 each
    assert rows(rating_shares(KQ)) == [
        ("Safe", "Requires improvement", 1, 3, pytest.approx(1 / 3), True),
        ("Safe", "Good", 1, 3, pytest.approx(1 / 3), True),
        ("Safe", "Outstanding", 1, 3, pytest.approx(1 / 3), True),
        ("Caring", "Good", 1, 1, 1.0, True),
        ("Well-led", "Requires improvement", 1, 1, 1.0, True),
    ]


def test_rating_shares_min_n_flags_small_groups():
    flags = rating_shares(KQ, min_n=3).select("key_question", "low_n").unique(maintain_order=True)
    # Safe rests on 3 locations (3 < 3 is false); Caring and Well-led on 1
    assert flags.rows() == [("Safe", False), ("Caring", True), ("Well-led", True)]


def test_rating_shares_by_region():
    shares = rating_shares(KQ, by="region")
    assert shares.columns == [
        "region",
        "key_question",
        "key_question_rating",
        "count",
        "n",
        "share",
        "low_n",
    ]
    # London Safe: L1 Outstanding + L2 Requires improvement = 2 locations
    assert rows(shares, "region", "key_question", "key_question_rating", "count", "n") == [
        ("London", "Safe", "Requires improvement", 1, 2),
        ("London", "Safe", "Outstanding", 1, 2),
        ("London", "Well-led", "Requires improvement", 1, 1),
        ("North East", "Safe", "Good", 1, 1),
        ("North East", "Caring", "Good", 1, 1),
    ]


def test_rating_shares_schema_and_empty_selection():
    empty = rating_shares(KQ, filters=Filters(regions=("Nowhere",)), by="provider")
    assert empty.height == 0
    assert empty.schema == pl.Schema(
        {
            "provider_id": pl.Categorical(),
            "provider_name": pl.Categorical(),
            "key_question": KEY_QUESTION,
            "key_question_rating": RATING,
            "count": pl.UInt32,
            "n": pl.UInt32,
            "share": pl.Float64,
            "low_n": pl.Boolean,
        }
    )


def test_percentage_summary():
    summary = percentage_summary(KQ)
    # Safe now: 88, 50, 75 -> sorted 50, 75, 88; mean 213 / 3 = 71
    # linear quartiles: p25 at position 0.5 -> 50 + 0.5 x 25 = 62.5; p75 at 1.5 -> 75 + 0.5 x 13
    # Caring has no percentage, so it has no row
    assert rows(summary) == [
        ("Safe", 3, 71.0, 50, 62.5, 75.0, 81.5, 88, True),
        ("Well-led", 1, 50.0, 50, 50.0, 50.0, 50.0, 50, True),
    ]
    assert summary.columns == [
        "key_question",
        "n",
        "mean",
        "min",
        "p25",
        "median",
        "p75",
        "max",
        "low_n",
    ]


def test_percentage_summary_by_provider_and_min_n():
    summary = percentage_summary(KQ, by="provider_id", min_n=2)
    # P2 runs L2 (50) and L3 (75): mean 62.5 over 2 locations, not low at min_n 2
    p2 = summary.filter(pl.col("provider_id") == "P2").row(0, named=True)
    assert (p2["n"], p2["mean"], p2["median"], p2["low_n"]) == (2, 62.5, 62.5, False)
    assert summary.filter(pl.col("provider_id") == "P1")["low_n"].to_list() == [True, True]


def test_current_as_at_a_date_takes_what_was_published_by_then():
    # L1's 2025 Safe was assessed on 10 January but published on 1 March: in the picture as at
    # 1 February the 2024 Safe (published on 1 June 2024) is still current; as at 1 March, 2025's
    frames = build(
        kq("L1", "2024-05-01", "Safe", [3] * 8, published="2024-06-01"),
        kq("L1", "2025-01-10", "Safe", [2] * 8, published="2025-03-01"),
        kq("L2", "2025-01-20", "Safe", [4] * 8),  # published the day it was assessed
    )
    for frame in (frames.key_questions, frames.scores):
        for as_of, expected in (
            (D(2024, 5, 31), []),  # assessed, not yet published
            (D(2025, 2, 1), [("L1", D(2024, 5, 1)), ("L2", D(2025, 1, 20))]),
            (D(2025, 3, 1), [("L1", D(2025, 1, 10)), ("L2", D(2025, 1, 20))]),
        ):
            got = current(frame, as_of=as_of).select("location_id", "assessment_date")
            assert sorted(got.unique().collect().rows()) == expected, (as_of, frame.columns)
    scored = latest_key_questions(
        frames.key_questions, filters=Filters(date_to=D(2025, 2, 1)), scored=True
    )
    assert rows(scored, "location_id", "key_question_score") == [("L1", 75), ("L2", 100)]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["L1", "L2"]),
            st.sampled_from(["Safe", "Caring"]),
            st.integers(0, 6),  # assessment day offset
            st.integers(0, 2),  # published day offset
            st.sampled_from(["a", "b", "c"]),  # id suffix, for ties
        ),
        min_size=1,
        max_size=12,
        unique_by=lambda r: (r[0], r[1], r[2], r[4]),
    ),
    st.integers(0, 7),
)
def test_current_matches_a_brute_force_latest(assessments, as_of_offset):
    start = D(2025, 1, 1)
    made = [
        kq(
            loc,
            (start + dt.timedelta(day)).isoformat(),
            question,
            [3],
            assessment=f"{loc}-{day}-{suffix}",
            published=(start + dt.timedelta(day + pub)).isoformat(),
        )
        for loc, question, day, pub, suffix in assessments
    ]
    as_of = start + dt.timedelta(as_of_offset)
    latest: dict[tuple[str, str], tuple] = {}
    for row in made:  # what had been published by as_of (the rule of queries.current)
        if row["published_date"] <= as_of:
            order = (row["assessment_date"], row["published_date"], row["assessment_id"])
            slot = (row["location_id"], row["key_question"])
            latest[slot] = max(latest.get(slot, order), order)
    expected = sorted((loc, question, order[2]) for (loc, question), order in latest.items())
    frames = build(*made)
    for frame in (frames.key_questions, frames.scores):
        got = current(frame, as_of=as_of).select("location_id", "key_question", "assessment_id")
        assert sorted(got.unique().collect().rows()) == expected
