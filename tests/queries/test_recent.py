"""The latest quarter against the one before, per key question.

Four statements each; assessment ids are "<location>@<date>", so L1's 2025-04-10 assessment
covers Safe and Caring:
    L1 2025-01-10  Safe   4 x 3                  = 75%   Good
       2025-04-10  Safe   4 x 4                  = 100%  Outstanding  (a move up)
                   Caring 4 x 3                  = 75%   (its first Caring: no change)
    L2 2025-02-10  Safe   4 x 2                  = 50%   Requires improvement
       2025-05-10  Safe   2 + 2 + 2 + 1 = 7/16   = 43.75 -> 44%  Requires improvement
    L3 2025-05-20  Safe   4 x 4                  = 100%  (first assessment)
    L4 2025-07-01  Safe   4 x 3                  = 75%   (first assessment)
Scored assessments per quarter: Q1 2 (L1, L2), Q2 3 (L1's one, L2, L3), Q3 1 (L4).
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from queries.filters import Filters
from queries.frames import KEY_QUESTION
from queries.recent import quarter_on_quarter
from tests.queries.builders import build, kq, rows

D = dt.date
KQ = build(
    kq("L1", "2025-01-10", "Safe", [3] * 4),
    kq("L1", "2025-04-10", "Safe", [4] * 4),
    kq("L1", "2025-04-10", "Caring", [3] * 4),
    kq("L2", "2025-02-10", "Safe", [2] * 4),
    kq("L2", "2025-05-10", "Safe", [2, 2, 2, 1]),
    kq("L3", "2025-05-20", "Safe", [4] * 4),
    kq("L4", "2025-07-01", "Safe", [3] * 4),
).key_questions
COUNTS = ("key_question", "previous_n", "latest_n", "reassessed", "rating_up", "rating_down")


def test_the_latest_quarter_with_enough_assessments_against_the_one_before():
    recent = quarter_on_quarter(KQ, min_n=2)
    # Q3 has 1 assessment (< 2): Q2 is the latest with enough, Q1 the one before.
    assert set(recent["latest_start"]) == {D(2025, 4, 1)}
    assert set(recent["previous_start"]) == {D(2025, 1, 1)}
    # Safe Q1: (75 + 50) / 2 = 62.5; Q2: (100 + 44 + 100) / 3 = 81.33; change 18.83.
    # Re-assessed in Q2: L1 (Good -> Outstanding, up) and L2 (Requires improvement, same).
    # Caring: only Q2, 75 from one assessment; L1's first Caring is no re-assessment.
    assert rows(recent, *COUNTS) == [("Safe", 2, 3, 2, 1, 0), ("Caring", 0, 1, 0, 0, 0)]
    assert recent["previous_mean"].to_list() == [62.5, None]
    assert recent["latest_mean"].to_list() == [pytest.approx(244 / 3), 75.0]
    assert recent["change"].to_list() == [pytest.approx(244 / 3 - 62.5), None]
    assert recent["low_n"].to_list() == [False, True]  # Safe: min(2, 3) = 2 is not below 2


def test_without_a_quarter_of_enough_the_latest_with_any():
    recent = quarter_on_quarter(KQ)  # no quarter reaches 5 assessments: Q3 against Q2
    assert set(recent["latest_start"]) == {D(2025, 7, 1)}
    # Safe Q3: 75 (L4, a first assessment); Q2: 81.33; change 75 - 244 / 3 = -6.33.
    # Caring: 75 in Q2, nothing in Q3.
    assert rows(recent, *COUNTS) == [("Safe", 3, 1, 0, 0, 0), ("Caring", 1, 0, 0, 0, 0)]
    assert recent["change"].to_list() == [pytest.approx(75 - 244 / 3), None]
    assert recent["low_n"].all()


def test_filters_choose_what_is_compared():
    recent = quarter_on_quarter(KQ, filters=Filters(locations=("L1", "L2")), min_n=2)
    # Q2 holds L1 and L2 (2 assessments): Safe (100 + 44) / 2 = 72 against (75 + 50) / 2
    safe = recent.filter(pl.col("key_question") == "Safe")
    assert rows(safe, "latest_n", "latest_mean", "change", "reassessed") == [(2, 72.0, 9.5, 2)]


def test_nothing_scored_gives_an_empty_table_with_its_schema():
    recent = quarter_on_quarter(KQ, filters=Filters(regions=("Nowhere",)))
    assert recent.height == 0
    assert recent.schema == pl.Schema(
        {
            "key_question": KEY_QUESTION,
            "previous_start": pl.Date,
            "previous_n": pl.UInt32,
            "previous_mean": pl.Float64,
            "latest_start": pl.Date,
            "latest_n": pl.UInt32,
            "latest_mean": pl.Float64,
            "change": pl.Float64,
            "reassessed": pl.UInt32,
            "rating_up": pl.UInt32,
            "rating_down": pl.UInt32,
            "low_n": pl.Boolean,
        }
    )
