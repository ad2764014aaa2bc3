"""Headline numbers of a selection."""

from __future__ import annotations

import datetime as dt

from queries.filters import Filters
from queries.headline import headline
from tests.queries.builders import build, kq

FRAMES = build(
    kq("L1", "2024-06-01", "Safe", [3] * 8),
    kq("L1", "2024-06-01", "Caring", rating="Good"),  # same assessment, ratings only
    kq("L2", "2025-01-01", "Safe", [2] * 8, provider="P2", region="East"),
)


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
