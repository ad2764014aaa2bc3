"""What a query can split its numbers by (`by=`), and the small-sample flag on every aggregate.

`by` is None (no split), one name below or a tuple of names; each name groups on its columns:
    provider / provider_id -> provider_id, provider_name     provider_name -> provider_name
    location / location_id -> location_id, location_name     region, service_type,
    local_authority, key_question, era -> that column        statement -> key_question,
    statement_id, statement (scores frame only)
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

GROUP_COLUMNS: dict[str, tuple[str, ...]] = {
    "provider": ("provider_id", "provider_name"),
    "provider_id": ("provider_id", "provider_name"),
    "provider_name": ("provider_name",),
    "location": ("location_id", "location_name"),
    "location_id": ("location_id", "location_name"),
    "region": ("region",),
    "service_type": ("service_type",),
    "service_group": ("service_group",),
    "local_authority": ("local_authority",),
    "icb": ("icb_name",),
    "key_question": ("key_question",),
    "era": ("era",),
    "statement": ("key_question", "statement_id", "statement"),
}

By = str | Sequence[str] | None


def keys(by: By, *always: str) -> list[str]:
    """Columns to group on for `by`, then `always`, each once; ValueError for an unknown name."""
    names = [] if by is None else [by] if isinstance(by, str) else list(by)
    if unknown := [name for name in names if name not in GROUP_COLUMNS]:
        raise ValueError(f"cannot group by {unknown}; choose from {sorted(GROUP_COLUMNS)}")
    return list(dict.fromkeys([c for name in names for c in GROUP_COLUMNS[name]] + list(always)))


def low_n(min_n: int) -> pl.Expr:
    """True where the aggregate's `n` is below `min_n`: too few assessments to show as-is."""
    return (pl.col("n") < min_n).alias("low_n")


def percentile_rank(below: str, level: str) -> pl.Expr:
    """percentile_rank: 100 x (the `below` count + half the `level` count) / n, the mid-rank
    of a value among n others (peers, or the nation); null where n is 0."""
    rank = 100 * (pl.col(below) + pl.col(level) / 2) / pl.col("n")
    return pl.when(pl.col("n") > 0).then(rank).alias("percentile_rank")


def assessments(group: list[str], grain: str) -> pl.Expr:
    """Number of assessments behind each group of rows whose grain column is `grain`.

    A row is one assessment's statement (grain statement_id) or key question (grain
    key_question), so a group fixing the grain counts its rows; any other group counts
    distinct assessments, which costs more.
    """
    return pl.len() if grain in group else pl.col("assessment_key").n_unique()


def group_sizes(rows: pl.LazyFrame, group: list[str]) -> pl.LazyFrame:
    """Rows per group, most first (ties: by the group's values): [group], rows."""
    return (
        rows.group_by(group)
        .agg(rows=pl.len())
        .sort(["rows", *group], descending=[True] + [False] * len(group), nulls_last=True)
    )
