"""One provider's locations placed on the national distribution of each key question.

The nation is the scored picture (each location's latest key question percentage) of every
location the filters select: all of England unless they narrow it (a region, a service type;
a date range gives the picture as at `date_to`). Their providers and locations are ignored,
so the chosen provider's own locations are part of the nation they are placed on. Its grain
is the current picture's: a location rated in two service groups counts once in each.

A location's percentile_rank = 100 x (national results strictly below its percentage + half
of those equal to it, itself among them) / n. Quartiles interpolate linearly.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from queries.current import selected
from queries.filters import ALL, MIN_N, Filters
from queries.groups import low_n, percentile_rank

# A placed location's own columns, before the nation's.
_PLACED = (
    "key_question",
    "location_id",
    "location_name",
    "service_group",
    "key_question_score",
    "key_question_rating",
)


def national_results(key_questions: pl.LazyFrame, filters: Filters = ALL) -> pl.LazyFrame:
    """The nation's rows (see the module doc): the scored picture, providers not narrowed."""
    everyone = replace(filters, providers=(), locations=())
    return selected(key_questions, everyone, latest=True, scored=True).filter(
        pl.col("key_question_score").is_not_null()
    )


def provider_on_national(
    key_questions: pl.LazyFrame, *, provider: str, filters: Filters = ALL, min_n: int = MIN_N
) -> pl.DataFrame:
    """The provider's current key question percentages, each placed in the nation's.

    Columns: key_question, location_id, location_name, service_group, key_question_score,
    key_question_rating, n (national results of the key question), national_p25,
    national_median, national_p75, below (national results under the percentage), equal
    (national results of the same percentage, this one among them), percentile_rank, low_n
    (n < min_n). Rows by key question, percentage (lowest first) and location name.
    """
    nation = national_results(key_questions, filters)
    score = pl.col("key_question_score")
    stats = nation.group_by("key_question").agg(
        n=pl.len(),
        national_p25=score.quantile(0.25, "linear"),
        national_median=score.quantile(0.5, "linear"),
        national_p75=score.quantile(0.75, "linear"),
    )
    ranks = (
        nation.group_by("key_question", "key_question_score")
        .agg(equal=pl.len())
        .sort("key_question", "key_question_score")
        .with_columns(below=pl.col("equal").cum_sum().over("key_question") - pl.col("equal"))
    )
    theirs = nation.filter(pl.col("provider_id") == provider).select(_PLACED)
    return (
        theirs.join(stats, on="key_question")
        .join(ranks, on=["key_question", "key_question_score"])
        .with_columns(percentile_rank("below", "equal"), low_n(min_n))
        .select(
            *_PLACED,
            "n",
            "national_p25",
            "national_median",
            "national_p75",
            "below",
            "equal",
            "percentile_rank",
            "low_n",
        )
        .sort("key_question", "key_question_score", "location_name", "location_id")
        .collect()
    )
