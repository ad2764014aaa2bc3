"""Location page: search, rating arithmetic and evidence, checked against SQL on the file."""

from __future__ import annotations

from fractions import Fraction

import polars as pl
import pytest

from ingest import database, store
from ingest.__main__ import main
from ingest.files import read_file
from ingest.reference import KEY_QUESTIONS
from queries.bands import band_table
from tests.conftest import FIXTURES, REPORTS
from tests.helpers import keyed, labelled, metric, only, page, sql
from ui import location, session
from ui.text import plain

HOSTILE_NAME = "Rowan Court *Nursing* Home <img src=x onerror=alert(1)>"
HOSTILE_EVIDENCE = "<script>alert(1)</script> **bold** [link](http://example.com) $x$"


def band(points: int, statements: int) -> str:
    """CQC's bands on the exact fraction of the maximum: 7/8, 5/8 and (above) 3/8."""
    share = Fraction(points, 4 * statements)
    if share >= Fraction(7, 8):
        return "Outstanding"
    if share >= Fraction(5, 8):
        return "Good"
    return "Requires improvement" if share > Fraction(3, 8) else "Inadequate"


def test_search_count_follows_the_region_filter(use_demo_db):
    at = page("location").run()
    at.text_input(key="location_search").input("care").run()
    assert not at.exception
    like = "(lower(location_name) LIKE '%care%' OR lower(replace(postcode, ' ', '')) LIKE '%care%')"
    everywhere = sql(use_demo_db, f"SELECT count(*) FROM locations WHERE {like}")[0][0]
    assert metric(at, "Matching locations") == f"{everywhere:,}"

    region, count = sql(
        use_demo_db,
        f"SELECT region, count(DISTINCT location_id) AS n FROM key_questions WHERE {like}"
        " GROUP BY region ORDER BY n DESC, region LIMIT 1",
    )[0]
    assert 0 < count < everywhere
    at.multiselect(key="region").select(region).run()
    assert not at.exception
    assert metric(at, "Matching locations") == f"{count:,}"
    assert len(labelled(at.selectbox, "Location").options) == min(count, location.SEARCH_LIMIT)


def test_a_linked_location_shows_its_arithmetic_and_evidence(use_demo_db):
    lid, aid, kq, points, n, stated = sql(
        use_demo_db,
        "SELECT location_id, assessment_id, key_question, points, statements_scored, stated_score"
        " FROM key_questions k WHERE points IS NOT NULL AND assessment_date = (SELECT"
        " max(assessment_date) FROM key_questions WHERE location_id = k.location_id)"
        " ORDER BY location_id, list_position($order, key_question) LIMIT 1",
        {"order": list(KEY_QUESTIONS)},
    )[0]
    at = page("location")
    at.query_params["location_id"] = lid
    at.run()
    assert not at.exception
    assert labelled(at.selectbox, "Location").value == lid
    assessments = sql(use_demo_db, "SELECT count(*) FROM assessments WHERE location_id = ?", [lid])
    assert metric(at, "Assessments") == str(assessments[0][0])

    # The latest assessment is shown first; its key question states its arithmetic.
    exact = 100 * points / (4 * n)
    working = next(m.value for m in at.markdown if m.value.startswith(f"Score: {points} points"))
    assert f"of {4 * n} ({n} statements × 4) = {exact:.1f}% → band **{band(points, n)}**" in working
    assert f"Published {stated}%" in working
    better = next((k for k in range(1, 4 * n - points + 1)
                   if band(points + k, n) != band(points, n)), None)  # fmt: skip
    if better:
        assert f"with {better} more point" in working
    evidence = sql(
        use_demo_db,
        "SELECT evidence FROM statement_scores WHERE assessment_id = ? AND key_question = ?"
        " ORDER BY position",
        [aid, kq],
    )
    # Page order: the key questions in framework order, statements as published.
    assert [t.value for t in at.text][: len(evidence)] == [e for (e,) in evidence]


