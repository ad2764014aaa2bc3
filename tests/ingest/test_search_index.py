"""The search index (ingest.search_index): kept in each file's transaction by the loader, never
holding a replaced or rejected file's evidence, the same built incrementally or from scratch."""

from __future__ import annotations

import subprocess
import sys

import polars as pl
import pytest

from ingest import database, search_index, store
from ingest.files import read_file
from queries.search import SEPARATORS, matches, parse_query
from queries.search import words as search_words
from tests.conftest import FIXTURES, REPORTS
from tests.helpers import ROOT, build_demo_db, sql

ROWAN = REPORTS / "rowan-court-three-key-questions.txt"
HARBOUR = REPORTS / "harbour-view-variants-and-mismatches.txt"
ROWAN_API = FIXTURES / "api" / "rowan-court.json"
# Every (word, statement) pair the index holds, by the statements' keys (doc ids differ
# between an incremental index and a rebuilt one).
INDEXED = """
    SELECT t.term, d.assessment_id, d.key_question, d.statement FROM search_postings p
    JOIN search_terms t USING (term_id) JOIN search_documents d USING (doc_id)
"""


def load(con, *items: tuple[str, bytes]):
    return store.load_files(con, [read_file(name, data) for name, data in items])


def found(con, text: str) -> set[tuple[str, str, str]]:
    """The statements (assessment_id, key_question, statement) the index finds for `text`."""
    docs = search_index.matching(con, parse_query(text)).to_list()
    keys = dict(
        (doc, (aid, kq, st))
        for doc, aid, kq, st in search_index.documents(con).iter_rows()
    )  # fmt: skip
    return {keys[d] for d in docs}


def expected(con, text: str) -> set[tuple[str, str, str]]:
    """The statements whose stored evidence matches `text` (queries.search.matches)."""
    query = parse_query(text)
    rows = con.sql(
        "SELECT assessment_id, key_question, statement, evidence FROM statement_scores"
    ).fetchall()
    return {(a, k, s) for a, k, s, evidence in rows if matches(evidence, query)}


def indexed(con) -> list[tuple]:
    return sorted(con.sql(INDEXED).fetchall())


def rebuilt(con) -> list[tuple]:
    """The index a rebuild from scratch makes (rolled back after: `con` keeps its own)."""
    con.execute("BEGIN TRANSACTION")
    try:
        search_index.rebuild(con)
        return indexed(con)
    finally:
        con.execute("ROLLBACK")


@pytest.fixture
def con(db_path):
    con = database.connect(db_path, read_only=False)
    yield con
    con.close()


def test_a_new_version_of_an_assessment_takes_its_old_evidence_out_of_the_index(con):
    load(con, (str(ROWAN), ROWAN.read_bytes()))
    [(aid,)] = con.sql("SELECT assessment_id FROM assessments").fetchall()
    assert found(con, "induction") == {(aid, "Safe", "Safe and effective staffing")}
    assert found(con, '"agency staff"') == {(aid, "Safe", "Safe and effective staffing")}
    newer = ROWAN.read_text(encoding="utf-8").replace("receive an induction", "get a briefing")
    [result] = load(con, ("rowan-newer.txt", newer.encode()))
    assert "replaced" in result.message
    assert found(con, "induction") == set()  # the replaced file's evidence is gone
    assert found(con, "briefing") == {(aid, "Safe", "Safe and effective staffing")}
    # Every other statement is still found, once, as the stored evidence reads.
    for text in ("staff", "medicines", '"did not always"', "risks -incidents"):
        assert found(con, text) == expected(con, text), text
    assert indexed(con) == rebuilt(con)


def test_a_rejected_file_adds_nothing_to_the_index(con):
    load(con, (str(ROWAN), ROWAN.read_bytes()))
    before = indexed(con)
    bad = ROWAN.read_text(encoding="utf-8").replace("Score: 3", "Score: 7", 1)
    bad = bad.replace("Rowan Court", "Zebrafish Court")  # its words would be new ones
    [result] = load(con, ("bad.txt", bad.encode()))
    assert result.action == "rejected"
    assert indexed(con) == before
    assert found(con, "zebrafish") == set()


def test_a_file_the_database_refuses_leaves_no_evidence_searchable(con):
    good = read_file(str(HARBOUR), HARBOUR.read_bytes())
    text = ROWAN.read_bytes().replace(b"Incidents were", b"Zebrafish were")
    broken = read_file("broken.txt", text)
    # A statement row the schema refuses (statement is NOT NULL): the database rejects the
    # file part-way through its transaction, and the batch is retried a file at a time.
    broken.records[0]["key_questions"][0]["statements"][1]["name"] = None
    results = store.load_files(con, [good, broken])
    assert [r.action for r in results] == ["loaded", "rejected"]
    assert found(con, "zebrafish") == set()
    assert found(con, "staff") == expected(con, "staff") != set()
    assert indexed(con) == rebuilt(con)


def test_the_incremental_index_equals_one_rebuilt_from_scratch(tmp_path):
    db = build_demo_db(tmp_path, locations=40, seed=5)  # demo corpus: text files and API records
    con = database.connect(db, read_only=False)
    try:
        # Another page of one report, and a new version of another: merged and replaced.
        load(con, (str(ROWAN), ROWAN.read_bytes()), (str(HARBOUR), HARBOUR.read_bytes()))
        newer = ROWAN.read_text(encoding="utf-8").replace("Incidents were", "Falls were")
        load(con, ("rowan-newer.txt", newer.encode()))
        assert len(indexed(con)) > 10_000
        assert indexed(con) == rebuilt(con)
        for text in ("staff", '"told us"', "audits OR governance", "training -managers", "falls"):
            assert found(con, text) == expected(con, text), text
    finally:
        con.close()


