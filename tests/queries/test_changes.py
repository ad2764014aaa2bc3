"""Change between consecutive assessments of a key question at a location.

L1 Safe      2024-03-01  8 x 3         = 24/32 = 75%  Good
             2025-03-01  4 x 4 + 4 x 3 = 28/32 = 88%  Outstanding      +13 improved
             2025-09-01  4 x 4 + 4 x 3 = 28/32 = 88%  Outstanding        0 unchanged
L2 Safe      2025-01-01  8 x 2: a single assessment, no change
L3 Caring    2022-06-01  rated Requires improvement, no scores
             2025-01-01  5 x 3 = 15/20 = 75%  Good      rating change only
L4 Well-led  2024-06-01  7 x 3 = 21/28 = 75%  Good
             2025-06-01  7 x 2 = 14/28 = 50%  Requires improvement  -25 declined
"""

from __future__ import annotations

import datetime as dt
import itertools

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queries.changes import (
    DIRECTION,
    change_bins,
    change_counts,
    key_question_changes,
    rating_transitions,
    statement_change_counts,
    statement_changes,
)
from queries.filters import Filters
from queries.frames import KEY_QUESTION, RATING
from tests.queries.builders import build, kq, rows

D = dt.date
FRAMES = build(
    kq("L1", "2024-03-01", "Safe", [3] * 8),
    kq("L1", "2025-03-01", "Safe", [4] * 4 + [3] * 4),
    kq("L1", "2025-09-01", "Safe", [4] * 4 + [3] * 4),
    kq("L2", "2025-01-01", "Safe", [2] * 8),
    kq("L3", "2022-06-01", "Caring", rating="Requires improvement"),
    kq("L3", "2025-01-01", "Caring", [3] * 5),
    kq("L4", "2024-06-01", "Well-led", [3] * 7, provider="P2"),
    kq("L4", "2025-06-01", "Well-led", [2] * 7, provider="P2"),
)
KQ, SCORES = FRAMES.key_questions, FRAMES.scores
RI, OUT = "Requires improvement", "Outstanding"


def test_key_question_changes():
    changes = key_question_changes(KQ)
    columns = ("location_id", "key_question", "from_date", "to_date", "from_rating", "to_rating")
    assert rows(changes, *columns, "from_score", "to_score", "change", "direction") == [
        ("L1", "Safe", D(2024, 3, 1), D(2025, 3, 1), "Good", OUT, 75, 88, 13, "improved"),
        ("L1", "Safe", D(2025, 3, 1), D(2025, 9, 1), OUT, OUT, 88, 88, 0, "unchanged"),
        ("L3", "Caring", D(2022, 6, 1), D(2025, 1, 1), RI, "Good", None, 75, None, None),
        ("L4", "Well-led", D(2024, 6, 1), D(2025, 6, 1), "Good", RI, 75, 50, -25, "declined"),
    ]
    assert changes["from_assessment_id"][0] == "L1@2024-03-01"
    assert changes["to_assessment_id"][0] == "L1@2025-03-01"


def test_change_bins_of_scored_changes():
    # +13 -> floor(13 / 5) x 5 = 10, bin [10, 15); 0 -> [0, 5); -25 -> [-25, -20);
    # L3's rating-only change has no bin
    bins = change_bins(key_question_changes(KQ), step=5)
    assert rows(bins, "change_from", "change_to", "direction", "count") == [
        (-25, -20, "declined", 1),
        (0, 5, "unchanged", 1),
        (10, 15, "improved", 1),
    ]
    assert bins.schema["direction"] == pl.String


def test_key_question_changes_schema():
    assert key_question_changes(KQ).schema == pl.Schema(
        {
            "location_id": pl.Categorical(),
            "location_name": pl.Categorical(),
            "provider_id": pl.Categorical(),
            "provider_name": pl.Categorical(),
            "key_question": KEY_QUESTION,
            "from_assessment_id": pl.Categorical(),
            "from_date": pl.Date,
            "from_rating": RATING,
            "from_score": pl.Int32,
            "to_assessment_id": pl.Categorical(),
            "to_date": pl.Date,
            "to_rating": RATING,
            "to_score": pl.Int32,
            "change": pl.Int32,
            "direction": DIRECTION,
        }
    )


