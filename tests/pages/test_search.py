"""Search page: counts, shares, breakdowns and themes, checked against SQL on the demo file."""

from __future__ import annotations

import csv
import io
import json

import pytest
from streamlit.testing.v1 import AppTest

from ingest import database
from queries.filters import Filters
from queries.search import match_rows, matches, parse_query
from tests.helpers import keyed, metric, only, page, sql
from tests.pages.oracle import JUDGED
from ui import search
from ui.app_data import load_app_data

pytestmark = pytest.mark.usefixtures("use_demo_db")
# "staff" as a whole word or its plural, -ed or -ing form, in plain SQL.
STAFF = "regexp_matches(lower(evidence), '(^|[^a-z0-9])staff(s|ed|ing)?([^a-z0-9]|$)')"


def searched(text: str, **options):
    at = page("search").run()
    assert not at.exception
    for key, values in options.items():
        widget = at.multiselect(key=key)
        for value in values:
            widget.select(value)
    at.text_input(key="search_query").input(text).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_counts_and_share_match_an_independent_sql_scan(use_demo_db):
    at = searched("staff")
    [(n, locations, base)] = sql(use_demo_db, f"""
        SELECT count(*) FILTER (WHERE {STAFF}), count(DISTINCT location_id) FILTER (WHERE {STAFF}),
               count(*)
        FROM {JUDGED}
    """)  # fmt: skip
    assert n > 100
    assert metric(at, "Matching statements") == f"{n:,}"
    assert metric(at, "Locations") == f"{locations:,}"
    assert metric(at, "Share of scored statements") == f"{n / base:.1%}"
    # The demo's only words holding "staff" are staff and staffing, so ILIKE agrees.
    terms = {
        t for (t,) in sql(use_demo_db, "SELECT term FROM search_terms WHERE term LIKE '%staff%'")
    }
    assert terms <= {"staff", "staffs", "staffed", "staffing"}
    [(like,)] = sql(use_demo_db, f"SELECT count(*) FROM {JUDGED} WHERE evidence ILIKE '%staff%'")
    assert metric(at, "Matching statements") == f"{like:,}"


def test_a_phrase_a_region_and_scores_narrow_the_counts(use_demo_db):
    [(region,)] = sql(use_demo_db, f"""
        SELECT region FROM {JUDGED} GROUP BY region ORDER BY count(*) DESC, region LIMIT 1
    """)  # fmt: skip
    at = searched('"told us"', region=[region], search_scores=[1, 2])
    told = "regexp_matches(lower(evidence), '(^|[^a-z0-9])told[^a-z0-9]+us([^a-z0-9]|$)')"
    [(n, base)] = sql(use_demo_db, f"""
        SELECT count(*) FILTER (WHERE {told}), count(*) FROM {JUDGED}
        WHERE region = ? AND score IN (1, 2)
    """, [region])  # fmt: skip
    assert 0 < n < base
    assert metric(at, "Matching statements") == f"{n:,}"
    # By score, each count beside the statements of that score: region, scores 1-2.
    by_score = keyed(at, "search_by_score").value
    expected = sql(use_demo_db, f"""
        SELECT score, count(*) FILTER (WHERE {told}), count(*) FROM {JUDGED}
        WHERE region = ? AND score IN (1, 2)
        GROUP BY score HAVING count(*) FILTER (WHERE {told}) > 0 ORDER BY score
    """, [region])  # fmt: skip
    got = sorted(zip(by_score["score"], by_score["matches"], by_score["statements"], strict=True))
    assert got == expected


def test_counts_by_statement_and_by_quarter_carry_their_base(use_demo_db):
    at = searched("staff -training")
    training = "'(^|[^a-z0-9])training(s|ed|ing)?([^a-z0-9]|$)'"
    hit = f"{STAFF} AND NOT regexp_matches(lower(evidence), {training})"
    expected = sql(use_demo_db, f"""
        SELECT statement_id, count(*) FILTER (WHERE {hit}), count(*) FROM {JUDGED}
        GROUP BY statement_id HAVING count(*) FILTER (WHERE {hit}) > 0 ORDER BY statement_id
    """)  # fmt: skip
    table = keyed(at, "search_by_statement").value
    got = sorted(zip(table["statement_id"], table["matches"], table["statements"], strict=True))
    assert got == expected
    quarters = keyed(at, "search_by_quarter").value
    expected = sql(use_demo_db, f"""
        SELECT strftime(date_trunc('quarter', assessment_date), '%Y') || ' Q'
               || quarter(assessment_date), count(*) FILTER (WHERE {hit}), count(*)
        FROM {JUDGED} GROUP BY 1 ORDER BY 1
    """)  # fmt: skip
    got = list(zip(quarters["quarter"], quarters["matches"], quarters["statements"], strict=True))
    assert got == expected


