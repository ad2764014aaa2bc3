"""The Location page's pieces: finding a location, its history, and how each rating follows.

The arithmetic of a key question, with n statements scored and p points (their sum):
    exact percentage = 100 x p / (4 x n), banded on the exact fraction (reference.rating_for)
    published percentage = the source's figure, else p / 4n rounded half-up
    distance to the next band = queries.bands.band_table (points_to_next_band, points_to_spare)
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from ingest.reference import KEY_QUESTIONS, RATINGS, percentage
from queries.bands import band_table
from queries.filters import ALL, Filters
from ui import db

# The picker offers this many matches: enough to choose from, never the whole country.
SEARCH_LIMIT = 50
NO_EVIDENCE = {
    "assessment_id": pl.String,
    "key_question": pl.String,
    "position": pl.Int32,
    "statement": pl.String,
    "evidence": pl.String,
}


def search(locations: pl.DataFrame, text: str, *, within: pl.Series | None = None) -> pl.DataFrame:
    """Locations whose name, postcode or id holds `text` (case and spaces ignored): location_id, location_name, postcode; an exact id first, then names starting with it, then by name."""  # noqa: E501
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


def selectable(key_questions: pl.LazyFrame, filters: Filters) -> pl.Series | None:
    """Ids of the locations with an assessment the filters select (None: no filter set)."""
    if filters == ALL:
        return None
    return filters.apply(key_questions).select(pl.col("location_id").unique()).collect().to_series()


def label(locations: pl.DataFrame) -> dict[str, str]:
    """Location id -> 'Name · postcode · id' for the picker."""
    return {
        lid: " · ".join(str(v) for v in (name, postcode, lid) if v)
        for lid, name, postcode in locations.select(
            "location_id", "location_name", "postcode"
        ).iter_rows()
    }


def key_question_rows(key_questions: pl.LazyFrame, location_id: str) -> pl.DataFrame:
    """Every key question of every assessment of the location, with its band arithmetic."""
    return (
        key_questions.filter(pl.col("location_id") == location_id)
        .join(
            band_table().lazy().with_columns(pl.col("band").cast(pl.String)),
            on=["statements_scored", "points"],
            how="left",
        )
        .sort(pl.col("assessment_date"), pl.col("key_question"), descending=[True, False])
        .collect()
    )


def history(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per assessment, latest first: date, era, then each key question's '82% Good'."""
    cell = (
        pl.when(pl.col("key_question_score").is_not_null())
        .then(pl.format("{}% {}", pl.col("key_question_score"), pl.col("key_question_rating")))
        .otherwise(pl.format("{} (no score)", pl.col("key_question_rating")))
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


def working(row: dict) -> list[str]:
    """How a key question's rating follows from its scores, one sentence per line."""
    rating, n, p = row["key_question_rating"], row["statements_scored"], row["points"]
    if not n or p is None:
        return [f"Rated {rating or 'not rated'}; no statement scores (ratings only)."]
    band = row["band"]
    lines = [
        f"Score: {p} points of {4 * n} ({n} statements × 4) = {percentage(p, n):.1f}% → "
        f"band **{band}**."
    ]
    stated, computed = row["stated_score"], row["computed_score"]
    if stated is None:
        lines.append(f"Published percentage: none stated; computed {computed}% (half-up).")
    elif stated == computed:
        lines.append(f"Published {stated}%, the same as computed from the scores.")
    else:
        lines.append(f"Published {stated}%, but the scores give {computed}%: the report differs.")
    if rating and rating != band:
        lines.append(f"Rated {rating}, which is not the band of its scores ({band}).")
    if row["next_band"] is not None:
        up = row["points_to_next_band"]
        lines.append(f"Next band: {row['next_band']} with {up} more point{'s' * (up != 1)}.")
    else:
        lines.append(
            "Top band: Outstanding." if band == RATINGS[-1] else "No higher band within reach."
        )
    spare, below = row["points_to_spare"], RATINGS.index(band) - 1
    if below >= 0 and p - spare - 1 >= n:
        lines.append(
            f"Drops to {RATINGS[below]} after losing {spare + 1} point{'s' * (spare != 0)}."
        )
    return lines


@st.cache_data(max_entries=64, show_spinner=False)
def _evidence(version: str, location_id: str) -> pl.DataFrame:
    return db.location_evidence(location_id)


def evidence(version: str, location_id: str) -> pl.DataFrame | None:
    """The location's statement evidence (see db.location_evidence); None while a writer holds the database."""  # noqa: E501
    try:
        return _evidence(version, location_id)
    except db.DatabaseBusy:
        return None


def statements(
    scores: pl.LazyFrame, texts: pl.DataFrame | None, assessment_id: str, key_question: str
) -> pl.DataFrame:
    """The statements of one key question of one assessment in published order: statement, score, evidence."""  # noqa: E501
    rows = (
        scores.filter(
            pl.col("assessment_id") == assessment_id, pl.col("key_question") == key_question
        )
        .select("statement_id", pl.col("statement").cast(pl.String), "score")
        .collect()
    )
    texts = (
        (texts if texts is not None else pl.DataFrame(schema=NO_EVIDENCE))
        .filter(pl.col("assessment_id") == assessment_id, pl.col("key_question") == key_question)
        .select("statement", "position", "evidence")
    )
    return (
        rows.join(texts, on="statement", how="left")
        .sort("position", "statement_id", nulls_last=True)
        .select("statement", "score", "evidence")
    )
