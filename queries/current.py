"""The current picture: each location's latest assessment of each key question, and its shares.

Assessments cover different key questions, so "current" is decided per key question: a
location's current Safe may come from 2024 and its current Well-led from 2025 (order and
ties: data.LATEST_ORDER). The picture is the one at the filter's `date_to` (all data when
unset): what had been published by that date (an assessment published after it is not in
that picture, though made before it); every other filter then picks among current rows:
"rated Good" means currently rated Good, an era means current scores arrived at that way,
and `date_from` drops locations whose current assessment is older.

There are two pictures. Rating views take the latest assessment of every source, ratings-only
ones included (the rated picture). Score views take the latest *scored* assessment, one with
a key_question_score, stated or computed (the scored picture): a rating file or the API's
legacy ratings date their ratings-only copy of a report by its publication date, after the
assessment date of the same report read with scores, so the latest of all would often have
no score. In the scores frame every row is scored, so there both pictures are the scored one.

The grain of both is a location's service group and key question (queries.frames.SEQUENCE):
a location CQC assessed in two service groups (say Care homes and Homecare) has a current
Safe in each, and counts once in each group. Current pictures leave deregistered locations
out unless `Filters.include_deregistered` (by today's registration status: a location
deregistered since `date_to` is left out of that earlier picture too); `left_out` counts
what the switches left out, for the page to say.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import replace

import polars as pl

from queries.filters import ALL, CARRIED_FORWARD, DEREGISTERED, MIN_N, Filters
from queries.frames import KNOWN, NEXT_PUBLISHED, NEXT_SCORED, NEXT_SCORED_PUBLISHED
from queries.groups import By, keys, low_n


def is_current(as_of: dt.date | None = None, *, scored: bool = False) -> pl.Expr:
    """True on rows of the latest assessment of their key question at `as_of` (None: latest).

    As at a date, the latest is the latest of those published by then (queries.frames.KNOWN:
    an assessment made before `as_of` but published after it was not yet there to be read).
    `scored`: in the sequence of scored assessments (the key_questions frame's
    next_scored_* columns).
    """
    next_date, next_published = (
        (NEXT_SCORED, NEXT_SCORED_PUBLISHED) if scored else ("next_date", NEXT_PUBLISHED)
    )
    if as_of is None:
        return pl.col(next_date).is_null()
    later = pl.col(next_published)
    return (KNOWN <= as_of) & (later.is_null() | (later > as_of))


def _picture(frame: pl.LazyFrame, as_of: dt.date | None, scored: bool) -> pl.Expr:
    """The filter of the rated picture, or of the scored one (see the module docstring)."""
    if not scored or NEXT_SCORED not in frame.collect_schema().names():
        return is_current(as_of)  # the scores frame's sequence is the scored one already
    return pl.col("key_question_score").is_not_null() & is_current(as_of, scored=True)


def current(
    frame: pl.LazyFrame, *, as_of: dt.date | None = None, scored: bool = False
) -> pl.LazyFrame:
    """Rows of each location's latest assessment of each key question.

    `scored`: the latest scored one. The input's columns.
    """
    return frame.filter(_picture(frame, as_of, scored))


def selected(
    frame: pl.LazyFrame,
    filters: Filters = ALL,
    *,
    latest: bool = False,
    scored: bool = False,
    skip: Collection[str] = (),
) -> pl.LazyFrame:
    """Rows a query works on: `filters` (but `skip`) applied.

    When `latest`, the current picture (`scored`: the scored one).
    """
    rows = filters.apply(frame, skip=skip)
    if not latest:
        return rows
    rows = rows.filter(_picture(frame, filters.date_to, scored))
    if filters.include_deregistered or "registration_status" not in frame.collect_schema():
        return rows
    return rows.filter(pl.col("registration_status").ne_missing(DEREGISTERED))


def left_out(
    frame: pl.LazyFrame, filters: Filters = ALL, *, latest: bool = False, scored: bool = False
) -> pl.DataFrame:
    """What the filter's switches leave out of `selected(frame, filters, ...)`, in one row.

    Columns: carried_forward (statement scores carried forward from an earlier assessment;
    0 on a frame without statement rows or when they are included), deregistered (locations
    left out of the current picture; 0 unless `latest` and they are left out).
    """
    names = set(frame.collect_schema().names())
    everything = replace(filters, include_carried_forward=True, include_deregistered=True)
    rows = selected(frame, everything, latest=latest, scored=scored)
    carried = deregistered = pl.lit(False)
    if not filters.include_carried_forward and {"statement_id", "statement_status"} <= names:
        carried = pl.col("statement_status").eq_missing(CARRIED_FORWARD)
    if latest and not filters.include_deregistered and "registration_status" in names:
        deregistered = pl.col("registration_status").eq_missing(DEREGISTERED)
    return rows.select(
        carried_forward=(carried & ~deregistered).sum().cast(pl.UInt32),
        deregistered=pl.col("location_key").filter(deregistered & ~carried).n_unique(),
    ).collect()


def locations_behind(
    frame: pl.LazyFrame, *, filters: Filters = ALL, latest: bool = False
) -> pl.DataFrame:
    """How many locations the selected rows cover, in one row.

    Columns: rated (with a rating; `latest`: in the rated picture), scored (with a key question
    percentage; `latest`: in the scored picture). On the scores frame both count scored rows.
    """
    location = pl.col("location_key")
    rated = location.filter(pl.col("key_question_rating").is_not_null()).n_unique().alias("rated")
    scored = location.filter(pl.col("key_question_score").is_not_null()).n_unique().alias("scored")
    if not latest:
        return selected(frame, filters).select(rated, scored).collect()
    pictures = [
        selected(frame, filters, latest=True).select(rated),
        selected(frame, filters, latest=True, scored=True).select(scored=location.n_unique()),
    ]
    return pl.concat(pictures, how="horizontal").collect()


def latest_key_questions(
    key_questions: pl.LazyFrame, *, filters: Filters = ALL, scored: bool = False
) -> pl.DataFrame:
    """Current key questions (`scored`: in the scored picture).

    Columns: location_id, location_name, provider_id, provider_name, service_type, region,
    assessment_id, assessment_date, era, key_question, key_question_rating, key_question_score,
    points, statements_scored.
    """
    return (
        selected(key_questions, filters, latest=True, scored=scored)
        .select(
            "location_id",
            "location_name",
            "provider_id",
            "provider_name",
            "service_type",
            "region",
            "assessment_id",
            "assessment_date",
            "era",
            "key_question",
            "key_question_rating",
            "key_question_score",
            "points",
            "statements_scored",
            "location_key",
        )
        .sort("location_key", "key_question")  # as location_id; often in that order already
        .drop("location_key")
        .collect()
    )


def rating_shares(
    key_questions: pl.LazyFrame, *, filters: Filters = ALL, by: By = None, min_n: int = MIN_N
) -> pl.DataFrame:
    """Current ratings (rated picture: every source) per group.

    Columns: [by], key_question, key_question_rating, count, n (rated locations), share, low_n.
    """
    group = keys(by, "key_question")
    return (
        selected(key_questions, filters, latest=True)
        .filter(pl.col("key_question_rating").is_not_null())
        .group_by(*group, "key_question_rating")
        .agg(count=pl.len())
        .with_columns(n=pl.col("count").sum().over(group))
        .with_columns(share=pl.col("count") / pl.col("n"), low_n=low_n(min_n))
        .sort(*group, "key_question_rating")
        .collect()
    )


def percentage_summary(
    key_questions: pl.LazyFrame, *, filters: Filters = ALL, by: By = None, min_n: int = MIN_N
) -> pl.DataFrame:
    """Current key question percentages (scored picture) per group.

    Columns: [by], key_question, n (scored locations), mean, min, p25, median, p75, max, low_n
    (quartiles interpolate linearly).
    """
    group = keys(by, "key_question")
    score = pl.col("key_question_score")
    return (
        selected(key_questions, filters, latest=True, scored=True)
        .group_by(group)
        .agg(
            n=pl.len(),
            mean=score.mean(),
            min=score.min(),
            p25=score.quantile(0.25, "linear"),
            median=score.median(),
            p75=score.quantile(0.75, "linear"),
            max=score.max(),
        )
        .with_columns(low_n(min_n))
        .sort(group)
        .collect()
    )
