"""The frames every query reads: the flattened views loaded from DuckDB once per data version.

Dtypes (others keep DuckDB's type: ids and postcode String, dates Date, numbers Int32):
    key_question          Enum(reference.KEY_QUESTIONS)   framework order: Safe ... Well-led
    key_question_rating   Enum(reference.RATINGS)         worst to best, so sorts and compares
    era                   Enum(reference.ERAS)            oldest to newest
    location_name, provider_name, service_type, region, local_authority, statement, source
                          Categorical (few distinct values over millions of rows; sort lexically)
A value outside an Enum's set fails the load: ingest stores canonical names only.

assessment_key and location_key (UInt32) stand in for assessment_id and location_id where
assessments or locations are counted: distinct integers count several times faster than
distinct strings.

Sequence columns, added once at load so that "current" and "change" are row filters, not
window functions. A sequence is a location's assessments of one key question in LATEST_ORDER;
ties on date go to the later published_date, then the larger assessment_id.
    key_questions   next_date               date of the next assessment in the sequence of
                                            every assessment, ratings-only ones included (null:
                                            the latest); "current as at D" is
                                            assessment_date <= D < next_date
                    next_scored_date        the same over scored assessments only (those with
                                            a key_question_score, stated or computed); null on
                                            unscored rows
                    previous_date           date of the previous assessment (null: the first)
                    previous_assessment_id, previous_rating, previous_score
                                            the previous assessment's id, rating, percentage
    scores          next_date, previous_date
                                            as above, over the assessments with statement
                                            scores only: the rows this frame has
                    previous_score          the same statement's score in the previous
                                            assessment with statement scores (null: not scored
                                            there)
Why scored sequences: a rating file or the API's legacy ratings date a ratings-only
assessment by its publication date, later than the assessment date of the same report read
with scores, so the latest of every assessment is often a ratings-only copy (same rating, no
score). Rating views take the latest of every assessment; score views the latest scored one.
A stated percentage without statement scores counts as scored for percentages (it is the
published score) but has no rows in the scores frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from ingest.reference import ERAS, KEY_QUESTIONS, RATINGS

KEY_QUESTION = pl.Enum(KEY_QUESTIONS)
RATING = pl.Enum(RATINGS)
ERA = pl.Enum(ERAS)

DTYPES: dict[str, pl.DataType] = {
    "key_question": KEY_QUESTION,
    "key_question_rating": RATING,
    "era": ERA,
    **dict.fromkeys(
        (
            "location_name",
            "provider_name",
            "service_type",
            "region",
            "local_authority",
            "statement",
            "source",
        ),
        pl.Categorical(),
    ),
}

SEQUENCE = ("location_id", "key_question")
LATEST_ORDER = ("assessment_date", "published_date", "assessment_id")
_ASSESSED = ["assessment_id", "key_question"]
NEXT_SCORED = "next_scored_date"
_KEYED = ("assessment", "location")
_SEQUENCED = ("key_question_rating", "key_question_score", "statements_scored")


@dataclass(frozen=True)
class Frames:
    """The `scores` view (without evidence) and the `key_questions` view, with sequence columns."""

    scores: pl.LazyFrame
    key_questions: pl.LazyFrame


def with_dtypes(frame: pl.LazyFrame) -> pl.LazyFrame:
    """`frame` with the columns of DTYPES it has cast to the dtypes above."""
    names = frame.collect_schema().names()
    return frame.with_columns(pl.col(c).cast(t) for c, t in DTYPES.items() if c in names)


def _neighbours(
    ordered: pl.LazyFrame, next_date: str, previous: dict[str, str], *extra: pl.Expr
) -> pl.LazyFrame:
    """Per row of `ordered` (sorted by SEQUENCE, LATEST_ORDER): assessment_id, key_question, [extra], `next_date` (the next row's date), `previous` (new name -> column of the previous row)."""  # noqa: E501
    # A row's neighbours are its sequence's previous and next assessments when they share its
    # location and key question.
    after, before = (
        pl.all_horizontal(pl.col(c) == pl.col(c).shift(i) for c in SEQUENCE) for i in (-1, 1)
    )
    return ordered.select(
        *_ASSESSED,
        *extra,
        pl.when(after).then(pl.col("assessment_date").shift(-1)).alias(next_date),
        *(pl.when(before).then(pl.col(old).shift(1)).alias(new) for new, old in previous.items()),
    )


def sequences(key_questions: pl.LazyFrame) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Sequence columns per assessed key question, for the key_questions frame (assessment_id, key_question, assessment_key, location_key, next_date, previous_*, next_scored_date) and for the scores frame (assessment_id, key_question, assessment_key, location_key, next_date, previous_date, previous_assessment_id)."""  # noqa: E501
    ordered = (
        key_questions.select(*SEQUENCE, *LATEST_ORDER, *_SEQUENCED)
        .sort(*SEQUENCE, *LATEST_ORDER)
        .collect()
        .lazy()
    )
    previous = {
        "previous_assessment_id": "assessment_id",
        "previous_date": "assessment_date",
        "previous_rating": "key_question_rating",
        "previous_score": "key_question_score",
    }
    keys = [pl.col(f"{c}_id").rank("dense").cast(pl.UInt32).alias(f"{c}_key") for c in _KEYED]
    every = _neighbours(ordered, "next_date", previous, *keys).collect().lazy()
    scored = ordered.filter(pl.col("key_question_score").is_not_null())
    with_statements = _neighbours(
        ordered.filter(pl.col("statements_scored").is_not_null()),
        "next_date",
        {"previous_date": "assessment_date", "previous_assessment_id": "assessment_id"},
    )
    return (
        every.join(_neighbours(scored, NEXT_SCORED, {}), on=_ASSESSED, how="left"),
        every.select(*_ASSESSED, *(f"{c}_key" for c in _KEYED)).join(with_statements, on=_ASSESSED),
    )


def prepare(scores: pl.LazyFrame, key_questions: pl.LazyFrame) -> Frames:
    """Both views with the dtypes and sequence columns above, computed once (collected)."""
    key_questions = with_dtypes(key_questions)
    steps, statement_steps = (s.collect().lazy() for s in sequences(key_questions))
    previous_scores = scores.select(
        "statement_id", previous_assessment_id="assessment_id", previous_score="score"
    )
    scores = (
        with_dtypes(scores)
        .join(statement_steps, on=_ASSESSED, how="left")
        .join(previous_scores, on=["previous_assessment_id", "statement_id"], how="left")
        .drop("previous_assessment_id")
    )
    key_questions = key_questions.join(steps, on=_ASSESSED, how="left")
    return Frames(scores=scores.collect().lazy(), key_questions=key_questions.collect().lazy())


def load_frames(con: duckdb.DuckDBPyConnection) -> Frames:
    """Read both views into memory once; evidence text stays in DuckDB (fetched on demand)."""
    scores = con.sql("SELECT * EXCLUDE (evidence) FROM scores").pl()
    key_questions = con.sql("SELECT * FROM key_questions").pl()
    return prepare(scores.lazy(), key_questions.lazy())
