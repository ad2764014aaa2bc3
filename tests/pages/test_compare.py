"""Compare providers page: the ranking, the peer comparison and the URL, checked against SQL."""

from __future__ import annotations

import math

import pytest
from streamlit.testing.v1 import AppTest

from tests.helpers import keyed, metric, page, sql, table
from tests.pages.oracle import CURRENT, CURRENT_SCORED, JUDGED
from ui import session

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
    assert "Providers ranked by Well-led, lowest first (mixed service types)" in at.header.values


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
    assert f"Providers ranked by Safe, lowest first ({service_type})" in at.header.values
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


# Each provider's size band: its locations that CQC has not deregistered, in the data.
SIZES = """
    SELECT provider_id, CASE WHEN n <= 1 THEN '1 location' WHEN n <= 5 THEN '2-5 locations'
        WHEN n <= 20 THEN '6-20 locations' ELSE '21+ locations' END AS size_band
    FROM (SELECT provider_id, count(DISTINCT location_id) FILTER
              (WHERE registration_status IS DISTINCT FROM 'Deregistered') AS n
          FROM key_questions WHERE provider_id IS NOT NULL GROUP BY provider_id)
"""
# Current scored key questions with their provider's size band.
SIZED = f"""
    SELECT k.*, COALESCE(z.size_band, '1 location') AS size_band
    FROM ({CURRENT}) k LEFT JOIN ({SIZES}) z USING (provider_id)
    WHERE k.key_question_score IS NOT NULL
"""


def peers_of(db, provider: str, same: str, among: list[str] | None = None) -> tuple:
    """SQL: the provider's current Safe figures as the page's table shows them (locations,
    median, median of peer medians), and the peer counts of its rows of every key question
    (min, max, median). Peers: other providers' rows matching on `same` (and run by a
    provider in `among`)."""
    listed = "AND c.provider_id IN (SELECT unnest(?::VARCHAR[]))" if among else ""
    params = [provider, *([among] if among else [])]
    return sql(db, f"""
        WITH cur AS ({SIZED}), mine AS (SELECT * FROM cur WHERE provider_id = ?),
        peer AS (SELECT m.assessment_id, m.key_question, m.location_id,
                        count(c.location_id) AS n, median(c.key_question_score) AS peer_median
                 FROM mine m LEFT JOIN cur c ON c.key_question = m.key_question AND {same}
                     AND c.provider_id <> m.provider_id {listed}
                 GROUP BY ALL)
        SELECT (SELECT count(*) FROM mine WHERE key_question = 'Safe'),
               (SELECT median(key_question_score) FROM mine WHERE key_question = 'Safe'),
               (SELECT median(peer_median) FROM peer WHERE key_question = 'Safe'),
               min(n), max(n), median(n)
        FROM peer
    """, params)[0]  # fmt: skip


def shown_safe(at: AppTest, provider: str) -> list:
    """The provider's Safe row of the peer table: locations, median, peer median (None: no
    peers)."""
    summary = table(at, "key_question_score", "peer_median", "percentile_rank")
    row = summary[(summary["provider_id"] == provider) & (summary["key_question"] == "Safe")]
    values = row[["locations", "key_question_score", "peer_median"]].values.tolist()[0]
    return [None if isinstance(v, float) and math.isnan(v) else v for v in values]


def peer_caption(at: AppTest) -> str:
    [caption] = [c.value for c in at.caption if c.value.startswith("Dot: the provider's median")]
    return caption


def n_words(low: int, high: int, median: float) -> str:
    if low == high:
        return f"n = {low:,} peers a location"
    return f"n = {low:,}-{high:,} peers a location, median {median:,.0f}"


