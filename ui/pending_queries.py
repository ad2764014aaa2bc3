"""Queries the pages need that queries/ does not offer yet (pure Polars, no Streamlit).

Each builds on a queries/ function where one exists; they belong in queries/ and should move
there (with unit tests) once its worker takes them over.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from ingest.reference import rating_for_percentage
from queries.changes import key_question_changes
from queries.current import selected
from queries.data import RATING
from queries.filters import MIN_N, Filters
from queries.groups import low_n
from queries.trends import PERIODS, Period, percentage_trend

_BAND = {p: rating_for_percentage(p) for p in range(25, 101)}


def band_of(column: str) -> pl.Expr:
    """The rating band of a percentage column (rounded half-up first, as CQC publishes it)."""
    rounded = (pl.col(column) + 0.5).floor().cast(pl.Int32)
    return rounded.replace_strict(_BAND, default=None, return_dtype=RATING).alias("band")


def provider_summary(beside: pl.DataFrame, value: str, item: Sequence[str]) -> pl.DataFrame:
    """Per provider and item, its typical location beside its peers (from a peers.peer_* frame): provider_id, provider_name, [item], locations, value (median over its locations), peer_p25, peer_median, peer_p75 and percentile_rank (medians of its locations' figures), peers (median peer n), low_n (peers < MIN_N)."""  # noqa: E501
    median = [
        pl.col(c).median()
        for c in (value, "peer_p25", "peer_median", "peer_p75", "percentile_rank")
    ]
    return (
        beside.group_by("provider_id", "provider_name", *item)
        .agg(
            pl.col("location_id").n_unique().alias("locations"), *median, peers=pl.col("n").median()
        )
        .with_columns(low_n=pl.col("peers") < MIN_N)
        .sort("provider_name", *item)
    )


def peer_trend(
    key_questions: pl.LazyFrame,
    *,
    providers: Sequence[str],
    peers_by: Sequence[str],
    filters: Filters,
    period: Period = "quarter",
) -> pl.DataFrame:
    """Peers' key question percentages per period: period_start, n (assessments), peer_p25, peer_median, peer_p75, low_n. Peers are other providers' locations sharing a chosen provider's peers_by values (all of England when empty)."""  # noqa: E501
    score = pl.col("key_question_score")
    rows = filters.apply(key_questions, skip={"providers", "locations"}).filter(score.is_not_null())
    mine = pl.col("provider_id").is_in(list(providers))
    pool = rows.filter(~mine)
    if peers_by:
        pool = pool.join(rows.filter(mine).select(peers_by).unique(), on=list(peers_by))
    return (
        pool.group_by(period_start=pl.col("assessment_date").dt.truncate(PERIODS[period]))
        .agg(
            n=pl.col("assessment_id").n_unique(),
            peer_p25=score.quantile(0.25, "linear"),
            peer_median=score.median(),
            peer_p75=score.quantile(0.75, "linear"),
        )
        .with_columns(low_n(MIN_N))
        .sort("period_start")
        .collect()
    )


def quarter_on_quarter(
    key_questions: pl.LazyFrame, *, filters: Filters
) -> tuple[dt.date | None, pl.DataFrame]:
    """The latest quarter with at least MIN_N scored assessments (else the latest with any) and, per key question, it against the quarter before: key_question, previous_n, previous_mean, latest_n, latest_mean, change (points), reassessed (latest assessments with an earlier one), rating_up, rating_down, low_n (either quarter under MIN_N)."""  # noqa: E501
    trend = percentage_trend(key_questions, filters=filters, period="quarter", by="key_question")
    if trend.is_empty():
        return None, trend
    # A quarter that has only just begun says little: step back to one with enough data.
    quarters = percentage_trend(key_questions, filters=filters, period="quarter")
    enough = quarters.filter(pl.col("n") >= MIN_N)["period_start"]
    latest = (enough if enough.len() else quarters["period_start"]).max()
    before = latest - dt.timedelta(days=1)
    previous = dt.date(before.year, (before.month - 1) // 3 * 3 + 1, 1)
    quarter = trend.select("key_question", "period_start", "n", "mean_percentage")
    side = {
        name: quarter.filter(pl.col("period_start") == start).select(
            "key_question",
            pl.col("n").alias(f"{name}_n"),
            pl.col("mean_percentage").alias(f"{name}_mean"),
        )
        for name, start in (("previous", previous), ("latest", latest))
    }
    changes = key_question_changes(key_questions, filters=filters)  # a change is of its later date
    moves = (
        changes.filter(pl.col("to_date").dt.truncate("1q") == latest)
        .group_by("key_question")
        .agg(
            reassessed=pl.len(),
            rating_up=(pl.col("to_rating") > pl.col("from_rating")).sum(),
            rating_down=(pl.col("to_rating") < pl.col("from_rating")).sum(),
        )
    )  # fmt: skip
    table = (
        side["latest"]
        .join(side["previous"], on="key_question", how="full", coalesce=True)
        .join(moves, on="key_question", how="left")
        .with_columns(
            pl.col("previous_n", "latest_n", "reassessed", "rating_up", "rating_down").fill_null(0),
            change=pl.col("latest_mean") - pl.col("previous_mean"),
        )
        .with_columns(low_n=(pl.min_horizontal("previous_n", "latest_n") < MIN_N))
        .select(
            "key_question", "previous_n", "previous_mean", "latest_n", "latest_mean", "change",
            "reassessed", "rating_up", "rating_down", "low_n",
        )
        .sort("key_question")
    )  # fmt: skip
    return latest, table


def largest_groups(
    frame: pl.LazyFrame, column: str, *, filters: Filters, latest: bool, k: int
) -> tuple[list, int]:
    """The `k` values of `column` with the most rows (ties: first by value), and how many
    values there are: so a chart of many groups aggregates only the ones it draws."""
    sizes = (
        selected(frame, filters, latest=latest)
        .group_by(column)
        .agg(rows=pl.len())
        .sort(["rows", column], descending=[True, False])
        .collect()
    )
    return sizes[column].head(k).to_list(), sizes.height
