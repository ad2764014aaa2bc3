"""Report text for one service of a hospital is filed under that service, not as the hospital's.

larchmere-hospital-maternity.txt (fictional): Larchmere General Hospital's Maternity service,
assessed 9 April 2025, one key question counted by hand:
    Safe   2, 2, 3, 2, 3, 2, 3, 2 = 19 of 8 x 4 = 32 -> 59.375 -> 59%   Requires improvement
           (the report states 59; updated 2 July 2025)
The same text without its "Maternity" line is a report on the hospital as a whole.
"""

from __future__ import annotations

import pytest

from ingest import reference as ref
from ingest.files import read_file
from ingest.load import load
from ingest.readers.report_text import parse_report
from tests.conftest import REPORTS
from tests.helpers import sql

MATERNITY = REPORTS / "services" / "larchmere-hospital-maternity.txt"


def text() -> str:
    return MATERNITY.read_text(encoding="utf-8")


def whole_hospital() -> str:
    return text().replace("\nMaternity\n", "\n", 1)


def test_the_service_line_files_the_report_under_that_service():
    record = parse_report(text(), MATERNITY.name)
    assert record["service_group"] == "Maternity"
    assert record["location_name"] == "Larchmere General Hospital"
    assert record["warnings"] == []
    [safe] = record["key_questions"]
    assert (safe["name"], safe["rating"], safe["score"], safe["computed_score"]) == (
        "Safe", "Requires improvement", 59, 59,
    )  # fmt: skip
    assert [s["score"] for s in safe["statements"]] == [2, 2, 3, 2, 3, 2, 3, 2]
    assert parse_report(whole_hospital(), "whole.txt")["service_group"] is None


@pytest.mark.parametrize(
    ("line", "service"),
    [
        ("Maternity", "Maternity"),
        ("Service: Urgent and emergency services", "Urgent and emergency care"),
        ("MEDICAL CARE", "Medical care (including older people's care)"),
        ("Care home", None),  # not a hospital service: no service group
    ],
)
def test_the_names_of_hospital_services(line, service):
    assert ref.hospital_service(line) == service
    changed = text().replace("\nMaternity\n", f"\n{line}\n", 1)
    assert parse_report(changed, "x.txt")["service_group"] == service


def test_the_service_and_the_hospital_are_two_assessments_and_two_current_pictures(db_path):
    files = [("maternity.txt", text()), ("hospital.txt", whole_hospital().replace(
        "Score: 2\n\nRotas", "Score: 3\n\nRotas").replace("scored 59", "scored 63").replace(
        "Requires improvement\n\nUpdated", "Good\n\nUpdated"))]  # fmt: skip
    summary = load([(name, body.encode()) for name, body in files], db_path)
    assert summary.line.startswith("2 files: 2 loaded"), summary.line
    rows = sql(
        db_path,
        "SELECT service_group, key_question, key_question_rating, key_question_score"
        " FROM key_questions ORDER BY service_group NULLS FIRST",
    )
    # The hospital's own Safe (20 of 32 = 62.5 -> 63, Good) and its Maternity Safe apart.
    assert rows == [
        (None, "Safe", "Good", 63),
        ("Maternity", "Safe", "Requires improvement", 59),
    ]
    assert read_file("m.txt", text().encode()).records[0]["service_group"] == "Maternity"
