"""Filters: an empty filter is everything; each field narrows only frames that have its column."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from queries.filters import ALL, COLUMNS, MIN_N, Filters
from tests.queries.builders import build, kq

FRAMES = build(
    kq("L1", "2024-03-01", "Safe", [3, 3], provider="P1", region="London"),
    kq("L1", "2024-03-01", "Caring", [4, 4], provider="P1", region="London"),
    kq("L2", "2025-01-10", "Safe", [1, 2], provider="P2", region="East", service_type="Homecare"),
    kq("L3", "2022-05-05", "Well-led", rating="Good", provider="P3", region=None),
)


def ids(frame) -> list[tuple[str, str]]:
    """(location, key question) of each key question row, sorted."""
    return sorted(frame.select("location_id", "key_question").unique().collect().rows())


def test_empty_filter_is_everything():
    assert Filters() == ALL
    assert ALL.apply(FRAMES.key_questions).collect().height == 4
    assert ALL.apply(FRAMES.scores).collect().height == 6  # 2 + 2 + 2 statement scores
    assert MIN_N == 5


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(regions=("London",)), [("L1", "Safe"), ("L1", "Caring")]),
        (Filters(service_types=("Homecare",)), [("L2", "Safe")]),
        (Filters(providers=("P2", "P3")), [("L2", "Safe"), ("L3", "Well-led")]),
        (Filters(locations=("L3",)), [("L3", "Well-led")]),
        (Filters(key_questions=("Safe",)), [("L1", "Safe"), ("L2", "Safe")]),
        (Filters(ratings=("Good",)), [("L1", "Safe"), ("L3", "Well-led")]),  # 6/8 = 75% Good
        (Filters(eras=("pre-SAF",)), [("L3", "Well-led")]),
        # both ends inclusive
        (
            Filters(date_from=dt.date(2024, 3, 1)),
            [("L1", "Safe"), ("L1", "Caring"), ("L2", "Safe")],
        ),
        (
            Filters(date_to=dt.date(2024, 3, 1)),
            [("L1", "Safe"), ("L1", "Caring"), ("L3", "Well-led")],
        ),
        (Filters(regions=("London",), key_questions=("Caring",)), [("L1", "Caring")]),
        (Filters(regions=("Nowhere",)), []),
    ],
)
def test_each_field_narrows_key_questions(filters, expected):
    assert ids(filters.apply(FRAMES.key_questions)) == sorted(expected, key=lambda r: (r[0], r[1]))


def test_statements_filter_only_touches_frames_with_statement_ids():
    only_statement_1 = Filters(statements=(1,))
    # key_questions has no statement_id: unchanged
    assert only_statement_1.apply(FRAMES.key_questions).collect().height == 4
    # scores: statement 1 is Learning culture, scored by L1 and L2 under Safe
    assert only_statement_1.apply(FRAMES.scores).collect()["location_id"].to_list() in (
        ["L1", "L2"],
        ["L2", "L1"],
    )


def test_skip_leaves_named_fields_out():
    # London holds L1: Safe 6/8 = 75% Good, Caring 8/8 = 100% Outstanding; neither Inadequate
    filters = Filters(regions=("London",), ratings=("Inadequate",))
    assert filters.apply(FRAMES.key_questions).collect().height == 0
    assert filters.apply(FRAMES.key_questions, skip={"ratings"}).collect().height == 2


def test_every_set_field_has_a_column():
    names = {f.name for f in dataclasses.fields(Filters)} - {"date_from", "date_to"}
    assert names == set(COLUMNS)


def test_describe_names_set_fields():
    assert ALL.describe() == "everything"
    filters = Filters(date_from=dt.date(2024, 1, 1), regions=("London", "East"), statements=(3,))
    assert filters.describe() == "date_from: 2024-01-01; regions: London, East; statements: 3"


def test_filters_are_frozen_and_hashable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ALL.regions = ("London",)  # type: ignore[misc]
    assert hash(Filters(regions=("London",))) == hash(Filters(regions=("London",)))
