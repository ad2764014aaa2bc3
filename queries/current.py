"""The current picture: each location's latest assessment of each key question, and its shares.

Assessments cover different key questions, so "current" is decided per key question: a
location's current Safe may come from 2024 and its current Well-led from 2025. Latest means
the latest assessment_date; ties go to the later published_date, then the larger
assessment_id. A date filter makes it the picture as at `date_to` (only assessments in range).
"""

from __future__ import annotations

from collections.abc import Collection

import polars as pl

from queries.filters import ALL, MIN_N, Filters
from queries.groups import By, keys, low_n

LATEST_ORDER = ("assessment_date", "published_date", "assessment_id")

# Filters that pick among current rows rather than choose which assessment is current.
_AFTER_LATEST = frozenset({"ratings", "statements"})


def current(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Rows of each location's latest assessment of each key question (the input's columns)."""
    latest = pl.col("assessment_id").sort_by(*LATEST_ORDER).last()
    return frame.filter(pl.col("assessment_id") == latest.over("location_id", "key_question"))


def selected(
    frame: pl.LazyFrame,
    filters: Filters = ALL,
    *,
    latest: bool = False,
    skip: Collection[str] = (),
) -> pl.LazyFrame:
    """Rows a query works on: `filters` (but `skip`) applied; when `latest`, the current picture."""
    if not latest:
        return filters.apply(frame, skip=skip)
    # "Currently rated Good" must not become "latest assessment that was rated Good".
    before = filters.apply(frame, skip=_AFTER_LATEST | set(skip))
    return filters.apply(current(before), skip=skip)


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
