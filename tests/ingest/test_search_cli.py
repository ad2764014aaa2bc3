"""`python -m ingest search` (ingest.search_cli): the rows and columns it prints, its filters,
both formats and its exit codes, on report fixtures loaded through the real loader (expected
rows worked out by hand from the fixtures' text) and on the demo data against plain SQL."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ingest import database, search_cli, search_index, store
from ingest.__main__ import cli, main
from ingest.files import read_file
from tests.conftest import REPORTS
from tests.helpers import ROOT, build_demo_db, holding, sql
from tests.pages.oracle import JUDGED

ROWAN = REPORTS / "rowan-court-three-key-questions.txt"
HARBOUR = REPORTS / "harbour-view-variants-and-mismatches.txt"
ROWAN_NAME = "Rowan Court Nursing Home"
# Elm Lodge: Rowan Court's report for another home, whose "Treating people as individuals"
# evidence has two paragraphs, an accent and a line separator.
ELM_EVIDENCE = (
    "Care plans described people's life histories.\n\n"
    'A Café volunteer said: "they listen"\u2028to everyone.'
)
COLUMNS = [
    "location_id", "location_name", "provider_id", "provider_name", "region", "service_type",
    "assessment_id", "assessment_date", "key_question", "statement_id", "statement", "score",
    "evidence",
]  # fmt: skip
# The statements of Rowan Court (and so of Elm Lodge) whose evidence says staff: (key
# question, statement id, score), in the order printed (framework order of key questions).
ROWAN_STAFF = [
    ("Safe", 1, 2), ("Safe", 3, 3), ("Safe", 6, 2), ("Safe", 7, 3),
    ("Caring", 15, 3), ("Caring", 19, 3),
    ("Well-led", 27, 2), ("Well-led", 29, 2), ("Well-led", 30, 2), ("Well-led", 31, 2),
]  # fmt: skip
HARBOUR_STAFF = [("Effective", 14, 3)]  # "Staff sought consent before every visit."
# Every row of statement_scores in the order the command prints rows (an independent SQL).
ORDER = (
    "ORDER BY location_id, assessment_date, assessment_id,"
    " list_position(['Safe', 'Effective', 'Caring', 'Responsive', 'Well-led'], key_question),"
    " statement_id NULLS LAST, statement"
)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rowan Court, Harbour View and Elm Lodge, each one assessment, loaded and indexed."""
    elm = ROWAN.read_text(encoding="utf-8")
    elm = elm.replace("Care plans described people's life histories, likes and dislikes.", "")
    elm = elm.replace("Treating people as individuals\n\nScore: 3\n", "Treating people as"
                      f" individuals\n\nScore: 3\n\n{ELM_EVIDENCE}\n")  # fmt: skip
    elm = elm.replace("Rowan Court Nursing Home", "Elm Lodge").replace("LS6 2QT", "LS7 3AB")
    elm = elm.replace("Report from 3 March 2025", "Report from 10 February 2025")
    path = tmp_path_factory.mktemp("search-cli") / "small.duckdb"
    con = database.connect(path, read_only=False)
    try:
        results = store.load_files(
            con,
            [
                read_file(str(ROWAN), ROWAN.read_bytes()),
                read_file(str(HARBOUR), HARBOUR.read_bytes()),
                read_file("elm-lodge.txt", elm.encode()),
            ],
        )
        assert [r.action for r in results] == ["loaded"] * 3
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo_db(tmp_path_factory.mktemp("search-cli-demo"), locations=30)


