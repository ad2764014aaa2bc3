"""The Search page's reads of the evidence index and the evidence, and the pieces it is made of.

The reads (`index_ready`, `matching_documents`, `evidence_texts`, `theme_texts`) are ui.db
style: each opens the file read-only (ingest.database.reading: one retry policy, DatabaseBusy
while a loader holds it), runs with bound parameters and closes it; the page calls them
through AppData.read, which caches them per data version. What a query means is
queries.search's; how the index finds it, ingest.search_index's.

Index documents become rows of the loaded scores frame through `document_rows`, made once
per data version and shared by every session (st.cache_resource): the index's answer is then
a mask over the frame (`hits`), which every sidebar filter narrows without another read.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st

from ingest import search_index
from ingest.database import DatabaseBusy, reading
from ingest.reference import KEY_QUESTIONS
from queries.current import selected
from queries.filters import Filters
from queries.search import MATCH_KEYS, Query, match_rows, matches, parse_query, snippet
from queries.themes import themes
from ui import links, session
from ui.app_data import AppData
from ui.tables import csv_with_provenance, numbers
from ui.text import plain

# Matches shown in the table, with snippets (the download has up to DOWNLOAD_ROWS).
SHOWN_ROWS = 100
DOWNLOAD_ROWS = 100_000
# Themes of a key question read a sample of about this many of its statements.
THEME_ROWS = 100_000
# Bits of a statement's categorical code in the packed join key (_packed).
STATEMENT_BITS = 29
DOWNLOAD_COLUMNS = (
    "location_id", "location_name", "provider_id", "provider_name", "region", "service_type",
    "assessment_id", "assessment_date", "key_question", "statement_id", "statement", "score",
    "evidence",
)  # fmt: skip


def index_ready(*, path: str | Path | None = None) -> bool:
    """Whether the database holds this version of the search index."""
    with reading(path) as con:
        return search_index.is_built(con)


def matching_documents(query: str, *, path: str | Path | None = None) -> pl.Series:
    """Index documents whose evidence matches `query` (queries.search syntax): doc_id, UInt32."""
    with reading(path) as con:
        return search_index.matching(con, parse_query(query))


def evidence_texts(
    keys: tuple[tuple[str, str, str], ...], *, path: str | Path | None = None
) -> pl.DataFrame:
    """Evidence of the statements `keys` (MATCH_KEYS each): MATCH_KEYS, evidence."""
    ids = sorted({aid for aid, _, _ in keys})
    if not ids:
        return pl.DataFrame(schema=dict.fromkeys([*MATCH_KEYS, "evidence"], pl.String))
    marks = ", ".join("?" * len(ids))  # constants: DuckDB checks them as it scans
    with reading(path) as con:
        # Row ids first, then the texts of those rows only: a plain filter on assessment_id
        # reads every evidence text of the table (4x slower at national scale).
        found = con.sql(
            "SELECT assessment_id, key_question, statement, evidence FROM statement_scores"
            " WHERE rowid IN (SELECT rowid FROM statement_scores"
            f" WHERE assessment_id IN ({marks}))",
            params=ids,
        ).pl()
    wanted = pl.DataFrame(list(keys), schema=list(MATCH_KEYS), orient="row")
    return found.join(wanted, on=list(MATCH_KEYS), how="semi")


def theme_texts(
    statement_id: int | None, key_question: str | None, *, path: str | Path | None = None
) -> pl.DataFrame:
    """Evidence of one statement, or a sample of one key question's (about THEME_ROWS).

    Columns: MATCH_KEYS, text (lower-cased, without accents), sampled (1 in how many).
    """
    where = "statement_id = $id" if statement_id is not None else "key_question = $kq"
    params = {"id": statement_id} if statement_id is not None else {"kq": key_question}
    with reading(path) as con:
        [(rows,)] = con.sql(
            f"SELECT count(*) FROM statement_scores WHERE {where}", params=params
        ).fetchall()
        every = max(1, math.ceil(rows / THEME_ROWS))
        return con.sql(
            "SELECT assessment_id, key_question, statement,"
            " strip_accents(lower(evidence)) AS text, $every AS sampled FROM statement_scores"
            f" WHERE {where} AND evidence IS NOT NULL AND hash(assessment_id) % $every = 0",
            params={**params, "every": every},
        ).pl()


@st.cache_resource(max_entries=2, show_spinner="Preparing the search…")
def _document_rows(path: str, version: str, _scores: pl.LazyFrame) -> pl.Series:
    """Per index document (by doc_id), its row in the scores frame (null: not in the frame)."""
    with reading(path) as con:
        docs = search_index.documents(con)
    frame = _scores.select(MATCH_KEYS).with_row_index("row").collect()
    docs = docs.with_columns(pl.col(k).cast(frame.schema[k]) for k in MATCH_KEYS)
    if (frame["statement"].to_physical().max() or 0) < 2**STATEMENT_BITS:
        # one integer made of the keys' categorical codes (the frame's categories: equal
        # text, equal code): 3x faster than joining on the three keys
        joined = docs.select("doc_id", _packed()).join(frame.select("row", _packed()), on="key")
    else:
        joined = docs.join(frame, on=list(MATCH_KEYS), how="inner")
    size = (docs["doc_id"].max() or 0) + 1
    rows = pl.Series("row", [None] * size, dtype=pl.UInt32)
    return rows.scatter(joined["doc_id"], joined["row"]) if joined.height else rows


def _packed() -> pl.Expr:
    """MATCH_KEYS as one UInt64: assessment code (32 bits), statement code (STATEMENT_BITS),
    key question (3 bits)."""
    assessment, key_question, statement = (
        pl.col(k).to_physical().cast(pl.UInt64) for k in MATCH_KEYS
    )
    return (assessment * 2**32 + statement * 8 + key_question).alias("key")


def prepare(data: AppData) -> None:
    """Make this data version's document map now (the Search page does, before a query is
    typed), so that the first search does not wait for it (about 0.5 s at national scale)."""
    _document_rows(data.path, data.version, data.frames.scores)


def hits(data: AppData, documents: pl.Series) -> pl.Series:
    """A Boolean per row of the scores frame: true where its statement is among `documents`."""
    rows = _document_rows(data.path, data.version, data.frames.scores)
    height = data.frames.scores.select(pl.len()).collect().item()
    inside = documents.filter(documents < rows.len())
    found = rows.gather(inside).drop_nulls()
    return pl.repeat(False, height, dtype=pl.Boolean, eager=True).alias("_hit").scatter(found, True)


def with_snippets(data: AppData, rows: pl.DataFrame, query: Query) -> pl.DataFrame:
    """`rows` (scores frame rows) with `snippet`: their evidence around its first match.

    None when the database is being written (the caller says so).
    """
    keys = tuple(rows.select(pl.col(k).cast(pl.String) for k in MATCH_KEYS).iter_rows())
    texts = data.read(evidence_texts, keys)
    texts = texts.with_columns(pl.col(k).cast(rows.schema[k]) for k in MATCH_KEYS)
    joined = rows.join(texts, on=list(MATCH_KEYS), how="left", maintain_order="left")
    return joined.with_columns(
        snippet=pl.col("evidence").map_elements(
            lambda text: snippet(text, query), return_dtype=pl.String
        )
    ).drop("evidence")


def with_evidence(data: AppData, rows: pl.DataFrame) -> pl.DataFrame:
    """`rows` with their `evidence`, for the download (one read of the evidence of them all)."""
    wanted = rows.select(pl.col(k).cast(pl.String) for k in MATCH_KEYS)  # noqa: F841
    with reading(data.path) as con:
        texts = con.sql(
            "SELECT assessment_id, key_question, statement, evidence FROM statement_scores"
            " SEMI JOIN wanted USING (assessment_id, key_question, statement)"
        ).pl()
    texts = texts.with_columns(pl.col(k).cast(rows.schema[k]) for k in MATCH_KEYS)
    return rows.join(texts, on=list(MATCH_KEYS), how="left", maintain_order="left")


def open_location(key: str, rows: pl.DataFrame) -> Callable[[], None]:
    """A callback of the matches table: open the Location page on the selected match's
    location, with its assessment chosen and the matching statement's evidence open and
    scrolled to (ui.links.location_params)."""

    def callback() -> None:
        if picked := links.picked_rows(key):
            row = rows.row(picked[0], named=True)
            st.session_state[session.LOCATION_ASSESSMENT] = str(row["assessment_id"])
            params = links.location_params(
                row["location_id"], row["assessment_id"], row["statement_id"], row["statement"]
            )
            links.go_later(links.LOCATION, params)

    return callback


def search_for(term: str) -> Callable[[], None]:
    """A callback of a theme's button: search for the term (a phrase when it has two words)."""

    def callback() -> None:
        st.session_state[session.SEARCH_QUERY] = f'"{term}"' if " " in term else term
        st.session_state[session.SEARCH_VIEW] = "matches"

    return callback


