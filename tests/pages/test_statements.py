"""Quality statements page: which statements score 1-2 most often, checked against SQL."""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from queries.filters import MIN_N
from tests.helpers import keyed, metric, only, page, sql, table
from tests.pages.oracle import CURRENT, JUDGED
from ui import session

pytestmark = pytest.mark.usefixtures("use_demo_db")
CARE_HOMES = ("Care home service with nursing", "Care home service without nursing")


def test_care_home_statements_scoring_one_or_two(use_demo_db):
    at = page("statements").run()
    assert not at.exception
    at.multiselect(key="service_type").select(CARE_HOMES[0]).select(CARE_HOMES[1]).run()
    assert not at.exception
    # Share of each statement's care home scores at 1 or 2, statements scored >= MIN_N times.
    shares = sql(use_demo_db, f"""
        SELECT key_question || ' · ' || statement, avg((score <= 2)::INT), avg(score), count(*)
        FROM {JUDGED} WHERE service_type IN (?, ?) GROUP BY ALL HAVING count(*) >= ?
        ORDER BY 2 DESC, 3, 1
    """, [*CARE_HOMES, MIN_N])  # fmt: skip
    weakest = table(at, "label", "low_share", "mean_score")
    assert weakest["label"].tolist() == [s[0] for s in shares[:5]]
    assert weakest["low_share"].tolist() == pytest.approx([s[1] for s in shares[:5]])
    # Strongest, as the caption says: the lowest share scoring 1-2, then the highest mean.
    strongest = keyed(at, session.STATEMENTS_STRONGEST).value
    best = sorted(shares, key=lambda s: (s[1], -s[2], s[0]))[:5]
    assert strongest["label"].tolist() == [s[0] for s in best]
    assert strongest["low_share"].tolist() == pytest.approx([s[1] for s in best])
    ((overall, scored),) = sql(use_demo_db, f"""
        SELECT avg((score <= 2)::INT), count(*) FROM {JUDGED} WHERE service_type IN (?, ?)
    """, list(CARE_HOMES))  # fmt: skip
    assert metric(at, "Scoring 1 or 2") == f"{overall:.1%}"
    assert metric(at, "Statement scores") == f"{scored:,}"


def test_heatmap_by_region_in_the_current_picture(use_demo_db):
    at = page("statements").run()
    at.selectbox(key="statements_by").select("region")
    at.toggle(key="statements_latest").set_value(True).run()
    assert not at.exception
    # Statement scores of each location's latest assessment of each key question.
    expected = sql(use_demo_db, f"""
        SELECT s.region, s.statement_id, count(*), avg((s.score <= 2)::INT)
        FROM {JUDGED} s JOIN ({CURRENT}) c USING (assessment_id, key_question)
        GROUP BY ALL
    """)  # fmt: skip
    grid = table(at, "region", "statement_id", "low_share")
    got = {(r.region, r.statement_id, r.n): r.low_share for r in grid.itertuples()}
    assert len(got) == len(expected)
    for region, statement_id, n, share in expected:
        assert got[(region, statement_id, n)] == pytest.approx(share)


def test_heatmap_by_provider_draws_the_largest_providers(use_demo_db):
    at = page("statements").run()
    at.selectbox(key="statements_by").select("provider").run()
    assert not at.exception
    # The 15 providers with the most statement scores (ties: smaller id first), per statement.
    expected = sql(use_demo_db, f"""
        WITH top AS (SELECT provider_id FROM {JUDGED} GROUP BY provider_id
                     ORDER BY count(*) DESC, provider_id LIMIT 15)
        SELECT provider_id, statement_id, count(*), avg(score)
        FROM {JUDGED} JOIN top USING (provider_id) GROUP BY ALL
    """)  # fmt: skip
    grid = table(at, "provider_id", "statement_id", "mean_score")
    got = {(r.provider_id, r.statement_id, r.n): r.mean_score for r in grid.itertuples()}
    assert len(got) == len(expected)
    for provider, statement_id, n, mean in expected:
        assert got[(provider, statement_id, n)] == pytest.approx(mean)
    assert any("The 15 of " in c.value for c in at.caption)


def selections(spec) -> dict[str, list[str]]:
    """Every point selection of a Vega-Lite spec: its name -> the fields it picks."""
    found = {}
    if isinstance(spec, dict):
        select = spec.get("select")
        if "name" in spec and isinstance(select, dict) and select.get("type") == "point":
            found[spec["name"]] = select.get("fields", [])
        for value in spec.values():
            found |= selections(value)
    elif isinstance(spec, list):
        for value in spec:
            found |= selections(value)
    return found


def test_a_heatmap_cell_picks_its_provider_and_its_key_question(use_demo_db):
    at = page("statements").run()
    at.selectbox(key="statements_by").select("provider").run()
    assert not at.exception
    picks = [selections(json.loads(c.proto.spec)) for c in at.get("vega_lite_chart")]
    # The heatmap's click selects the cell's provider and the key question of its statement,
    # which the Compare page opens on (ui.links.compare_on_click carries it).
    assert {"cell": ["provider_id", "key_question"]} in picks


def test_a_clicked_cell_opens_compare_on_its_provider_and_key_question():
    def script():
        import streamlit as st

        from ui import links, session

        st.session_state["heat"] = {
            "selection": {"cell": [{"provider_id": "P7", "key_question": "Well-led"}]}
        }
        carry = {"key_question": session.COMPARE_KEY_QUESTION}
        links.compare_on_click("heat", "cell", {"P7": "Provider Seven"}, carry)()
        st.json({"next": st.session_state[session.NEXT_PAGE]})

    at = AppTest.from_function(script).run()
    assert not at.exception
    page_, params = json.loads(only(at.json).value)["next"]
    assert page_.endswith("pages/compare.py")
    assert params == {"compare_providers": ["Provider Seven"], "compare_key_question": "Well-led"}
