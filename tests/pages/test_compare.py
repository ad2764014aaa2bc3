"""Compare providers page: the ranking, the peer comparison and the URL, checked against SQL."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import metric, page, sql, table
from tests.pages.oracle import CURRENT

pytestmark = pytest.mark.usefixtures("use_demo_db")


def biggest_providers(db, count: int) -> list[tuple[str, str]]:
    """(provider_id, provider_name) of the providers with the most locations."""
    return sql(db, f"""
        SELECT provider_id, provider_name FROM ({CURRENT})
        GROUP BY ALL ORDER BY count(DISTINCT location_id) DESC, provider_id LIMIT ?
    """, [count])  # fmt: skip


def test_ranking_follows_region_and_key_question(use_demo_db):
    region, key_question = sql(use_demo_db, f"""
        SELECT region, 'Well-led' FROM ({CURRENT}) WHERE key_question = 'Well-led'
        GROUP BY region ORDER BY count(DISTINCT provider_id) DESC, region LIMIT 1
    """)[0]  # fmt: skip
    at = page("compare").run()
    assert not at.exception
    at.multiselect(key="region").select(region)
    at.selectbox(key="compare_rank_within").select("All service types (mixed)")
    at.toggle(key="compare_hide_low_n").set_value(False)
    at.selectbox(key="compare_key_question").select(key_question).run()
    assert not at.exception
    # Median of each provider's current Well-led percentages in the region, lowest first.
    expected = sql(use_demo_db, f"""
        SELECT provider_name, median(key_question_score), count(*) FROM ({CURRENT})
        WHERE region = ? AND key_question = ? AND key_question_score IS NOT NULL
        GROUP BY provider_id, provider_name
    """, [region, key_question])  # fmt: skip
    ranked = table(at, "median", "worst_location_name")
    assert ranked["median"].tolist() == sorted(m for _, m, _ in expected)
    shown = {(r.provider_name, r.median, r.n) for r in ranked.itertuples()}
    assert shown == {(name, median, n) for name, median, n in expected}
    assert "Providers ranked by Well-led, lowest first (mixed service types)" in at.subheader.values


def test_the_default_ranking_is_within_the_largest_service_type_without_low_n(use_demo_db):
    # The service type with the most current scored Safe locations; providers with 5 or more
    # of its locations, by the median of their current Safe percentages.
    [(service_type,)] = sql(use_demo_db, f"""
        SELECT service_type FROM ({CURRENT}) WHERE key_question = 'Safe'
        AND key_question_score IS NOT NULL AND service_type IS NOT NULL
        GROUP BY service_type ORDER BY count(*) DESC, service_type LIMIT 1
    """)  # fmt: skip
    expected = sql(use_demo_db, f"""
        SELECT provider_id, median(key_question_score) FROM ({CURRENT})
        WHERE key_question = 'Safe' AND key_question_score IS NOT NULL AND service_type = ?
        GROUP BY provider_id HAVING count(*) >= 5
    """, [service_type])  # fmt: skip
    at = page("compare").run()
    assert not at.exception
    assert at.selectbox(key="compare_rank_within").value == service_type
    assert f"Providers ranked by Safe, lowest first ({service_type})" in at.subheader.values
    if expected:
        ranked = table(at, "median", "worst_location_name")
        assert sorted(ranked["median"].tolist()) == sorted(m for _, m in expected)
    at.segmented_control(key="compare_rank_level").set_value("Locations").run()
    assert not at.exception
    [(locations,)] = sql(use_demo_db, f"""
        SELECT count(*) FROM ({CURRENT}) WHERE key_question = 'Safe'
        AND key_question_score IS NOT NULL AND service_type = ?
    """, [service_type])  # fmt: skip
    assert len(table(at, "location_name", "key_question_score")) == min(locations, 2000)


def safe_beside_peers(db, provider: str, same: str) -> tuple:
    """SQL: the provider's locations with a current Safe percentage, their median, and the
    median of their peer medians; a location's peers are other providers' locations that
    match it on `same`."""
    return sql(db, f"""
        WITH cur AS (SELECT * FROM ({CURRENT})
                     WHERE key_question = 'Safe' AND key_question_score IS NOT NULL),
        mine AS (SELECT * FROM cur WHERE provider_id = ?),
        peer AS (SELECT m.location_id, median(c.key_question_score) AS peer_median
                 FROM mine m JOIN cur c ON {same} AND c.provider_id <> m.provider_id
                 GROUP BY m.location_id)
        SELECT (SELECT count(*) FROM mine), (SELECT median(key_question_score) FROM mine),
               (SELECT median(peer_median) FROM peer)
    """, [provider])[0]  # fmt: skip


def test_chosen_providers_beside_their_peers(use_demo_db):
    (first, _), (second, _) = biggest_providers(use_demo_db, 2)
    at = page("compare").run()
    assert any("Choose providers" in i.value for i in at.info)
    at.multiselect(key="compare_providers").select(first).select(second).run()
    assert not at.exception
    assert metric(at, "Providers") == "2"

    def shown_safe() -> list:
        summary = table(at, "key_question_score", "peer_median", "percentile_rank")
        row = summary[(summary["provider_id"] == first) & (summary["key_question"] == "Safe")]
        return row[["locations", "key_question_score", "peer_median"]].values.tolist()

    by_type = safe_beside_peers(use_demo_db, first, "c.service_type = m.service_type")
    assert shown_safe() == [list(by_type)]
    at.button_group(key="compare_peers_by").select("region").run()
    assert not at.exception
    both = "c.service_type = m.service_type AND c.region = m.region"
    assert shown_safe() == [list(safe_beside_peers(use_demo_db, first, both))]


def test_a_shared_link_reopens_the_comparison(use_demo_db):
    ((provider, name),) = biggest_providers(use_demo_db, 1)
    at = page("compare")
    at.query_params["compare_providers"] = name
    at.query_params["compare_key_question"] = "Caring"
    at.run()
    assert not at.exception
    assert at.multiselect(key="compare_providers").value == [provider]
    assert at.selectbox(key="compare_key_question").value == "Caring"
    # Every current assessment of any key question of the provider's locations.
    ((assessments,),) = sql(use_demo_db, f"""
        SELECT count(DISTINCT assessment_id) FROM ({CURRENT}) WHERE provider_id = ?
    """, [provider])  # fmt: skip
    assert metric(at, "Assessments behind them") == f"{assessments:,}"


def test_a_clicked_point_is_read_from_the_chart_selection():
    def script():
        import streamlit as st

        from ui.links import picked

        st.session_state["chart"] = {"selection": {"provider": [{"provider_id": "P7"}]}}
        st.write(picked("chart", "provider", "provider_id"), picked("none", "provider", "x"))

    at = AppTest.from_function(script).run()
    assert not at.exception
    assert [j.value for j in at.json] == ['["P7"]', "[]"]
