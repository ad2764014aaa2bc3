"""Trends page: lines per group and period, changes and rating transitions, checked against SQL."""

from __future__ import annotations

import pytest

from ingest.reference import STATEMENTS
from tests.helpers import metric, page, sql, table
from tests.pages.oracle import JUDGED, PAIRS

pytestmark = pytest.mark.usefixtures("use_demo_db")


def test_well_led_by_region_per_quarter(use_demo_db):
    at = page("trends").run()
    assert not at.exception
    at.selectbox(key="trends_key_question").select("Well-led")
    at.selectbox(key="trends_by").select("region").run()
    assert not at.exception
    expected = sql(use_demo_db, """
        SELECT region, date_trunc('quarter', assessment_date)::DATE, count(DISTINCT assessment_id),
               avg(key_question_score)
        FROM key_questions WHERE key_question = 'Well-led' AND key_question_score IS NOT NULL
        GROUP BY ALL
    """)  # fmt: skip
    shown = table(at, "region", "period_start", "mean_percentage")
    assert len(shown) == len(expected)
    got = {(r.region, r.period_start.date(), r.n): r.mean_percentage for r in shown.itertuples()}
    for region, quarter, n, mean in expected:
        assert got[(region, quarter, n)] == pytest.approx(mean)
    assert metric(at, "Assessments") == f"{sum(n for _, _, n, _ in expected):,}"
    # The headline: mean of every Well-led percentage in the latest quarter with at least 5
    # assessments (a quarter resting on fewer is skipped), all regions.
    ((latest_mean,),) = sql(use_demo_db, """
        WITH q AS (SELECT date_trunc('quarter', assessment_date) AS quarter, key_question_score,
                          assessment_id
                   FROM key_questions
                   WHERE key_question = 'Well-led' AND key_question_score IS NOT NULL),
             solid AS (SELECT quarter FROM q GROUP BY quarter
                       HAVING count(DISTINCT assessment_id) >= 5)
        SELECT avg(key_question_score) FROM q WHERE quarter = (SELECT max(quarter) FROM solid)
    """)  # fmt: skip
    assert float(metric(at, "Mean, latest quarter")) == pytest.approx(latest_mean, abs=0.05)


def test_rating_transitions_and_changes_of_safe(use_demo_db):
    at = page("trends").run()
    assert not at.exception
    # Consecutive Safe assessments of one location; change needs both scored.
    pairs = f"SELECT * FROM ({PAIRS}) WHERE key_question = 'Safe'"
    expected = sql(use_demo_db, f"""
        SELECT from_rating, to_rating, count(*) FROM (
            SELECT from_rating, key_question_rating AS to_rating FROM ({pairs})
            WHERE from_rating IS NOT NULL AND key_question_rating IS NOT NULL)
        GROUP BY ALL
    """)  # fmt: skip
    shown = table(at, "from_rating", "to_rating", "count")
    assert {(r.from_rating, r.to_rating, r.count) for r in shown.itertuples()} == set(expected)
    ((improved, declined),) = sql(use_demo_db, f"""
        SELECT count(*) FILTER (key_question_score > from_score),
               count(*) FILTER (key_question_score < from_score) FROM ({pairs})
    """)  # fmt: skip
    assert metric(at, "Improved") == f"{improved:,}"
    assert metric(at, "Declined") == f"{declined:,}"


def test_one_statement_per_year(use_demo_db):
    statement = next(s for s in STATEMENTS if s.name == "Safeguarding")
    at = page("trends").run()
    at.radio(key="trends_measure").set_value("Statement score").run()
    at.selectbox(key="trends_statement").select(statement.id)
    at.button_group(key="trends_period").select("year").run()
    assert not at.exception
    expected = sql(use_demo_db, f"""
        SELECT year(assessment_date), count(DISTINCT assessment_id), avg(score)
        FROM {JUDGED} WHERE statement_id = ? GROUP BY ALL
    """, [statement.id])  # fmt: skip
    shown = table(at, "period_start", "mean_score")
    got = {(r.period_start.year, r.n): r.mean_score for r in shown.itertuples()}
    assert len(got) == len(expected)
    for year, n, mean in expected:
        assert got[(year, n)] == pytest.approx(mean)