def search(capsys, db: Path, *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `python -m ingest search ARGS --db DB`, run in-process."""
    code = main(["search", *args, "--db", str(db)])
    out, err = capsys.readouterr()
    return code, out, err


def rows_of(out: str) -> list[dict[str, str]]:
    """The CSV the command printed, as rows (its header checked)."""
    reader = csv.reader(io.StringIO(out, newline=""))
    assert next(reader) == COLUMNS
    return [dict(zip(COLUMNS, row, strict=True)) for row in reader]


def location_ids(db: Path) -> dict[str, str]:
    return dict(sql(db, "SELECT location_name, location_id FROM locations"))


def expected_staff(db: Path) -> list[tuple[str, str, str]]:
    """(location name, key question, statement id) of the staff matches, in printed order."""
    ids = location_ids(db)
    found = {
        "Rowan Court Nursing Home": ROWAN_STAFF,
        "Elm Lodge": ROWAN_STAFF,
        "Harbour View Community Team": HARBOUR_STAFF,
    }
    return [
        (name, kq, str(sid))
        for name in sorted(found, key=ids.get)
        for kq, sid, _ in found[name]
    ]  # fmt: skip


def keys(rows: list[dict[str, str]]) -> list[tuple[str, str, str]]:
    return [(r["location_name"], r["key_question"], r["statement_id"]) for r in rows]


def test_one_match_prints_every_column_of_its_statement(capsys, small):
    code, out, err = search(capsys, small, "dislikes")  # Rowan Court's alone
    assert code == 0
    [row] = rows_of(out)
    assert row == {
        "location_id": location_ids(small)["Rowan Court Nursing Home"],
        "location_name": "Rowan Court Nursing Home",
        "provider_id": row["provider_id"],  # derived from the name: checked below
        "provider_name": "Meadowfield Care Partnership Ltd",
        "region": "Yorkshire & Humberside",  # from the LS postcode
        "service_type": "Care home service with nursing",
        "assessment_id": row["assessment_id"],
        "assessment_date": "2025-03-03",
        "key_question": "Caring",
        "statement_id": "16",
        "statement": "Treating people as individuals",
        "score": "3",
        "evidence": "Care plans described people's life histories, likes and dislikes.",
    }
    assert sql(
        small,
        "SELECT provider_id, assessment_id FROM scores WHERE location_name = 'Rowan Court"
        " Nursing Home' AND statement_id = 16",
    ) == [(row["provider_id"], row["assessment_id"])]
    assert err == "1 statement matches dislikes at 1 location\n"


def test_every_match_in_order_of_location_date_key_question_and_statement(capsys, small):
    code, out, err = search(capsys, small, "staff")
    assert code == 0
    rows = rows_of(out)
    assert keys(rows) == expected_staff(small)
    assert err == "21 statements match staff at 3 locations\n"
    scores = {(r["location_name"], r["key_question"], r["statement_id"]): r["score"] for r in rows}
    for kq, sid, score in ROWAN_STAFF:
        assert scores["Elm Lodge", kq, str(sid)] == str(score)


@pytest.mark.parametrize(
    ("options", "wanted"),
    [
        (["--key-question", "Safe"], lambda loc, kq, sid, score: kq == "Safe"),
        (["--score", "3"], lambda loc, kq, sid, score: score == 3),
        (  # repeated, and a key question written in any case
            ["--key-question", "safe", "--key-question", "EFFECTIVE", "--score", "2"],
            lambda loc, kq, sid, score: kq in ("Safe", "Effective") and score == 2,
        ),
        (
            ["--score", "2", "--score", "3", "--key-question", "Caring"],
            lambda loc, kq, sid, score: kq == "Caring",
        ),
        (["--statement", "29"], lambda loc, kq, sid, score: sid == 29),
        (  # a statement by its name; another location's statement
            ["--statement", "consent to care and treatment"],
            lambda loc, kq, sid, score: sid == 14,
        ),
        (["--statement", "3", "--statement", "6"], lambda loc, kq, sid, score: sid in (3, 6)),
    ],
)
def test_filters_keep_the_statements_they_name(capsys, small, options, wanted):
    code, out, _ = search(capsys, small, "staff", *options)
    rows = keys(rows_of(out))
    found = {
        "Rowan Court Nursing Home": ROWAN_STAFF,
        "Elm Lodge": ROWAN_STAFF,
        "Harbour View Community Team": HARBOUR_STAFF,
    }
    expected = [
        (loc, kq, sid)
        for loc, kq, sid in expected_staff(small)
        if wanted(loc, kq, int(sid), dict(((k, s), c) for k, s, c in found[loc])[kq, int(sid)])
    ]
    assert expected  # each case keeps something, and less than everything
    assert len(expected) < 21
    assert rows == expected
    assert code == 0


def test_filters_that_leave_nothing_exit_1_with_the_header_only(capsys, small):
    code, out, err = search(capsys, small, "staff", "--score", "4")
    assert code == 1
    assert rows_of(out) == []
    assert err == "0 statements match staff\n"
    code, out, _ = search(capsys, small, "staff", "--statement", "3", "--key-question", "Caring")
    assert (code, rows_of(out)) == (1, [])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('"agency staff"', [("Rowan Court Nursing Home", 6), ("Elm Lodge", 6)]),
        ("induction OR supervision", [(n, s) for n in (ROWAN_NAME, "Elm Lodge") for s in (6, 19)]),
        ("INDUCTÍON", [("Rowan Court Nursing Home", 6), ("Elm Lodge", 6)]),  # case, accents
        ("staffing", [("Rowan Court Nursing Home", 31), ("Elm Lodge", 31)]),  # not "staff"
        ("medicine", [(n, s) for n in (ROWAN_NAME, "Elm Lodge") for s in (8, 31)]),
        ("cafe", [("Elm Lodge", 16)]),
        ("nobody", []),
    ],
)
def test_the_query_means_what_it_means_on_the_search_page(capsys, small, query, expected):
    code, out, _ = search(capsys, small, query)
    got = [(r["location_name"], int(r["statement_id"])) for r in rows_of(out)]
    ids = location_ids(small)
    assert got == sorted(expected, key=lambda e: (ids[e[0]], e[1]))
    assert code == (0 if expected else 1)


def test_an_exclusion_takes_its_statements_out(capsys, small):
    _, out, err = search(capsys, small, "staff -agency")
    assert keys(rows_of(out)) == [
        k for k in expected_staff(small) if k[1:] != ("Safe", "6")
    ]  # fmt: skip
    assert err == "19 statements match staff -agency at 3 locations\n"


def test_evidence_with_line_breaks_stays_one_csv_record_and_one_json_line(capsys, small):
    _, out, _ = search(capsys, small, "cafe")
    [row] = rows_of(out)
    assert row["evidence"] == ELM_EVIDENCE  # two paragraphs and a line separator, intact
    assert out.count("\n") == 1 + ELM_EVIDENCE.count("\n") + 1  # header, record, its breaks
    code, out, _ = search(capsys, small, "cafe", "--format", "jsonl")
    assert code == 0
    [line] = out.splitlines()  # splitlines also splits at U+2028: escaped, it stays one line
    record = json.loads(line)
    assert record["evidence"] == ELM_EVIDENCE
    assert record["location_name"] == "Elm Lodge"
    assert record["statement_id"] == 16  # numbers stay numbers, dates ISO text
    assert record["score"] == 3
    assert record["assessment_date"] == "2025-02-10"


def test_jsonl_has_the_same_rows_and_columns_as_the_csv(capsys, small):
    _, csv_out, _ = search(capsys, small, "staff OR library")
    code, out, _ = search(capsys, small, "staff OR library", "--format", "jsonl")
    assert code == 0
    records = [json.loads(line) for line in out.splitlines()]
    assert all(list(r) == COLUMNS for r in records)
    as_text = [{k: "" if v is None else str(v) for k, v in r.items()} for r in records]
    assert as_text == rows_of(csv_out)
    # Harbour View's statement the framework does not have: no id, printed last of its
    # location's key question.
    [unknown] = [r for r in records if r["statement_id"] is None]
    assert unknown["statement"] == "Community outreach and engagement"
    assert unknown["evidence"] == "The service ran drop-in clinics at the harbour library."


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ('"staff told', "quotation mark is not closed"),
        ("-agency -bank", "exclusions alone"),
        ("x" * 10_000, "10,000 characters long"),
        (".* OR %", "OR needs a word or phrase"),
        ("the", "too common or too short"),
    ],
)
def test_a_bad_query_exits_2_with_the_search_pages_message(capsys, small, query, says):
    from queries.search import QueryError, parse_query

    with pytest.raises(QueryError) as raised:
        parse_query(query)
    code, out, err = search(capsys, small, query)
    assert code == 2
    assert out == ""
    assert err == f"error: {raised.value}\n"
    assert says in err


def test_a_query_starting_with_a_dash_after_double_dash(capsys, small):
    code = main(["search", "--db", str(small), "--", "-staff"])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert "exclusions alone" in err


def test_bad_options_are_usage_errors(capsys, small):
    for options in (["--score", "5"], ["--key-question", "Safety"], ["--statement", "35"]):
        with pytest.raises(SystemExit) as raised:
            main(["search", "staff", "--db", str(small), *options])
        assert raised.value.code == 2
        assert "error: argument" in capsys.readouterr().err


def test_a_missing_database_exits_3(capsys, tmp_path):
    code, out, err = search(capsys, tmp_path / "none.duckdb", "staff")
    assert (code, out) == (3, "")
    [line] = err.splitlines()
    assert line.startswith(f"error: there is no database at {tmp_path / 'none.duckdb'}")
    assert not (tmp_path / "none.duckdb").exists()  # nothing created


def test_a_damaged_database_exits_3_and_is_left_alone(capsys, tmp_path):
    db = tmp_path / "damaged.duckdb"
    db.write_bytes(b"not a database" * 1000)
    code, out, err = search(capsys, db, "staff")
    assert (code, out) == (3, "")
    [line] = err.splitlines()
    assert line.startswith(f"error: cannot search: {db} is damaged: it is not a DuckDB database")
    assert db.read_bytes() == b"not a database" * 1000


def test_a_database_held_by_a_writer_exits_3(capsys, small, tmp_path, monkeypatch):
    db = tmp_path / "held.duckdb"
    shutil.copy(small, db)
    monkeypatch.setattr(search_cli, "WAIT_SECONDS", 0.3)
    with holding(db):
        code, out, err = search(capsys, db, "staff")
    assert (code, out) == (3, "")
    [line] = err.splitlines()
    assert line == (
        f"error: {db} is being written by another process; search again when it has finished"
    )


def test_a_database_made_before_the_index_says_to_reindex(capsys, small, tmp_path):
    db = tmp_path / "older.duckdb"
    shutil.copy(small, db)
    con = database.connect(db, read_only=False)
    try:  # as a file set up before the index existed
        con.execute("DELETE FROM meta WHERE key = ?", [search_index.META_KEY])
    finally:
        con.close()
    code, out, err = search(capsys, db, "staff")
    assert (code, out) == (3, "")
    [line] = err.splitlines()
    assert line == (
        f"error: {db} has no search index (it was made before the index existed): run"
        f" python -m ingest reindex --db {db}, then search again"
    )
    assert main(["reindex", "--db", str(db)]) == 0  # as it says
    capsys.readouterr()
    code, out, _ = search(capsys, db, "staff")
    assert code == 0
    assert len(rows_of(out)) == 21


def test_the_database_is_opened_read_only(capsys, small, tmp_path):
    db = tmp_path / "read-only.duckdb"
    shutil.copy(small, db)
    db.chmod(0o444)
    before = db.read_bytes()
    code, out, _ = search(capsys, db, "staff")
    assert code == 0
    assert len(rows_of(out)) == 21
    assert db.read_bytes() == before
    assert not db.with_name(db.name + ".wal").exists()


def test_the_csv_of_a_word_on_the_demo_data_is_an_sql_scan_of_the_evidence(
    capsys, demo_db, monkeypatch
):
    code, out, err = search(capsys, demo_db, "staff")
    assert code == 0
    got = [
        (r["assessment_id"], r["key_question"], r["statement"], int(r["score"]), r["evidence"])
        for r in rows_of(out)
    ]
    # The demo's only words holding "staff" are staff and staffing (forms "staff" finds), so
    # a plain ILIKE finds the same statements as the whole-word regular expression.
    terms = {t for (t,) in sql(demo_db, "SELECT term FROM search_terms WHERE term LIKE '%staff%'")}
    assert terms <= {"staff", "staffs", "staffed", "staffing"}
    columns = "assessment_id, key_question, statement, score, evidence"
    like = sql(demo_db, f"SELECT {columns} FROM {JUDGED} WHERE evidence ILIKE '%staff%' {ORDER}")
    regex = "regexp_matches(lower(evidence), '(^|[^a-z0-9])staff(s|ed|ing)?([^a-z0-9]|$)')"
    assert got == like == sql(demo_db, f"SELECT {columns} FROM {JUDGED} WHERE {regex} {ORDER}")
    assert len(got) > 100
    [(locations,)] = sql(
        demo_db, f"SELECT count(DISTINCT location_id) FROM {JUDGED} WHERE evidence ILIKE '%staff%'"
    )
    assert err == f"{len(got):,} statements match staff at {locations:,} locations\n"
    monkeypatch.setattr(search_cli, "BATCH", 7)  # evidence read in many batches: the same
    assert search(capsys, demo_db, "staff")[1] == out

    # Carried-forward scores (whose evidence says the statement was not reassessed) only
    # when asked: the Search page's sidebar switch.
    reassessed = "regexp_matches(lower(evidence), '(^|[^a-z0-9])reassessed([^a-z0-9]|$)')"
    for options, source in (([], JUDGED), (["--carried-forward"], "scores")):
        _, out, _ = search(capsys, demo_db, "reassessed", *options)
        expected = sql(demo_db, f"SELECT assessment_id, statement FROM {source}"
                       f" WHERE {reassessed} {ORDER}")  # fmt: skip
        assert [(r["assessment_id"], r["statement"]) for r in rows_of(out)] == expected
    [(judged, every)] = sql(demo_db, f"""
        SELECT count(*) FILTER (WHERE statement_status IS DISTINCT FROM 'carried forward'),
               count(*) FROM scores WHERE {reassessed}
    """)  # fmt: skip
    assert every > judged


def test_a_filtered_search_on_the_demo_data_is_the_sql_scan_so_filtered(capsys, demo_db):
    code, out, _ = search(
        capsys, demo_db, "medicines", "--key-question", "Safe", "--score", "1", "--score", "2",
        "--format", "jsonl",
    )  # fmt: skip
    regex = "regexp_matches(lower(evidence), '(^|[^a-z0-9])medicine(s|d)?([^a-z0-9]|$)')"
    expected = sql(demo_db, f"""
        SELECT assessment_id, statement_id, score FROM {JUDGED}
        WHERE {regex} AND key_question = 'Safe' AND score IN (1, 2) {ORDER}
    """)  # fmt: skip
    got = [json.loads(line) for line in out.splitlines()]
    assert [(r["assessment_id"], r["statement_id"], r["score"]) for r in got] == expected
    assert expected
    assert code == 0


def test_python_m_ingest_search_as_a_command(small):
    done = subprocess.run(
        [sys.executable, "-m", "ingest", "search", '"agency staff"', "--db", str(small)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert [r["statement"] for r in rows_of(done.stdout)] == ["Safe and effective staffing"] * 2
    assert done.stderr == '2 statements match "agency staff" at 2 locations\n'


def test_a_reader_that_stops_early_gets_no_traceback(demo_db):
    """`... search staff | head -1`: the closed pipe ends the command quietly."""
    command = [sys.executable, "-m", "ingest", "search", "staff", "--db", str(demo_db)]
    with subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0
    ) as proc:
        assert proc.stdout.readline().startswith(b"location_id,")
        proc.stdout.close()
        err = proc.stderr.read()
        code = proc.wait(timeout=60)
    assert err == b"", err
    assert code == 0


def test_the_qsd_console_script_runs_the_same_command(capsys, small, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["qsd", "search", "dislikes", "--db", str(small)])
    with pytest.raises(SystemExit) as raised:
        cli()
    assert raised.value.code == 0
    out, _ = capsys.readouterr()
    assert [r["statement_id"] for r in rows_of(out)] == ["16"]