def test_matches_show_a_snippet_with_the_match_marked(use_demo_db):
    at = searched("medicines")
    table = keyed(at, "search_matches").value
    assert len(table) > 0
    assert all("«medicines»" in s.lower() for s in table["snippet"])
    assert list(table.columns) == [
        "location_name", "provider_name", "assessment_date", "key_question", "statement", "score",
        "snippet",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('"staff told', "quotation mark is not closed"),
        ("-staff", "exclusions alone"),
        ("x" * 10_000, "10,000 characters long"),
        (".* OR %", "OR needs a word or phrase"),
        ("the", "too common or too short"),
    ],
)
def test_a_bad_query_gets_a_clear_message_and_no_error(text, says):
    at = searched(text)
    assert not at.error
    shown = [w.value.replace("\\", "") for w in at.warning]  # as read: Markdown escapes off
    assert any(says in w for w in shown), shown


def test_sql_and_regex_characters_are_searched_as_text(use_demo_db):
    at = searched("staff'; DROP TABLE scores; --")
    assert not at.warning or all("too common" not in w.value for w in at.warning)
    [(n,)] = sql(use_demo_db, "SELECT count(*) FROM scores")
    assert n > 0  # nothing was run


def test_a_theme_clicked_is_searched(use_demo_db):
    at = page("search").run()
    at.segmented_control(key="search_view").set_value("themes").run()
    assert not at.exception
    at.selectbox(key="search_theme").select("Safe").run()
    assert not at.exception
    term = at.button(key="search_term_0").label
    at.button(key="search_term_0").click().run()
    assert not at.exception
    assert at.segmented_control(key="search_view").value == "matches"
    query = f'"{term}"' if " " in term else term
    assert at.text_input(key="search_query").value == query
    rows = sql(use_demo_db, f"SELECT evidence, score FROM {JUDGED}")
    n = sum(matches(evidence, parse_query(query)) for evidence, _ in rows)
    assert metric(at, "Matching statements") == f"{n:,}"


def test_download_holds_the_matches_with_their_evidence_and_provenance(use_demo_db):
    data = load_app_data(str(use_demo_db), database.data_version(use_demo_db))
    query = parse_query("medicines")
    filters = Filters()
    with database.reading(use_demo_db) as con:
        from ingest.search_index import matching

        docs = matching(con, query)
    asked = dict(hits=search.hits(data, docs), filters=filters, score_in=())
    rows = match_rows(data.frames.scores, **asked)
    text = search.download_bytes(data, query, asked, rows.height).decode("utf-8-sig")
    lines = text.splitlines()
    block = dict(next(csv.reader([line])) for line in lines if line.startswith("#"))
    assert block["# Quality Statement Dashboard export"] == (
        "statements whose evidence matches medicines"
    )
    assert block["# Rows"] == str(rows.height)
    table = list(csv.DictReader(io.StringIO("\n".join(x for x in lines if not x.startswith("#")))))
    assert len(table) == rows.height > 0
    assert all(matches(r["evidence"], query) for r in table)
    assert list(table[0]) == list(search.DOWNLOAD_COLUMNS)


def test_a_match_clicked_opens_its_location_at_its_assessment_and_statement():
    def script():
        import polars as pl
        import streamlit as st

        from ui import search, session

        rows = pl.DataFrame(
            {
                "location_id": ["L1", "L2"],
                "assessment_id": ["A1", "A2"],
                "statement_id": [6, None],
                "statement": ["Safe and effective staffing", "Community outreach"],
            },
            schema_overrides={"statement_id": pl.Int32, "statement": pl.Categorical},
        )
        st.session_state["matches"] = {"selection": {"rows": [int(st.query_params["row"])]}}
        search.open_location("matches", rows)()
        st.json({"next": st.session_state[session.NEXT_PAGE],
                 "assessment": st.session_state[session.LOCATION_ASSESSMENT]})  # fmt: skip

    at = AppTest.from_function(script)
    for row, statement in ((0, "6"), (1, "Community outreach")):  # an id, else the name
        at.query_params["row"] = str(row)
        at.run()
        assert not at.exception
        shown = json.loads(only(at.json).value)
        page_, params = shown["next"]
        assert page_.endswith("pages/location.py")
        # The sidebar filters are not among them: they travel by themselves (ui.links).
        assert params == {
            "location_id": f"L{row + 1}", "assessment_id": f"A{row + 1}", "statement": statement,
        }  # fmt: skip
        assert shown["assessment"] == f"A{row + 1}"
