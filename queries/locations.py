"""One location: finding it, every key question it was assessed on, and its statements.

The band columns come from bands.band_table (on the exact fraction, never the rounded
percentage), so a page can state how each rating follows from its scores.
"""

from __future__ import annotations

import polars as pl

from ingest.reference import KEY_QUESTIONS
from queries.bands import band_table
from queries.filters import ALL, Filters

# What assessment_statements expects of evidence texts (db.location_evidence's columns).
EVIDENCE_SCHEMA = {
    "assessment_id": pl.String,
    "key_question": pl.String,
    "position": pl.Int32,
    "statement": pl.String,
    "evidence": pl.String,
}


def matching_locations(
    locations: pl.DataFrame, text: str, *, within: pl.Series | None = None
) -> pl.DataFrame:
    """Locations whose name, postcode or id holds `text`, best first.

    Case and spaces ignored; among `within` ids when given. An exact id first, then names starting
    with it or the postcode itself, then by name. Columns: location_id, location_name, postcode.
    """
    needle = " ".join(text.split()).lower()
    if not needle:
        return locations.select("location_id", "location_name", "postcode").clear()
    compact = needle.replace(" ", "")
    name = pl.col("location_name").str.to_lowercase()
    postcode = pl.col("postcode").str.replace_all(" ", "").str.to_lowercase()
    ids = [pl.col(c).str.to_lowercase() for c in ("location_id", "cqc_location_id")]
    rank = (
        pl.when(pl.any_horizontal(i == compact for i in ids)).then(0)
        .when(name.str.starts_with(needle) | (postcode == compact)).then(1)
        .otherwise(2)
    )  # fmt: skip
    found = locations.filter(
        name.str.contains(needle, literal=True)
        | postcode.str.contains(compact, literal=True)
        | pl.any_horizontal(i.str.contains(compact, literal=True) for i in ids)
    )
    if within is not None:
        found = found.filter(pl.col("location_id").is_in(within.implode()))
    return (
        found.with_columns(rank=rank)
        .sort("rank", "location_name", "location_id")
        .select("location_id", "location_name", "postcode")
    )


def selectable_locations(key_questions: pl.LazyFrame, filters: Filters) -> pl.Series | None:
    """location_id of every location with an assessment the filters select (None: no filter set)."""
    if filters == ALL:
        return None
    return filters.apply(key_questions).select(pl.col("location_id").unique()).collect().to_series()


def location_key_questions(key_questions: pl.LazyFrame, location_id: str) -> pl.DataFrame:
    """Every assessed key question of the location, latest assessment first.

    Key questions in framework order. Columns: the key_questions columns, band (String),
    next_band, points_to_next_band, points_to_spare, by_judgement (the published rating is
    not the band of its scores: CQC set it by judgement, so the band columns after `band` are
    null: no number of points moves a rating set that way).
    """
    rating, band = pl.col("key_question_rating").cast(pl.String), pl.col("band")
    by_judgement = (rating != band).fill_null(False)
    return (
        key_questions.filter(pl.col("location_id") == location_id)
        .join(
            band_table().lazy().with_columns(band.cast(pl.String)),
            on=["statements_scored", "points"],
            how="left",
        )
        .with_columns(by_judgement=by_judgement)
        .with_columns(
            pl.when(~pl.col("by_judgement")).then(pl.col(c)).alias(c)
            for c in ("next_band", "points_to_next_band", "points_to_spare")
        )
        .sort(pl.col("assessment_date"), pl.col("key_question"), descending=[True, False])
        .collect()
    )


def assessment_history(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per assessment of location_key_questions rows, latest first.

    Columns: assessment_date, era, one column per key question assessed ('82% Good', 'Good (no
    score)', a judgement such as 'Regulations met' where CQC does not rate, 'not rated', or
    'not assessed'), assessment_id.
    """
    cell = (
        pl.when(pl.col("key_question_score").is_not_null())
        .then(pl.format("{}% {}", pl.col("key_question_score"), pl.col("key_question_rating")))
        .when(pl.col("key_question_rating").is_not_null())
        .then(pl.format("{} (no score)", pl.col("key_question_rating")))
        .otherwise(pl.coalesce(pl.col("judgement").cast(pl.String), pl.lit("not rated")))
    )
    wide = (
        rows.with_columns(cell=cell, key_question=pl.col("key_question").cast(pl.String))
        .pivot("key_question", index=["assessment_date", "era", "assessment_id"], values="cell")
        .sort("assessment_date", descending=True)
    )
    shown = [kq for kq in KEY_QUESTIONS if kq in wide.columns]
    return wide.select(
        "assessment_date",
        pl.col("era").cast(pl.String),
        pl.col(shown).fill_null("not assessed"),
        "assessment_id",
    )


def assessment_statements(
    scores: pl.LazyFrame, texts: pl.DataFrame | None, assessment_id: str, key_question: str
) -> pl.DataFrame:
    """The statements of one key question of one assessment, with their evidence.

    In published order (then statement id); evidence from `texts` (EVIDENCE_SCHEMA; None: no text).
    Columns: statement, score, evidence.
    """
    rows = (
        scores.filter(
            pl.col("assessment_id") == assessment_id, pl.col("key_question") == key_question
        )
        .select("statement_id", pl.col("statement").cast(pl.String), "score")
        .collect()
    )
    texts = (
        (texts if texts is not None else pl.DataFrame(schema=EVIDENCE_SCHEMA))
        .filter(pl.col("assessment_id") == assessment_id, pl.col("key_question") == key_question)
        .select("statement", "position", "evidence")
    )
    return (
        rows.join(texts, on="statement", how="left")
        .sort("position", "statement_id", nulls_last=True)
        .select("statement", "score", "evidence")
    )
