"""Data quality: stated vs computed percentages, unknown statements, coverage, era mixing."""

from __future__ import annotations

import datetime as dt

import polars as pl

from queries.filters import Filters
from queries.frames import ERA, KEY_QUESTION
from queries.quality import (
    era_mix,
    incomplete_key_questions,
    score_mismatches,
    statement_coverage,
    unrecognised_statements,
)
from tests.queries.builders import build, kq, rows

D = dt.date
FRAMES = build(
    # stated 80 but 8 x 3 = 24/32 computes to 75: a mismatch of +5
    kq("L1", "2024-06-01", "Safe", [3] * 8, stated=80),
    # stated and computed agree: 7 x 3 = 21/28 = 75; Well-led has 8 statements, 7 scored
    kq("L1", "2024-06-01", "Well-led", [3] * 7, stated=75),
    # a statement the framework does not have, beside statement 1, in two assessments
    kq("L2", "2025-01-01", "Safe", [2, 3], statement_ids=[None, 1], provider="P2"),
    kq("L2", "2025-06-01", "Safe", [3, 3], statement_ids=[None, 1], provider="P2"),
    kq("L3", "2025-02-01", "Well-led", [3] * 8, provider="P2"),  # complete
    kq("L4", "2022-01-01", "Caring", rating="Good", provider="P2"),  # ratings only
)
KQ = FRAMES.key_questions


def test_score_mismatches():
    mismatches = score_mismatches(KQ)
    assert rows(mismatches, "location_id", "key_question", "stated_score", "computed_score") == [
        ("L1", "Safe", 80, 75)
    ]
    assert mismatches["difference"].to_list() == [5]
    assert mismatches.schema["difference"] == pl.Int32
    assert mismatches.columns[-3:] == ["points", "statements_scored", "source"]


def test_unrecognised_statements():
    unknown = unrecognised_statements(FRAMES.scores)
    # the builder names an unknown statement "Unknown <position>": position 0 in both of L2's
    assert rows(unknown) == [("Safe", "Unknown 0", 2, 2, D(2025, 1, 1), D(2025, 6, 1))]
    assert unknown.columns == ["key_question", "statement", "rows", "n", "first_date", "last_date"]
    assert unrecognised_statements(
        FRAMES.scores, filters=Filters(date_to=D(2024, 12, 31))
    ).is_empty()


def test_incomplete_key_questions():
    incomplete = incomplete_key_questions(KQ)
    # L1 Well-led: 7 of 8; L2 Safe: 2 of 8, twice; L3 Well-led has all 8; L4 has no scores
    assert rows(incomplete, "location_id", "key_question", "statements_scored", "missing") == [
        ("L1", "Well-led", 7, 1),
        ("L2", "Safe", 2, 6),
        ("L2", "Safe", 2, 6),
    ]
    assert incomplete.schema["framework_statements"] == pl.Int32


def test_statement_coverage():
    coverage = statement_coverage(KQ)
    # Safe: 8 statements once (L1), 2 statements twice (L2) -> shares 2/3 and 1/3
    # Well-led: 7 once (L1), 8 once (L3)
    assert rows(coverage) == [
        ("Safe", 2, 8, False, 2, 2 / 3, True),
        ("Safe", 8, 8, True, 1, 1 / 3, True),
        ("Well-led", 7, 8, False, 1, 0.5, True),
        ("Well-led", 8, 8, True, 1, 0.5, True),
    ]
    assert coverage.schema["key_question"] == KEY_QUESTION


def test_era_mix_flags_lines_that_cross_eras():
    mix = era_mix(KQ, by="provider_id")
    # P1: 2024-06-01 (scored by evidence category) only; P2: scored 2025 assessments only,
    # L4's pre-SAF rating has no percentage so it is not in any trend line
    assert rows(mix, "provider_id", "era", "n", "eras", "mixed") == [
        ("P1", "SAF by evidence category", 1, 1, False),
        ("P2", "SAF by statement", 3, 1, False),
    ]
    overall = era_mix(FRAMES.scores)
    # both eras in one line: 1 assessment before 2 December 2024, 3 after
    assert rows(overall, "era", "n", "first_date", "last_date", "eras", "mixed") == [
        ("SAF by evidence category", 1, D(2024, 6, 1), D(2024, 6, 1), 2, True),
        ("SAF by statement", 3, D(2025, 1, 1), D(2025, 6, 1), 2, True),
    ]
    assert overall.schema["era"] == ERA
    assert overall.schema["eras"] == pl.UInt32