def test_text_from_reports_is_shown_as_written_never_run(db_path):
    report = (REPORTS / "rowan-court-three-key-questions.txt").read_text(encoding="utf-8")
    report = report.replace("Rowan Court Nursing Home", HOSTILE_NAME).replace(
        "The home was clean and staff used protective equipment correctly.", HOSTILE_EVIDENCE
    )
    con = database.connect(db_path, read_only=False)
    store.load_files(con, [read_file("hostile.txt", report.encode())])
    (lid,) = con.execute("SELECT location_id FROM locations").fetchone()
    con.close()

    at = page("location")
    at.query_params["location_id"] = lid
    at.run()
    assert not at.exception
    header = only(at.main.header).value
    assert header == plain(HOSTILE_NAME)
    assert "\\<img" in header and "\\*Nursing\\*" in header
    assert HOSTILE_EVIDENCE in [t.value for t in at.text]  # st.text: no Markdown, no HTML
    assert not any("<script>" in m.value for m in at.markdown)


def test_current_percentages_skip_a_later_rating_without_scores(db_path):
    # Rowan Court's report (3 Mar 2025), then a rating file rating the same key questions
    # again, without scores, in a later publication (1 Sep 2025). (The file's own rows of
    # 20 May 2025 are the report's publication: a copy, which the loader does not store.)
    ratings = FIXTURES / "rating-files" / "latest-ratings-locations.csv"
    later = ratings.read_text(encoding="utf-8").replace("20/05/2025", "01/09/2025")
    con = database.connect(db_path, read_only=False)
    for name, data in (
        ("rowan.txt", (REPORTS / "rowan-court-three-key-questions.txt").read_bytes()),
        ("later-ratings.csv", later.encode()),
    ):
        store.load_files(con, [read_file(name, data)])
    con.close()
    at = page("location")
    at.query_params["location_id"] = "1-1000000404"
    at.run()
    assert not at.exception
    assert metric(at, "Latest assessment") == "1 Sep 2025"
    now = keyed(at, session.LOCATION_NOW).value
    shown = now[["key_question", "assessment_date", "key_question_score"]].astype(str)
    assert shown.values.tolist() == [
        ["Safe", "2025-03-03", "56"],
        ["Caring", "2025-03-03", "75"],
        ["Well-led", "2025-03-03", "50"],
    ]


@pytest.mark.parametrize(
    ("points", "n", "lines"),
    [
        # 23 of 28 = 82.1%: Good; Outstanding needs 87.5% = 24.5 points, so 25 (2 more);
        # Requires improvement is below 62.5% = 17.5 points, so 17 (6 fewer).
        (23, 7, ["Next band: Outstanding with 2 more points.",
                 "Drops to Requires improvement after losing 6 points."]),
        # 21 of 24 = 87.5% exactly: Outstanding; 20 of 24 = 83.3% is Good (1 fewer).
        (21, 6, ["Top band: Outstanding.", "Drops to Good after losing 1 point."]),
        # 4 of 16 = 25%: Inadequate, the lowest score; 7 of 16 = 43.75% is Requires improvement.
        (4, 4, ["Next band: Requires improvement with 3 more points."]),
    ],
)  # fmt: skip
def test_working_states_the_band_and_the_distance_to_the_next(points, n, lines):
    table = band_table().filter(statements_scored=n, points=points)
    row = table.with_columns(pl.col("band", "next_band").cast(pl.String)).row(0, named=True)
    row |= {"key_question_rating": band(points, n), "stated_score": None,
            "computed_score": round(100 * points / (4 * n))}  # fmt: skip
    text = location.working(row)
    assert text[0].endswith(f"band **{band(points, n)}**.")
    assert text[2:] == lines