def test_filters_select_changes_by_their_later_assessment():
    # from 2025-06-01: L1's second change (to 2025-09-01) and L4's (to 2025-06-01), even though
    # their earlier assessments fall before the range
    recent = key_question_changes(KQ, filters=Filters(date_from=D(2025, 6, 1)))
    assert rows(recent, "location_id", "from_date", "to_date") == [
        ("L1", D(2025, 3, 1), D(2025, 9, 1)),
        ("L4", D(2024, 6, 1), D(2025, 6, 1)),
    ]
    # a rating filter keeps changes into that rating
    into_outstanding = key_question_changes(KQ, filters=Filters(ratings=("Outstanding",)))
    assert rows(into_outstanding, "to_date") == [(D(2025, 3, 1),), (D(2025, 9, 1),)]


def test_change_counts():
    # Safe: +13 and 0 -> 1 improved, 1 unchanged, mean 6.5; Well-led: -25
    # Caring's change has no percentage on one side, so it is not counted
    assert rows(change_counts(KQ, min_n=2)) == [
        ("Safe", 1, 1, 0, 2, 6.5, False),
        ("Well-led", 0, 0, 1, 1, -25.0, True),
    ]
    by_provider = change_counts(KQ, by="provider_id")
    assert by_provider.columns[:3] == ["provider_id", "provider_name", "key_question"]
    assert rows(by_provider, "provider_id", "key_question", "n") == [
        ("P1", "Safe", 2),
        ("P2", "Well-led", 1),
    ]


def test_rating_transitions():
    # every change with a rating on both sides, Caring's included
    assert rows(rating_transitions(KQ)) == [
        ("Safe", "Good", "Outstanding", 1, 2, 0.5, True),
        ("Safe", "Outstanding", "Outstanding", 1, 2, 0.5, True),
        ("Caring", RI, "Good", 1, 1, 1.0, True),
        ("Well-led", "Good", RI, 1, 1, 1.0, True),
    ]


# Safe, four statements each; the later assessment's region and service type are the pair's.
#   A London     Care home  2024-01-01 4 x 3 = 12/16 = 75% Good
#                           2025-01-01 3 x 4 + 3 = 15/16 = 93.75 -> 94% Outstanding  +19
#   B North East Home care  2024-02-01 12/16 = 75% Good
#                           2025-02-01 2 + 2 + 3 + 3 = 10/16 = 62.5 -> 63% Good (exactly 5/8)  -12
#   C North East Care home  2024-03-01 75% Good, 2025-03-01 75% Good  0
PLACES = build(
    kq("A", "2024-01-01", "Safe", [3, 3, 3, 3]),
    kq("A", "2025-01-01", "Safe", [4, 4, 4, 3]),
    *(
        kq("B", date, "Safe", s, region="North East", service_type="Home care")
        for date, s in (("2024-02-01", [3, 3, 3, 3]), ("2025-02-01", [2, 2, 3, 3]))
    ),
    *(
        kq("C", date, "Safe", [3, 3, 3, 3], region="North East")
        for date in ("2024-03-01", "2025-03-01")
    ),
)


def test_change_counts_by_region():
    counts = change_counts(PLACES.key_questions, by="region")
    # London: A +19 -> 1 improved, mean 19; North East: B -12 and C 0 -> mean (-12 + 0) / 2 = -6
    assert rows(counts) == [
        ("London", "Safe", 1, 0, 0, 1, 19.0, True),
        ("North East", "Safe", 0, 1, 1, 2, -6.0, True),
    ]


def test_change_counts_by_service_type():
    counts = change_counts(PLACES.key_questions, by="service_type", min_n=2)
    # Care home: A +19 and C 0 -> mean (19 + 0) / 2 = 9.5; Home care: B -12
    assert rows(counts) == [
        ("Care home", "Safe", 1, 1, 0, 2, 9.5, False),
        ("Home care", "Safe", 0, 0, 1, 1, -12.0, True),
    ]