def test_a_location_that_moves_to_its_cqc_id_takes_its_evidence_along(con):
    load(con, (str(ROWAN), ROWAN.read_bytes()))
    [(derived,)] = con.sql("SELECT assessment_id FROM assessments").fetchall()
    store.load_files(con, [read_file(str(ROWAN_API), ROWAN_API.read_bytes())])
    moved = found(con, "induction")
    [(aid, _, _)] = moved
    assert aid != derived  # re-keyed under the CQC id
    [(location,)] = con.execute(
        "SELECT location_id FROM assessments WHERE assessment_id = ?", [aid]
    ).fetchall()
    assert location == "1-1000000404"
    assert found(con, "staff") == expected(con, "staff")
    assert indexed(con) == rebuilt(con)


def test_a_move_and_a_new_version_in_one_batch_index_each_statement_once(con):
    load(con, (str(ROWAN), ROWAN.read_bytes()))
    newer = ROWAN.read_text(encoding="utf-8").replace("receive an induction", "get a briefing")
    # One transaction: the API record moves the location to its CQC id (its key questions
    # are indexed anew from the table), and the report's new version is written after it.
    store.load_files(
        con,
        [read_file(str(ROWAN_API), ROWAN_API.read_bytes()), read_file("newer.txt", newer.encode())],
    )
    [(aid, _, _)] = found(con, "briefing")
    [(location,)] = con.execute(
        "SELECT location_id FROM assessments WHERE assessment_id = ?", [aid]
    ).fetchall()
    assert location == "1-1000000404"
    assert found(con, "induction") == set()
    assert indexed(con) == rebuilt(con)  # no statement indexed twice


def test_a_database_without_the_index_gets_it_on_its_next_load(con):
    load(con, (str(ROWAN), ROWAN.read_bytes()))
    for table in search_index.TABLES:  # as a file set up before the index existed
        con.execute(f"DELETE FROM {table}")
    con.execute("DELETE FROM meta WHERE key = ?", [search_index.META_KEY])
    assert not search_index.is_built(con)
    load(con, (str(HARBOUR), HARBOUR.read_bytes()))
    assert search_index.is_built(con)
    assert found(con, "induction") == expected(con, "induction") != set()  # Rowan's, kept
    assert indexed(con) == rebuilt(con)


def test_a_new_files_first_batch_is_indexed_as_written_without_a_rebuild(con, monkeypatch):
    calls = []
    monkeypatch.setattr(search_index, "rebuild", lambda c: calls.append(c) or 0)
    load(con, (str(ROWAN), ROWAN.read_bytes()), (str(HARBOUR), HARBOUR.read_bytes()))
    assert calls == [] and search_index.is_built(con)
    monkeypatch.undo()
    assert len(indexed(con)) > 100
    assert indexed(con) == rebuilt(con)


def test_reindex_command_rebuilds_the_index(tmp_path):
    db = tmp_path / "reindex.duckdb"
    con = database.connect(db, read_only=False)
    load(con, (str(ROWAN), ROWAN.read_bytes()), (str(HARBOUR), HARBOUR.read_bytes()))
    before = indexed(con)
    con.execute("DELETE FROM search_postings")  # a damaged index
    con.close()
    done = subprocess.run(
        [sys.executable, "-m", "ingest", "reindex", "--db", str(db)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    [(statements,)] = sql(db, "SELECT count(*) FROM statement_scores WHERE evidence IS NOT NULL")
    assert done.stdout.startswith(f"search index rebuilt: {statements:,} statements")
    assert sorted(sql(db, INDEXED)) == before


def test_reindex_of_a_damaged_database_says_so_in_one_line(tmp_path):
    db = tmp_path / "damaged.duckdb"
    db.write_bytes(b"not a database" * 1000)
    done = subprocess.run(
        [sys.executable, "-m", "ingest", "reindex", "--db", str(db)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 3
    [line] = done.stderr.splitlines()
    assert line.startswith("error: the search index was not rebuilt:")
    assert "damaged" in line
    assert db.read_bytes() == b"not a database" * 1000  # left as it was


def test_queries_with_regex_and_sql_characters_are_searched_as_text(con):
    load(con, (str(ROWAN), ROWAN.read_bytes()))
    for text in ('"as required"', "(creams|gaps)", "staff'; DROP TABLE search_terms; --", "%gaps%"):
        assert found(con, text) == expected(con, text), text
    assert found(con, '"as required"') != set()
    assert con.sql("SELECT count(*) FROM search_terms").fetchall()[0][0] > 0


def test_the_index_splits_words_where_queries_split_them():
    separators = "".join(SEPARATORS)
    texts = [f"staff{c}training" for c in SEPARATORS] + [
        f"a{separators}b ward-based  care\u2019s end.",
        "",
    ]
    got = pl.select(search_index.words(pl.Series(texts).str.to_lowercase())).to_series()
    assert got.to_list() == [search_words(t) for t in texts]
