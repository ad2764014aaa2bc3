"""The frames every query reads: the flattened views loaded from DuckDB once per data version.

Dtypes (others keep DuckDB's type: dates Date, numbers Int32):
    key_question          Enum(reference.KEY_QUESTIONS)   framework order: Safe ... Well-led
    key_question_rating   Enum(reference.RATINGS)         worst to best, so sorts and compares
    era                   Enum(reference.ERAS)            oldest to newest
    location_name, provider_name, service_type, region, local_authority, icb_name, statement,
    source, service_group, registration_status, statement_status, judgement
                          Categorical (few distinct values over millions of rows; sort lexically)
    location_id, provider_id, assessment_id, previous_assessment_id, postcode
                          Categorical (repeated on every statement row: 4 bytes a row, not 30);
                          compare and filter with strings as String does, but a join needs
                          both sides Categorical (cast a String frame's ids first)
A value outside an Enum's set fails the load: ingest stores canonical names only.

assessment_key, location_key and provider_key (UInt32, dense ranks of assessment_id,
location_id and provider_id, so they sort as the ids do; null where the id is) stand in for
the ids where assessments, locations or providers are counted, grouped or sorted: integers
count distinct, group and sort several times faster than strings.

rollup_order (UInt32, key_questions only) is the row's position when every row is sorted by
provider_key (nulls first), key_question, key_question_score, location_name, location_key:
sorting a selection by it puts each provider's key question together, lowest percentage
first, ties by location name then id (provider_rollup's groups, without a sort per group).

The scores frame is the `scores` view but evidence, built from the six statement columns
(STATEMENT_COLUMNS) of statement_scores joined to their key question's row of key_questions:
fetching the view itself would carry 15 location and assessment columns through DuckDB, Arrow
and Polars as strings on every statement row (3 million at national scale).
Row order, which filters keep: both frames in TIME_ORDER (location, key question, then
LATEST_ORDER), scores then by statement_id (SCORES_ORDER, the export's too): a location's
history of each key question together (its service groups interleaved), so a location's
statement changes come filtered, not sorted. Queries still sort their results; a sort of rows
already in order costs a check, not a reordering.

Sequence columns, added once at load so that "current" and "change" are row filters, not
window functions. A sequence is a location's assessments of one key question in one service
group (SEQUENCE) in LATEST_ORDER;
ties on date go to the later published_date, then the larger assessment_id.
    key_questions   next_date               date of the next assessment in the sequence of
                                            every assessment, ratings-only ones included (null:
                                            the latest)
                    next_published_date     the earliest date any later assessment in the
                                            sequence was published (published_date, else
                                            assessment_date); "current as at D" is the row
                                            published by D with no later one published by D:
                                            published <= D < next_published_date
                    next_scored_date, next_scored_published_date
                                            the same over scored assessments only (those with
                                            a key_question_score, stated or computed); null on
                                            unscored rows
                    previous_date           date of the previous assessment (null: the first)
                    previous_assessment_id, previous_rating, previous_score
                                            the previous assessment's id, rating, percentage
    scores          next_date, next_published_date, previous_date
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
from ingest.schema import VIEW_COLUMNS

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
            "icb_name",
            "statement",
            "source",
            "service_group",
            "registration_status",
            "statement_status",
            "judgement",
            # Ids are 14 characters, too long for Polars to keep inline: 30 bytes a row as
            # String, 4 as Categorical, on millions of statement rows.
            "location_id",
            "provider_id",
            "assessment_id",
            "postcode",
        ),
        pl.Categorical(),
    ),
}

# A sequence: one location's assessments of one key question in one service group. An
# assessment whose source names no group (legacy ratings, report text) joins the group of the
# location's next assessment of that key question, else of its previous one (SEQUENCE_GROUP):
# a SAF rating of Care homes supersedes the location's earlier ungrouped rating.
SEQUENCE_GROUP = "sequence_group"
SEQUENCE = ("location_id", SEQUENCE_GROUP, "key_question")
LATEST_ORDER = ("assessment_date", "published_date", "assessment_id")
# Both frames' row order: a location's key question in time order (statements by id).
TIME_ORDER = ("location_id", "key_question", *LATEST_ORDER)
SCORES_ORDER = (*TIME_ORDER, "statement_id")
# Rows a part when load_frames reads a table (fetch): the text of one part at a time.
FETCH_ROWS = 100_000
_ASSESSED = ["assessment_id", "key_question"]
NEXT_SCORED = "next_scored_date"
# The columns "current as at D" reads (module docstring): rows known by D, none later known.
NEXT_PUBLISHED = "next_published_date"
NEXT_SCORED_PUBLISHED = "next_scored_published_date"
# When a user could first read a row: its publication, else (not stated) its assessment date.
KNOWN = pl.coalesce("published_date", "assessment_date")
_KEYED = ("assessment", "location", "provider")
_SEQUENCED = ("key_question_rating", "key_question_score", "statements_scored")
# The scores frame: the `scores` view's columns but evidence, then the keys and sequence columns.
SCORES_COLUMNS = tuple(c for c, _ in VIEW_COLUMNS["scores"] if c != "evidence")
# A scores row's statement_status is its statement's (in key_questions, its key question's).
STATEMENT_COLUMNS = (
    "assessment_id",
    "key_question",
    "statement_id",
    "statement",
    "score",
    "statement_status",
)
_SCORES_IDENTITY = [c for c in SCORES_COLUMNS if c not in STATEMENT_COLUMNS[2:]]
_KEYS = tuple(f"{c}_key" for c in _KEYED)
_SCORES_ADDED = (*_KEYS, "next_date", NEXT_PUBLISHED, "previous_date", "previous_score")
# The sequence order (SEQUENCE, LATEST_ORDER) on the integer keys, which sort as the ids they
# stand for.
_TIME_SORT = ["location_key", "key_question", "assessment_date", "published_date", "assessment_key"]
_SEQUENCE_KEYS = ["location_key", SEQUENCE_GROUP, "key_question"]  # SEQUENCE on the keys
_SEQUENCE_SORT = [
    "location_key",
    SEQUENCE_GROUP,
    "key_question",
    "assessment_date",
    "published_date",
    "assessment_key",
]
# rollup_order's sort (module docstring); nulls first, as sort_by puts them.
_ROLLUP_SORT = [
    "provider_key",
    "key_question",
    "key_question_score",
    "location_name",
    "location_key",
]


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
    ordered: pl.LazyFrame,
    next_date: str,
    next_published: str,
    previous: dict[str, str],
    *extra: pl.Expr,
) -> pl.LazyFrame:
    """Per row of `ordered` (sorted by SEQUENCE, LATEST_ORDER), its neighbours' values.

    Columns: assessment_id, key_question, [extra], `next_date` (the next row's date),
    `next_published` (the earliest KNOWN date of the rows after it in its sequence), `previous`
    (new name -> column of the previous row).
    """
    # A row's neighbours are its sequence's previous and next assessments when they share its
    # location, service group (null matching null) and key question.
    after, before = (
        pl.all_horizontal(pl.col(c).eq_missing(pl.col(c).shift(i)) for c in SEQUENCE)
        for i in (-1, 1)
    )
    return ordered.select(
        *_ASSESSED,
        *extra,
        pl.when(after).then(pl.col("assessment_date").shift(-1)).alias(next_date),
        # the minimum over the rows after: a reversed running minimum, one row on
        KNOWN.reverse().cum_min().reverse().shift(-1).over(_SEQUENCE_KEYS).alias(next_published),
        *(pl.when(before).then(pl.col(old).shift(1)).alias(new) for new, old in previous.items()),
    )


def sequences(key_questions: pl.LazyFrame) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """Sequence columns per assessed key question, for each frame.

    For the key_questions frame: assessment_id, key_question, the keys, next_date,
    next_published_date, previous_*, next_scored_date, next_scored_published_date. Over those
    with statement scores, for the scores frame: assessment_id, key_question, next_date,
    next_published_date, previous_date, previous_assessment_key.
    """
    keys = [pl.col(f"{c}_id").rank("dense").cast(pl.UInt32).alias(f"{c}_key") for c in _KEYED]
    group = pl.col("service_group")
    ordered = (
        key_questions.select(
            "location_id",
            "service_group",
            "key_question",
            *LATEST_ORDER,
            *_SEQUENCED,
            "provider_id",
        )
        .with_columns(keys)
        .sort(_TIME_SORT)  # each location's key question in time order, to fill the group
        .with_columns(
            group.backward_fill()
            .forward_fill()
            .over("location_key", "key_question")
            .alias(SEQUENCE_GROUP)
        )
        .sort(_SEQUENCE_SORT)  # SEQUENCE, LATEST_ORDER on the keys
        .collect()
        .lazy()
    )
    previous = {
        "previous_assessment_id": "assessment_id",
        "previous_date": "assessment_date",
        "previous_rating": "key_question_rating",
        "previous_score": "key_question_score",
    }
    every = _neighbours(ordered, "next_date", NEXT_PUBLISHED, previous, *_KEYS).collect().lazy()
    scored = ordered.filter(pl.col("key_question_score").is_not_null())
    with_statements = _neighbours(
        ordered.filter(pl.col("statements_scored").is_not_null()),
        "next_date",
        NEXT_PUBLISHED,
        {"previous_date": "assessment_date", "previous_assessment_key": "assessment_key"},
    )
    scored_steps = _neighbours(scored, NEXT_SCORED, NEXT_SCORED_PUBLISHED, {})
    return (
        every.join(scored_steps, on=_ASSESSED, how="left"),
        with_statements,
    )


def prepare(statements: pl.LazyFrame, key_questions: pl.LazyFrame) -> Frames:
    """Both frames with the dtypes, keys and sequence columns above, computed once.

    Collected. `statements` needs STATEMENT_COLUMNS only (a scores row takes the rest from its key
    question).
    """
    key_questions = with_dtypes(key_questions).collect().lazy()
    steps, statement_steps = (s.collect().lazy() for s in sequences(key_questions))
    joined = key_questions.join(steps, on=_ASSESSED, how="left").collect()
    key_questions = joined.sort(_TIME_SORT)  # in sequence order (module docstring)
    # rollup_order: each row's position in _ROLLUP_SORT order (the argsort of the argsort)
    key_questions = key_questions.with_columns(
        rollup_order=pl.int_range(pl.len()).sort_by(_ROLLUP_SORT).arg_sort().cast(pl.UInt32)
    )
    # The scores frame in SCORES_ORDER without sorting its 3 million wide rows: number the
    # key questions in their (sequence) order (heads), sort the narrow statement rows by head
    # and statement_id, then gather each row's key question columns from its head.
    heads = (
        key_questions.lazy()
        .select(*_SCORES_IDENTITY, *_KEYS)
        .join(statement_steps, on=_ASSESSED, how="left", maintain_order="left")
        .with_row_index("head")
        .collect()
    )
    statements = with_dtypes(statements.select(STATEMENT_COLUMNS)).join(
        heads.lazy().select(*_ASSESSED, "head", "assessment_key", "previous_assessment_key"),
        on=_ASSESSED,
    )
    previous = statements.select(
        "statement_id", previous_assessment_key="assessment_key", previous_score="score"
    )
    rows = (
        statements.join(previous, on=["previous_assessment_key", "statement_id"], how="left")
        .select("head", *STATEMENT_COLUMNS[2:], "previous_score")
        .collect()
        # unrecognised statements (null id) last; faster than nulls_last=True
        .sort("head", pl.col("statement_id").is_null(), "statement_id")
    )
    scores = pl.concat([heads[rows["head"]], rows.drop("head")], how="horizontal")
    return Frames(
        scores=scores.select(*SCORES_COLUMNS, *_SCORES_ADDED).lazy(),
        key_questions=key_questions.lazy(),
    )


def fetch(con: duckdb.DuckDBPyConnection) -> tuple[pl.DataFrame, pl.DataFrame]:
    """What load_frames reads: STATEMENT_COLUMNS of statement_scores, and the key_questions view,
    with DTYPES."""
    statements = _read(
        con,
        "SELECT assessment_id, key_question, statement_id, statement, score,"
        " status AS statement_status FROM statement_scores",
    )
    return statements, _read(con, "SELECT * FROM key_questions")


def _read(con: duckdb.DuckDBPyConnection, query: str) -> pl.DataFrame:
    """The rows of `query` with DTYPES, read FETCH_ROWS at a time: each part's text becomes
    categorical before the next is read, so the whole result is never held as text (scale 1:
    the load's peak 1.9 -> 1.7 GB, and faster)."""
    reader = con.sql(query).to_arrow_reader(FETCH_ROWS)
    parts = [with_dtypes(pl.from_arrow(part).lazy()).collect() for part in reader]
    if not parts:
        return with_dtypes(pl.from_arrow(reader.schema.empty_table()).lazy()).collect()
    return pl.concat(parts, rechunk=True)


def load_frames(con: duckdb.DuckDBPyConnection) -> Frames:
    """Read both views into memory once; evidence text stays in DuckDB (fetched on demand)."""
    statements, key_questions = fetch(con)
    return prepare(statements.lazy(), key_questions.lazy())