def test_a_link_to_a_statement_opens_it_in_its_assessment_until_another_is_chosen(use_demo_db):
    # A location with two assessments or more: the link names an older one (the page would
    # show the latest) and a statement of it with evidence.
    lid, aid, other, sid, name, evidence = sql(use_demo_db, """
        WITH a AS (SELECT location_id, assessment_id, assessment_date,
                          row_number() OVER (PARTITION BY location_id
                                             ORDER BY assessment_date DESC) AS newest
                   FROM assessments SEMI JOIN statement_scores USING (assessment_id))
        SELECT a.location_id, a.assessment_id, b.assessment_id, s.statement_id, s.statement,
               s.evidence
        FROM a JOIN a b ON b.location_id = a.location_id AND b.newest = 1
        JOIN statement_scores s ON s.assessment_id = a.assessment_id
        WHERE a.newest = 2 AND s.statement_id IS NOT NULL AND s.evidence IS NOT NULL
        ORDER BY a.location_id, s.statement_id DESC LIMIT 1
    """)[0]  # fmt: skip
    at = page("location")
    at.query_params.update(
        {session.LOCATION_ID: lid, session.LOCATION_ASSESSMENT_ID: aid,
         session.LOCATION_STATEMENT: str(sid)}
    )  # fmt: skip
    at.run()
    assert not at.exception
    assert at.selectbox(key=session.LOCATION_ASSESSMENT).value == aid
    [opened] = [e for e in at.expander if e.proto.expanded]
    assert opened.label.startswith(f"{plain(name)} · score ")  # as Markdown escapes it
    assert opened.icon == ":material/search:"
    assert evidence in [t.value for t in opened.text]
    [script] = opened.get("html")  # it scrolls to the expander keyed LOCATION_FOCUS
    assert f".st-key-{session.LOCATION_FOCUS}" in script.value
    assert at.query_params[session.LOCATION_STATEMENT] == str(sid)

    at.selectbox(key=session.LOCATION_ASSESSMENT).select(other).run()
    assert not at.exception
    assert not any(e.proto.expanded for e in at.expander)
    assert at.query_params[session.LOCATION_ASSESSMENT_ID] == other
    assert session.LOCATION_STATEMENT not in at.query_params
    assert at.query_params[session.LOCATION_ID] == lid


def test_a_statement_named_in_the_link_but_not_in_its_assessment_opens_nothing(use_demo_db):
    lid, aid = sql(use_demo_db, "SELECT location_id, assessment_id FROM scores LIMIT 1")[0]
    at = page("location")
    at.query_params.update(
        {session.LOCATION_ID: lid, session.LOCATION_ASSESSMENT_ID: aid,
         session.LOCATION_STATEMENT: "No such statement"}
    )  # fmt: skip
    at.run()
    assert not at.exception
    assert at.selectbox(key=session.LOCATION_ASSESSMENT).value == aid
    assert not any(e.proto.expanded for e in at.expander)
    assert not [h for h in at.get("html") if session.LOCATION_FOCUS in h.value]  # no scroll


@pytest.mark.parametrize(
    ("param", "name"),
    [("6", "Safe and effective staffing"), ("Community outreach", "Community outreach"),
     ("99", "99"), ("", None), (None, None)],
)  # fmt: skip
def test_the_statement_parameter_is_an_id_or_a_name(param, name):
    assert location.focused_statement(param) == name


def cqc_site_links(location_id: str) -> list[str]:
    at = page("location")
    at.query_params["location_id"] = location_id
    at.run()
    assert not at.exception
    return [m.value for m in at.markdown if "CQC's website, with its reports" in m.value]


def test_a_location_with_a_cqc_id_links_to_its_page_on_cqcs_website(tmp_path, monkeypatch):
    db = tmp_path / "site.duckdb"
    api = FIXTURES / "api" / "birchwood-two-service-groups.json"
    report = REPORTS / "rowan-court-three-key-questions.txt"  # report text: no CQC id
    assert main(["load", "--quiet", "--db", str(db), str(api), str(report)]) == 0
    monkeypatch.setenv(database.DB_ENV, str(db))
    with_id, without = sql(db, """
        SELECT (SELECT min(location_id) FROM locations WHERE cqc_location_id IS NOT NULL),
               (SELECT min(location_id) FROM locations WHERE cqc_location_id IS NULL)
    """)[0]  # fmt: skip
    assert with_id is not None and without is not None
    ((cqc_id,),) = sql(db, "SELECT cqc_location_id FROM locations WHERE location_id = ?", [with_id])
    [found] = cqc_site_links(with_id)
    assert found.endswith(f"(https://www.cqc.org.uk/location/{cqc_id})")
    assert cqc_site_links(without) == []


def test_the_demo_links_to_no_page_on_cqcs_website(use_demo_db):
    """Every demo location has a CQC-style id, but its service is fictional: no dead link."""
    [(location,)] = sql(use_demo_db, """
        SELECT min(l.location_id) FROM locations l JOIN assessments a USING (location_id)
        WHERE l.cqc_location_id IS NOT NULL
    """)  # fmt: skip
    assert location is not None
    assert cqc_site_links(location) == []
