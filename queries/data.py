"""The frames every query reads: the flattened views loaded from DuckDB once per data version.

Dtypes (everything else keeps DuckDB's type: ids and postcode String, dates Date, numbers Int32):
    key_question          Enum(reference.KEY_QUESTIONS)   framework order: Safe ... Well-led
    key_question_rating   Enum(reference.RATINGS)         worst to best, so sorts and compares
    era                   Enum(reference.ERAS)            oldest to newest
    location_name, provider_name, service_type, region, local_authority, statement, source
                          Categorical (few distinct values over millions of rows; sort lexically)
A value outside an Enum's set fails the load: ingest stores canonical names only.
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


@dataclass(frozen=True)
class Frames:
    """The `scores` view (without evidence) and the `key_questions` view, as LazyFrames."""

    scores: pl.LazyFrame
    key_questions: pl.LazyFrame


def with_dtypes(frame: pl.LazyFrame) -> pl.LazyFrame:
    """`frame` with the columns of DTYPES it has cast to the dtypes above."""
    names = frame.collect_schema().names()
    return frame.with_columns(pl.col(c).cast(t) for c, t in DTYPES.items() if c in names)


def load_frames(con: duckdb.DuckDBPyConnection) -> Frames:
    """Read both views into memory once; evidence text stays in DuckDB (fetched on demand)."""
    scores = con.sql("SELECT * EXCLUDE (evidence) FROM scores").pl()
    key_questions = con.sql("SELECT * FROM key_questions").pl()
    return Frames(
        scores=with_dtypes(scores.lazy()).collect().lazy(),
        key_questions=with_dtypes(key_questions.lazy()).collect().lazy(),
    )
