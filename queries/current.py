"""The current picture: each location's latest assessment of each key question, and its shares.

Assessments cover different key questions, so "current" is decided per key question: a
location's current Safe may come from 2024 and its current Well-led from 2025 (order and
ties: data.LATEST_ORDER). The picture is the one at the filter's `date_to` (all data when
unset); every other filter then picks among current rows: "rated Good" means currently
rated Good, an era means current scores arrived at that way, and `date_from` drops
locations whose current assessment is older.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import polars as pl

from queries.filters import ALL, MIN_N, Filters
from queries.groups import By, keys, low_n


def is_current(as_of: dt.date | None = None) -> pl.Expr:
    """True on rows of the latest assessment of their key question at `as_of` (None: latest)."""
    latest = pl.col("next_date").is_null()
    if as_of is None:
        return latest
    return (pl.col("assessment_date") <= as_of) & (latest | (pl.col("next_date") > as_of))


def current(frame: pl.LazyFrame, *, as_of: dt.date | None = None) -> pl.LazyFrame:
    """Rows of each location's latest assessment of each key question (the input's columns)."""
    return frame.filter(is_current(as_of))


def selected(
    frame: pl.LazyFrame,
    filters: Filters = ALL,
    *,
    latest: bool = False,
    skip: Collection[str] = (),
) -> pl.LazyFrame:
    """Rows a query works on: `filters` (but `skip`) applied; when `latest`, the current picture."""
    rows = filters.apply(frame, skip=skip)
    return rows.filter(is_current(filters.date_to)) if latest else rows


def latest_key_questions(key_questions: pl.LazyFrame, *, filters: Filters = ALL) -> pl.DataFrame:
    """Current key questions: location_id, location_name, provider_id, provider_name, service_type, region, assessment_id, assessment_date, era, key_question, key_question_rating, key_question_score, points, statements_scored."""  # noqa: E501
    return (
        selected(key_questions, filters, latest=True)
        .select(
            "location_id",
            "location_name",
            "provider_id",
            "provider_name",
            "service_type",
            "region",
            "assessment_id",
            "assessment_date",
            "era",
            "key_question",
            "key_question_rating",
            "key_question_score",
            "points",
            "statements_scored",
        )
        .sort("location_id", "key_question")
        .collect()
    )


def rating_shares(
    key_questions: pl.LazyFrame, *, filters: Filters = ALL, by: By = None, min_n: int = MIN_N
) -> pl.DataFrame:
    """Current ratings per group: [by], key_question, key_question_rating, count, n (rated locations), share, low_n."""  # noqa: E501
    group = keys(by, "key_question")
    return (
        selected(key_questions, filters, latest=True)
        .filter(pl.col("key_question_rating").is_not_null())
        .group_by(*group, "key_question_rating")
        .agg(count=pl.len())
        .with_columns(n=pl.col("count").sum().over(group))
        .with_columns(share=pl.col("count") / pl.col("n"), low_n=low_n(min_n))
        .sort(*group, "key_question_rating")
        .collect()
    )


def percentage_summary(
    key_questions: pl.LazyFrame, *, filters: Filters = ALL, by: By = None, min_n: int = MIN_N
) -> pl.DataFrame:
    """Current key question percentages per group: [by], key_question, n, mean, min, p25, median, p75, max, low_n (quartiles interpolate linearly)."""  # noqa: E501
    group = keys(by, "key_question")
    score = pl.col("key_question_score")
    return (
        selected(key_questions, filters, latest=True)
        .filter(score.is_not_null())
        .group_by(group)
        .agg(
            n=pl.len(),
            mean=score.mean(),
            min=score.min(),
            p25=score.quantile(0.25, "linear"),
            median=score.median(),
            p75=score.quantile(0.75, "linear"),
            max=score.max(),
        )
        .with_columns(low_n(min_n))
        .sort(group)
        .collect()
    )
