"""Change between consecutive assessments of the same key question at the same location.

"Consecutive" follows current.LATEST_ORDER. Filters narrow the assessments before they are
paired (a date range pairs consecutive assessments inside it), except two: ratings are not
applied (a change has two ratings) and statements pick among the statement changes.
A statement change needs the statement scored in both assessments of the pair.
"""

from __future__ import annotations

import polars as pl

from queries.current import LATEST_ORDER
from queries.filters import ALL, MIN_N, Filters
from queries.groups import By, keys, low_n

DIRECTION = pl.Enum(["declined", "unchanged", "improved"])
_IDENTITY = ("location_id", "location_name", "provider_id", "provider_name", "key_question")
_BEFORE_PAIRING_SKIP = frozenset({"ratings", "statements"})


def _previous(column: str) -> pl.Expr:
    return pl.col(column).shift(1).over("location_id", "key_question", order_by=LATEST_ORDER)


def _with_direction(pairs: pl.LazyFrame) -> pl.LazyFrame:
    change = pl.col("to_score") - pl.col("from_score")
    direction = (
        pl.when(change > 0)
        .then(pl.lit("improved"))
        .when(change < 0)
        .then(pl.lit("declined"))
        .when(change == 0)
        .then(pl.lit("unchanged"))
    )
    return pairs.with_columns(change=change, direction=direction.cast(DIRECTION))


def _key_question_pairs(key_questions: pl.LazyFrame, filters: Filters) -> pl.LazyFrame:
    return _with_direction(
        filters.apply(key_questions, skip=_BEFORE_PAIRING_SKIP)
        .with_columns(
            from_assessment_id=_previous("assessment_id"),
            from_date=_previous("assessment_date"),
            from_rating=_previous("key_question_rating"),
            from_score=_previous("key_question_score"),
        )
        .filter(pl.col("from_assessment_id").is_not_null())
        .select(
            *_IDENTITY,
            "from_assessment_id",
            "from_date",
            "from_rating",
            "from_score",
            to_assessment_id="assessment_id",
            to_date="assessment_date",
            to_rating="key_question_rating",
            to_score="key_question_score",
        )
    )


def _statement_pairs(scores: pl.LazyFrame, filters: Filters) -> pl.LazyFrame:
    rows = filters.apply(scores, skip=_BEFORE_PAIRING_SKIP)
    side = rows.select("assessment_id", "key_question", "statement_id", "statement", "score")
    pairs = (
        rows.select(*_IDENTITY, *LATEST_ORDER)
        .unique()
        .with_columns(
            from_assessment_id=_previous("assessment_id"), from_date=_previous("assessment_date")
        )
        .filter(pl.col("from_assessment_id").is_not_null())
        .join(side, on=["assessment_id", "key_question"])
        .join(
            side.select("statement_id", from_assessment_id="assessment_id", from_score="score"),
            on=["from_assessment_id", "statement_id"],
        )
        .select(
            *_IDENTITY,
            "statement_id",
            "statement",
            "from_assessment_id",
            "from_date",
            "from_score",
            to_assessment_id="assessment_id",
            to_date="assessment_date",
            to_score="score",
        )
    )
    return _with_direction(Filters(statements=filters.statements).apply(pairs))


def _direction_counts(pairs: pl.LazyFrame, group: list[str], min_n: int) -> pl.DataFrame:
    direction = pl.col("direction")
    return (
        pairs.filter(direction.is_not_null())
        .group_by(group)
        .agg(
            improved=(direction == "improved").sum(),
            unchanged=(direction == "unchanged").sum(),
            declined=(direction == "declined").sum(),
            n=pl.len(),
            mean_change=pl.col("change").mean(),
        )
        .with_columns(low_n(min_n))
        .sort(group)
        .collect()
    )


def key_question_changes(key_questions: pl.LazyFrame, *, filters: Filters = ALL) -> pl.DataFrame:
    """One row per consecutive pair: location_id, location_name, provider_id, provider_name, key_question, from_assessment_id, from_date, from_rating, from_score, to_assessment_id, to_date, to_rating, to_score, change (percentage points, null unless both scored), direction."""  # noqa: E501
    pairs = _key_question_pairs(key_questions, filters)
    return pairs.sort("location_id", "key_question", "to_date", "to_assessment_id").collect()


def change_counts(
    key_questions: pl.LazyFrame, *, filters: Filters = ALL, by: By = None, min_n: int = MIN_N
) -> pl.DataFrame:
    """Scored pairs per group: [by], key_question, improved, unchanged, declined, n (pairs), mean_change, low_n."""  # noqa: E501
    pairs = _key_question_pairs(key_questions, filters)
    return _direction_counts(pairs, keys(by, "key_question"), min_n)


def rating_transitions(
    key_questions: pl.LazyFrame, *, filters: Filters = ALL, by: By = None, min_n: int = MIN_N
) -> pl.DataFrame:
    """Rating transition matrix per group: [by], key_question, from_rating, to_rating, count, n (rated pairs), share (of n), low_n."""  # noqa: E501
    group = keys(by, "key_question")
    return (
        _key_question_pairs(key_questions, filters)
        .filter(pl.col("from_rating").is_not_null(), pl.col("to_rating").is_not_null())
        .group_by(*group, "from_rating", "to_rating")
        .agg(count=pl.len())
        .with_columns(n=pl.col("count").sum().over(group))
        .with_columns(share=pl.col("count") / pl.col("n"), low_n=low_n(min_n))
        .sort(*group, "from_rating", "to_rating")
        .collect()
    )


def statement_changes(scores: pl.LazyFrame, *, filters: Filters = ALL) -> pl.DataFrame:
    """One row per statement scored in both assessments of a pair: location_id, location_name, provider_id, provider_name, key_question, statement_id, statement, from_assessment_id, from_date, from_score, to_assessment_id, to_date, to_score, change, direction."""  # noqa: E501
    pairs = _statement_pairs(scores, filters)
    return pairs.sort("location_id", "key_question", "to_date", "statement_id").collect()


def statement_change_counts(
    scores: pl.LazyFrame, *, filters: Filters = ALL, by: By = None, min_n: int = MIN_N
) -> pl.DataFrame:
    """Statement changes per group: [by], key_question, statement_id, statement, improved, unchanged, declined, n (pairs), mean_change, low_n."""  # noqa: E501
    group = keys(by, "key_question", "statement_id", "statement")
    return _direction_counts(_statement_pairs(scores, filters), group, min_n)