def test_rating_transitions_by_region_and_service_type():
    by_region = rating_transitions(PLACES.key_questions, by="region")
    # London: A Good -> Outstanding, 1 of 1; North East: B and C Good -> Good, 2 of 2
    assert rows(by_region) == [
        ("London", "Safe", "Good", "Outstanding", 1, 1, 1.0, True),
        ("North East", "Safe", "Good", "Good", 2, 2, 1.0, True),
    ]
    by_service = rating_transitions(PLACES.key_questions, by="service_type")
    # Care home: C Good -> Good and A Good -> Outstanding, 1 of 2 each; Home care: B, 1 of 1
    assert rows(by_service) == [
        ("Care home", "Safe", "Good", "Good", 1, 2, 0.5, True),
        ("Care home", "Safe", "Good", "Outstanding", 1, 2, 0.5, True),
        ("Home care", "Safe", "Good", "Good", 1, 1, 1.0, True),
    ]


def test_a_change_is_grouped_by_its_later_assessment():
    # Every earlier assessment predates 2 December 2024, every later one follows it: all three
    # changes (+19, -12, 0; mean 7 / 3) fall in the later era.
    counts = change_counts(PLACES.key_questions, by="era")
    assert rows(counts, "era", "improved", "unchanged", "declined", "n") == [
        ("SAF by statement", 1, 1, 1, 3)
    ]
    assert counts["mean_change"][0] == pytest.approx(7 / 3)


def test_statement_change_counts_by_region():
    counts = statement_change_counts(PLACES.scores, by="region", filters=Filters(statements=(1,)))
    # statement 1: A 3 -> 4 (London); B 3 -> 2 and C 3 -> 3 (North East: mean (-1 + 0) / 2)
    assert rows(counts, "region", "statement_id", "improved", "unchanged", "declined", "n",
                "mean_change") == [
        ("London", 1, 1, 0, 0, 1, 1.0),
        ("North East", 1, 0, 1, 1, 2, -0.5),
    ]  # fmt: skip


def test_rating_transitions_schema_when_empty():
    empty = rating_transitions(KQ, filters=Filters(locations=("L2",)))  # one assessment only
    assert empty.height == 0
    assert empty.schema == pl.Schema(
        {
            "key_question": KEY_QUESTION,
            "from_rating": RATING,
            "to_rating": RATING,
            "count": pl.UInt32,
            "n": pl.UInt32,
            "share": pl.Float64,
            "low_n": pl.Boolean,
        }
    )


def test_statement_changes():
    changes = statement_changes(SCORES)
    # L1 first change: statements 1-4 went 3 -> 4, 5-8 stayed 3; second change: all unchanged
    # L4: all 7 Well-led statements 3 -> 2; L3's earlier Caring had no scores: nothing
    assert changes.height == 8 + 8 + 7
    first = changes.filter(pl.col("to_date") == D(2025, 3, 1))
    assert rows(first, "statement_id", "from_score", "to_score", "change", "direction")[3:5] == [
        (4, 3, 4, 1, "improved"),
        (5, 3, 3, 0, "unchanged"),
    ]
    assert set(changes.filter(pl.col("location_id") == "L4")["direction"]) == {"declined"}
    assert changes.columns == [
        "location_id",
        "location_name",
        "provider_id",
        "provider_name",
        "key_question",
        "statement_id",
        "statement",
        "from_date",
        "from_score",
        "to_assessment_id",
        "to_date",
        "to_score",
        "change",
        "direction",
    ]


def test_statement_changes_need_the_statement_in_both_assessments():
    frames = build(
        kq("L5", "2024-01-01", "Safe", [3, 3], statement_ids=[1, 2]),
        kq("L5", "2025-01-01", "Safe", [4], statement_ids=[2]),
    )
    changes = statement_changes(frames.scores)
    assert rows(changes, "statement_id", "from_score", "to_score", "change") == [(2, 3, 4, 1)]


