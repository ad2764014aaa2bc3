"""Statement heatmap: mean score and share scoring 1-2 per group and statement.

Safe statements 1 and 2:
    L1 London      2024-01-01  4, 4  (superseded)   2025-01-01  1, 2
    L2 London      2025-01-01  3, 4
    L3 North East  2025-01-01  2, 2
"""

from __future__ import annotations

import polars as pl
import pytest

from queries.data import KEY_QUESTION
from queries.filters import Filters
from queries.heatmap import statement_heatmap
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
            "provider_id": pl.String,
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
