"""The page tests' oracle: plain SQL on the database file, written apart from queries/.

Run it with tests.helpers.sql.
"""

from __future__ import annotations

# Statement scores judged in their own assessment: what the pages show by default (a score
# CQC carried forward from an earlier assessment is left out; a status not stated counts).
JUDGED = "(SELECT * FROM scores WHERE statement_status IS DISTINCT FROM 'carried forward')"

# key_questions with each row's service group sequence (grp): its own group, else that of the
# location's next assessment of the key question, else of its previous one.
_GROUPED = """
    SELECT *, COALESCE(service_group,
        first_value(service_group IGNORE NULLS) OVER (
            PARTITION BY location_id, key_question
            ORDER BY assessment_date, published_date, assessment_id
            ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING),
        last_value(service_group IGNORE NULLS) OVER (
            PARTITION BY location_id, key_question
            ORDER BY assessment_date, published_date, assessment_id
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) AS grp
    FROM key_questions
"""

# Each location's latest assessment of each key question in each service group: latest date,
# then the later published date, then the larger assessment id; deregistered locations out.
CURRENT = f"""
    SELECT * EXCLUDE (grp) FROM ({_GROUPED})
    WHERE registration_status IS DISTINCT FROM 'Deregistered'
    QUALIFY row_number() OVER (
        PARTITION BY location_id, grp, key_question
        ORDER BY assessment_date DESC, published_date DESC, assessment_id DESC) = 1
"""

# Consecutive assessments of one key question at one location (in one service group), in the
# same order.
PAIRS = f"""
    SELECT * EXCLUDE (grp),
        lag(key_question_rating) OVER w AS from_rating,
        lag(key_question_score) OVER w AS from_score,
        lag(assessment_id) OVER w AS from_assessment_id
    FROM ({_GROUPED})
    WINDOW w AS (PARTITION BY location_id, grp, key_question
                 ORDER BY assessment_date, published_date, assessment_id)
"""

# The same over assessments with statement scores: the current picture of statement views.
CURRENT_SCORED = f"""
    SELECT * EXCLUDE (grp) FROM ({_GROUPED})
    WHERE registration_status IS DISTINCT FROM 'Deregistered' AND statements_scored IS NOT NULL
    QUALIFY row_number() OVER (
        PARTITION BY location_id, grp, key_question
        ORDER BY assessment_date DESC, published_date DESC, assessment_id DESC) = 1
"""
