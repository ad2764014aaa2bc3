"""Tiny hand-written frames: one `kq(...)` call per assessed key question, `build` makes both views.

    build(kq("L1", "2025-01-15", "Safe", [3, 3, 4]), kq("L2", "2025-02-01", rating="Good"))

gives the `scores` and `key_questions` frames as `load_frames` shapes them: the same columns,
dtypes and sequence columns (test_frames checks this against a real DuckDB file). Unless given,
a key question's statements are the first ones of its key question in the framework, its
rating is the band of its exact score, its percentage is computed half-up, its assessment id
is "<location>@<date>", its provider P1 in London, a "Care home", its source report text, and
its era follows the date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import polars as pl

from ingest import database
from ingest.reference import (
    STATEMENTS,
    STATEMENTS_BY_ID,
    era_for,
    rating_for,
    rounded_percentage,
)
from queries.frames import Frames, fetch, prepare


def _schemas() -> tuple[pl.Schema, pl.Schema]:
    """What queries.frames.fetch reads, from an empty database made by the real schema."""
    con = duckdb.connect()
    try:
        database.create_schema(con)
        statements, key_questions = fetch(con)
    finally:
        con.close()
    return statements.schema, key_questions.schema


# The columns and dtypes of the two frames fetch reads: the schema module is their one source.
STATEMENTS_SCHEMA, KEY_QUESTIONS_SCHEMA = _schemas()


def kq(
    location: str,
    date: str,
    key_question: str = "Safe",
    scores: list[int] = (),
    *,
    rating: str | None = None,
    stated: int | None = None,
    provider: str | None = "P1",
    region: str | None = "London",
    service_type: str | None = "Care home",
    assessment: str | None = None,
    statement_ids: list[int | None] | None = None,
    published: str | None = None,
    source: str = "report-text",
    service_group: str | None = None,
    registration: str | None = None,
    statuses: list[str | None] | None = None,
) -> dict[str, Any]:
    """One assessed key question with its statement scores (none: ratings only).

    `statuses`: each statement's statement_status ('assessed', 'carried forward'; None: not
    said); `registration`: the location's registration_status.
    """
    day = dt.date.fromisoformat(date)
    n, points = len(scores), sum(scores)
    computed = rounded_percentage(points, n) if n else None
    ids = statement_ids or [s.id for s in STATEMENTS if s.key_question == key_question][:n]
    return {
        "location_id": location,
        "location_name": f"Home {location}",
        "provider_id": provider,
        "provider_name": f"Provider {provider}" if provider else None,
        "service_type": service_type,
        "region": region,
        "local_authority": None,
        "postcode": None,
        "assessment_id": assessment or f"{location}@{date}",
        "assessment_date": day,
        "published_date": dt.date.fromisoformat(published) if published else day,
        "era": era_for(day),
        "key_question": key_question,
        "key_question_rating": rating or (rating_for(points, n) if n else None),
        "key_question_score": stated if stated is not None else computed,
        "stated_score": stated,
        "computed_score": computed,
        "points": points if n else None,
        "statements_scored": n or None,
        "source": source,
        "service_group": service_group,
        "registration_status": registration,
        "statement_status": None,
        "judgement": None,
        "statements": [
            {
                "statement_id": sid,
                "statement": STATEMENTS_BY_ID[sid].name if sid else f"Unknown {i}",
                "score": score,
                "statement_status": status,
            }
            for i, (sid, score, status) in enumerate(
                zip(ids, scores, statuses or [None] * n, strict=True)
            )
        ],
    }


def build(*rows: dict[str, Any]) -> Frames:
    """Both views from `kq` rows, prepared as load_frames prepares them."""
    key_questions = pl.DataFrame(
        [{c: r.get(c) for c in KEY_QUESTIONS_SCHEMA} for r in rows], schema=KEY_QUESTIONS_SCHEMA
    )
    statements = pl.DataFrame(
        [
            {c: r[c] for c in ("assessment_id", "key_question")} | s
            for r in rows
            for s in r["statements"]
        ],
        schema=STATEMENTS_SCHEMA,
    )
    return prepare(statements.lazy(), key_questions.lazy())


def rows(frame: pl.DataFrame, *columns: str) -> list[tuple]:
    """The frame's rows as tuples of `columns` (all when none), Enum/Categorical as strings."""
    return frame.select(pl.col(columns or frame.columns)).rows()
