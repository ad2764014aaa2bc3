"""The report text parser: exact values, warnings, and every rejection path."""

from __future__ import annotations

import pytest

from ingest import readers
from ingest.readers.report_text import decode, parse_report
from ingest.records import RejectedFile
from tests.conftest import REPORTS


def parse_file(path):
    fmt, records = readers.read(str(path), path.read_bytes())
    assert fmt == "report-text"
    assert len(records) == 1
    return records[0]


def test_seed_report_exact_values(seed_path):
    r = parse_file(seed_path)
    assert r["location_name"] == "PETCT Mobile Services"
    assert r["provider_name"] == "Alliance Medical Limited"
    assert r["service_types"] == ["Hospital", "Independent hospital"]
    assert r["service_type"] == "Independent hospital"
    assert r["overall_rating"] == "Good"
    assert r["postcode"] == "CV34 5AH"
    assert r["address"] == "First Floor, The Woods, Opus 40 Business Park, Haywood Road, Warwick"
    assert r["phone"] == "(01926) 482000"
    assert r["assessment_date"] == "2024-06-17"
    assert r["published_date"] == "2024-09-24"
    assert r["era"] == "SAF by evidence category"  # 17 June 2024 is before 2 December 2024
    [kq] = r["key_questions"]
    assert (kq["name"], kq["rating"]) == ("Well-led", "Good")
    assert [s["score"] for s in kq["statements"]] == [4, 3, 3, 3, 3, 3, 4]
    assert [s["id"] for s in kq["statements"]] == [27, 28, 29, 30, 31, 32, 33]
    # 4+3+3+3+3+3+4 = 23 of 7*4 = 28 -> 82.14% -> 82, stated 82.
    assert (kq["score"], kq["computed_score"]) == (82, 82)
    assert r["warnings"] == []
    first = kq["statements"][0]["evidence"]
    assert first.startswith("Leaders told us that they consulted staff")
    assert first.endswith("providing excellent patient care.")
    assert "\n\n" in first  # two paragraphs kept apart
    last = kq["statements"][-1]["evidence"]
    assert last.endswith("fed into the governance meeting structure.")


def test_three_key_questions_with_one_mismatch():
    r = parse_file(REPORTS / "rowan-court-three-key-questions.txt")
    assert r["region"] is None  # report text never states a region
    assert r["assessment_date"] == "2025-03-03"
    assert r["era"] == "SAF by statement"  # after 2 December 2024
    assert r["published_date"] == "2025-05-20"  # the latest "Updated" date
    kqs = {k["name"]: k for k in r["key_questions"]}
    assert list(kqs) == ["Safe", "Caring", "Well-led"]
    # Safe: 2+3+2+2+3 = 12 of 5*4 = 20 -> 60%, but the report states 56.
    assert (kqs["Safe"]["score"], kqs["Safe"]["computed_score"]) == (56, 60)
    # Caring: 3*5 = 15 of 20 -> 75. Well-led: 2*7 = 14 of 28 -> 50.
    assert (kqs["Caring"]["score"], kqs["Caring"]["computed_score"]) == (75, 75)
    assert (kqs["Well-led"]["score"], kqs["Well-led"]["computed_score"]) == (50, 50)
    assert kqs["Caring"]["statements"][3]["id"] == 18  # curly apostrophe in "people’s"
    assert kqs["Caring"]["statements"][3]["name"] == "Responding to people's immediate needs"
    assert r["warnings"] == ["Safe: stated 56 but statements give 12/20 = 60"]


def test_variants_unknown_statement_and_band_mismatch():
    r = parse_file(REPORTS / "harbour-view-variants-and-mismatches.txt")
    assert r["postcode"] == "PL4 0AB"
    eff, resp = r["key_questions"]
    assert [s["id"] for s in eff["statements"]] == [9, 10, 11, 14, 12]
    assert eff["statements"][2]["name"] == "How staff, teams and services work together"
    # Effective: 4+4+3+3+3 = 17 of 20 -> 85%: Good band, though rated Outstanding and stated 90.
    assert (eff["score"], eff["computed_score"]) == (90, 85)
    assert [s["id"] for s in resp["statements"]] == [20, 21, None]
    assert resp["statements"][2]["name"] == "Community outreach and engagement"
    assert resp["computed_score"] == 75  # 9 of 12
    assert r["warnings"] == [
        "line 77: statement 'Community outreach and engagement' is not one of the 34;"
        " kept without an id",
        "Effective: stated 90 but statements give 17/20 = 85",
        "Effective: rated Outstanding but 17/20 is in the Good band",
    ]


