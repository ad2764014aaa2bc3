"""Provider group roll-up: how a provider's locations spread on each key question.

Each location counts with its latest scored assessment of the key question (current.py).
"""

from __future__ import annotations

import polars as pl

from queries.current import selected
from queries.filters import ALL, MIN_N, Filters
from queries.groups import low_n

# location_key sorts as location_id (data.py), faster.
_ORDER = ["key_question_score", "location_name", "location_key"]


def _location(role: str, *, highest: bool) -> pl.Expr:
    """The group's lowest (or highest) scoring location; ties go to the first by name, then id."""
    fields = {f"{role}_location_id": "location_id", f"{role}_location_name": "location_name"}
    order = pl.struct(**fields).sort_by(_ORDER, descending=[highest, False, False])
    return order.first().alias(role)


def provider_rollup(
    key_questions: pl.LazyFrame, *, filters: Filters = ALL, min_n: int = MIN_N
) -> pl.DataFrame:
    """Per provider and key question, current picture: provider_id, provider_name, key_question, n (locations with a percentage), min, median, max, worst_location_id, worst_location_name, best_location_id, best_location_name, low_n."""  # noqa: E501
    score = pl.col("key_question_score")
    return (
        selected(key_questions, filters, latest=True, scored=True)
        .filter(score.is_not_null())
        .group_by("provider_key", "key_question")  # provider_key: one per provider_id, faster
        .agg(
            pl.col("provider_id", "provider_name").first(),
            n=pl.len(),
            min=score.min(),
            median=score.median(),
            max=score.max(),
            worst=_location("worst", highest=False),
            best=_location("best", highest=True),
        )
        .sort("provider_key", "key_question")
        .select(
            "provider_id",
            "provider_name",
            pl.exclude("provider_key", "provider_id", "provider_name"),
        )
        .unnest("worst", "best")
        .with_columns(low_n(min_n))
        .collect()
    )