def statement_labels(data: AppData) -> dict[str, int]:
    """'Safe · Safeguarding' -> statement_id, for the statements the data holds, in order."""
    return _statement_labels(data.path, data.version, data.frames.scores)


@st.cache_data(max_entries=2, show_spinner=False)
def _statement_labels(path: str, version: str, _scores: pl.LazyFrame) -> dict[str, int]:
    found = (
        _scores.filter(pl.col("statement_id").is_not_null())
        .group_by("key_question", "statement_id")
        .agg(pl.col("statement").first())
        .sort("key_question", "statement_id")
        .collect()
    )
    return {
        f"{kq} · {name}": sid
        for kq, sid, name in found.select("key_question", "statement_id", "statement").iter_rows()
    }


def labelled(frame: pl.DataFrame, columns: Sequence[str]) -> pl.DataFrame:
    """`frame`'s `columns` with Categorical and Enum ones as text (for tables and files)."""
    return frame.select(
        pl.col(c).cast(pl.String) if isinstance(frame.schema[c], (pl.Categorical, pl.Enum)) else c
        for c in columns
    )


def theme_rows(
    data: AppData, filters: Filters, statement_id: int | None, key_question: str | None
) -> tuple[pl.DataFrame, int]:
    """The evidence themes are read from: score and text of the statement's (or the key
    question's, sampled) rows the filters select; and 1 in how many were sampled."""
    texts = data.read(theme_texts, statement_id, key_question)
    every = int(texts["sampled"][0]) if texts.height else 1
    narrowed = replace(
        filters,
        statements=(statement_id,) if statement_id is not None else (),
        key_questions=(key_question,) if key_question else filters.key_questions,
    )
    rows = selected(data.frames.scores, narrowed).select(*MATCH_KEYS, "score").collect()
    texts = texts.with_columns(pl.col(k).cast(rows.schema[k]) for k in MATCH_KEYS)
    return rows.join(texts, on=list(MATCH_KEYS)).select("score", "text"), every


