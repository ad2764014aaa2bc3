"""Loading into DuckDB: the flattened views, idempotence, replacement, all-or-nothing files."""

from __future__ import annotations

import duckdb
import pytest

from ingest import database, store
from ingest.files import read_file
from tests.conftest import REPORTS

ROWAN = REPORTS / "rowan-court-three-key-questions.txt"
HARBOUR = REPORTS / "harbour-view-variants-and-mismatches.txt"

DATA_TABLES = ("providers", "locations", "assessments", "key_question_results", "statement_scores")


def load(con, *items):
    """Load (name, bytes) pairs; returns the results."""
    return store.load_files(con, [read_file(name, data) for name, data in items])


def snapshot(con) -> dict[str, set[str]]:
    """Every row of every data table, as text (rows hold lists, which sets cannot)."""
    return {t: {repr(row) for row in con.sql(f"SELECT * FROM {t}").fetchall()} for t in DATA_TABLES}


@pytest.fixture
def con(db_path):
    con = database.connect(db_path, read_only=False)
    yield con
    con.close()


def test_seed_report_flattens_to_scores_view(con, seed_path):
    [result] = load(con, (str(seed_path), seed_path.read_bytes()))
    assert (result.action, result.loaded) == ("loaded", 1)
    rows = con.sql(
        "SELECT location_name, provider_name, service_type, region, postcode, assessment_date,"
        " published_date, era, key_question, key_question_rating, key_question_score,"
        " statement_id, score, source FROM scores ORDER BY statement_id"
    ).fetchall()
    assert len(rows) == 7
    first = rows[0]
    assert first[:5] == (
        "PETCT Mobile Services", "Alliance Medical Limited", "Independent hospital",
        "West Midlands", "CV34 5AH",
    )  # fmt: skip
    assert [str(d) for d in first[5:7]] == ["2024-06-17", "2024-09-24"]
    assert first[7:11] == ("SAF by evidence category", "Well-led", "Good", 82)
    assert [(r[11], r[12]) for r in rows] == [
        (27, 4), (28, 3), (29, 3), (30, 3), (31, 3), (32, 3), (33, 4)
    ]  # fmt: skip
    assert {r[13] for r in rows} == {"report-text"}
    [(region_source, loc_id, cqc_id)] = con.sql(
        "SELECT region_source, location_id, cqc_location_id FROM locations"
    ).fetchall()
    assert region_source == "derived"  # CV is the Coventry area, West Midlands
    assert loc_id.startswith("x-") and cqc_id is None


def test_key_questions_view_has_points_and_both_scores(con):
    load(con, (str(ROWAN), ROWAN.read_bytes()))
    rows = con.sql(
        "SELECT key_question, key_question_score, stated_score, computed_score, points,"
        " statements_scored FROM key_questions ORDER BY key_question"
    ).fetchall()
    # Safe states 56 though 12/20 = 60: the view uses the stated figure and keeps both.
    assert rows == [
        ("Caring", 75, 75, 75, 15, 5),
        ("Safe", 56, 56, 60, 12, 5),
        ("Well-led", 50, 50, 50, 14, 7),
    ]


def test_loading_the_same_report_twice_adds_nothing(con):
    load(con, (str(ROWAN), ROWAN.read_bytes()))
    before = snapshot(con)
    [again] = load(con, ("copy-of-rowan.txt", ROWAN.read_bytes()))
    assert (again.action, again.unchanged, again.loaded) == ("unchanged", 1, 0)
    assert snapshot(con) == before
    assert con.sql("SELECT count(*) FROM scores").fetchall() == [(17,)]  # 5 + 5 + 7 statements


