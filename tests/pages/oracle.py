"""The page tests' oracle: plain SQL on the database file, written apart from queries/.

Run it with tests.helpers.sql.
"""

from __future__ import annotations

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
