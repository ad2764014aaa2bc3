"""Headline numbers of a selection: how much data stands behind every page, and what is loaded."""

from __future__ import annotations

import polars as pl

from queries.filters import ALL, Filters


def headline(key_questions: pl.LazyFrame, *, filters: Filters = ALL) -> pl.DataFrame:
    """How much data the selection holds, in one row.

    Columns: assessments, locations, providers, key_questions (rated), scored (with a percentage),
    first_date, last_date.
    """
    return (
        filters.apply(key_questions)
        .select(
            assessments=pl.col("assessment_key").n_unique(),
            locations=pl.col("location_key").n_unique(),
            providers=pl.col("provider_key").drop_nulls().n_unique(),
            key_questions=pl.len(),
            scored=pl.col("key_question_score").is_not_null().sum(),
            first_date=pl.col("assessment_date").min(),
            last_date=pl.col("assessment_date").max(),
        )
        .collect()
    )


def loaded_by(
    key_questions: pl.LazyFrame,
    column: str,
    filters: Filters = ALL,
    *,
    scores: pl.LazyFrame | None = None,
) -> pl.DataFrame:
    """Everything loaded per value of `column`, and how much of it the filters select.

    Values as String, in the column's order (eras oldest first). Columns: [column], assessments,
    selected (by the filters), locations, key_questions, scored, [statement_scores (rows of
    `scores`, when given)], first_date, last_date.
    """
    chosen = (
        filters.apply(key_questions)
        .group_by(column)
        .agg(selected=pl.col("assessment_key").n_unique())
    )
    counts = (
        key_questions.group_by(column)
        .agg(
            assessments=pl.col("assessment_key").n_unique(),
            locations=pl.col("location_key").n_unique(),
            key_questions=pl.len(),
            scored=pl.col("key_question_score").is_not_null().sum(),
            first_date=pl.col("assessment_date").min(),
            last_date=pl.col("assessment_date").max(),
        )
        .join(chosen, on=column, how="left", nulls_equal=True)
    )
    statements = []
    if scores is not None:
        per_value = scores.group_by(column).agg(statement_scores=pl.len())
        counts = counts.join(per_value, on=column, how="left", nulls_equal=True)
        statements = [pl.col("statement_scores").fill_null(0)]
    return (
        counts.sort(column)  # before the cast: eras sort oldest first
        .with_columns(pl.col("selected").fill_null(0), pl.col(column).cast(pl.String))
        .select(column, "assessments", "selected", "locations", "key_questions", "scored",
                *statements, "first_date", "last_date")
        .collect()
    )  # fmt: skip
