"""Statement heatmap: how each quality statement scores in each group."""

from __future__ import annotations

import polars as pl

from queries.current import selected
from queries.filters import ALL, MIN_N, Filters
from queries.groups import By, keys, low_n


def statement_heatmap(
    scores: pl.LazyFrame,
    *,
    filters: Filters = ALL,
    by: By = None,
    latest: bool = False,
    min_n: int = MIN_N,
) -> pl.DataFrame:
    """Per group and statement: [by], key_question, statement_id, statement, n (assessments scoring it), mean_score, low_share (share scoring 1 or 2), low_n."""  # noqa: E501
    group = keys(by, "key_question", "statement_id", "statement")
    score = pl.col("score")
    return (
        selected(scores, filters, latest=latest)
        .group_by(group)
        .agg(n=pl.len(), mean_score=score.mean(), low_share=(score <= 2).mean())
        .with_columns(low_n(min_n))
        .sort(group)
        .collect()
    )
