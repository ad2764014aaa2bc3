"""The search index of the evidence text: kept by the loader in each file's transaction.

An inverted index in four tables of the same DuckDB file (ingest.schema documents each):
`search_terms` (each word once, with an integer id), `search_documents` (one row per
statement with evidence: its integer id and its key, MATCH_KEYS), `search_postings` (which
words each statement's evidence holds: term id, document id) and `search_assessments`
(each assessment indexed, with the content hash it had then). Words are read as
queries.search reads them (lower case, no accents, runs of a-z and 0-9), without the stop
words and single letters; queries.search decides what a query matches, this module finds it.

Kept in step (`update`), called by ingest.store inside every batch's transaction after the
rows are written: an assessment whose id and content hash the index does not hold (new,
replaced, merged with another page, moved to its CQC id) is indexed; an indexed one whose id
and hash `assessments` no longer holds is taken out, its documents and postings deleted.
So the index never lags the scores, a replaced file's evidence is never found, and a file
that is rejected (its transaction rolled back) never reaches it. A file set up before the
index existed, or by another version of it (`INDEX_VERSION` in meta key `search_index`), is
indexed whole by its next load, or by `python -m ingest reindex` (`rebuild`).

Why this design, and its measurements, are in bench/RESULTS.md ("Search index").
"""

from __future__ import annotations

import duckdb
import polars as pl

from ingest.database import get_meta, set_meta
from queries.search import MATCH_KEYS, MIN_WORD_LENGTH, STOP_WORDS, WORD, Query, Term, word_forms

INDEX_VERSION = "1"
META_KEY = "search_index"
TABLES = ("search_postings", "search_documents", "search_terms", "search_assessments")
# Assessments indexed per step when many are new (a whole database: bounded memory).
CHUNK_ASSESSMENTS = 10_000
_STOP = sorted(STOP_WORDS)


def update(con: duckdb.DuckDBPyConnection) -> int:
    """Bring the index in step with the assessments, in the caller's transaction (module doc).

    Returns the number of statements indexed.
    """
    if get_meta(con, META_KEY) != INDEX_VERSION:  # no index yet, or another version's
        _clear(con)
        set_meta(con, META_KEY, INDEX_VERSION)
    _remove_stale(con)
    fresh = con.sql(
        "SELECT a.assessment_id, a.content_hash FROM assessments a"
        " ANTI JOIN search_assessments i"
        " ON i.assessment_id = a.assessment_id AND i.content_hash = a.content_hash"
    ).pl()
    done = 0
    for start in range(0, fresh.height, CHUNK_ASSESSMENTS):
        done += _index(con, fresh.slice(start, CHUNK_ASSESSMENTS))
    return done


def rebuild(con: duckdb.DuckDBPyConnection) -> int:
    """The index made anew from the stored evidence (in the caller's transaction); statements."""
    _clear(con)
    set_meta(con, META_KEY, INDEX_VERSION)
    return update(con)


