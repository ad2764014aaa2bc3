"""What changed recently: each key question in the latest quarter against the quarter before.

The latest quarter is the latest with at least `min_n` scored assessments (of any key
question), else the latest with any: a quarter that has only just begun says little. Means
are of every scored assessment in the quarter; a rating move is a change (see changes.py)
whose later assessment falls in the latest quarter.
"""

from __future__ import annotations

import polars as pl

from queries.changes import _key_question_pairs
from queries.filters import ALL, MIN_N, Filters
from queries.trends import percentage_trend

_COUNTS = ("previous_n", "latest_n", "reassessed", "rating_up", "rating_down")


def _quarters(key_questions: pl.LazyFrame, filters: Filters, min_n: int) -> pl.LazyFrame:
    """One row: latest_start, previous_start (null when nothing is scored)."""
    start = pl.col("period_start")
    latest = pl.coalesce(start.filter(pl.col("n") >= min_n).max(), start.max())
    return (
        percentage_trend(key_questions, filters=filters, period="quarter")
        .lazy()
        .select(latest_start=latest)
        .with_columns(previous_start=pl.col("latest_start").dt.offset_by("-1q"))
    )


def _quarter(trend: pl.LazyFrame, side: str) -> pl.LazyFrame:
    """key_question, <side>_n, <side>_mean of the quarter starting at <side>_start."""
    return trend.filter(pl.col("period_start") == pl.col(f"{side}_start")).select(
        "key_question", pl.col("n").alias(f"{side}_n"), pl.col("mean").alias(f"{side}_mean")
    )


def quarter_on_quarter(
    key_questions: pl.LazyFrame, *, filters: Filters = ALL, min_n: int = MIN_N
) -> pl.DataFrame:
    """Per key question, the latest quarter against the one before.

    Columns: key_question, previous_start, previous_n, previous_mean, latest_start, latest_n,
    latest_mean, change (points), reassessed (latest assessments with an earlier one), rating_up,
    rating_down, low_n (either quarter under min_n).
    """
    quarters = _quarters(key_questions, filters, min_n)
    trend = (
        percentage_trend(key_questions, filters=filters, by="key_question")
        .lazy()
        .rename({"mean_percentage": "mean"})
        .join(quarters, how="cross")
    )
    moves = (
        _key_question_pairs(key_questions, filters)  # key_question_changes, unsorted
        .join(quarters, how="cross")
        .filter(pl.col("to_date").dt.truncate("1q") == pl.col("latest_start"))
        .group_by("key_question")
        .agg(
            reassessed=pl.len(),
            rating_up=(pl.col("to_rating") > pl.col("from_rating")).sum(),
            rating_down=(pl.col("to_rating") < pl.col("from_rating")).sum(),
        )
    )
    return (
        _quarter(trend, "latest")
        .join(_quarter(trend, "previous"), on="key_question", how="full", coalesce=True)
        .join(moves, on="key_question", how="left")
        .join(quarters, how="cross")
        .with_columns(
            pl.col(_COUNTS).fill_null(0), change=pl.col("latest_mean") - pl.col("previous_mean")
        )
        .with_columns(low_n=pl.min_horizontal("previous_n", "latest_n") < min_n)
        .select(
            "key_question", "previous_start", "previous_n", "previous_mean", "latest_start",
            "latest_n", "latest_mean", "change", *_COUNTS[2:], "low_n",
        )
        .sort("key_question")
        .collect()
    )  # fmt: skip
