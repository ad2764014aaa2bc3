"""Headline numbers of a selection."""

from __future__ import annotations

import datetime as dt

from queries.filters import Filters
from queries.headline import headline, loaded_by
from tests.queries.builders import build, kq

ROWS = (
    kq("L1", "2024-06-01", "Safe", [3] * 8),
    kq("L1", "2024-06-01", "Caring", rating="Good"),  # same assessment, ratings only
    kq("L2", "2025-01-01", "Safe", [2] * 8, provider="P2", region="East"),
)
FRAMES = build(*ROWS)


def test_headline_counts_the_selection():
    assert headline(FRAMES.key_questions).row(0, named=True) == {
        "assessments": 2,
        "locations": 2,
        "providers": 2,
        "key_questions": 3,
        "scored": 2,
        "first_date": dt.date(2024, 6, 1),
        "last_date": dt.date(2025, 1, 1),
    }


def test_headline_of_an_empty_selection():
    numbers = headline(FRAMES.key_questions, filters=Filters(regions=("Nowhere",)))
    assert numbers.row(0, named=True)["key_questions"] == 0
    assert numbers.row(0, named=True)["first_date"] is None


# FRAMES plus a pre-SAF ratings-only assessment in the East: one assessment per era.
LOADED = build(*ROWS, kq("L3", "2022-06-01", "Safe", rating="Good", region="East")).key_questions
D = dt.date


def test_loaded_by_era_beside_what_the_filters_select():
    east = loaded_by(LOADED, "era", Filters(regions=("East",)))
    # eras in their own order (oldest first), not alphabetically; L1 (London) is not selected
    assert east.rows() == [
        ("pre-SAF", 1, 1, 1, 1, 0, D(2022, 6, 1), D(2022, 6, 1)),
        ("SAF by evidence category", 1, 0, 1, 2, 1, D(2024, 6, 1), D(2024, 6, 1)),
        ("SAF by statement", 1, 1, 1, 1, 1, D(2025, 1, 1), D(2025, 1, 1)),
    ]
    assert east.columns[:3] == ["era", "assessments", "selected"]


def test_loaded_by_source_counts_everything_once():
    # 3 assessments (L1's covers Safe and Caring), 3 locations, 4 key questions, 2 with scores
    assert loaded_by(LOADED, "source").rows() == [
        ("report-text", 3, 3, 3, 4, 2, D(2022, 6, 1), D(2025, 1, 1))
    ]
