"""Statement heatmap: how each quality statement scores in each group (column).

With many groups (providers, say) a chart draws only the `top` with the most statement
scores; heatmap_columns says how many there are in all. `latest=True` takes each location's
latest scored assessment of each key question (current.py's scored picture).
"""

from __future__ import annotations

import polars as pl

from queries.current import selected
from queries.filters import ALL, MIN_N, Filters
from queries.groups import By, group_sizes, keys, low_n


def statement_heatmap(
    scores: pl.LazyFrame,
    *,
    filters: Filters = ALL,
    by: By = None,
    latest: bool = False,
    top: int | None = None,
    min_n: int = MIN_N,
) -> pl.DataFrame:
    """Per group and statement: mean score and share scoring 1 or 2.

    Only the `top` groups with the most scores (ties by group), when set. Columns: [by],
    key_question, statement_id, statement, n (assessments scoring it), mean_score, low_share (share
    scoring 1 or 2), low_n.
    """
    group = keys(by, "key_question", "statement_id", "statement")
    score, rows = pl.col("score"), selected(scores, filters, latest=latest, scored=True)
    if top is not None and (columns := keys(by)):
        largest = group_sizes(rows, columns).head(top)
        rows = rows.join(largest, on=columns, how="semi", nulls_equal=True)
    return (
        rows.group_by(group)
        .agg(n=pl.len(), mean_score=score.mean(), low_share=(score <= 2).mean())
        .with_columns(low_n(min_n))
        .sort(group)
        .collect()
    )


def heatmap_columns(
    scores: pl.LazyFrame, *, by: By, filters: Filters = ALL, latest: bool = False
) -> pl.DataFrame:
    """Statement scores per group, most first (statement_heatmap's `top` order): [by], rows."""
    return group_sizes(selected(scores, filters, latest=latest, scored=True), keys(by)).collect()
