"""Provider roll-up: spread of each provider's current percentages, worst and best location.

P1  L1 "Home L1" Safe 75 (8 x 3; in 2024 it was 25)   L2 Safe 50   L3 Safe 50
P2  L4 Safe 100, a single location
P3  L5 Safe 100   L6 Safe 100   (a tie at the top)   L6 also rated Caring Good, no score
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from queries.filters import Filters
from queries.frames import KEY_QUESTION
from queries.rollup import provider_rollup
from tests.queries.builders import build, kq, rows

FRAMES = build(
    kq("L1", "2024-01-01", "Safe", [1] * 8),
    kq("L1", "2025-01-01", "Safe", [3] * 8),
    kq("L2", "2025-01-01", "Safe", [2] * 8),
    kq("L3", "2025-01-01", "Safe", [2] * 8),
    kq("L4", "2025-01-01", "Safe", [4] * 8, provider="P2"),
    kq("L5", "2025-01-01", "Safe", [4] * 8, provider="P3"),
    kq("L6", "2025-01-01", "Safe", [4] * 8, provider="P3"),
    kq("L6", "2025-01-01", "Caring", rating="Good", provider="P3"),
)


def test_provider_rollup():
    rollup = provider_rollup(FRAMES.key_questions, min_n=3)
    # P1: 50, 50, 75 -> median 50; worst is a tie between L2 and L3: first by name, Home L2
    # P3: a tie at 100 between L5 and L6 -> both worst and best go to Home L5
    assert rows(
        rollup,
        "provider_id",
        "key_question",
        "n",
        "min",
        "median",
        "max",
        "worst_location_id",
        "best_location_id",
        "low_n",
    ) == [
        ("P1", "Safe", 3, 50, 50.0, 75, "L2", "L1", False),
        ("P2", "Safe", 1, 100, 100.0, 100, "L4", "L4", True),
        ("P3", "Safe", 2, 100, 100.0, 100, "L5", "L5", True),
    ]
    assert rollup["worst_location_name"][0] == "Home L2"


def test_provider_rollup_schema_and_filters():
    rollup = provider_rollup(FRAMES.key_questions, filters=Filters(providers=("P2",)))
    assert rollup.schema == pl.Schema(
        {
            "provider_id": pl.Categorical(),
            "provider_name": pl.Categorical(),
            "key_question": KEY_QUESTION,
            "n": pl.UInt32,
            "min": pl.Int32,
            "median": pl.Float64,
            "max": pl.Int32,
            "worst_location_id": pl.Categorical(),
            "worst_location_name": pl.Categorical(),
            "best_location_id": pl.Categorical(),
            "best_location_name": pl.Categorical(),
            "low_n": pl.Boolean,
        }
    )
    assert rollup.height == 1
    # as at 2024: only L1's first assessment (25%) existed
    then = provider_rollup(FRAMES.key_questions, filters=Filters(date_to=dt.date(2024, 12, 31)))
    assert rows(then, "provider_id", "n", "min") == [("P1", 1, 25)]


def test_locations_without_a_provider_roll_up_together_first():
    frames = build(
        kq("L1", "2025-01-01", "Safe", [3] * 8, provider="P1"),
        kq("L2", "2025-01-01", "Safe", [4] * 8, provider=None),
        kq("L3", "2025-01-01", "Safe", [2] * 8, provider=None),
        kq("L3", "2025-01-01", "Caring", [3] * 5, provider=None),
    )
    rollup = provider_rollup(frames.key_questions)
    # no provider: Safe 50 (L3) and 100 (L2) -> median 75; Caring 75 (L3 alone); then P1
    assert rows(
        rollup, "provider_id", "key_question", "n", "min", "median", "max", "worst_location_id",
        "best_location_id",
    ) == [
        (None, "Safe", 2, 50, 75.0, 100, "L3", "L2"),
        (None, "Caring", 1, 75, 75.0, 75, "L3", "L3"),
        ("P1", "Safe", 1, 75, 75.0, 75, "L1", "L1"),
    ]  # fmt: skip