@st.cache_data(max_entries=16, show_spinner="Counting words…")
def _themes(
    path: str, version: str, filters: Filters, statement_id: int | None, key_question: str | None,
    _data: AppData,
) -> tuple[pl.DataFrame, int, int]:  # fmt: skip
    rows, every = theme_rows(_data, filters, statement_id, key_question)
    names = [key_question] if key_question else []
    if statement_id is not None:
        names += _data.frames.scores.filter(pl.col("statement_id") == statement_id).select(
            pl.col("statement").first().cast(pl.String)
        ).collect()["statement"].to_list()  # fmt: skip
    found = themes(rows, exclude=[n for n in names if n])
    examples = []
    low = rows.filter(pl.col("score") <= 2)["text"].to_list()
    for term in found["term"]:
        query = parse_query(f'"{term}"')
        text = next((t for t in low if matches(t, query)), None)
        examples.append(snippet(text, query, width=160) if text else "")
    return found.with_columns(example=pl.Series(examples, dtype=pl.String)), rows.height, every


def theme_table(
    data: AppData, filters: Filters, statement_id: int | None, key_question: str | None
) -> tuple[pl.DataFrame, int, int]:
    """Themes (queries.themes.themes, plus an `example` snippet from low-scored evidence) of a
    statement or a key question under the filters; statements read; 1 in how many sampled.

    Cached per data version, filters and choice: counting the words takes a second or two
    at national scale.
    """
    return _themes(data.path, data.version, filters, statement_id, key_question, data)


