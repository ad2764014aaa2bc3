"""Provider group roll-up: how a provider's locations spread on each key question.

Each location counts with its latest scored assessment of the key question (current.py).
"""

from __future__ import annotations

import polars as pl

from queries.current import selected
from queries.filters import ALL, MIN_N, Filters
from queries.groups import low_n

_SCORE = pl.col("key_question_score")
# Rows sorted by rollup_order (frames.py): provider, key question, percentage, location name, id.
# A group is a run of rows, numbered in order, so grouping needs no hashing.
_GROUP = pl.struct("provider_key", "key_question").rle_id().set_sorted()


def _first_of_top(column: str) -> pl.Expr:
    """`column` of the first row of each run of equal percentages in a group.

    On the group's last row, that is its best location (highest percentage, first by name, then id).
    """
    starts = _GROUP.ne_missing(_GROUP.shift()) | _SCORE.ne_missing(_SCORE.shift())
    return pl.when(starts).then(pl.col(column)).forward_fill()  # location columns: never null


def provider_rollup(
    key_questions: pl.LazyFrame, *, filters: Filters = ALL, min_n: int = MIN_N
) -> pl.DataFrame:
    """Per provider and key question, the current picture's spread of its locations.

    Columns: provider_id, provider_name, key_question, n (locations with a percentage), min, median,
    max, worst_location_id, worst_location_name, best_location_id, best_location_name, low_n.
    """
    # In rollup_order each group's rows come lowest percentage first, ties by location name,
    # then id: worst is its first row, best the first of its last run of equal percentages.
    # Several times faster than sorting each group's locations to find them.
    return (
        selected(key_questions, filters, latest=True, scored=True)
        .filter(_SCORE.is_not_null())
        .sort("rollup_order", multithreaded=False)  # one thread: faster on a busy 2-core machine
        .with_columns(
            best_id=_first_of_top("location_id"), best_name=_first_of_top("location_name")
        )
        .group_by(_GROUP.alias("group"), maintain_order=True)
        .agg(
            pl.col("provider_id", "provider_name", "key_question").first(),
            n=pl.len(),
            min=_SCORE.first(),
            median=_SCORE.median(),
            max=_SCORE.last(),
            worst_location_id=pl.col("location_id").first(),
            worst_location_name=pl.col("location_name").first(),
            best_location_id=pl.col("best_id").last(),
            best_location_name=pl.col("best_name").last(),
        )
        .drop("group")
        .with_columns(low_n(min_n))
        .collect(engine="in-memory")  # groups as slices of the sorted rows; streaming hashes
    )
