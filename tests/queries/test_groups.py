"""Groupings (`by=`), the low-n flag and the assessment count behind an aggregate."""

from __future__ import annotations

import polars as pl
import pytest

from queries.groups import GROUP_COLUMNS, assessments, group_sizes, keys, low_n


def test_keys_expand_names_and_append_always_without_repeats():
    assert keys(None) == []
    assert keys(None, "key_question") == ["key_question"]
    assert keys("provider", "key_question") == ["provider_id", "provider_name", "key_question"]
    assert keys("key_question", "key_question") == ["key_question"]
    assert keys(("region", "service_type")) == ["region", "service_type"]
    assert keys("statement", "key_question") == ["key_question", "statement_id", "statement"]
    assert keys("location") == ["location_id", "location_name"]


def test_unknown_grouping_is_refused():
    with pytest.raises(ValueError, match="cannot group by"):
        keys("postcode")
    assert "provider_name" in GROUP_COLUMNS


def test_low_n_is_strictly_below_min_n():
    frame = pl.DataFrame({"n": [4, 5, 6]}, schema={"n": pl.UInt32})
    assert frame.select(low_n(5))["low_n"].to_list() == [True, False, False]


def test_assessments_counts_rows_only_when_the_group_fixes_the_grain():
    # assessment A scores two statements of Safe, B one: 2 assessments, 3 rows
    frame = pl.DataFrame(
        {"assessment_key": [7, 7, 9], "statement_id": [1, 2, 1], "key_question": ["Safe"] * 3}
    )
    per_kq = frame.group_by("key_question").agg(n=assessments(["key_question"], "statement_id"))
    assert per_kq["n"].to_list() == [2]
    per_statement = frame.group_by("statement_id").agg(
        n=assessments(["statement_id"], "statement_id")
    )
    assert sorted(per_statement.rows()) == [(1, 2), (2, 1)]


def test_group_sizes_most_rows_first_ties_by_value():
    frame = pl.LazyFrame({"region": ["East", "West", "North", "West", None, "North", None]})
    # West 2, North 2, missing 2, East 1: the tied three by value (missing last)
    sizes = group_sizes(frame, ["region"]).collect()
    assert sizes.rows() == [("North", 2), ("West", 2), (None, 2), ("East", 1)]
