"""Chosen locations beside their peers: other providers' locations of the same kind.

Current Safe percentages (all 8 statements scored alike; 2025-01-01 unless said):
    L1 P1 Care home London      75  (8 x 3; its 2024 assessment, 100, is superseded)
    L2 P1 Care home London      50  (8 x 2)
    L3 P2 Care home London      50
    L4 P2 Care home London      75
    L5 P3 Care home London     100  (8 x 4)
    L6 P4 Homecare  London      25  (8 x 1)
    L7 P5 Care home North East 100
percentile_rank = 100 x (peers strictly below + half the peers equal) / peers.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from queries.filters import Filters
from queries.frames import KEY_QUESTION
from queries.peers import (
    peer_percentages,
    peer_statement_scores,
    peer_trend,
    provider_summary,
)
from tests.queries.builders import build, kq, rows

FRAMES = build(
    kq("L1", "2024-01-01", "Safe", [4] * 8, provider="P1"),
    kq("L1", "2025-01-01", "Safe", [3] * 8, provider="P1"),
    kq("L2", "2025-01-01", "Safe", [2] * 8, provider="P1"),
    kq("L3", "2025-01-01", "Safe", [2] * 8, provider="P2"),
    kq("L4", "2025-01-01", "Safe", [3] * 8, provider="P2"),
    kq("L5", "2025-01-01", "Safe", [4] * 8, provider="P3"),
    kq("L6", "2025-01-01", "Safe", [1] * 8, provider="P4", service_type="Homecare"),
    kq("L7", "2025-01-01", "Safe", [4] * 8, provider="P5", region="North East"),
)
KQ = FRAMES.key_questions
PEERS_BOTH = ("service_type", "region")
COMPARED = ("location_id", "key_question_score", "n", "peer_p25", "peer_median", "peer_p75")


def test_peers_of_the_same_service_type_from_other_providers():
    result = peer_percentages(KQ, providers=["P1"])
    # P1's own L1 and L2 are not each other's peers: care homes L3 50, L4 75, L5 100, L7 100
    # linear quartiles of 50, 75, 100, 100: positions 0.75, 1.5, 2.25 -> 68.75, 87.5, 100
    # L1 at 75: 1 below + 1 equal -> (1 + 0.5) / 4 = 37.5; L2 at 50: 0 + 0.5 of 4 = 12.5
    assert rows(result, *COMPARED, "percentile_rank", "low_n") == [
        ("L1", 75, 4, 68.75, 87.5, 100.0, 37.5, True),
        ("L2", 50, 4, 68.75, 87.5, 100.0, 12.5, True),
    ]


def test_peers_of_the_same_service_type_and_region():
    result = peer_percentages(KQ, providers=["P1"], peers_by=("service_type", "region"))
    # London care homes of other providers: 50, 75, 100 -> quartiles 62.5, 75, 87.5
    # L1: (1 + 0.5) / 3 = 50%; L2: 0.5 / 3 = 16.7%
    assert rows(result, *COMPARED, "percentile_rank") == [
        ("L1", 75, 3, 62.5, 75.0, 87.5, 50.0),
        ("L2", 50, 3, 62.5, 75.0, 87.5, pytest.approx(100 / 6)),
    ]
    assert result.columns[4:6] == ["service_type", "region"]


def test_peers_across_england_and_min_n():
    result = peer_percentages(KQ, locations=["L1"], peers_by=(), min_n=5)
    # everyone but P1: 25, 50, 75, 100, 100 -> quartiles at positions 1, 2, 3: 50, 75, 100
    # L1 at 75: 2 below + 1 equal -> 2.5 / 5 = 50%; 5 peers is not below min_n 5
    assert rows(result, *COMPARED, "percentile_rank", "low_n") == [
        ("L1", 75, 5, 50.0, 75.0, 100.0, 50.0, False)
    ]


def test_filters_narrow_the_peer_pool_but_not_the_choice():
    london = Filters(regions=("London",), providers=("P9",))  # providers: ignored here
    result = peer_percentages(KQ, locations=["L1"], peers_by=(), filters=london)
    # L7 (North East) leaves the pool: 25, 50, 75, 100 -> L1: (2 + 0.5) / 4 = 62.5
    assert rows(result, "location_id", "n", "percentile_rank") == [("L1", 4, 62.5)]


def test_each_location_excludes_only_its_own_provider():
    result = peer_percentages(KQ, providers=["P1"], locations=["L3"])
    # L3 (P2, 50) is compared with P1's L1 75 and L2 50, L5 100, L7 100: (0 + 0.5) / 4
    l3 = result.filter(pl.col("location_id") == "L3")
    assert rows(l3, "n", "percentile_rank") == [(4, 12.5)]


def test_a_location_without_peers():
    result = peer_percentages(KQ, locations=["L6"])  # the only homecare service
    assert rows(result, *COMPARED, "percentile_rank", "low_n") == [
        ("L6", 25, 0, None, None, None, None, True)
    ]


def test_nothing_chosen_gives_an_empty_table_with_its_schema():
    result = peer_percentages(KQ)
    assert result.height == 0
    assert result.schema == pl.Schema(
        {
            "location_id": pl.Categorical(),
            "location_name": pl.Categorical(),
            "provider_id": pl.Categorical(),
            "provider_name": pl.Categorical(),
            "service_type": pl.Categorical(),
            "key_question": KEY_QUESTION,
            "key_question_score": pl.Int32,
            "n": pl.UInt32,
            "peer_p25": pl.Float64,
            "peer_median": pl.Float64,
            "peer_p75": pl.Float64,
            "percentile_rank": pl.Float64,
            "low_n": pl.Boolean,
        }
    )


def test_unknown_peer_key_is_refused():
    with pytest.raises(ValueError, match="peers_by"):
        peer_percentages(KQ, providers=["P1"], peers_by=("postcode",))


def test_peer_statement_scores():
    result = peer_statement_scores(
        FRAMES.scores, providers=["P1"], peers_by=("service_type", "region")
    )
    assert result.height == 2 * 8  # L1 and L2, 8 Safe statements each
    first = result.filter(pl.col("location_id") == "L1", pl.col("statement_id") == 1)
    # statement 1 at London care homes of other providers: 2, 3, 4 -> quartiles 2.5, 3, 3.5
    # L1 scores 3 (its current assessment): (1 + 0.5) / 3 = 50%
    assert rows(first, "statement", "score", "n", "peer_p25", "peer_median", "peer_p75") == [
        ("Learning culture", 3, 3, 2.5, 3.0, 3.5)
    ]
    assert first["percentile_rank"].to_list() == [50.0]
    assert result.columns[-7:] == [
        "score",
        "n",
        "peer_p25",
        "peer_median",
        "peer_p75",
        "percentile_rank",
        "low_n",
    ]


BESIDE = pl.DataFrame(
    {
        "location_id": ["L1", "L2", "L3", "L4"],
        "provider_id": ["P1", "P1", "P1", "P2"],
        "provider_name": ["Provider P1", "Provider P1", "Provider P1", "Provider P2"],
        "key_question": ["Safe"] * 4,
        "key_question_score": [75, 50, 100, 60],
        "n": [4, 4, 6, 3],
        "peer_p25": [68.75, 68.75, 50.0, 40.0],
        "peer_median": [87.5, 87.5, 75.0, 50.0],
        "peer_p75": [100.0, 100.0, 100.0, 60.0],
        "percentile_rank": [37.5, 12.5, 90.0, 100.0],
    }
)


def test_provider_summary_takes_the_medians_of_its_locations():
    summary = provider_summary(BESIDE, "key_question_score", ["key_question"])
    # P1: median of 75, 50, 100 = 75; of p25s 68.75, 68.75, 50 = 68.75; of medians 87.5,
    # 87.5, 75 = 87.5; of p75s 100; of ranks 37.5, 12.5, 90 = 37.5; of peers 4, 4, 6 = 4 < 5
    # P2: its one location as it is
    assert rows(summary) == [
        ("P1", "Provider P1", "Safe", 3, 75.0, 68.75, 87.5, 100.0, 37.5, 4.0, True),
        ("P2", "Provider P2", "Safe", 1, 60.0, 40.0, 50.0, 60.0, 100.0, 3.0, True),
    ]
    assert summary.columns[3:6] == ["locations", "key_question_score", "peer_p25"]
    relaxed = provider_summary(BESIDE, "key_question_score", ["key_question"], min_n=4)
    assert relaxed["low_n"].to_list() == [False, True]  # peers 4 is not below 4; 3 is


def test_provider_summary_of_peer_percentages():
    beside = peer_percentages(KQ, providers=["P1"])
    summary = provider_summary(beside, "key_question_score", ["key_question"])
    # L1 75 and L2 50 beside the same 4 peers (see the first test): median (75 + 50) / 2,
    # ranks (37.5 + 12.5) / 2 = 25
    assert rows(summary, "provider_id", "locations", "key_question_score", "peer_median",
                "percentile_rank", "peers") == [("P1", 2, 62.5, 87.5, 25.0, 4.0)]  # fmt: skip


D = dt.date
# Safe, four statements each. P1 (chosen) runs A, a London care home.
#   A P1 Care home London      2025-01-10  4 x 3            = 75%
#   B P2 Care home London      2025-01-20  4 x 2            = 50%;  2025-04-15  4 x 4 = 100%
#   C P3 Care home North East  2025-02-01  3 + 3 + 3 + 2    = 11/16 = 68.75 -> 69%
#   D P4 Home care London      2025-02-10  4 + 4 + 4 + 3    = 15/16 = 93.75 -> 94%
OVER_TIME = build(
    kq("A", "2025-01-10", "Safe", [3] * 4, provider="P1"),
    kq("B", "2025-01-20", "Safe", [2] * 4, provider="P2"),
    kq("B", "2025-04-15", "Safe", [4] * 4, provider="P2"),
    kq("C", "2025-02-01", "Safe", [3, 3, 3, 2], provider="P3", region="North East"),
    kq("D", "2025-02-10", "Safe", [4, 4, 4, 3], provider="P4", service_type="Home care"),
).key_questions


def test_peer_trend_of_the_same_service_type():
    trend = peer_trend(OVER_TIME, providers=["P1"], min_n=2)
    # other providers' care homes: Q1 50 and 69 -> p25 50 + 0.25 x 19 = 54.75, median 59.5,
    # p75 50 + 0.75 x 19 = 64.25; Q2 B's 100 alone
    assert rows(trend) == [
        (D(2025, 1, 1), 2, 54.75, 59.5, 64.25, False),
        (D(2025, 4, 1), 1, 100.0, 100.0, 100.0, True),
    ]


def test_peer_trend_across_england_and_by_region():
    everyone = peer_trend(OVER_TIME, providers=["P1"], peers_by=())
    # Q1: 50, 69, 94 -> p25 at position 0.5: 59.5; median 69; p75 at 1.5: 69 + 0.5 x 25 = 81.5
    assert rows(everyone)[0] == (D(2025, 1, 1), 3, 59.5, 69.0, 81.5, True)
    london_care_homes = peer_trend(OVER_TIME, providers=["P1"], peers_by=PEERS_BOTH)
    assert rows(london_care_homes, "period_start", "n", "peer_median") == [
        (D(2025, 1, 1), 1, 50.0),  # B only
        (D(2025, 4, 1), 1, 100.0),
    ]


def test_peer_trend_filters_narrow_the_pool():
    london = Filters(regions=("London",), providers=("P9",))  # providers: ignored here
    trend = peer_trend(OVER_TIME, providers=["P1"], peers_by=(), filters=london)
    # B 50 and D 94 in Q1: p25 50 + 0.25 x 44 = 61, median 72, p75 83
    assert rows(trend, "n", "peer_p25", "peer_median", "peer_p75")[0] == (2, 61.0, 72.0, 83.0)
    with pytest.raises(ValueError, match="peers_by"):
        peer_trend(OVER_TIME, providers=["P1"], peers_by=("postcode",))
