"""How scores spread: statement scores 1-4 and key question percentages in bins.

Both count every scored assessment in the filtered frame; `latest=True` counts the scored
picture: each location's latest scored assessment of each key question (see current.py).
"""

from __future__ import annotations

from typing import Literal

import polars as pl

from ingest.reference import BAND_EDGES_PERCENT, rating_for_percentage
from queries.current import selected
from queries.filters import ALL, MIN_N, Filters
from queries.frames import RATING
from queries.groups import By, assessments, keys, low_n

_ITEMS = {
    "statement": ("key_question", "statement_id", "statement"),
    "key_question": ("key_question",),
}
_BAND_OF_PERCENT = {p: rating_for_percentage(p) for p in range(101)}


def score_distribution(
    scores: pl.LazyFrame,
    *,
    filters: Filters = ALL,
    per: Literal["statement", "key_question"] = "statement",
    by: By = None,
    latest: bool = False,
    min_n: int = MIN_N,
) -> pl.DataFrame:
    """Scores 1-4 per group and item, as counts and shares.

    Columns: [by], key_question, [statement_id, statement], score, count, share (of rows), rows
    (statement scores), n (assessments), low_n.
    """
    group = keys(by, *_ITEMS[per])
    rows = selected(scores, filters, latest=latest, scored=True)
    counts = (
        rows.group_by(*group, "score")
        .agg(count=pl.len())
        .with_columns(rows=pl.col("count").sum().over(group))
    )
    if "statement_id" in group:  # an assessment scores a statement once: rows are assessments
        counts = counts.with_columns(n=pl.col("rows"))
    else:
        totals = rows.group_by(group).agg(n=assessments(group, "statement_id"))
        counts = counts.join(totals, on=group, nulls_equal=True)
    return (
        counts.with_columns(share=pl.col("count") / pl.col("rows"), low_n=low_n(min_n))
        .select(*group, "score", "count", "share", "rows", "n", "low_n")
        .sort(*group, "score")
        .collect()
    )


def percentage_bins(
    key_questions: pl.LazyFrame,
    *,
    filters: Filters = ALL,
    width: int = 5,
    by: By = None,
    latest: bool = False,
    min_n: int = MIN_N,
) -> pl.DataFrame:
    """Key question percentages in bins of `width`.

    Columns: [by], key_question, bin_start, bin_end (inclusive), edge (band edge 38/62/87 inside the
    bin, else null), band (rating of a bin inside one band, else null), count, share, n, low_n.
    """
    group = keys(by, "key_question")
    start, end = pl.col("bin_start"), pl.col("bin_end")
    edge = pl.coalesce(pl.when((start <= e) & (e < end)).then(e) for e in BAND_EDGES_PERCENT)
    return (
        selected(key_questions, filters, latest=latest, scored=True)
        .filter(pl.col("key_question_score").is_not_null())
        .group_by(*group, bin_start=(pl.col("key_question_score") // width * width).cast(pl.Int32))
        .agg(count=pl.len())
        .with_columns(
            bin_end=pl.min_horizontal(start + width - 1, 100).cast(pl.Int32),
            n=pl.col("count").sum().over(group),
        )
        .with_columns(edge=edge)
        .with_columns(
            band=pl.when(pl.col("edge").is_null()).then(
                start.replace_strict(_BAND_OF_PERCENT, default=None, return_dtype=RATING)
            ),
            share=pl.col("count") / pl.col("n"),
            low_n=low_n(min_n),
        )
        .select(*group, "bin_start", "bin_end", "edge", "band", "count", "share", "n", "low_n")
        .sort(*group, "bin_start")
        .collect()
    )
