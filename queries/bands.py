"""Distance to the next band: how far each current key question is from moving up or down.

Current is the scored picture (current.py): each key question's latest scored assessment.

Bands are decided on the exact fraction (reference.rating_for), never on the rounded
percentage. With n statements scored and p points (n <= p <= 4n):
    points_to_next_band = smallest k >= 1 with rating_for(p + k, n) better and p + k <= 4n
                          (null when Outstanding or out of reach)
    points_to_spare     = largest k >= 0 with rating_for(p - k, n) unchanged and p - k >= n
A point is one step of one statement's score (a 3 becoming a 4).
`band_of` bands a published-style percentage (a median, say), rounded half-up first.
"""

from __future__ import annotations

from functools import cache

import polars as pl

from ingest.reference import RATINGS, rating_for, rating_for_percentage
from queries.current import selected
from queries.filters import ALL, Filters
from queries.frames import RATING

# Well above the 8 statements of the largest key question, for unrecognised extras.
MAX_STATEMENTS = 40
# Every whole percentage a key question can have: 25 (all scores 1) to 100 (all 4).
_BAND_OF_PERCENT = {p: rating_for_percentage(p) for p in range(25, 101)}


def band_of(column: str) -> pl.Expr:
    """Expression: band, the rating of `column` rounded half-up (null outside 25-100)."""
    rounded = (pl.col(column) + 0.5).floor().cast(pl.Int32)
    return rounded.replace_strict(_BAND_OF_PERCENT, default=None, return_dtype=RATING).alias("band")


@cache
def band_table(max_statements: int = MAX_STATEMENTS) -> pl.DataFrame:
    """Every (statements_scored, points): band, next_band, points_to_next_band, points_to_spare."""
    rows = []
    for n in range(1, max_statements + 1):
        # bands[i] = rank of the rating at n + i points; ratings never fall as points rise
        bands = [RATINGS.index(rating_for(p, n)) for p in range(n, 4 * n + 1)]
        for i, band in enumerate(bands):
            up = next((j for j in range(i + 1, len(bands)) if bands[j] > band), None)
            lowest_same = bands.index(band)
            rows.append(
                (
                    n,
                    n + i,
                    RATINGS[band],
                    RATINGS[bands[up]] if up is not None else None,
                    up - i if up is not None else None,
                    i - lowest_same,
                )
            )
    schema = {
        "statements_scored": pl.Int32,
        "points": pl.Int32,
        "band": RATING,
        "next_band": RATING,
        "points_to_next_band": pl.Int32,
        "points_to_spare": pl.Int32,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


# Key of a (statements_scored, points) pair: statements * _STEP + points, points 0.._STEP - 1.
_STEP = 4 * MAX_STATEMENTS + 1
_BAND_COLUMNS = ("band", "next_band", "points_to_next_band", "points_to_spare")


@cache
def _band_lookup() -> pl.DataFrame:
    """band_table keyed by one integer: key, then the _BAND_COLUMNS."""
    key = pl.col("statements_scored") * _STEP + pl.col("points")
    return band_table().select(key.alias("key"), *_BAND_COLUMNS)


def _band_columns(statements: pl.Expr, points: pl.Expr) -> list[pl.Expr]:
    """band_table's columns for each row, null where it has no entry.

    A lookup, not a join, so the rows keep their order.
    """
    lookup = _band_lookup()
    key = pl.when(points.is_between(0, _STEP - 1)).then(statements * _STEP + points)
    return [
        key.replace_strict(
            lookup["key"], lookup[c], default=None, return_dtype=lookup.schema[c]
        ).alias(c)
        for c in _BAND_COLUMNS
    ]


def distance_to_next_band(key_questions: pl.LazyFrame, *, filters: Filters = ALL) -> pl.DataFrame:
    """Current scored key questions with their band and the distance to the next one.

    Columns: location_id, location_name, provider_id, provider_name, key_question, assessment_id,
    assessment_date, key_question_rating, key_question_score, points, statements_scored,
    exact_percentage, band, next_band, points_to_next_band, points_to_spare.
    """
    points, statements = pl.col("points"), pl.col("statements_scored")
    return (
        selected(key_questions, filters, latest=True, scored=True)
        .filter(points.is_not_null(), statements > 0)
        .select(
            "location_id",
            "location_name",
            "provider_id",
            "provider_name",
            "key_question",
            "assessment_id",
            "assessment_date",
            "key_question_rating",
            "key_question_score",
            points.cast(pl.Int32),
            statements.cast(pl.Int32),
            "location_key",
            exact_percentage=100 * points / (4 * statements),
        )
        .with_columns(_band_columns(statements, points))
        .collect()
        # As location_id; after collect: the in-memory sort notices rows already in order (they
        # usually are, frames.py), the streaming engine's does not.
        .sort("location_key", "key_question")
        .drop("location_key")
    )
