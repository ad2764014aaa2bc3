"""Headline numbers of a selection: how much data stands behind every page."""

from __future__ import annotations

import polars as pl

from queries.filters import ALL, Filters


def headline(key_questions: pl.LazyFrame, *, filters: Filters = ALL) -> pl.DataFrame:
    """One row: assessments, locations, providers, key_questions (rated), scored (with a percentage), first_date, last_date."""  # noqa: E501
    return (
        filters.apply(key_questions)
        .select(
            assessments=pl.col("assessment_key").n_unique(),
            locations=pl.col("location_id").n_unique(),
            providers=pl.col("provider_id").drop_nulls().n_unique(),
            key_questions=pl.len(),
            scored=pl.col("key_question_score").is_not_null().sum(),
            first_date=pl.col("assessment_date").min(),
            last_date=pl.col("assessment_date").max(),
        )
        .collect()
    )
