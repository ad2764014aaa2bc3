"""Statement heatmap: mean score and share scoring 1-2 per group and statement.

Safe statements 1 and 2:
    L1 London      2024-01-01  4, 4  (superseded)   2025-01-01  1, 2
    L2 London      2025-01-01  3, 4
    L3 North East  2025-01-01  2, 2
"""

from __future__ import annotations

import polars as pl
import pytest

from queries.filters import Filters
from queries.frames import KEY_QUESTION
from queries.heatmap import heatmap_columns, statement_heatmap
from tests.queries.builders import build, kq, rows

FRAMES = build(
    kq("L1", "2024-01-01", "Safe", [4, 4]),
    kq("L1", "2025-01-01", "Safe", [1, 2]),
    kq("L2", "2025-01-01", "Safe", [3, 4]),
    kq("L3", "2025-01-01", "Safe", [2, 2], region="North East"),
)
COLUMNS = ("region", "statement_id", "n", "mean_score", "low_share", "low_n")


def test_heatmap_by_region_current():
    heat = statement_heatmap(FRAMES.scores, by="region", latest=True, min_n=2)
    # London statement 1: 1, 3 -> mean 2, one of two scores 1-2; statement 2: 2, 4 -> 3, 1/2
    # North East: 2 and 2 -> mean 2, both low, a single assessment
    assert rows(heat, *COLUMNS) == [
        ("London", 1, 2, 2.0, 0.5, False),
        ("London", 2, 2, 3.0, 0.5, False),
        ("North East", 1, 1, 2.0, 1.0, True),
        ("North East", 2, 1, 2.0, 1.0, True),
    ]


def test_heatmap_counts_every_assessment_by_default():
    heat = statement_heatmap(FRAMES.scores, filters=Filters(regions=("London",)))
    # statement 1 in London: 4, 1, 3 -> mean 8 / 3, one of three low
    assert rows(heat, "statement_id", "n", "mean_score", "low_share")[0] == (
        1,
        3,
        pytest.approx(8 / 3),
        pytest.approx(1 / 3),
    )


def test_heatmap_schema():
    heat = statement_heatmap(FRAMES.scores, by="provider", filters=Filters(statements=(2,)))
    assert heat.schema == pl.Schema(
        {
            "provider_id": pl.Categorical(),
            "provider_name": pl.Categorical(),
            "key_question": KEY_QUESTION,
            "statement_id": pl.Int32,
            "statement": pl.Categorical(),
            "n": pl.UInt32,
            "mean_score": pl.Float64,
            "low_share": pl.Float64,
            "low_n": pl.Boolean,
        }
    )
    assert rows(heat, "statement", "n") == [("Safe systems, pathways and transitions", 4)]


def test_heatmap_columns_count_scores_most_first():
    # L1: 2 assessments x 2 statements = 4 scores; L2 and L3: 2 each (tie: L2 first by id)
    columns = heatmap_columns(FRAMES.scores, by="location")
    assert rows(columns) == [("L1", "Home L1", 4), ("L2", "Home L2", 2), ("L3", "Home L3", 2)]
    # London: 4 + 2 = 6; North East 2. The current picture drops L1's 2024 scores: 2 + 2 = 4.
    assert rows(heatmap_columns(FRAMES.scores, by="region")) == [("London", 6), ("North East", 2)]
    current = heatmap_columns(FRAMES.scores, by="region", latest=True)
    assert rows(current) == [("London", 4), ("North East", 2)]


def test_heatmap_top_keeps_the_groups_with_the_most_scores():
    top = statement_heatmap(FRAMES.scores, by="location", top=2)
    # L1 (4 scores) and L2 (2, ahead of L3 by id); L1 statement 1: 4 and 1 -> mean 2.5
    assert rows(top, "location_id", "statement_id", "n", "mean_score") == [
        ("L1", 1, 2, 2.5),
        ("L1", 2, 2, 3.0),  # 4 and 2
        ("L2", 1, 1, 3.0),
        ("L2", 2, 1, 4.0),
    ]
    everything = statement_heatmap(FRAMES.scores, by="region")
    assert statement_heatmap(FRAMES.scores, by="region", top=5).equals(everything)
    # no grouping: nothing to cut
    assert statement_heatmap(FRAMES.scores, top=1).equals(statement_heatmap(FRAMES.scores))
