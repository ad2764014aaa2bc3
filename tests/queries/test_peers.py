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

import polars as pl
import pytest

from queries.data import KEY_QUESTION
from queries.filters import Filters
from queries.peers import peer_percentages, peer_statement_scores
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
            "location_id": pl.String,
            "location_name": pl.Categorical(),
            "provider_id": pl.String,
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
