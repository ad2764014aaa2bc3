"""The frames every query reads: the flattened views loaded from DuckDB once per data version.

Dtypes (others keep DuckDB's type: ids and postcode String, dates Date, numbers Int32):
    key_question          Enum(reference.KEY_QUESTIONS)   framework order: Safe ... Well-led
    key_question_rating   Enum(reference.RATINGS)         worst to best, so sorts and compares
    era                   Enum(reference.ERAS)            oldest to newest
    location_name, provider_name, service_type, region, local_authority, statement, source
                          Categorical (few distinct values over millions of rows; sort lexically)
A value outside an Enum's set fails the load: ingest stores canonical names only.

assessment_key (UInt32) stands in for assessment_id where assessments are counted: distinct
integers count several times faster than distinct strings.

Sequence columns, added once at load so that "current" and "change" are row filters, not
window functions. The sequence is a location's assessments of one key question (ratings-only
ones included) in LATEST_ORDER; ties on date go to the later published_date, then the larger
assessment_id.
    both frames     next_date               date of the next assessment in the sequence
                                            (null: the latest); "current as at D" is
                                            assessment_date <= D < next_date
                    previous_date           date of the previous assessment (null: the first)
    key_questions   previous_assessment_id, previous_rating, previous_score
                                            the previous assessment's id, rating, percentage
    scores          previous_score          the same statement's score in the previous
                                            assessment (null: not scored there)
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


@dataclass(frozen=True)
class Frames:
    """The `scores` view (without evidence) and the `key_questions` view, with sequence columns."""

    scores: pl.LazyFrame
    key_questions: pl.LazyFrame


def with_dtypes(frame: pl.LazyFrame) -> pl.LazyFrame:
    """`frame` with the columns of DTYPES it has cast to the dtypes above."""
    names = frame.collect_schema().names()
    return frame.with_columns(pl.col(c).cast(t) for c, t in DTYPES.items() if c in names)


def sequences(key_questions: pl.LazyFrame) -> pl.LazyFrame:
    """Per assessed key question: assessment_id, key_question, assessment_key, sequence columns."""
    # Sorted by sequence and order, a row's neighbours are its sequence's previous and next
    # assessments when they share its location and key question.
    after, before = (
        pl.all_horizontal(pl.col(c) == pl.col(c).shift(i) for c in SEQUENCE) for i in (-1, 1)
    )
    previous = {
        "previous_assessment_id": "assessment_id",
        "previous_date": "assessment_date",
        "previous_rating": "key_question_rating",
        "previous_score": "key_question_score",
    }
    return (
        key_questions.select(*SEQUENCE, *LATEST_ORDER, "key_question_rating", "key_question_score")
        .sort(*SEQUENCE, *LATEST_ORDER)
        .select(
            *_ASSESSED,
            assessment_key=pl.col("assessment_id").rank("dense").cast(pl.UInt32),
            next_date=pl.when(after).then(pl.col("assessment_date").shift(-1)),
            **{new: pl.when(before).then(pl.col(old).shift(1)) for new, old in previous.items()},
        )
    )


def prepare(scores: pl.LazyFrame, key_questions: pl.LazyFrame) -> Frames:
    """Both views with the dtypes and sequence columns above, computed once (collected)."""
    key_questions = with_dtypes(key_questions)
    steps = sequences(key_questions).collect().lazy()
    previous_scores = scores.select(
        "statement_id", previous_assessment_id="assessment_id", previous_score="score"
    )
    scores = (
        with_dtypes(scores)
        .join(
            steps.select(
                *_ASSESSED, "assessment_key", "next_date", "previous_date", "previous_assessment_id"
            ),
            on=_ASSESSED,
            how="left",
        )
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
