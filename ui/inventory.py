"""What is loaded, split by source or era, beside what the sidebar filters select (pure Polars)."""

from __future__ import annotations

import polars as pl

from queries.filters import Filters


def loaded_by(key_questions: pl.LazyFrame, column: str, filters: Filters) -> pl.DataFrame:
    """Per value of `column`: assessments, selected (by the filters), locations, key_questions, scored, first_date, last_date."""  # noqa: E501
    chosen = (
        filters.apply(key_questions)
        .group_by(column)
        .agg(selected=pl.col("assessment_id").n_unique())
    )
    return (
        key_questions.group_by(column)
        .agg(
            assessments=pl.col("assessment_id").n_unique(),
            locations=pl.col("location_id").n_unique(),
            key_questions=pl.len(),
            scored=pl.col("key_question_score").is_not_null().sum(),
            first_date=pl.col("assessment_date").min(),
            last_date=pl.col("assessment_date").max(),
        )
        .join(chosen, on=column, how="left", nulls_equal=True)
        .sort(column)  # before the cast: eras sort oldest first
        .with_columns(pl.col("selected").fill_null(0), pl.col(column).cast(pl.String))
        .select(column, "assessments", "selected", "locations", "key_questions", "scored",
                "first_date", "last_date")
        .collect()
    )  # fmt: skip
