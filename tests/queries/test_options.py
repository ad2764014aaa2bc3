"""queries.options: the sidebar's values and provider names, on hand-written frames."""

from __future__ import annotations

import datetime as dt

import polars as pl

from queries import options
from tests.queries.builders import build, kq


def _frames():
    return build(
        kq("L1", "2025-01-15", "Safe", [3, 3], provider="P2", region="London"),
        kq("L1", "2025-01-15", "Caring", [4], provider="P2", region="London"),
        kq("L2", "2024-03-01", "Safe", [2], provider="P1", region="North West"),
        kq("L3", "2025-06-30", "Safe", [1], provider="P3", region=None, service_type="Dentist"),
    )


def test_distinct_values_are_sorted_strings_without_null():
    frames = _frames()
    assert options.distinct_values(frames.scores, "region") == ["London", "North West"]
    assert options.distinct_values(frames.key_questions, "service_type") == [
        "Care home",
        "Dentist",
    ]


def test_filter_options_name_each_provider_once_in_name_order():
    got = options.filter_options(_frames().key_questions)
    assert got.dates == (dt.date(2024, 3, 1), dt.date(2025, 6, 30))
    assert got.regions == ["London", "North West"]
    assert got.provider_ids == ["P1", "P2", "P3"]  # "Provider P1" < "Provider P2" < ...
    assert got.provider_names["P2"] == "Provider P2"
    assert got.provider_names["gone"] == "gone"  # an id no longer in the data shows as itself


def test_provider_labels_add_the_id_where_two_share_a_name():
    frame = _frames().key_questions.with_columns(
        provider_name=pl.when(pl.col("provider_id") == "P3")
        .then(pl.lit("Provider P1"))
        .otherwise(pl.col("provider_name").cast(pl.String))
        .cast(pl.Categorical)
    )
    assert options.provider_labels(frame) == {
        "P1": "Provider P1 (P1)",
        "P3": "Provider P1 (P3)",
        "P2": "Provider P2",
    }