def _reject(text: str | bytes, match: str) -> None:
    data = text.encode() if isinstance(text, str) else text
    with pytest.raises(RejectedFile, match=match):
        readers.read("f.txt", data)


@pytest.fixture
def rowan() -> str:
    return (REPORTS / "rowan-court-three-key-questions.txt").read_text(encoding="utf-8")


def test_rejects_empty_and_whitespace():
    _reject(b"", "file is empty")
    _reject(b"  \n\n\t ", "file is empty")


def test_rejects_binary():
    _reject(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary")


def test_rejects_undecodable_bytes():
    # 0x81 and 0x8d are undefined in UTF-8 (as lead bytes here) and in Windows-1252.
    _reject(b"Report from \x81\x8d assessment Score: 3", "cannot be decoded")


def test_rejects_text_that_is_not_a_report():
    _reject("Minutes of the residents' meeting\n\nTea will be at four.\n", "not a CQC assessment")


def test_rejects_report_structure_without_any_key_question(rowan):
    header = rowan.split("On this page")[0]
    _reject(header, "no key question with 'Score: N'")


def test_rejects_score_outside_range(rowan):
    _reject(rowan.replace("Score: 3", "Score: 5", 1), r"score 5 for 'Safeguarding' is outside 1-4")
    _reject(rowan.replace("Score: 2", "Score: 0", 1), "outside 1-4")


def test_rejects_score_that_is_not_a_number(rowan):
    _reject(rowan.replace("Score: 3", "Score: three", 1), "is not a number 1-4")


def test_rejects_malformed_assessment_date(rowan):
    _reject(rowan.replace("3 March 2025", "31 February 2025"), "not a valid date")


def test_rejects_same_statement_twice(rowan):
    _reject(rowan.replace("Safeguarding", "Learning culture"), "scored twice under Safe")


def test_rejects_score_with_no_statement(rowan):
    broken = rowan.replace(
        "Learning culture\n\nScore: 2", "Learning culture\n\nScore: 2\n\nScore: 3"
    )
    _reject(broken, "has no statement name above it")


def test_crlf_bom_and_utf16_read_the_same(rowan):
    plain = parse_report(rowan, "x")
    for data in (
        rowan.replace("\n", "\r\n").encode(),
        b"\xef\xbb\xbf" + rowan.encode(),
        rowan.encode("utf-16"),
    ):
        _, [record] = readers.read("x", data)
        assert record["key_questions"] == plain["key_questions"]


def test_windows_1252_is_read_with_a_warning(rowan):
    text, warnings = decode(rowan.encode("cp1252"), "x")
    assert text == rowan
    assert warnings == ["not UTF-8; decoded as Windows-1252"]


RATINGS_ONLY = """Ivy Lodge

Overall: Good read more about inspection ratings

2 Elm Row, Norwich, NR2 4AB

Provided and run by:
Ivy Lodge Homes Ltd

Report from 4 August 2026 assessment

Safe

Good

Updated 1 October 2026

SAFE Key question summary: People were safe.
"""


def test_ratings_only_report_is_kept_without_scores():
    _, [r] = readers.read("x", RATINGS_ONLY.encode())
    [kq] = r["key_questions"]
    assert (kq["name"], kq["rating"], kq["statements"], kq["computed_score"]) == (
        "Safe",
        "Good",
        [],
        None,
    )
    assert r["warnings"] == ["no statement scores: loaded as ratings only"]


def test_a_stated_score_is_read_after_a_capitalised_scored_earlier_in_the_paragraph(rowan):
    # "SCORED" in capitals before the stated score, "scored" in lower case after it: the
    # stated score is still found (the look-ahead starts at the first, whatever its case).
    text = rowan.replace(
        "This service scored 56 (out of 100) for this area.",
        "THIS SERVICE SCORED 56 (OUT OF 100) for this area; staff scored it fairly.",
        1,
    )
    record = parse_report(text, "caps.txt")
    assert record["key_questions"][0]["score"] == 56
