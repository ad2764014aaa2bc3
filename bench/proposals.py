"""Proposed fixes for missed targets, applied as patches so their effect can be measured.

The code they change belongs to other modules (ingest/, queries/); a proposal here is the
measured "after" for bench/RESULTS.md, not the fix itself. Run e.g.
    python -m bench --only load,pages --propose narrow-load
Each phase process applies the named proposals before it starts. Delete a proposal once its
fix is in the module it patches (or once it no longer applies: it then raises, loudly).
"""

from __future__ import annotations

import functools
import inspect
import os
import re
from collections.abc import Callable

import duckdb
import polars as pl


def narrow_load() -> None:
    """queries.data.load_frames: fetch statement rows narrow, join the key questions in Polars.

    The `scores` view repeats 15 location and assessment columns (names, ids, postcode, ...)
    on each of 3 million statement rows; fetched through DuckDB -> Arrow -> Polars they are
    materialised as strings three times over before the Categorical casts shrink them.
    Fetching `key_questions` (470,000 rows) and the five statement columns, then joining in
    Polars, gives the same frame (same rows and values; row order differs) from a fraction
    of the memory.
    """
    from ingest.schema import VIEW_COLUMNS
    from queries import data
    from ui import data as ui_data

    columns = [c for c, _ in VIEW_COLUMNS["scores"] if c != "evidence"]
    statement_columns = ("statement_id", "statement", "score")

    def load_frames(con: duckdb.DuckDBPyConnection) -> data.Frames:
        key_questions = data.with_dtypes(con.sql("SELECT * FROM key_questions").pl().lazy())
        key_questions = key_questions.collect()
        rows = con.sql(
            "SELECT assessment_id, key_question, statement_id, statement, score"
            " FROM statement_scores"
        ).pl()
        identity = [c for c in columns if c not in statement_columns]
        scores = (
            key_questions.lazy()
            .select(identity)
            .join(data.with_dtypes(rows.lazy()), on=["assessment_id", "key_question"])
            .select(columns)
        )
        return data.prepare(scores, key_questions.lazy())

    data.load_frames = load_frames
    ui_data.load_frames = load_frames


def parse_fixes() -> None:
    """ingest: three changes to the report text parser, none changing what it reads.

    - reference.normalise (NFKC, two translates, a regex) runs on every line, twice: as the
      line and as the line after; memoise it (functools.lru_cache): lines that can be a key
      question, rating or statement name repeat across every report.
    - reference.canonical_key_question / canonical_rating: no name they look up is longer
      than 21 characters; return None for lines over twice that without normalising.
    - report_text.decode counts control characters with a Python generator over 8,192
      characters; a compiled regex (`[\\x00-\\x08\\x0b\\x0e-\\x1f]`) does it in C.
    """
    from ingest import reference as ref
    from ingest import report_text

    ref.normalise = functools.lru_cache(maxsize=8192)(ref.normalise)
    longest = 2 * max(len(k) for k in (*ref._KEY_QUESTION_LOOKUP, *ref._RATING_LOOKUP))
    ref.canonical_key_question = _short_only(ref.canonical_key_question, longest)
    ref.canonical_rating = _short_only(ref.canonical_rating, longest)
    source = inspect.getsource(report_text.decode)
    slow = 'sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\\r\\n\\t\\f")'
    if slow not in source:
        raise RuntimeError("report_text.decode has changed: the parse-fixes proposal is stale")
    namespace = dict(vars(report_text))
    namespace["_CONTROL"] = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")
    exec(source.replace(slow, "len(_CONTROL.findall(text[:8192]))"), namespace)
    report_text.decode = namespace["decode"]


def _short_only(lookup: Callable[[str], str | None], longest: int) -> Callable:
    @functools.wraps(lookup)
    def short_only(name: str) -> str | None:
        return None if len(name) > longest else lookup(name)

    return short_only


def categorical_ids() -> None:
    """queries.data.DTYPES: ids and postcode as Categorical, not String.

    Ids are 14 characters ('x-' and 12 hex digits, 'a-...'), too long for Polars to keep
    inline, so each costs 30 bytes a row; with four id-like columns repeated on 3 million
    statement rows they are most of the scores frame. A Categorical stores each distinct id
    once and 4 bytes a row; filters, joins and equality work unchanged.
    """
    from queries import data

    for column in ("location_id", "provider_id", "assessment_id", "postcode"):
        data.DTYPES[column] = pl.Categorical()


PROPOSALS: dict[str, Callable[[], None]] = {
    "narrow-load": narrow_load,
    "categorical-ids": categorical_ids,
    "parse-fixes": parse_fixes,
}


ENV = "BENCH_PROPOSE"


def apply_from_env() -> list[str]:
    """Apply the proposals named in $BENCH_PROPOSE (comma-separated); their names."""
    names = [n for n in os.environ.get(ENV, "").split(",") if n]
    for name in names:
        PROPOSALS[name]()
    return names