def test_new_version_of_an_assessment_replaces_the_old(con):
    load(con, ("v1.txt", ROWAN.read_bytes()))
    changed = ROWAN.read_text(encoding="utf-8").replace(
        "Safeguarding\n\nScore: 3", "Safeguarding\n\nScore: 4"
    )
    [result] = load(con, ("v2.txt", changed.encode()))
    assert (result.action, result.replaced) == ("replaced", 1)
    assert "v1.txt" in result.message
    assert con.sql("SELECT count(*) FROM scores").fetchall() == [(17,)]
    assert con.sql("SELECT score FROM scores WHERE statement_id = 3").fetchall() == [(4,)]
    assert con.sql("SELECT count(*) FROM assessments").fetchall() == [(1,)]
    log = con.sql("SELECT file, action FROM ingest_log ORDER BY log_id").fetchall()
    assert log == [("v1.txt", "loaded"), ("v2.txt", "replaced")]


def test_rejected_file_leaves_data_unchanged_and_is_logged(con):
    load(con, (str(ROWAN), ROWAN.read_bytes()))
    before = snapshot(con)
    bad = ROWAN.read_text(encoding="utf-8").replace("Score: 3", "Score: 7", 1).encode()
    results = load(con, ("bad.txt", bad), (str(HARBOUR), HARBOUR.read_bytes()))
    assert [r.action for r in results] == ["rejected", "loaded"]
    assert results[0].line == "bad.txt: line 35: score 7 for 'Safeguarding' is outside 1-4"
    after = snapshot(con)
    for table in DATA_TABLES:
        assert before[table] <= after[table]
    harbour_only = con.sql(
        "SELECT count(*) FROM scores WHERE location_name = 'Harbour View Community Team'"
    ).fetchall()
    assert harbour_only == [(8,)]
    assert con.sql("SELECT count(*) FROM scores").fetchall() == [(17 + 8,)]
    assert con.sql("SELECT action FROM ingest_log WHERE file = 'bad.txt'").fetchall() == [
        ("rejected",)
    ]


def test_database_refusal_rolls_back_the_whole_file(con):
    load(con, (str(ROWAN), ROWAN.read_bytes()))
    before = snapshot(con)
    good = read_file(str(HARBOUR), HARBOUR.read_bytes())
    broken = read_file("broken.txt", ROWAN.read_bytes().replace(b"2025", b"2024"))
    # A statement row the schema refuses (statement is NOT NULL), written after the file's
    # assessment rows: the database, not the reader, rejects this file part-way through.
    broken.records[0]["key_questions"][0]["statements"][1]["name"] = None
    results = store.load_files(con, [good, broken])
    assert [r.action for r in results] == ["loaded", "rejected"]
    assert results[1].message.startswith("database refused the file")
    assessments = con.sql("SELECT source_file FROM assessments ORDER BY 1").fetchall()
    assert assessments == sorted([(str(HARBOUR),), (str(ROWAN),)])
    for table in DATA_TABLES:
        assert before[table] <= snapshot(con)[table]


def test_connect_creates_schema_and_reference_table(db_path):
    con = database.connect(db_path, read_only=False)
    con.close()
    ro = duckdb.connect(str(db_path), read_only=True)
    assert ro.sql("SELECT count(*) FROM quality_statements").fetchall() == [(34,)]
    assert database.get_meta(ro, "schema_version") == "1"
    ro.close()


def test_a_file_set_up_by_other_code_gets_this_schema_and_one_with_it_is_left_alone(tmp_path):
    db = tmp_path / "schema.duckdb"
    con = database.connect(db, read_only=False)
    fingerprint = database.get_meta(con, "schema_hash")
    assert fingerprint
    # As if made by code from before a column existed.
    con.execute("ALTER TABLE locations DROP COLUMN inspection_category")
    database.set_meta(con, "schema_hash", "older code")
    con.close()
    con = database.connect(db, read_only=False)
    columns = [row[0] for row in con.execute("DESCRIBE locations").fetchall()]
    assert "inspection_category" in columns
    assert database.get_meta(con, "schema_hash") == fingerprint
    # With this schema's hash the statements are not run again (a view dropped stays dropped).
    con.execute("DROP VIEW scores")
    con.close()
    con = database.connect(db, read_only=False)
    views = {row[0] for row in con.execute("SELECT view_name FROM duckdb_views()").fetchall()}
    con.close()
    assert "scores" not in views and "key_questions" in views
