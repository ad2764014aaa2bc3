"""Means over time by month, quarter or year, with the number of assessments behind each point.

L1 2024-01-15  Safe      8 x 3 = 24/32 = 75%
L2 2024-02-20  Safe      8 x 2 = 16/32 = 50%
L1 2024-05-01  Well-led  7 x 3 = 21/28 = 75%
L3 2024-05-10  Safe 8 x 4 = 100% and Well-led 7 x 2 = 14/28 = 50%  (one assessment)
L4 2024-06-30  Caring rated Good, no scores: never in a mean
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from queries.filters import Filters
from queries.trends import percentage_trend, statement_score_trend
from tests.queries.builders import build, kq, rows

D = dt.date
FRAMES = build(
    kq("L1", "2024-01-15", "Safe", [3] * 8),
    kq("L2", "2024-02-20", "Safe", [2] * 8, region="East"),
    kq("L1", "2024-05-01", "Well-led", [3] * 7),
    kq("L3", "2024-05-10", "Safe", [4] * 8),
    kq("L3", "2024-05-10", "Well-led", [2] * 7),
    kq("L4", "2024-06-30", "Caring", rating="Good"),
)


def test_percentage_trend_by_quarter():
    # Q1: 75 and 50 from 2 assessments; Q2: 75, 100, 50 from 2 assessments (L3 covers two)
    assert rows(percentage_trend(FRAMES.key_questions)) == [
        (D(2024, 1, 1), 2, 2, 62.5, True),
        (D(2024, 4, 1), 2, 3, 75.0, True),
    ]


def test_percentage_trend_by_key_question_and_month():
    trend = percentage_trend(FRAMES.key_questions, by="key_question", period="month", min_n=1)
    assert rows(trend) == [
        ("Safe", D(2024, 1, 1), 1, 1, 75.0, False),
        ("Safe", D(2024, 2, 1), 1, 1, 50.0, False),
        ("Safe", D(2024, 5, 1), 1, 1, 100.0, False),
        ("Well-led", D(2024, 5, 1), 2, 2, 62.5, False),  # (75 + 50) / 2
    ]


def test_percentage_trend_by_year_and_region():
    trend = percentage_trend(FRAMES.key_questions, by="region", period="year", min_n=2)
    # East: L2's 50 alone; London: 75, 75, 100, 50 from 3 assessments -> 300 / 4 = 75
    assert rows(trend) == [
        ("East", D(2024, 1, 1), 1, 1, 50.0, True),
        ("London", D(2024, 1, 1), 3, 4, 75.0, False),
    ]


def test_statement_score_trend():
    trend = statement_score_trend(FRAMES.scores, by="key_question", period="year")
    # Safe: 8 x 3, 8 x 2, 8 x 4 -> 72 / 24 = 3.0 from 3 assessments
    # Well-led: 7 x 3, 7 x 2 -> 35 / 14 = 2.5 from 2 assessments
    assert rows(trend) == [
        ("Safe", D(2024, 1, 1), 3, 24, 3.0, True),
        ("Well-led", D(2024, 1, 1), 2, 14, 2.5, True),
    ]
    overall = statement_score_trend(FRAMES.scores, period="year", min_n=4)
    # 24 + 16 + 21 + 32 + 14 = 107 points over 38 scores from 4 assessments
    assert rows(overall) == [(D(2024, 1, 1), 4, 38, pytest.approx(107 / 38), False)]


def test_statement_score_trend_by_statement_counts_rows():
    trend = statement_score_trend(FRAMES.scores, by="statement", period="year")
    first = trend.row(0, named=True)  # statement 1 (Safe): 3, 2, 4
    assert (first["statement_id"], first["n"], first["rows"], first["mean_score"]) == (1, 3, 3, 3.0)


def test_trend_schemas_and_empty_filter():
    nothing = Filters(date_from=D(2030, 1, 1))
    assert percentage_trend(FRAMES.key_questions, filters=nothing, by="provider").schema == (
        pl.Schema(
            {
                "provider_id": pl.Categorical(),
                "provider_name": pl.Categorical(),
                "period_start": pl.Date,
                "n": pl.UInt32,
                "rows": pl.UInt32,
                "mean_percentage": pl.Float64,
                "low_n": pl.Boolean,
            }
        )
    )
    assert statement_score_trend(FRAMES.scores, filters=nothing).schema == pl.Schema(
        {
            "period_start": pl.Date,
            "n": pl.UInt32,
            "rows": pl.UInt32,
            "mean_score": pl.Float64,
            "low_n": pl.Boolean,
        }
    )
