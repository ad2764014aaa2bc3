"""A corpus of bad input: each case gets a one-line rejection or a recorded warning, and a
rejected file leaves every data table exactly as it was."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ingest import database, store
from ingest.files import read_file
from tests.conftest import FIXTURES, REPORTS

ROWAN = (REPORTS / "rowan-court-three-key-questions.txt").read_text(encoding="utf-8")
DATA_TABLES = ("providers", "locations", "assessments", "key_question_results", "statement_scores")


def edit(old: str, new: str, count: int = 1) -> bytes:
    assert old in ROWAN, old
    return ROWAN.replace(old, new, count).encode()


# (case, file bytes, expected action, text the message or a warning must contain)
CASES: list[tuple[str, Callable[[], bytes], str, str]] = [
    ("empty", lambda: b"", "rejected", "file is empty"),
    ("whitespace only", lambda: b" \r\n\t\n", "rejected", "file is empty"),
    ("png image", lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(300), "rejected",
     "binary"),
    ("nul byte inside text", lambda: ROWAN[:500].encode() + b"\x00" + ROWAN[500:].encode(),
     "rejected", "binary"),
    ("utf-16 without bom", lambda: ROWAN.encode("utf-16-le"), "rejected", "binary"),
    ("undecodable bytes", lambda: b"Report from \x81\x8d\x8f assessment", "rejected",
     "cannot be decoded"),
    ("latin-1 / windows-1252", lambda: ROWAN.replace("’", "'").replace("Rowan", "Rowán")
     .encode("cp1252"), "loaded", "decoded as Windows-1252"),
    ("utf-16 with bom", lambda: ROWAN.encode("utf-16"), "loaded", "decoded as UTF-16"),
    ("utf-8 byte-order mark", lambda: b"\xef\xbb\xbf" + ROWAN.encode(), "loaded", ""),
    ("crlf line endings", lambda: ROWAN.replace("\n", "\r\n").encode(), "loaded", ""),
    ("truncated before any key question", lambda: ROWAN[: ROWAN.index("On this page")].encode(),
     "rejected", "no key question with 'Score: N'"),
    ("cut mid-statement, name without score",
     lambda: ROWAN[: ROWAN.index("Score: 2\n\nStaff were not")].encode(), "loaded",
     "'Shared direction and culture' has no score"),
    ("score above 4", lambda: edit("Score: 3", "Score: 5"), "rejected", "outside 1-4"),
    ("score zero", lambda: edit("Score: 2", "Score: 0"), "rejected", "outside 1-4"),
    ("score is a word", lambda: edit("Score: 3", "Score: three"), "rejected", "not a number 1-4"),
    ("score is a decimal", lambda: edit("Score: 3", "Score: 3.5"), "rejected", "not a number 1-4"),
    ("score with no statement", lambda: edit("Learning culture\n\nScore: 2",
     "Learning culture\n\nScore: 2\n\nScore: 3"), "rejected", "no statement name above it"),
    ("same statement twice", lambda: edit("Safeguarding", "Learning culture"), "rejected",
     "scored twice under Safe"),
    ("unknown key question", lambda: edit("Caring\n\nGood", "Kindly\n\nGood"), "rejected",
     "unknown key question 'Kindly'"),
    ("same key question twice", lambda: edit("Caring\n\nGood", "Safe\n\nGood"), "rejected",
     "key question Safe appears twice"),
    ("impossible date", lambda: edit("3 March 2025", "30 February 2025"), "rejected",
     "not a valid date"),
    ("malformed date", lambda: edit("3 March 2025", "early spring 2025"), "rejected",
     "not a valid date"),
    ("future date", lambda: edit("3 March 2025", "3 March 2031"), "loaded", "in the future"),
    ("scores before the framework", lambda: edit("3 March 2025", "3 March 2019"), "loaded",
     "before the framework scored them"),
    ("malformed updated date", lambda: edit("Updated 14 May 2025", "Updated soon"), "loaded",
     "'Updated' date 'soon' is not a valid date"),
    ("stated score not a number", lambda: edit("scored 56 (out", "scored fifty (out"), "loaded",
     "stated score 'fifty' is not 0-100"),
    ("unknown statement name", lambda: edit("Safeguarding", "Safeguarding adults board"),
     "loaded", "'Safeguarding adults board' is not one of the 34"),
    ("statement under the wrong key question", lambda: edit("Safeguarding", "Assessing needs"),
     "loaded", "'Assessing needs' belongs to Effective but sits under Safe"),
    ("huge file", lambda: ROWAN.encode() + b"x" * (6 * 1024 * 1024), "rejected",
     "a report is at most 5 MB"),
    ("html page with a script", lambda: b"<html><script>alert(1)</script><p>Score: 3</p></html>",
     "rejected", "not a CQC assessment report"),
    ("script and formulas in names and evidence", lambda: edit("Rowan Court Nursing Home",
     "=HYPERLINK(\"http://x\",\"Rowan\")").replace(b"Staff knew how", b"<script>alert(1)</script>"
     b" @SUM(A1) +cmd Staff knew how"), "loaded", ""),
    ("one very long line", lambda: b"Score: 3 " * 200_000, "rejected", "not a CQC assessment"),
    ("malformed json", lambda: b'{"locationId": "1-1", "name": ', "rejected", "not valid JSON"),
    ("deeply nested json", lambda: b"[" * 100_000 + b"]" * 100_000, "rejected",
     "nested too deeply"),
    ("json that is not a cqc record", lambda: b"[1, 2, 3]", "rejected",
     "not a CQC location or provider record"),
    ("json with wrong types", lambda: b'{"locationId": 5, "name": ["x"], "assessment": "no"}',
     "rejected", "has no name"),
    ("rating file with missing columns", lambda: (FIXTURES / "rating-files" /
     "ratings-missing-columns.csv").read_bytes(), "rejected", "missing columns"),
    ("rating file with renamed columns", lambda: b'"Location ID","Location Name","Domain",'
     b'"Rating","Publication Date"\n"1-1","X","Safe","Good","01/01/2025"\n', "rejected",
     "missing columns 'Service / Population Group', 'Latest Rating'"),
    ("damaged ods", lambda: b"PK\x03\x04" + bytes(100), "rejected", "damaged ODS file"),
]  # fmt: skip


@pytest.fixture
def con(db_path):
    con = database.connect(db_path, read_only=False)
    baseline = REPORTS / "harbour-view-variants-and-mismatches.txt"
    store.load_files(con, [read_file(str(baseline), baseline.read_bytes())])
    yield con
    con.close()


def snapshot(con) -> dict[str, set[str]]:
    return {t: {repr(r) for r in con.sql(f"SELECT * FROM {t}").fetchall()} for t in DATA_TABLES}


def test_corpus_has_at_least_25_kinds():
    assert len({case for case, *_ in CASES}) >= 25


@pytest.mark.parametrize(("case", "build", "action", "text"), CASES, ids=[c[0] for c in CASES])
def test_bad_input(con, case, build, action, text):
    before = snapshot(con)
    [result] = store.load_files(con, [read_file(f"{case}.txt", build())])
    assert result.action == action, result.message
    if action == "rejected":
        assert text in result.message
        assert "\n" not in result.line and result.line.startswith(f"{case}.txt: ")
        assert snapshot(con) == before
    else:
        assert not text or any(text in w for w in result.warnings), result.warnings
        assert before["statement_scores"] <= snapshot(con)["statement_scores"]


def test_formula_text_is_stored_verbatim(con):
    data = dict((c, b) for c, b, *_ in CASES)["script and formulas in names and evidence"]()
    store.load_files(con, [read_file("f.txt", data)])
    [(name,)] = con.sql(
        "SELECT DISTINCT location_name FROM scores WHERE location_name LIKE '=%'"
    ).fetchall()
    assert name == '=HYPERLINK("http://x","Rowan")'
    [(evidence,)] = con.sql(
        "SELECT evidence FROM scores WHERE evidence LIKE '%<script>%'"
    ).fetchall()
    assert evidence.startswith("<script>alert(1)</script> @SUM(A1) +cmd Staff knew how")
