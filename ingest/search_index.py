"""The search index of the evidence text, kept by the loader in each file's transaction.

An inverted index in four tables of the same DuckDB file (ingest.schema documents each):
`search_terms` (each word once, with an integer id), `search_documents` (one row per
statement with evidence: an integer id and the statement's key, MATCH_KEYS),
`search_postings` (term id, document id: which words each statement's evidence holds) and
`search_key_questions` (each key question of an assessment indexed, with its location and
the range of its document ids). Words are read as queries.search reads them (lower case, no
accents, split at SEPARATORS), less the stop words and single letters; queries.search says
what a query means, `matching` finds it.

Kept in step by `update`, which ingest.store calls where it writes and deletes statement
rows (`_Rows.write`), inside the batch's transaction: the key questions the store deletes or
writes lose their documents and postings (each key question's documents are one range of
ids, so that is a delete of a range), and the statements it writes are indexed from the rows
in memory (reading evidence back from the table would scan every evidence text: ~0.4 s of
CPU a batch at national scale). A location that moves to its CQC id (a new alias,
ingest.store._move_location) takes its assessments along: their key questions are indexed
anew from the table. So the index never lags the scores, a replaced file's evidence is never
found, and a rejected file (its transaction rolled back) never reaches it.

A file set up before the index existed, or by another version of it (`INDEX_VERSION`, in
meta key `search_index`), is indexed whole by its next load (`update` calls `rebuild`), or by
`python -m ingest reindex`. The choice of design and its measurements: bench/RESULTS.md.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import duckdb
import polars as pl

from ingest import schema
from ingest.database import get_meta, set_meta
from queries.search import (
    MATCH_KEYS,
    MIN_WORD_LENGTH,
    SEPARATORS,
    STOP_WORDS,
    Query,
    Term,
    word_forms,
)

INDEX_VERSION = "1"
META_KEY = "search_index"
# Meta key: the latest location alias the index has followed (ISO time of linked_at).
ALIASES_KEY = "search_index_aliases"
TABLES = ("search_postings", "search_documents", "search_terms", "search_key_questions")
# Key questions indexed from the table per step (a rebuild: bounded memory).
CHUNK_KEY_QUESTIONS = 100_000
# More ranges of documents than this are deleted with one join instead of range by range.
MAX_RANGES = 64
_STOP = sorted(STOP_WORDS)
# A word: a run of characters that are not SEPARATORS (one regex: 2x faster than replacing
# each separator by a space and splitting).
_WORD_RUN = "[^" + "".join(re.escape(c) for c in dict.fromkeys(SEPARATORS)) + "]+"
_COLUMNS = [c for c, _, _ in schema.COLUMNS["statement_scores"]]
_EMPTY = pl.Series("doc_id", [], pl.UInt32)


def words(text: pl.Expr) -> pl.Expr:
    """The words of normalised `text`, as queries.search.words splits them: a list each."""
    return text.str.extract_all(_WORD_RUN)


def update(con: duckdb.DuckDBPyConnection, rows: Any) -> None:
    """Index what the store's `rows` (ingest.store._Rows) just wrote and deleted (module doc).

    Reads `rows.replaced` (assessments deleted whole), `rows.replaced_parts` ((assessment,
    key question) deleted), `rows.assessments` and `rows.statements` (written).
    """
    if (version := get_meta(con, META_KEY)) != INDEX_VERSION:
        if version is not None or not _only_this_batch(con, rows):
            rebuild(con)  # another version's index, or stored evidence without one
            return
        set_meta(con, META_KEY, INDEX_VERSION)  # a new file: its evidence is this batch's
    _follow_moves(con)  # first: it reads the table, which holds this batch's rows already
    written = [(aid, kq) for aid, kqs in rows.statements.items() for kq in kqs]
    _forget(con, whole=list(rows.replaced), parts=list(rows.replaced_parts) + written)
    frame = _written_frame(rows)
    if frame.height:
        located = {aid: row[1] for aid, row in rows.assessments.items()}
        missing = [aid for aid, _ in written if aid not in located]
        if missing:  # a key question written for an assessment whose row was not rewritten
            located |= dict(
                con.sql(
                    "SELECT assessment_id, location_id FROM assessments"
                    " WHERE assessment_id IN (SELECT unnest($ids))",
                    params={"ids": missing},
                ).fetchall()
            )
        _index(con, frame, located)


def _only_this_batch(con: duckdb.DuckDBPyConnection, rows: Any) -> bool:
    """Whether every statement row the table holds is one `rows` wrote (a new file's first
    batch: indexing them as written equals a rebuild, without reading the evidence back)."""
    written = sum(len(rs) for kqs in rows.statements.values() for rs in kqs.values())
    [(stored, documents)] = con.execute(
        "SELECT (SELECT count(*) FROM statement_scores), (SELECT count(*) FROM search_documents)"
    ).fetchall()
    return stored == written and not documents


def rebuild(con: duckdb.DuckDBPyConnection) -> int:
    """The index made anew from the stored evidence (in the caller's transaction); statements.

    Also what `python -m ingest reindex` runs.
    """
    for table in TABLES:
        con.execute(f"DELETE FROM {table}")
    set_meta(con, META_KEY, INDEX_VERSION)
    _set_aliases_seen(con)
    kqs = con.sql(
        "SELECT k.assessment_id, k.key_question, a.location_id FROM key_question_results k"
        " JOIN assessments a USING (assessment_id) ORDER BY 1, 2"
    ).pl()
    return sum(
        _index_from_table(con, kqs.slice(start, CHUNK_KEY_QUESTIONS))
        for start in range(0, kqs.height, CHUNK_KEY_QUESTIONS)
    )


def is_built(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the file holds this version of the index (an older file may have none)."""
    try:
        return get_meta(con, META_KEY) == INDEX_VERSION
    except duckdb.CatalogException:
        return False


def _written_frame(rows: Any) -> pl.DataFrame:
    """The statements `rows` wrote, with evidence: MATCH_KEYS, position, evidence."""
    wanted = ("assessment_id", "key_question", "statement", "position", "evidence")
    at = [_COLUMNS.index(c) for c in wanted]
    found = [r for kqs in rows.statements.values() for rs in kqs.values() for r in rs]
    if not found:
        return pl.DataFrame(schema=dict.fromkeys(wanted, pl.String) | {"position": pl.Int32})
    return pl.DataFrame(
        {c: [r[i] for r in found] for c, i in zip(wanted, at, strict=True)},
        schema_overrides={"position": pl.Int32, "evidence": pl.String},
    )


def _forget(con: duckdb.DuckDBPyConnection, whole: list[str], parts: list[tuple[str, str]]) -> None:
    """Delete the documents and postings of these assessments and (assessment, key question)s."""
    if not whole and not parts:
        return
    whole_ = pl.DataFrame({"assessment_id": whole}, schema={"assessment_id": pl.String})  # noqa: F841
    parts_ = pl.DataFrame(  # noqa: F841 - read by DuckDB's replacement scan
        parts, schema={"assessment_id": pl.String, "key_question": pl.String}, orient="row"
    )
    found = con.sql(
        "SELECT * FROM search_key_questions SEMI JOIN whole_ USING (assessment_id)"
        " UNION SELECT * FROM search_key_questions"
        " SEMI JOIN parts_ USING (assessment_id, key_question)"
    ).pl()
    _delete(con, found)


def _delete(con: duckdb.DuckDBPyConnection, found: pl.DataFrame) -> None:
    """Delete the indexed key questions `found` (with their document ranges) whole."""
    if found.is_empty():
        return
    ranges = found.filter(pl.col("first_doc").is_not_null()).select("first_doc", "last_doc")
    if ranges.height <= MAX_RANGES:
        for lo, hi in ranges.iter_rows():  # zone maps skip the row groups of other ranges
            for table in ("search_postings", "search_documents"):
                con.execute(f"DELETE FROM {table} WHERE doc_id BETWEEN ? AND ?", [lo, hi])
    else:
        for table in ("search_postings", "search_documents"):
            con.execute(
                f"DELETE FROM {table} WHERE EXISTS (SELECT 1 FROM ranges"
                f" WHERE {table}.doc_id BETWEEN ranges.first_doc AND ranges.last_doc)"
            )
    con.execute(
        "DELETE FROM search_key_questions k USING found f"
        " WHERE k.assessment_id = f.assessment_id AND k.key_question = f.key_question"
    )


def _follow_moves(con: duckdb.DuckDBPyConnection) -> None:
    """Index anew the assessments of locations that moved to a CQC id since the last update."""
    seen = get_meta(con, ALIASES_KEY)
    aliases = con.sql(
        "SELECT alias_id, location_id FROM location_aliases"
        " WHERE $seen IS NULL OR linked_at > CAST($seen AS TIMESTAMP)",
        params={"seen": seen},
    ).pl()
    if aliases.is_empty():
        return
    _set_aliases_seen(con)
    # Key questions indexed under an alias id: their location moved, and the assessments of
    # the location it moved to are indexed anew (one of two copies may have been dropped).
    moved = con.sql(
        "SELECT * FROM search_key_questions WHERE location_id IN (SELECT alias_id FROM aliases)"
    ).pl()
    if moved.is_empty():
        return
    found = moved.select(pl.col("location_id").alias("alias_id")).unique()
    targets = aliases.join(found, on="alias_id")  # noqa: F841 - read by the replacement scan
    _delete(
        con,
        con.sql(
            "SELECT * FROM search_key_questions WHERE location_id IN"
            " (SELECT alias_id FROM targets UNION SELECT location_id FROM targets)"
        ).pl(),
    )
    kqs = con.sql(
        "SELECT k.assessment_id, k.key_question, a.location_id FROM key_question_results k"
        " JOIN assessments a USING (assessment_id)"
        " WHERE a.location_id IN (SELECT location_id FROM targets)"
    ).pl()
    _index_from_table(con, kqs)


def _set_aliases_seen(con: duckdb.DuckDBPyConnection) -> None:
    [(latest,)] = con.execute("SELECT max(linked_at) FROM location_aliases").fetchall()
    if isinstance(latest, dt.datetime):
        set_meta(con, ALIASES_KEY, latest.isoformat())


def _index_from_table(con: duckdb.DuckDBPyConnection, kqs: pl.DataFrame) -> int:
    """Index the stored statements of the key questions `kqs` (MATCH_KEYS[:2], location_id)."""
    if kqs.is_empty():
        return 0
    wanted = kqs.select("assessment_id", "key_question")  # noqa: F841 - replacement scan
    frame = con.sql(
        "SELECT assessment_id, key_question, statement, position, evidence FROM statement_scores"
        " SEMI JOIN wanted USING (assessment_id, key_question)"
        " ORDER BY assessment_id, key_question, position"  # a key question's ids: one range
    ).pl()
    _index(con, frame, dict(zip(kqs["assessment_id"], kqs["location_id"], strict=True)))
    return frame.filter(pl.col("evidence").is_not_null()).height


def _index(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, located: dict[str, str]) -> None:
    """Index the statements of `frame` (MATCH_KEYS, position, evidence), whose key questions'
    rows come together; `located`: each assessment's location."""
    [(last,)] = con.execute("SELECT coalesce(max(doc_id), 0) FROM search_documents").fetchall()
    docs = _normalised(con, frame.filter(pl.col("evidence").is_not_null()))
    docs = docs.with_columns(doc_id=pl.int_range(1, docs.height + 1, dtype=pl.UInt32) + last)
    found = (
        docs.lazy()
        .select(
            "doc_id",
            term=words(pl.col("text")),
        )
        .explode("term")
        .filter(pl.col("term").str.len_bytes() >= MIN_WORD_LENGTH, ~pl.col("term").is_in(_STOP))
        .collect()
    )
    ids = _term_ids(con, found["term"].unique())
    # One sort of (term, document) packed in 64 bits puts a word's postings together (lookups
    # skip the row groups of other words) and its repeats side by side, to drop them.
    packed = (
        # (cast: on no terms at all, replace_strict hands back the empty String column)
        found["term"].replace_strict(ids, return_dtype=pl.UInt64).cast(pl.UInt64) * 2**32
        + found["doc_id"]
    ).sort()
    packed = packed.filter(packed != packed.shift(1, fill_value=0))
    postings = pl.DataFrame(  # noqa: F841 - read by DuckDB's replacement scan
        {"term_id": (packed // 2**32).cast(pl.UInt32), "doc_id": (packed % 2**32).cast(pl.UInt32)}
    )
    documents = docs.select("doc_id", *MATCH_KEYS)  # noqa: F841 - read by the replacement scan
    ranges = docs.group_by("assessment_id", "key_question").agg(
        first_doc=pl.col("doc_id").min(), last_doc=pl.col("doc_id").max()
    )
    kqs = ranges.with_columns(  # noqa: F841 - read by DuckDB's replacement scan
        location_id=pl.col("assessment_id").replace_strict(located, default=None)
    ).select("assessment_id", "key_question", "location_id", "first_doc", "last_doc")
    con.execute("INSERT INTO search_postings SELECT * FROM postings")
    con.execute("INSERT INTO search_documents SELECT * FROM documents")
    con.execute("INSERT INTO search_key_questions SELECT * FROM kqs")


def _normalised(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame) -> pl.DataFrame:
    """MATCH_KEYS and `text`, the evidence lower-cased without accents, in the frame's order.

    ASCII text is lower-cased by Polars; other text goes through DuckDB's
    strip_accents(lower(...)), which queries.search.normalise equals.
    """
    evidence = pl.col("evidence")
    plain = evidence.str.len_bytes() == evidence.str.len_chars()
    docs = frame.select(*MATCH_KEYS, text=evidence.str.to_lowercase(), plain=plain)
    if docs["plain"].all():
        return docs.drop("plain")
    other = frame.filter(~plain).select("evidence")  # noqa: F841 - read by the replacement scan
    texts = con.sql("SELECT strip_accents(lower(evidence)) AS text FROM other").pl()["text"]
    return docs.with_columns(
        text=pl.when("plain")
        .then("text")
        # (signed and clipped: the plain rows before the first other one are gathered too)
        .otherwise(
            pl.lit(texts).gather((pl.col("plain").not_().cum_sum().cast(pl.Int64) - 1).clip(0))
        )
    ).drop("plain")


def _term_ids(con: duckdb.DuckDBPyConnection, terms: pl.Series) -> dict[str, int]:
    """term -> term_id for `terms`, new words added to search_terms first."""
    wanted = terms.to_frame("term")  # noqa: F841 - read by DuckDB's replacement scan
    known = dict(
        con.sql(
            "SELECT term, term_id FROM search_terms WHERE term IN (SELECT term FROM wanted)"
        ).fetchall()
    )
    new = sorted(t for t in terms.to_list() if t not in known)
    if new:
        [(last,)] = con.execute("SELECT coalesce(max(term_id), 0) FROM search_terms").fetchall()
        added = {term: last + i for i, term in enumerate(new, start=1)}
        frame = pl.DataFrame(  # noqa: F841 - read by DuckDB's replacement scan
            {"term_id": list(added.values()), "term": list(added)},
            schema={"term_id": pl.UInt32, "term": pl.String},
        )
        con.execute("INSERT INTO search_terms SELECT * FROM frame")
        known |= added
    return known


def matching(con: duckdb.DuckDBPyConnection, query: Query) -> pl.Series:
    """Ids of the documents (search_documents) whose evidence matches `query`, ascending.

    Each word's documents come from the postings (one read each); the sets are combined in
    Polars (a tenth of the time DuckDB's INTERSECT takes on millions of ids). A phrase is then
    checked in the evidence of the documents holding all its words, and exclusions are
    taken out last.
    """
    forms = {w: word_forms(w) for c in query.clauses for t in c.terms for w in t.indexed_words}
    ids = _term_ids_of(con, forms)
    sets = {w: _word_documents(con, ids[w]) for w in forms}
    candidates = _both(*(_any(sets, c.terms) for c in query.required))
    for clause in query.required:  # a clause with a phrase: what really holds one
        if any(len(t.words) > 1 for t in clause.terms):
            candidates = _holding(con, clause.terms, candidates, sets)
    for clause in query.excluded:
        gone = _holding(con, clause.terms, candidates, sets)
        candidates = candidates.filter(~candidates.is_in(gone.implode()))
    return candidates.sort()


def _term_ids_of(
    con: duckdb.DuckDBPyConnection, forms: dict[str, tuple[str, ...]]
) -> dict[str, list[int]]:
    """word -> the term ids of its forms (none: the index holds none of them)."""
    every = sorted({f for fs in forms.values() for f in fs})
    known = dict(
        con.sql(
            "SELECT term, term_id FROM search_terms WHERE term IN (SELECT unnest($forms))",
            params={"forms": every},
        ).fetchall()
    )
    return {w: sorted(known[f] for f in fs if f in known) for w, fs in forms.items()}


def _word_documents(con: duckdb.DuckDBPyConnection, ids: list[int]) -> pl.Series:
    """The documents holding any of the term ids, each once."""
    if not ids:
        return _EMPTY
    # Constants (bound, a placeholder each): DuckDB skips row groups of other words.
    marks = ", ".join("?" * len(ids))
    found = con.sql(
        f"SELECT doc_id FROM search_postings WHERE term_id IN ({marks})", params=ids
    ).pl()["doc_id"]
    return found.unique() if len(ids) > 1 else found


def _both(*sets: pl.Series) -> pl.Series:
    """The documents in every one of `sets` (smallest first)."""
    ordered = sorted(sets, key=len)
    found = ordered[0]
    for other in ordered[1:]:
        found = found.filter(found.is_in(other.implode()))
    return found


def _any(sets: dict[str, pl.Series], terms: tuple[Term, ...]) -> pl.Series:
    """Documents holding all the words of one of `terms` (for a phrase: candidates)."""
    found = [_both(*(sets[w] for w in t.indexed_words)) for t in terms]
    return pl.concat(found).unique() if len(found) > 1 else found[0]


def _holding(
    con: duckdb.DuckDBPyConnection,
    terms: tuple[Term, ...],
    within: pl.Series,
    sets: dict[str, pl.Series],
) -> pl.Series:
    """Those of `within` holding one of `terms` (words by the index, phrases in the text)."""
    found = []
    for term in terms:
        docs = _both(within, *(sets[w] for w in term.indexed_words))
        found.append(_verified(con, docs, term) if len(term.words) > 1 else docs)
    return pl.concat(found).unique() if found else within.clear()


def _verified(con: duckdb.DuckDBPyConnection, docs: pl.Series, term: Term) -> pl.Series:
    """Those of `docs` whose evidence holds the phrase `term`.

    The words as typed, between spaces, are looked for first (a plain substring search);
    only the rest take the regular expression, which also finds other forms and punctuation.
    """
    if docs.is_empty():
        return docs
    wanted = docs.to_frame("doc_id")  # noqa: F841 - read by DuckDB's replacement scan
    return con.sql(
        "WITH d AS (SELECT * FROM search_documents WHERE doc_id IN (SELECT doc_id FROM wanted))"
        " SELECT doc_id FROM (SELECT d.doc_id, strip_accents(lower(s.evidence)) AS t"
        " FROM d JOIN statement_scores s ON s.assessment_id = d.assessment_id"
        " AND s.key_question = d.key_question AND s.statement = d.statement)"
        " WHERE contains(' ' || t || ' ', $plain) OR regexp_matches(t, $pattern)",
        params={"plain": " " + " ".join(term.words) + " ", "pattern": term.pattern()},
    ).pl()["doc_id"]


def documents(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every document of the index: doc_id and MATCH_KEYS, in no particular order (sorting
    them doubled the read at national scale; a caller finds a document by its doc_id)."""
    return con.sql(
        "SELECT doc_id, assessment_id, key_question, statement FROM search_documents"
    ).pl()
