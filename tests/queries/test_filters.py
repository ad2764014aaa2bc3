"""Filters: an empty filter is everything; each field narrows only frames that have its column."""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
import pytest

from queries.current import left_out, selected
from queries.filters import ALL, COLUMNS, MIN_N, SWITCHES, Filters
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
    assert names == set(COLUMNS) | set(SWITCHES)


def test_describe_names_set_fields():
    assert ALL.describe() == "everything"
    filters = Filters(date_from=dt.date(2024, 1, 1), regions=("London", "East"), statements=(3,))
    assert filters.describe() == "date_from: 2024-01-01; regions: London, East; statements: 3"


def test_filters_are_frozen_and_hashable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        ALL.regions = ("London",)  # type: ignore[misc]
    assert hash(Filters(regions=("London",))) == hash(Filters(regions=("London",)))


# L1 Safe: 3 statements, the 2nd carried forward; L1 in two service groups. L2 deregistered.
SWITCHED = build(
    kq("L1", "2024-03-01", "Safe", [1, 4, 2], statuses=["assessed", "carried forward", None],
       service_group="Care homes"),
    kq("L1", "2024-06-01", "Safe", [3, 3], service_group="Homecare"),
    kq("L2", "2024-03-01", "Safe", [2, 2], registration="Deregistered"),
    kq("L2", "2023-01-01", "Safe", rating="Good", registration="Deregistered"),
)  # fmt: skip


def test_carried_forward_scores_are_left_out_of_statement_rows_by_default():
    scores = ALL.apply(SWITCHED.scores).collect()
    assert scores.height == 6  # 7 statement scores, one carried forward
    assert "carried forward" not in scores["statement_status"].cast(str).to_list()
    assert scores["statement_status"].null_count() == 5  # not said: counts as judged
    everything = Filters(include_carried_forward=True).apply(SWITCHED.scores).collect()
    assert everything.height == 7
    # key question rows keep their published percentage: the switch never touches them
    assert ALL.apply(SWITCHED.key_questions).collect().height == 4
    assert left_out(SWITCHED.scores).row(0) == (1, 0)
    assert left_out(SWITCHED.scores, Filters(include_carried_forward=True)).row(0) == (0, 0)


def test_current_pictures_leave_deregistered_locations_out_history_keeps_them():
    current = selected(SWITCHED.key_questions, latest=True).collect()
    # L1 is current in each service group; L2 (deregistered) is left out
    assert sorted(current.select("location_id", "service_group").rows()) == [
        ("L1", "Care homes"),
        ("L1", "Homecare"),
    ]
    assert left_out(SWITCHED.key_questions, latest=True).row(0) == (0, 1)
    kept = selected(SWITCHED.key_questions, Filters(include_deregistered=True), latest=True)
    assert sorted(kept.collect()["location_id"].cast(str).to_list()) == ["L1", "L1", "L2"]
    assert selected(SWITCHED.key_questions).collect().height == 4  # history keeps everything


def test_service_group_is_part_of_the_current_grain_and_a_filter():
    homecare = Filters(service_groups=("Homecare",))
    rows = selected(SWITCHED.key_questions, homecare, latest=True).collect()
    assert rows.select("location_id", "assessment_date").rows() == [("L1", dt.date(2024, 6, 1))]
    # Each group's sequence stands alone: the Care homes assessment has no next one
    kq_rows = SWITCHED.key_questions.collect().filter(pl.col("location_id") == "L1")
    assert kq_rows["next_date"].to_list() == [None, None]


def test_describe_says_which_switches_are_on():
    assert Filters(include_deregistered=True).describe() == "deregistered locations included"
    assert (
        Filters(include_carried_forward=True, service_groups=("Homecare",)).describe()
        == "service_groups: Homecare; carried-forward statement scores included"
    )