def test_peers_by_local_authority_and_by_size_band(use_demo_db):
    # The provider with the most locations among those of 2-5 (so others share its band).
    [(provider, _)] = sql(use_demo_db, f"""
        SELECT provider_id, count(DISTINCT location_id) FROM ({SIZED})
        WHERE size_band = '2-5 locations' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1
    """)  # fmt: skip
    at = page("compare").run()
    at.multiselect(key="compare_providers").select(provider).run()
    peers_by = at.button_group(key="compare_peers_by")
    assert "local authority" in peers_by.options  # the demo states them
    peers_by.select("local_authority").run()
    assert not at.exception
    same = "c.service_type = m.service_type AND c.local_authority = m.local_authority"
    *safe, low, high, median = peers_of(use_demo_db, provider, same)
    assert shown_safe(at, provider) == safe
    assert (
        "Peers: other providers' locations with the same service type and local authority; "
        f"{n_words(low, high, median)}." in peer_caption(at)
    )

    at.button_group(key="compare_peers_by").set_value(["size_band"]).run()
    assert not at.exception
    *safe, low, high, median = peers_of(use_demo_db, provider, "c.size_band = m.size_band")
    assert high > 0
    assert shown_safe(at, provider) == safe
    assert (
        "Peers: other providers' locations with the same provider size band; "
        f"{n_words(low, high, median)}." in peer_caption(at)
    )
    assert "size_band" in table(at, "location_id", "percentile_rank").columns


def test_a_custom_peer_list_in_the_url(use_demo_db):
    (provider, name), *others = biggest_providers(use_demo_db, 4)
    among = [pid for pid, _ in others[:2]]
    at = page("compare")
    at.query_params["compare_providers"] = name
    at.query_params["compare_peer_providers"] = [n for _, n in others[:2]]
    at.run()
    assert not at.exception
    assert at.multiselect(key=session.COMPARE_PEER_PROVIDERS).value == among
    at.button_group(key="compare_peers_by").set_value([]).run()  # any service type
    *safe, low, high, median = peers_of(use_demo_db, provider, "true", among)
    assert shown_safe(at, provider) == safe
    names = " and ".join(n for _, n in others[:2])
    assert (
        f"Peers: the locations of 2 chosen peer providers ({names}); "
        f"{n_words(low, high, median)}." in peer_caption(at)
    )


def test_statement_scores_beside_peers_are_means(use_demo_db):
    ((provider, _),) = biggest_providers(use_demo_db, 1)
    at = page("compare").run()
    at.multiselect(key="compare_providers").select(provider).run()
    assert not at.exception
    # Each Safe statement: the mean of the provider's current judged scores (the latest
    # assessment with statement scores), its locations, and the mean over the other
    # providers' rows of the same service type as any of its locations, each row once.
    expected = sql(use_demo_db, f"""
        WITH cur AS (SELECT s.* FROM {JUDGED} s
                     JOIN ({CURRENT_SCORED}) c USING (assessment_id, key_question)
                     WHERE s.key_question = 'Safe' AND s.statement_id IS NOT NULL),
        mine AS (SELECT * FROM cur WHERE provider_id = ?),
        peer AS (SELECT DISTINCT c.assessment_id, c.statement_id, c.score FROM mine m
                 JOIN cur c ON c.statement_id = m.statement_id
                     AND c.service_type = m.service_type AND c.provider_id <> m.provider_id)
        SELECT m.statement_id, count(DISTINCT m.location_id), avg(m.score),
               (SELECT count(*) FROM peer p WHERE p.statement_id = m.statement_id),
               (SELECT avg(score) FROM peer p WHERE p.statement_id = m.statement_id)
        FROM mine m GROUP BY m.statement_id ORDER BY m.statement_id
    """, [provider])  # fmt: skip
    shown = keyed(at, session.COMPARE_STATEMENTS).value
    got = shown[["statement_id", "locations", "score", "peers", "peer_mean"]].values.tolist()
    assert len(got) == len(expected) > 0
    for row, want in zip(got, expected, strict=True):
        assert row == pytest.approx(list(want))
    assert not all(float(s).is_integer() for s in shown["peer_mean"])  # means, not medians
    assert any(c.value.startswith("Means, not medians") for c in at.caption)


def test_a_clicked_point_is_read_from_the_chart_selection():
    def script():
        import streamlit as st

        from ui.links import picked

        st.session_state["chart"] = {"selection": {"provider": [{"provider_id": "P7"}]}}
        st.write(picked("chart", "provider", "provider_id"), picked("none", "provider", "x"))

    at = AppTest.from_function(script).run()
    assert not at.exception
    assert [j.value for j in at.json] == ['["P7"]', "[]"]
