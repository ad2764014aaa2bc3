"""Score distributions per statement and key question; key question percentages in bins."""

from __future__ import annotations

import polars as pl
import pytest

from queries.distributions import percentage_bins, score_distribution
from queries.filters import Filters
from queries.frames import KEY_QUESTION, RATING
from tests.queries.builders import build, kq, rows

# Safe statements 1 and 2 (scores in that order):
#   L1 2024-01-01  4, 4   (superseded by L1's 2025 assessment)
#   L1 2025-01-01  1, 2
#   L2 2025-01-01  2, 4   (East)
#   L3 2025-02-01  2      (statement 1 only)
FRAMES = build(
    kq("L1", "2024-01-01", "Safe", [4, 4]),
    kq("L1", "2025-01-01", "Safe", [1, 2]),
    kq("L2", "2025-01-01", "Safe", [2, 4], region="East"),
    kq("L3", "2025-02-01", "Safe", [2]),
)


def test_per_statement_current():
    dist = score_distribution(FRAMES.scores, latest=True)
    # statement 1: 1 (L1), 2 (L2), 2 (L3) -> 1 x score 1, 2 x score 2 of 3
    # statement 2: 2 (L1), 4 (L2)         -> 1 x 2, 1 x 4 of 2
    assert rows(dist, "statement_id", "score", "count", "share", "rows", "n") == [
        (1, 1, 1, pytest.approx(1 / 3), 3, 3),
        (1, 2, 2, pytest.approx(2 / 3), 3, 3),
        (2, 2, 1, 0.5, 2, 2),
        (2, 4, 1, 0.5, 2, 2),
    ]
    assert dist["statement"].to_list()[:1] == ["Learning culture"]


def test_per_statement_every_assessment_by_default():
    dist = score_distribution(FRAMES.scores)
    # L1's 2024 assessment adds a 4 to each statement: statement 1 now 1, 2, 2, 4 of 4
    assert rows(dist.filter(pl.col("statement_id") == 1), "score", "count", "n") == [
        (1, 1, 4),
        (2, 2, 4),
        (4, 1, 4),
    ]


def test_per_key_question_counts_assessments_not_statements():
    dist = score_distribution(FRAMES.scores, per="key_question", latest=True, min_n=3)
    # Safe: scores 1, 2 | 2, 4 | 2 -> 5 statement scores from 3 assessments
    assert rows(dist) == [
        ("Safe", 1, 1, 0.2, 5, 3, False),
        ("Safe", 2, 3, 0.6, 5, 3, False),
        ("Safe", 4, 1, 0.2, 5, 3, False),
    ]


def test_per_key_question_by_region_flags_low_n():
    dist = score_distribution(FRAMES.scores, per="key_question", by="region", latest=True)
    # East: L2 alone (2, 4); London: L1 and L3 (1, 2 | 2)
    assert rows(dist, "region", "score", "count", "rows", "n", "low_n") == [
        ("East", 2, 1, 2, 1, True),
        ("East", 4, 1, 2, 1, True),
        ("London", 1, 1, 3, 2, True),
        ("London", 2, 2, 3, 2, True),
    ]


def test_score_distribution_schema_and_empty_filter():
    dist = score_distribution(FRAMES.scores, filters=Filters(key_questions=("Caring",)))
    assert dist.height == 0
    assert dist.schema == pl.Schema(
        {
            "key_question": KEY_QUESTION,
            "statement_id": pl.Int32,
            "statement": pl.Categorical(),
            "score": pl.Int32,
            "count": pl.UInt32,
            "share": pl.Float64,
            "rows": pl.UInt32,
            "n": pl.UInt32,
            "low_n": pl.Boolean,
        }
    )


# Published percentages chosen around the band edges; each location scores Safe once.
PERCENTAGES = [37, 38, 39, 62, 63, 70, 87, 88, 100]
BINNED = build(
    *[kq(f"L{p}", "2025-01-01", "Safe", [3], stated=p) for p in PERCENTAGES],
    kq("LR", "2025-01-01", "Caring", rating="Good"),  # ratings only: not binned
)


def test_percentage_bins_mark_the_band_edges():
    bins = percentage_bins(BINNED.key_questions)
    # width 5: 35-39 holds 37, 38, 39 and the 38|39 edge, so it has no single band;
    # 60-64 holds 62, 63 and the 62|63 edge; 85-89 holds 87, 88 and the 87|88 edge;
    # 70-74 sits inside Good; 100 is alone in 100-100
    assert rows(bins) == [
        ("Safe", 35, 39, 38, None, 3, pytest.approx(3 / 9), 9, False),
        ("Safe", 60, 64, 62, None, 2, pytest.approx(2 / 9), 9, False),
        ("Safe", 70, 74, None, "Good", 1, pytest.approx(1 / 9), 9, False),
        ("Safe", 85, 89, 87, None, 2, pytest.approx(2 / 9), 9, False),
        ("Safe", 100, 100, None, "Outstanding", 1, pytest.approx(1 / 9), 9, False),
    ]


def test_percentage_bins_of_width_one_each_have_a_band():
    bins = percentage_bins(BINNED.key_questions, width=1, min_n=10)
    # 37 and 38 are Inadequate (38 is the top of the band), 39 Requires improvement, ...
    assert rows(bins, "bin_start", "bin_end", "edge", "band") == [
        (37, 37, None, "Inadequate"),
        (38, 38, None, "Inadequate"),
        (39, 39, None, "Requires improvement"),
        (62, 62, None, "Requires improvement"),
        (63, 63, None, "Good"),
        (70, 70, None, "Good"),
        (87, 87, None, "Good"),
        (88, 88, None, "Outstanding"),
        (100, 100, None, "Outstanding"),
    ]
    assert bins["low_n"].all()  # 9 < 10


def test_percentage_bins_schema():
    assert percentage_bins(BINNED.key_questions, by="region").schema == pl.Schema(
        {
            "region": pl.Categorical(),
            "key_question": KEY_QUESTION,
            "bin_start": pl.Int32,
            "bin_end": pl.Int32,
            "edge": pl.Int32,
            "band": RATING,
            "count": pl.UInt32,
            "share": pl.Float64,
            "n": pl.UInt32,
            "low_n": pl.Boolean,
        }
    )
