"""Overview page's "what changed recently" panel, checked against SQL on the demo database."""

from __future__ import annotations

import pytest

from ingest.reference import RATINGS
from queries.filters import MIN_N
from tests.pages.oracle import PAIRS, page, sql

pytestmark = pytest.mark.usefixtures("use_demo_db")


def recent_metric(at, key_question: str):
    return next(m for m in at.metric if m.label.split(" (")[0] == key_question)


def test_latest_quarter_against_the_one_before_in_a_region(use_demo_db):
    ((region,),) = sql(use_demo_db, """
        SELECT region FROM key_questions GROUP BY region ORDER BY count(*) DESC, region LIMIT 1
    """)  # fmt: skip
    at = page("overview").run()
    assert not at.exception
    at.multiselect(key="region").select(region).run()
    assert not at.exception
    # Latest quarter with at least MIN_N scored assessments in the region (else the latest
    # with any), and the calendar quarter before it.
    quarters = """
        SELECT key_question, date_trunc('quarter', assessment_date)::DATE AS quarter,
               avg(key_question_score) AS mean, count(DISTINCT assessment_id) AS n
        FROM key_questions WHERE region = $region AND key_question_score IS NOT NULL
        GROUP BY ALL
    """
    ((latest, previous),) = sql(use_demo_db, """
        WITH q AS (
            SELECT date_trunc('quarter', assessment_date)::DATE AS quarter,
                   count(DISTINCT assessment_id) AS n
            FROM key_questions WHERE region = $region AND key_question_score IS NOT NULL
            GROUP BY ALL),
        latest AS (SELECT coalesce(max(quarter) FILTER (n >= $min_n), max(quarter)) AS quarter
                   FROM q)
        SELECT quarter, quarter - INTERVAL 3 MONTH FROM latest
    """, {"region": region, "min_n": MIN_N})  # fmt: skip
    rows = sql(use_demo_db, f"""
        SELECT l.key_question, l.mean, l.n, l.mean - p.mean, least(l.n, p.n)
        FROM ({quarters}) l LEFT JOIN ({quarters}) p
          ON p.key_question = l.key_question AND p.quarter = $previous
        WHERE l.quarter = $latest
    """, {"region": region, "previous": previous.date(), "latest": latest})  # fmt: skip
    assert rows
    for key_question, mean, n, change, fewest in rows:
        shown = recent_metric(at, key_question)
        assert shown.value == f"{mean:.1f}%"
        assert shown.label.endswith("(few)") == (fewest is None or fewest < MIN_N)
        if change is not None:
            assert shown.delta == f"{change:+.1f} points"
        assert f"{n} assessments in Q" in shown.help
    # Ratings up and down among key questions re-assessed in the latest quarter.
    order = f"{list(RATINGS)!r}"  # worst to best
    ((up, down, reassessed),) = sql(use_demo_db, f"""
        SELECT count(*) FILTER (list_position({order}, key_question_rating)
                                > list_position({order}, from_rating)),
               count(*) FILTER (list_position({order}, key_question_rating)
                                < list_position({order}, from_rating)),
               count(*)
        FROM ({PAIRS}) WHERE region = ? AND from_assessment_id IS NOT NULL
          AND date_trunc('quarter', assessment_date) = ?
    """, [region, latest])  # fmt: skip
    assert any(f"{up} up, {down} down of {reassessed}." in c.value for c in at.caption), (
        "rating moves"
    )
