"""Means over time: key question percentages and statement scores per month, quarter or year.

A line that crosses 2 December 2024 mixes eras (scores arrived at differently): see
quality.era_mix for the caveat the chart should show.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

from queries.current import selected
from queries.filters import ALL, MIN_N, Filters
from queries.groups import By, assessments, keys, low_n

Period = Literal["month", "quarter", "year"]
PERIODS: dict[str, str] = {"month": "1mo", "quarter": "1q", "year": "1y"}


def _over_time(
    rows: pl.LazyFrame, group: list[str], value: str, grain: str, period: Period, min_n: int
) -> pl.LazyFrame:
    """Per group and period: n (assessments), rows, mean of `value`, low_n.

    Aggregates per day first, then truncates the few distinct days to periods: truncating
    every row costs far more. An assessment has one date, so per-day counts add up.
    """
    day = "assessment_date"
    return (
        rows.group_by(*group, day)
        .agg(
            n=assessments([*group, day], grain),
            rows=pl.len(),
            total=pl.col(value).cast(pl.Int64).sum(),
        )
        .group_by(*group, pl.col(day).dt.truncate(PERIODS[period]).alias("period_start"))
        .agg(
            pl.col("n").sum(),
            pl.col("rows").sum(),
            mean=pl.col("total").sum() / pl.col("rows").sum(),
        )
        .with_columns(low_n(min_n))
        .sort(*group, "period_start")
    )


def percentage_trend(
    key_questions: pl.LazyFrame,
    *,
    filters: Filters = ALL,
    period: Period = "quarter",
    by: By = None,
    min_n: int = MIN_N,
) -> pl.DataFrame:
    """Mean key question percentage per group and period.

    Columns: [by], period_start, n (assessments), rows (key questions), mean_percentage, low_n.
    """
    group, score = keys(by), "key_question_score"
    rows = selected(key_questions, filters).filter(pl.col(score).is_not_null())
    trend = _over_time(rows, group, score, "key_question", period, min_n)
    return trend.rename({"mean": "mean_percentage"}).collect()


def statement_score_trend(
    scores: pl.LazyFrame,
    *,
    filters: Filters = ALL,
    period: Period = "quarter",
    by: By = None,
    min_n: int = MIN_N,
) -> pl.DataFrame:
    """Mean statement score per group and period.

    Columns: [by], period_start, n (assessments), rows (statement scores), mean_score, low_n.
    """
    trend = _over_time(selected(scores, filters), keys(by), "score", "statement_id", period, min_n)
    return trend.rename({"mean": "mean_score"}).collect()
