"""Provider group roll-up: how a provider's locations spread on each key question."""

from __future__ import annotations

import polars as pl

from queries.current import selected
from queries.filters import ALL, MIN_N, Filters
from queries.groups import low_n


def provider_rollup(
    key_questions: pl.LazyFrame, *, filters: Filters = ALL, min_n: int = MIN_N
) -> pl.DataFrame:
    """Per provider and key question, current picture: provider_id, provider_name, key_question, locations (in the picture), n (scored), min, median, max, worst_location_id, worst_location_name, best_location_id, best_location_name, low_n (ties: first by location name, then id)."""  # noqa: E501
    score = pl.col("key_question_score")
    worst = ["key_question_score", "location_name", "location_id"]
    best = dict(by=worst, descending=[True, False, False])
    location_id, location_name = pl.col("location_id"), pl.col("location_name")
    return (
        selected(key_questions, filters, latest=True)
        .with_columns(locations=location_id.n_unique().over("provider_id"))
        .filter(score.is_not_null())
        .group_by("provider_id", "provider_name", "key_question")
        .agg(
            locations=pl.col("locations").first(),
            n=pl.len(),
            min=score.min(),
            median=score.median(),
            max=score.max(),
            worst_location_id=location_id.sort_by(worst).first(),
            worst_location_name=location_name.sort_by(worst).first(),
            best_location_id=location_id.sort_by(**best).first(),
            best_location_name=location_name.sort_by(**best).first(),
        )
        .with_columns(low_n(min_n))
        .sort("provider_id", "key_question")
        .collect()
    )
