"""Means over time: key question percentages and statement scores per month, quarter or year.

A line that crosses 2 December 2024 mixes eras (scores arrived at differently): see
quality.era_mix for the caveat the chart should show.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

from queries.current import selected
from queries.filters import ALL, MIN_N, Filters
from queries.groups import By, keys, low_n

Period = Literal["month", "quarter", "year"]
PERIODS: dict[str, str] = {"month": "1mo", "quarter": "1q", "year": "1y"}


def _period_start(period: Period) -> pl.Expr:
    return pl.col("assessment_date").dt.truncate(PERIODS[period]).alias("period_start")


def percentage_trend(
    key_questions: pl.LazyFrame,
    *,
    filters: Filters = ALL,
    period: Period = "quarter",
    by: By = None,
    min_n: int = MIN_N,
) -> pl.DataFrame:
    """Mean key question percentage per group and period: [by], period_start, n (assessments), rows (key questions), mean_percentage, low_n."""  # noqa: E501
    group = keys(by)
    return (
        selected(key_questions, filters)
        .filter(pl.col("key_question_score").is_not_null())
        .group_by(*group, _period_start(period))
        .agg(
            n=pl.col("assessment_id").n_unique(),
            rows=pl.len(),
            mean_percentage=pl.col("key_question_score").mean(),
        )
        .with_columns(low_n(min_n))
        .sort(*group, "period_start")
        .collect()
    )


def statement_score_trend(
    scores: pl.LazyFrame,
    *,
    filters: Filters = ALL,
    period: Period = "quarter",
    by: By = None,
    min_n: int = MIN_N,
) -> pl.DataFrame:
    """Mean statement score per group and period: [by], period_start, n (assessments), rows (statement scores), mean_score, low_n."""  # noqa: E501
    group = keys(by)
    return (
        selected(scores, filters)
        .group_by(*group, _period_start(period))
        .agg(
            n=pl.col("assessment_id").n_unique(),
            rows=pl.len(),
            mean_score=pl.col("score").mean(),
        )
        .with_columns(low_n(min_n))
        .sort(*group, "period_start")
        .collect()
    )
