"""Report text in the layouts users hold it in: exact values from the project's own fixtures.

Every fixture is in tests/fixtures/reports/layouts/ (fictional names); the PDFs are written
from them by tests/fixtures/reports/layouts/render.py. Percentages are worked out by hand in
the comments: 100 x points / (4 x statements), half up.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingest import readers
from ingest.load import load
from ingest.readers import pdf as pdf_reader
from ingest.readers import report_text
from ingest.readers.report_text import parse_report
from ingest.records import RejectedFile
from tests.conftest import REPORTS
from tests.fixtures.reports.layouts import render

LAYOUTS = REPORTS / "layouts"


def read(name: str) -> dict:
    fmt, [record] = readers.read(name, (LAYOUTS / name).read_bytes())
    assert fmt == "report-text"
    return record


def scores(record: dict) -> dict[str, list[int]]:
    return {kq["name"]: [s["score"] for s in kq["statements"]] for kq in record["key_questions"]}


def summary(record: dict) -> list[tuple]:
    return [
        (kq["name"], kq["rating"], kq["score"], kq["computed_score"], kq["published_date"])
        for kq in record["key_questions"]
    ]


def evidence(record: dict, kq: str) -> list[str | None]:
    [section] = [k for k in record["key_questions"] if k["name"] == kq]
    return [s["evidence"] for s in section["statements"]]


def without_source(record: dict) -> dict:
    return {k: v for k, v in record.items() if k not in ("source", "warnings")}


ASHGROVE = [
    # Safe: 2+3+1+2 = 8 of 16 -> 50%, Requires improvement (38 < 50 < 62.5).
    ("Safe", "Requires improvement", 50, 50, "2025-04-22"),
    # Effective: 3+3 = 6 of 8 -> 75%, Good.
    ("Effective", "Good", 75, 75, "2025-04-22"),
    # Caring: 4+3+3+3+3 = 16 of 20 -> 80%, Good.
    ("Caring", "Good", 80, 80, "2025-04-29"),
]


def test_contents_list_is_read_as_a_list_not_as_sections():
    r = read("ashgrove-contents-list.txt")
    assert summary(r) == ASHGROVE
    assert scores(r) == {"Safe": [2, 3, 1, 2], "Effective": [3, 3], "Caring": [4, 3, 3, 3, 3]}
    assert r["published_date"] == "2025-04-29"  # the latest Updated date
    assert r["warnings"] == []
    two_paragraphs = "Staff knew how to report abuse.\n\nReferrals were made promptly."
    assert evidence(r, "Safe")[1] == two_paragraphs


def test_first_heading_folded_into_the_contents_list():
    # The Safe section starts at "Updated 22 April 2025": its rating is the contents list's.
    folded, whole = read("ashgrove-folded-heading.txt"), read("ashgrove-contents-list.txt")
    assert summary(folded) == ASHGROVE
    assert without_source(folded) == without_source(whole)


def test_contents_list_rating_that_differs_from_the_section_warns():
    r = read("ashgrove-contents-mismatch.txt")
    assert summary(r) == ASHGROVE  # the section's own rating is kept
    assert r["warnings"] == [
        "line 25: the contents list rates Caring Outstanding, its section Good"
    ]


def test_one_line_contents_entries_and_a_folded_first_heading():
    r = read("kestrel-one-line-contents-folded.txt")
    assert summary(r) == [
        # Caring: 4+3 = 7 of 8 = 87.5% -> 88, Outstanding (87.5 is the band's edge).
        ("Caring", "Outstanding", 88, 88, "2024-12-18"),
        # Well-led: 3+3 = 6 of 8 -> 75%, Good.
        ("Well-led", "Good", 75, 75, "2024-12-18"),
    ]
    assert r["era"] == "SAF by evidence category"  # 5 November 2024 is before 2 December 2024
    assert r["warnings"] == []


def test_key_question_pages_are_one_assessment_in_the_database(tmp_path):
    safe, well_led = read("brookside-safe-page.txt"), read("brookside-well-led-page.txt")
    # Safe: 2+3+2 = 7 of 12 = 58.3% -> 58. Well-led: 2+2 = 4 of 8 -> 50%.
    assert summary(safe) == [("Safe", "Requires improvement", 58, 58, "2025-08-14")]
    assert summary(well_led) == [("Well-led", "Requires improvement", 50, 50, "2025-08-19")]
    db = tmp_path / "pages.duckdb"
    files = [LAYOUTS / "brookside-well-led-page.txt", LAYOUTS / "brookside-safe-page.txt"]
    summary_line = load(files, db).line
    assert summary_line == "2 files: 2 loaded, 0 unchanged, 0 replaced, 0 rejected; 0 warnings"
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.sql(
            "SELECT assessment_id, key_question, points, statements_scored FROM key_questions"
            " ORDER BY key_question"
        ).fetchall()
        [(published,)] = con.sql("SELECT published_date FROM assessments").fetchall()
    finally:
        con.close()
    assert len({r[0] for r in rows}) == 1
    assert [r[1:] for r in rows] == [("Safe", 7, 3), ("Well-led", 4, 2)]
    assert str(published) == "2025-08-19"  # the later page's Updated date


def test_pages_pasted_into_one_file():
    r = read("copperfield-pasted-pages.txt")
    assert summary(r) == [
        # Responsive: 3+3+2+3 = 11 of 16 = 68.75% -> 69, Good.
        ("Responsive", "Good", 69, 69, "2025-01-15"),
        # Caring: 4+4+4+3 = 15 of 16 = 93.75% -> 94, Outstanding.
        ("Caring", "Outstanding", 94, 94, "2025-01-15"),
    ]
    # The second page's header is not the last Responsive statement's evidence.
    assert evidence(r, "Responsive")[-1] == "Staff discussed advance care plans with patients."
    assert r["warnings"] == []


def test_two_reports_in_one_file_are_refused():
    with pytest.raises(RejectedFile, match="a second report, of Copperfield Surgery's assessment"):
        read("copperfield-two-reports.txt")


DUNMORE = [
    # Safe: 3+3+2+3+3 = 14 of 20 -> 70%; the report states 68 (read across a line break).
    ("Safe", "Good", 68, 70, "2025-05-30"),
    # Responsive: 3+3 = 6 of 8 -> 75%.
    ("Responsive", "Good", 75, 75, "2025-05-30"),
]


@pytest.mark.parametrize("name", ["dunmore-pdf-text.txt", "dunmore-pdf-text-no-gaps.txt"])
def test_text_taken_from_a_pdf(name):
    web = read("dunmore-web-page.txt")
    r = read(name)
    assert summary(web) == summary(r) == DUNMORE
    assert scores(r) == {"Safe": [3, 3, 2, 3, 3], "Responsive": [3, 3]}
    assert r["warnings"] == ["Safe: stated 68 but statements give 14/20 = 70"]
    # Furniture gone, wrapped lines and broken words joined: the web page's values exactly.
    assert {k: v for k, v in without_source(r).items() if k != "key_questions"} == {
        k: v for k, v in without_source(web).items() if k != "key_questions"
    }
    for kq in ("Safe", "Responsive"):
        assert [" ".join(e.split()) for e in evidence(r, kq)] == evidence(web, kq)
    first = evidence(r, "Safe")[0]
    assert "handovers" in first and "https" not in first and "Page" not in first
    assert "organisation's procedures" in evidence(r, "Safe")[1]


@pytest.mark.parametrize(
    "link",
    [
        "Overall: Good read more about inspection\nratings",
        "Overall: Good read\nmore about inspection ratings",
        "Overall: Good\nread more about inspection ratings",
    ],
)
def test_overall_rating_link_wrapped_onto_the_address_line(link):
    # A PDF's text without paragraph gaps: the link's last words are not the address's first.
    text = (LAYOUTS / "dunmore-pdf-text-no-gaps.txt").read_text(encoding="utf-8")
    r = parse_report(text.replace("Overall: Good read more about inspection ratings", link), "x")
    assert (r["overall_rating"], r["address"], r["postcode"]) == (
        "Good",
        "Dunmore Road, Ashby Parva, Lutterworth",
        "LE17 5HX",
    )


def test_a_repeated_line_of_evidence_at_page_feet_is_not_furniture():
    # The same sentence opens two paragraphs and wraps the same; its first line ends page 1
    # and page 3 of four. Furniture has other pages' text around it: this line has the same.
    line = "Records were kept up to date and reviewed every month by the"
    filler = [f"The {word} line of the report's own text" for word in "abcdef"]
    pages = [
        ["First finding:", *filler[:3], line],
        ["deputy manager.", *filler[3:]],
        ["Third finding:", "Other text", "More text here", "Yet more text", line],
        ["deputy manager."],
    ]
    text = "\n\f".join(
        "\n".join([*page, "https://www.cqc.org.uk/location/1-000"]) for page in pages
    )
    lines = report_text._Lines(text, [])
    assert lines.texts.count(line) == 2 and lines.furniture == 4


def test_a_word_broken_at_a_pdf_page_foot_is_joined():
    # pypdf's layout mode gives the space above a page's footer as blank lines: no paragraph
    # break, so "communi-" + "cation" across the page break is one word.
    text = (
        "Relatives told us communi-\n\n\n\n\nhttps://www.cqc.org.uk/location/1-000\n"
        "\fcation had improved.\n\n\nhttps://www.cqc.org.uk/location/1-000\n"
    )
    lines = report_text._Lines(text, [])
    assert lines.texts == ["Relatives told us communication had improved."]


def test_not_rated_key_question_and_a_statement_without_a_score():
    r = read("elmfield-not-rated-and-scoreless.txt")
    # Effective: 3+3+2 = 8 of 12 = 66.7% -> 67, Good; Responsive is not rated: not loaded.
    assert summary(r) == [("Effective", "Good", 67, 67, "2025-04-07")]
    assert [s["id"] for s in r["key_questions"][0]["statements"]] == [9, 11, 14]
    # The scoreless statement's evidence goes nowhere: not into "How staff ... together".
    assert evidence(r, "Effective")[1] == "The team met the district nurses every week."
    assert r["warnings"] == [
        "line 47: statement 'Monitoring and improving outcomes' has no score; not loaded",
        "line 17: Responsive is not rated; nothing to load",
    ]


def test_lines_that_fit_nowhere_end_the_statement_with_a_warning():
    r = read("holly-stray-lines.txt")
    # Well-led: 2+2+2 = 6 of 12 -> 50%.
    assert summary(r) == [("Well-led", "Requires improvement", 50, 50, "2025-10-02")]
    assert evidence(r, "Well-led") == [
        "Staff were not clear about the home's plans.",
        "Audits had not found the problems we found.",
        "Partners said the home was slow to reply.",
    ]
    assert r["warnings"] == [
        "line 33: 'Good' fits nowhere; the evidence of 'Shared direction and culture' ends"
        " above it",
        "line 41: 'Updated 3 October 2025' fits nowhere; the evidence of 'Governance,"
        " management and sustainability' ends above it",
    ]


def test_legacy_inspection_report_from_a_pdf_cover():
    r = read("fernbank-legacy-care-home.txt")
    assert (r["location_name"], r["provider_name"]) == (
        "Fernbank House",
        "Moorcroft Care Services Limited",
    )
    assert (r["address"], r["postcode"], r["phone"]) == (
        "27 Beacon Road, Helmsford, Moorshire",
        "TS9 6RL",
        "01632 960873",
    )
    # Dated by its publication, as the API and the rating file date the same report.
    assert (r["assessment_date"], r["published_date"], r["inspection_date"]) == (
        "2019-04-10",
        "2019-04-10",
        "2019-03-05",
    )
    assert (r["era"], r["overall_rating"]) == ("pre-SAF", "Requires improvement")
    assert [(k["name"], k["rating"], k["statements"]) for k in r["key_questions"]] == [
        ("Safe", "Requires improvement", []),
        ("Effective", "Good", []),
        ("Caring", "Good", []),
        ("Responsive", "Good", []),
        ("Well-led", "Requires improvement", []),
    ]
    assert r["warnings"] == []


def test_legacy_report_page_and_its_load_as_ratings_only(tmp_path):
    r = read("glenview-legacy-web-page.txt")
    assert (r["location_name"], r["provider_name"], r["postcode"]) == (
        "Glenview Medical Practice",
        "Glenview Partnership",
        "BD24 9EQ",
    )
    assert (r["assessment_date"], r["inspection_date"], r["era"]) == (
        "2019-09-03",
        "2019-07-12",
        "pre-SAF",
    )
    assert {k["name"]: k["rating"] for k in r["key_questions"]}["Caring"] == "Outstanding"
    db = tmp_path / "legacy.duckdb"
    assert load([LAYOUTS / "glenview-legacy-web-page.txt"], db).rejected == 0
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.sql(
            "SELECT key_question, key_question_rating, key_question_score, era"
            " FROM key_questions ORDER BY key_question"
        ).fetchall()
        [(scored,)] = con.sql("SELECT count(*) FROM statement_scores").fetchall()
    finally:
        con.close()
    assert rows[0] == ("Caring", "Outstanding", None, "pre-SAF")
    assert len(rows) == 5 and scored == 0


def test_dates_of_a_legacy_inspection_over_two_months():
    text = (LAYOUTS / "fernbank-legacy-care-home.txt").read_text(encoding="utf-8")
    text = text.replace("5 March 2019\n6 March 2019", "28 February and 1 March 2019")
    r = parse_report(text, "x")
    assert r["inspection_date"] == "2019-02-28"


# Real PDFs written from the fixtures ---------------------------------------------------


FURNITURE = render.Furniture(
    title="Dunmore Court - Care Quality Commission",
    stamp="02/06/2025, 09:41",
    url="https://www.cqc.org.uk/location/1-000000001/reports",
)


@pytest.mark.parametrize(
    ("layout", "furniture"),
    [
        # wide pages; "Safeguarding" ends page 1 and its "Score: 3" starts page 2
        ({"width": 90, "lines_per_page": 50, "break_after": ("Safeguarding",)}, FURNITURE),
        # narrow, short pages, hyphenated words, numbers only
        ({"width": 60, "lines_per_page": 22}, render.Furniture(numbers="{n}/{m}")),
    ],
    ids=["wide-name-at-page-foot", "narrow-hyphenated"],
)
def test_pdf_of_a_report_reads_as_its_text(layout, furniture):
    text = (LAYOUTS / "dunmore-web-page.txt").read_text(encoding="utf-8")
    data = render.pdf(text, furniture, **layout)
    fmt, [r] = readers.read("dunmore.pdf", data)
    assert fmt == pdf_reader.FORMAT
    web = read("dunmore-web-page.txt")
    assert summary(r) == DUNMORE
    assert r["service_types"] == ["Care home", "Care home service with nursing"]
    assert r["service_type"] == "Care home service with nursing"  # the indent survives
    assert {k: v for k, v in without_source(r).items() if k != "key_questions"} == {
        k: v for k, v in without_source(web).items() if k != "key_questions"
    }
    for kq in ("Safe", "Responsive"):
        assert [" ".join(e.split()) for e in evidence(r, kq)] == evidence(web, kq)
    if layout.get("break_after"):
        pages = render.paginate(text, **layout)
        assert pages[0][-1] == "Safeguarding" and pages[1][0] == "Score: 3"


def test_pdf_of_the_pages_of_a_report_loads_like_the_text(tmp_path):
    text = (LAYOUTS / "ashgrove-folded-heading.txt").read_text(encoding="utf-8")
    data = render.pdf(text, render.Furniture(title="Ashgrove House - Care Quality Commission"))
    _, [from_pdf] = readers.read("ashgrove.pdf", data)
    assert summary(from_pdf) == ASHGROVE
    assert without_source(from_pdf) == without_source(read("ashgrove-folded-heading.txt"))


def test_pdf_without_a_text_layer_is_refused():
    from fpdf import FPDF

    scan = FPDF()
    scan.add_page()
    scan.rect(20, 20, 150, 200, style="F")  # a page that is all picture
    with pytest.raises(RejectedFile, match=r"^PDF has no text layer \(a scanned image\?\)"):
        readers.read("scan.pdf", bytes(scan.output()))


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n" + bytes(range(256)) * 4, b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\n%%EOF"],
    ids=["garbage", "no-pages"],
)
def test_damaged_pdf_is_one_line_rejection(data):
    with pytest.raises(RejectedFile) as err:
        readers.read("bad.pdf", data)
    assert "\n" not in str(err.value) and "PDF" in str(err.value)


def test_parse_command_reads_a_pdf(tmp_path, capsys):
    from ingest.__main__ import main

    path = tmp_path / "report.pdf"
    path.write_bytes(render.pdf((LAYOUTS / "dunmore-web-page.txt").read_text(encoding="utf-8")))
    assert main(["parse", str(path)]) == 0
    import json

    [line] = capsys.readouterr().out.splitlines()
    record = json.loads(line)
    assert (record["location_name"], record["format"]) == ("Dunmore Court", "report-text")
    assert [k["computed_score"] for k in record["key_questions"]] == [70, 75]


def test_fixture_corpus_has_at_least_twelve_reports():
    assert len(list(Path(LAYOUTS).glob("*.txt"))) >= 12