def is_built(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the file holds this version of the index (an older file may have none)."""
    try:
        return get_meta(con, META_KEY) == INDEX_VERSION
    except duckdb.CatalogException:
        return False


def _clear(con: duckdb.DuckDBPyConnection) -> None:
    for table in TABLES:
        con.execute(f"DELETE FROM {table}")


def _remove_stale(con: duckdb.DuckDBPyConnection) -> None:
    """Delete what the index holds of assessments gone or changed since they were indexed."""
    stale = con.sql(
        "SELECT i.assessment_id FROM search_assessments i ANTI JOIN assessments a"
        " ON a.assessment_id = i.assessment_id AND a.content_hash = i.content_hash"
    ).pl()
    if stale.is_empty():
        return
    docs = con.sql(
        "SELECT doc_id FROM search_documents WHERE assessment_id IN"
        " (SELECT assessment_id FROM stale)"
    ).pl()
    if not docs.is_empty():
        # The bounds let DuckDB skip the row groups of other batches (their doc ids differ).
        con.execute(
            "DELETE FROM search_postings WHERE doc_id BETWEEN $lo AND $hi"
            " AND doc_id IN (SELECT doc_id FROM docs)",
            {"lo": docs["doc_id"].min(), "hi": docs["doc_id"].max()},
        )
    for table in ("search_documents", "search_assessments"):
        con.execute(f"DELETE FROM {table} WHERE assessment_id IN (SELECT assessment_id FROM stale)")


def _index(con: duckdb.DuckDBPyConnection, fresh: pl.DataFrame) -> int:
    """Index the statements of the assessments in `fresh` (assessment_id, content_hash)."""
    [(last,)] = con.execute("SELECT coalesce(max(doc_id), 0) FROM search_documents").fetchall()
    texts = con.sql(
        "SELECT assessment_id, key_question, statement, strip_accents(lower(evidence)) AS text"
        " FROM statement_scores WHERE evidence IS NOT NULL"
        " AND assessment_id IN (SELECT assessment_id FROM fresh)"
        " ORDER BY assessment_id, key_question, position"
    ).pl()
    docs = texts.with_columns(doc_id=pl.int_range(1, texts.height + 1, dtype=pl.UInt32) + last)
    found = (
        docs.lazy()
        .select("doc_id", term=pl.col("text").str.extract_all(WORD.pattern).list.unique())
        .explode("term")
        .filter(pl.col("term").str.len_bytes() >= MIN_WORD_LENGTH, ~pl.col("term").is_in(_STOP))
        .collect()
    )
    postings = (  # noqa: F841 - read by DuckDB's replacement scan
        found.join(_term_ids(con, found["term"].unique()), on="term")
        .select("term_id", "doc_id")
        .sort("term_id", "doc_id")  # a word's postings together: row groups skipped on lookup
    )
    documents = docs.select("doc_id", *MATCH_KEYS)  # noqa: F841 - read by the replacement scan
    con.execute("INSERT INTO search_postings SELECT * FROM postings")
    con.execute("INSERT INTO search_documents SELECT * FROM documents")
    con.execute("INSERT INTO search_assessments SELECT * FROM fresh")
    return docs.height


def _term_ids(con: duckdb.DuckDBPyConnection, terms: pl.Series) -> pl.DataFrame:
    """term -> term_id for `terms`, new words added to search_terms first."""
    wanted = terms.to_frame("term")  # noqa: F841 - read by DuckDB's replacement scan
    known = con.sql(
        "SELECT term, term_id FROM search_terms WHERE term IN (SELECT term FROM wanted)"
    ).pl()
    new = terms.filter(~terms.is_in(known["term"].implode()))
    if new.is_empty():
        return known
    [(last,)] = con.execute("SELECT coalesce(max(term_id), 0) FROM search_terms").fetchall()
    added = pl.DataFrame(
        {
            "term_id": pl.int_range(1, new.len() + 1, dtype=pl.UInt32, eager=True) + last,
            "term": new.sort(),
        }
    )
    con.execute("INSERT INTO search_terms SELECT term_id, term FROM added")
    return pl.concat([known, added.select("term", "term_id")], how="vertical_relaxed")


def matching(con: duckdb.DuckDBPyConnection, query: Query) -> pl.DataFrame:
    """The statements whose evidence matches `query`: MATCH_KEYS, one row each.

    Words are looked up in the index; a phrase is then checked in the evidence text of the
    statements that hold all its words (regexp on the normalised text).
    """
    sets: dict[str, pl.Series] = {}

    def holding(word: str) -> pl.Series:
        if word not in sets:
            sets[word] = _documents_with(con, word_forms(word))
        return sets[word]

    def candidates(term: Term, within: pl.Series | None) -> pl.Series:
        found = within
        for word in term.indexed_words:
            found = holding(word) if found is None else _both(found, holding(word))
        return found if found is not None else pl.Series("doc_id", [], pl.UInt32)

    def found_by(clause, within: pl.Series | None) -> pl.Series:
        parts = []
        for term in clause.terms:
            docs = candidates(term, within)
            parts.append(_verified(con, docs, term) if len(term.words) > 1 else docs)
        return pl.concat(parts).unique()

    result: pl.Series | None = None
    for clause in sorted(query.required, key=lambda c: any(len(t.words) > 1 for t in c.terms)):
        result = found_by(clause, result)  # words first: phrases are checked on fewer
    for clause in query.excluded:
        result = result.filter(~result.is_in(found_by(clause, result).implode()))
    return _keys_of(con, result)


def _both(a: pl.Series, b: pl.Series) -> pl.Series:
    return a.filter(a.is_in(b.implode()))


def _documents_with(con: duckdb.DuckDBPyConnection, forms: tuple[str, ...]) -> pl.Series:
    """Ids of the documents holding any of the words `forms`."""
    ids = [
        i
        for (i,) in con.execute(
            "SELECT term_id FROM search_terms WHERE term IN (SELECT unnest($forms))",
            {"forms": list(forms)},
        ).fetchall()
    ]
    if not ids:
        return pl.Series("doc_id", [], pl.UInt32)
    # Constants (bound, one placeholder each), so DuckDB skips row groups by their bounds.
    marks = ", ".join("?" * len(ids))
    return con.sql(
        f"SELECT DISTINCT doc_id FROM search_postings WHERE term_id IN ({marks})", params=ids
    ).pl()["doc_id"]


def _verified(con: duckdb.DuckDBPyConnection, docs: pl.Series, term: Term) -> pl.Series:
    """Those of `docs` whose evidence holds the phrase `term`."""
    if docs.is_empty():
        return docs
    wanted = docs.to_frame("doc_id")  # noqa: F841 - read by DuckDB's replacement scan
    return con.sql(
        "SELECT d.doc_id FROM search_documents d JOIN statement_scores s"
        " ON s.assessment_id = d.assessment_id AND s.key_question = d.key_question"
        " AND s.statement = d.statement"
        " WHERE d.doc_id IN (SELECT doc_id FROM wanted)"
        " AND regexp_matches(strip_accents(lower(s.evidence)), $pattern)",
        params={"pattern": term.pattern()},
    ).pl()["doc_id"]


def _keys_of(con: duckdb.DuckDBPyConnection, docs: pl.Series | None) -> pl.DataFrame:
    """MATCH_KEYS of the documents `docs`."""
    if docs is None:
        docs = pl.Series("doc_id", [], pl.UInt32)
    wanted = docs.to_frame("doc_id")  # noqa: F841 - read by DuckDB's replacement scan
    return con.sql(
        "SELECT assessment_id, key_question, statement FROM search_documents"
        " WHERE doc_id IN (SELECT doc_id FROM wanted)"
    ).pl()