def test_statement_changes_interleave_two_assessments_of_one_date():
    frames = build(
        kq("L5", "2024-01-01", "Safe", [2, 2], statement_ids=[1, 3]),
        kq("L5", "2025-01-01", "Safe", [3, 3, 3], statement_ids=[1, 2, 3], assessment="A"),
        kq("L5", "2025-01-01", "Safe", [4], statement_ids=[2], assessment="B",
           published="2025-02-01"),
    )  # fmt: skip
    # A follows the 2024 assessment (statements 1, 3), B follows A the same day (statement 2):
    # on one date the pairs come by statement, whichever assessment they belong to
    changes = statement_changes(frames.scores)
    assert rows(changes, "to_assessment_id", "statement_id", "change") == [
        ("A", 1, 1),
        ("B", 2, 1),
        ("A", 3, 1),
    ]


def test_statement_change_counts():
    counts = statement_change_counts(SCORES, filters=Filters(statements=(1, 5, 27)))
    # statement 1: +1 then 0; statement 5: 0 and 0; statement 27 (Well-led's first): -1
    assert rows(
        counts, "statement_id", "improved", "unchanged", "declined", "n", "mean_change"
    ) == [
        (1, 1, 1, 0, 2, 0.5),
        (5, 0, 2, 0, 2, 0.0),
        (27, 0, 0, 1, 1, -1.0),
    ]
    assert counts["statement"][2] == "Shared direction and culture"
    assert counts["low_n"].all()


@pytest.mark.parametrize("function", [key_question_changes, change_counts, rating_transitions])
def test_single_assessment_locations_have_no_changes(function):
    assert function(KQ, filters=Filters(locations=("L2",))).height == 0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["L1", "L2"]),
            st.sampled_from(["Safe", "Caring"]),
            st.integers(0, 5),
            st.sampled_from(["a", "b"]),
            st.integers(1, 4),
        ),
        min_size=1,
        max_size=10,
        unique_by=lambda r: (r[0], r[1], r[2], r[3]),
    )
)
def test_changes_pair_each_assessment_with_the_one_before(assessments):
    start = D(2025, 1, 1)
    made = [
        kq(loc, (start + dt.timedelta(day)).isoformat(), q, [s], assessment=f"{loc}-{day}-{x}")
        for loc, q, day, x, s in assessments
    ]
    sequences: dict[tuple[str, str], list] = {}
    for row in sorted(made, key=lambda r: (r["assessment_date"], r["assessment_id"])):
        sequences.setdefault((row["location_id"], row["key_question"]), []).append(row)
    score = lambda row: row["statements"][0]["score"]  # noqa: E731
    expected = sorted(
        (before["assessment_id"], after["assessment_id"], score(after) - score(before))
        for sequence in sequences.values()
        for before, after in itertools.pairwise(sequence)
    )
    frames = build(*made)
    pairs = key_question_changes(frames.key_questions)
    got = rows(pairs, "from_assessment_id", "to_assessment_id")
    assert sorted(got) == [e[:2] for e in expected]
    statement_pairs = statement_changes(frames.scores)
    got = rows(statement_pairs, "to_assessment_id", "change")
    assert sorted(got) == sorted((e[1], e[2]) for e in expected)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["L1", "L2"]),
            st.sampled_from(["Safe", "Caring"]),
            st.integers(0, 3),
            st.sampled_from(["a", "b"]),
            st.lists(st.integers(1, 6), min_size=1, max_size=4, unique=True),
            st.integers(1, 4),
        ),
        min_size=1,
        max_size=10,
        unique_by=lambda r: (r[0], r[1], r[2], r[3]),
    )
)
def test_statement_changes_come_by_location_key_question_date_and_statement(assessments):
    start = D(2025, 1, 1)
    frames = build(
        *(
            kq(loc, (start + dt.timedelta(day)).isoformat(), q, [score] * len(ids),
               statement_ids=sorted(ids), assessment=f"{loc}-{day}-{x}")
            for loc, q, day, x, ids, score in assessments
        )
    )  # fmt: skip
    changes = statement_changes(frames.scores)
    order = ["location_id", "key_question", "to_date", "statement_id"]
    assert changes.equals(changes.sort(order, maintain_order=True))