def show_themes(data: AppData, filters: Filters, labels: dict[str, int]) -> None:
    """The Themes view: pick a statement or key question, see its themes, click one to search."""
    target = st.selectbox(
        "Themes of",
        [*KEY_QUESTIONS, *labels],
        key=session.SEARCH_THEME,
        bind="query-params",
        persist_state="session",
        help="A statement, or a key question (every statement under it, sampled when large).",
    )
    sid, kq = (labels[target], None) if target in labels else (None, target)
    try:
        found, read, every = theme_table(data, filters, sid, kq)
    except DatabaseBusy:
        st.warning(
            "The database is being written; the themes will show in a moment.",
            icon=":material/hourglass_top:",
        )
        return
    sample = f" (1 in {every} sampled)" if every > 1 else ""
    st.caption(
        "Words and two-word phrases used more in evidence scored 1-2 than in evidence scored "
        f"3-4, from {read:,} statements under the filters{sample}. Ranked by the log-odds ratio "
        "with an informative Dirichlet prior (Monroe et al. 2008): z is how many standard "
        "errors apart the two sides' use of the term is. Stop words and the words of the "
        "statement's own name are left out. Click a term to search for it."
    )
    if found.is_empty():
        st.info("No term is used more where this statement scores 1-2.", icon=":material/info:")
        return
    for rank, row in enumerate(found.iter_rows(named=True)):
        left, right = st.columns([1, 3], vertical_alignment="center")
        left.button(
            plain(row["term"]),
            key=session.search_term(rank),
            on_click=search_for(row["term"]),
            icon=":material/search:",
            width="stretch",
        )
        right.text(
            f"{row['low']:,} times in evidence scored 1-2, {row['high']:,} in evidence scored"
            f" 3-4 (z {row['z']:.1f})\n{row['example']}"
        )
    numbers(found, f"Themes of {target}", filters, data, key=session.SEARCH_THEMES)


def download_bytes(data: AppData, query: Query, asked: dict[str, Any], matched: int) -> bytes:
    """The latest DOWNLOAD_ROWS matches (queries.search.match_rows with `asked`: hits,
    filters, score_in) with their evidence, as the app's CSV with its provenance block."""
    cut = f", the latest {DOWNLOAD_ROWS:,} of {matched:,}" if matched > DOWNLOAD_ROWS else ""
    score_in = asked.get("score_in") or ()
    scored = f"; scores {', '.join(map(str, sorted(score_in)))}" if score_in else ""
    what = f"statements whose evidence matches {query.text}{cut}{scored}"
    rows = match_rows(data.frames.scores, **asked, limit=DOWNLOAD_ROWS)
    frame = with_evidence(data, rows)
    return csv_with_provenance(labelled(frame, DOWNLOAD_COLUMNS), what, asked["filters"], data)


def download_button(data: AppData, query: Query, asked: dict[str, Any], matched: int) -> None:
    """ "Download these matches": `download_bytes`, built when clicked."""
    st.download_button(
        "Download these matches",
        lambda: download_bytes(data, query, asked, matched),
        file_name="search-matches.csv",
        mime="text/csv",
        key=session.SEARCH_DOWNLOAD,
        on_click="ignore",
        icon=":material/download:",
    )
