"""The page tests' oracle: plain SQL on the database file, written apart from queries/."""

from __future__ import annotations

from pathlib import Path

import duckdb
from streamlit.testing.v1 import AppTest

PAGES = Path(__file__).resolve().parents[2] / "pages"

# Each location's latest assessment of each key question: latest date, then the later
# published date, then the larger assessment id.
CURRENT = """
    SELECT * FROM key_questions
    QUALIFY row_number() OVER (
        PARTITION BY location_id, key_question
        ORDER BY assessment_date DESC, published_date DESC, assessment_id DESC) = 1
"""

# Consecutive assessments of one key question at one location, in the same order.
PAIRS = """
    SELECT *,
        lag(key_question_rating) OVER w AS from_rating,
        lag(key_question_score) OVER w AS from_score,
        lag(assessment_id) OVER w AS from_assessment_id
    FROM key_questions
    WINDOW w AS (PARTITION BY location_id, key_question
                 ORDER BY assessment_date, published_date, assessment_id)
"""


def sql(path: Path, query: str, params: list | dict | None = None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(query, params or []).fetchall()
    finally:
        con.close()


def page(name: str) -> AppTest:
    return AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=60)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def table(at: AppTest, *columns: str):
    """The first dataframe shown that has all of `columns` (as pandas)."""
    return next(d.value for d in at.dataframe if set(columns) <= set(d.value.columns))
