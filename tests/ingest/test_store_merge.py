"""One assessment in many files: each report text file replaces only the key questions it carries.

The Rowan Court fixture (Safe, Caring, Well-led; 3 March 2025) is cut into one file per key
question, as users save the pages of a report: header lines 1-16 and then each section.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import duckdb
import pytest

from ingest import database, store
from ingest.files import read_file
from tests.conftest import REPORTS

ROWAN = REPORTS / "rowan-court-three-key-questions.txt"
LINES = ROWAN.read_text(encoding="utf-8").splitlines(keepends=True)
HEADER = "".join(LINES[:16])  # up to and including "On this page"
SECTIONS = {
    "Safe": "".join(LINES[16:56]),
    "Caring": "".join(LINES[56:96]),
    "Well-led": "".join(LINES[96:]),
}
PAGES = {kq: (HEADER + text).encode() for kq, text in SECTIONS.items()}

# Every stored row that says what the data is (not when it was loaded or which file said it).
TABLES = {
    "assessments": "SELECT * EXCLUDE (loaded_at, source_file, content_hash) FROM assessments",
    "key_question_results": "SELECT * EXCLUDE (source_file) FROM key_question_results",
    "statement_scores": "SELECT * FROM statement_scores",
    "locations": "SELECT * FROM locations",
}


def _load(db: Path, *files: tuple[str, bytes]):
    con = database.connect(db, read_only=False)
    try:
        return store.load_files(con, [read_file(name, data) for name, data in files])
    finally:
        con.close()


def _tables(db: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: sorted(con.sql(sql).fetchall(), key=repr) for name, sql in TABLES.items()}
    finally:
        con.close()


def _key_questions(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(
            "SELECT key_question, statements_scored, source_file FROM key_question_results"
            " ORDER BY key_question"
        ).fetchall()
    finally:
        con.close()


def test_the_pages_of_one_report_make_one_assessment(tmp_path):
    db = tmp_path / "pages.duckdb"
    [safe] = _load(db, ("safe.txt", PAGES["Safe"]))
    [well_led] = _load(db, ("well-led.txt", PAGES["Well-led"]))
    assert (safe.action, well_led.action) == ("loaded", "loaded")
    assert safe.assessment_ids == well_led.assessment_ids  # the same assessment
    assert "Well-led added to the assessment of 2025-03-03 loaded from safe.txt" in well_led.message
    # Safe scores 5 statements and Well-led 7 in the fixture: both are kept.
    assert _key_questions(db) == [("Safe", 5, "safe.txt"), ("Well-led", 7, "well-led.txt")]


def test_any_order_of_the_pages_gives_the_same_database_as_the_whole_report(tmp_path):
    whole = tmp_path / "whole.duckdb"
    _load(whole, ("rowan.txt", ROWAN.read_bytes()))
    expected = _tables(whole)
    assert len(expected["key_question_results"]) == 3
    for number, order in enumerate(itertools.permutations(PAGES)):
        db = tmp_path / f"order-{number}.duckdb"
        for kq in order:
            _load(db, (f"{kq}.txt", PAGES[kq]))
        assert _tables(db) == expected, order
    # All pages in one batch, too.
    db = tmp_path / "one-batch.duckdb"
    _load(db, *((f"{kq}.txt", PAGES[kq]) for kq in reversed(PAGES)))
    assert _tables(db) == expected


def test_a_page_loaded_again_is_unchanged_and_a_new_version_replaces_only_its_key_question(
    tmp_path,
):
    db = tmp_path / "again.duckdb"
    _load(db, *((f"{kq}.txt", page) for kq, page in PAGES.items()))
    before = _tables(db)
    [again] = _load(db, ("safe-copy.txt", PAGES["Safe"]))
    assert (again.action, again.unchanged) == ("unchanged", 1)
    [whole] = _load(db, ("rowan.txt", ROWAN.read_bytes()))  # the same report, whole
    assert whole.action == "unchanged"
    assert _tables(db) == before
    # Safe's scores 2, 3, 2, 2, 3 (12 points of 20); the first 2 -> 3 makes 13: only Safe
    # changes.
    changed = PAGES["Safe"].replace(b"Score: 2", b"Score: 3", 1)
    [result] = _load(db, ("safe-v2.txt", changed))
    assert result.action == "replaced"
    assert "Safe replaced in the assessment of 2025-03-03" in result.message
    after = _tables(db)
    assert after["statement_scores"] != before["statement_scores"]
    kept = [r for r in after["key_question_results"] if r[1] != "Safe"]
    assert kept == [r for r in before["key_question_results"] if r[1] != "Safe"]
    [safe] = [r for r in after["key_question_results"] if r[1] == "Safe"]
    assert (safe[6], safe[7]) == (13, 5)  # points, statements_scored
    assert ("Caring", 5, "Caring.txt") in _key_questions(db)


@pytest.mark.parametrize("flush", [1, 1000])
def test_pages_merge_across_a_flush_of_the_rows(tmp_path, monkeypatch, flush):
    # A flush writes the queued rows mid-transaction: a page after it merges with the rows
    # already in the database, not with rows still queued.
    monkeypatch.setattr(store, "FLUSH_ASSESSMENTS", flush)
    db = tmp_path / "flush.duckdb"
    _load(db, *((f"{kq}.txt", page) for kq, page in PAGES.items()))
    assert [kq for kq, *_ in _key_questions(db)] == ["Caring", "Safe", "Well-led"]
