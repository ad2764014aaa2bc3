"""The sidebar's quick date ranges: each sets the date range, counted back from the latest
assessment, and the page's figures follow (checked against SQL on the demo database)."""

from __future__ import annotations

import datetime as dt

import pytest

from ingest.reference import SAF_START
from tests.helpers import metric, page, sql

pytestmark = pytest.mark.usefixtures("use_demo_db")


def test_since_saf_and_last_year_set_the_date_range_and_the_headline_follows(use_demo_db):
    ((lo, hi),) = sql(
        use_demo_db, "SELECT min(assessment_date), max(assessment_date) FROM key_questions"
    )
    at = page("overview").run()
    assert not at.exception
    assert at.date_input(key="date").value == (lo, hi)
    for label, start in (
        ("Since SAF", max(SAF_START, lo)),
        # 365 days to the latest (366 across a 29 February), both ends included
        ("1 year", hi.replace(year=hi.year - 1) + dt.timedelta(days=1)),
    ):
        at.button(key=f"date_preset_{label}").click().run()
        assert not at.exception
        assert at.date_input(key="date").value == (start, hi), label
        ((assessments,),) = sql(use_demo_db, """
            SELECT count(DISTINCT assessment_id) FROM key_questions
            WHERE assessment_date BETWEEN ? AND ?
        """, [start, hi])  # fmt: skip
        assert metric(at, "Assessments") == f"{assessments:,}", label
