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
    peer_statement_means,
    peer_statement_scores,
    peer_trend,
    provider_sizes,
    provider_summary,
    size_band,
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


# Size bands: a provider's registered locations in the data. In FRAMES P1 and P2 run two
# locations each (2-5), P3, P4 and P5 one each.
def test_size_bands_of_a_number_of_locations():
    counts = pl.DataFrame({"locations": [0, 1, 2, 5, 6, 20, 21, 400]})
    bands = counts.select(size_band(pl.col("locations")))["size_band"].cast(pl.String)
    assert bands.to_list() == [
        "1 location", "1 location", "2-5 locations", "2-5 locations",
        "6-20 locations", "6-20 locations", "21+ locations", "21+ locations",
    ]  # fmt: skip


def test_provider_sizes_count_registered_locations():
    frames = build(
        kq("A", "2025-01-01", "Safe", [3], provider="P1"),
        kq("A", "2025-06-01", "Safe", [3], provider="P1"),  # one location, two assessments
        kq("B", "2025-01-01", "Safe", [3], provider="P1"),
        kq("C", "2025-01-01", "Safe", [3], provider="P1", registration="Deregistered"),
        kq("D", "2025-01-01", "Safe", [3], provider="P2", registration="Deregistered"),
        kq("E", "2025-01-01", "Safe", [3], provider=None),
    )
    # P1: A and B (C is deregistered) = 2; P2: none registered = 0, in the first band; no
    # row for the location without a provider
    assert rows(provider_sizes(frames.key_questions)) == [
        ("P1", 2, "2-5 locations"),
        ("P2", 0, "1 location"),
    ]


def test_peers_of_the_same_size_band():
    result = peer_percentages(KQ, providers=["P1"], peers_by=("size_band",))
    # P1 (2 locations) beside the other 2-5 provider, P2: L3 50, L4 75 -> quartiles at
    # positions 0.25, 0.5, 0.75 of 50..75: 56.25, 62.5, 68.75
    # L1 75: (1 below + 0.5) / 2 = 75; L2 50: 0.5 / 2 = 25
    assert rows(result, *COMPARED, "size_band", "percentile_rank") == [
        ("L1", 75, 2, 56.25, 62.5, 68.75, "2-5 locations", 75.0),
        ("L2", 50, 2, 56.25, 62.5, 68.75, "2-5 locations", 25.0),
    ]
    # L5's provider P3 runs one location: its peers are L6 (25) and L7 (100) of P4 and P5
    alone = peer_percentages(KQ, locations=["L5"], peers_by=("size_band",))
    assert rows(alone, "n", "peer_median") == [(2, 62.5)]


def with_authority(row: dict, authority: str | None) -> dict:
    return {**row, "local_authority": authority}


# Safe percentages of care homes: A P1 Oldham 75, B P2 Oldham 50, C P3 Bury 100, D P4 (no
# local authority stated) 25.
BY_AUTHORITY = build(
    with_authority(kq("A", "2025-01-01", "Safe", [3] * 8, provider="P1"), "Oldham"),
    with_authority(kq("B", "2025-01-01", "Safe", [2] * 8, provider="P2"), "Oldham"),
    with_authority(kq("C", "2025-01-01", "Safe", [4] * 8, provider="P3"), "Bury"),
    with_authority(kq("D", "2025-01-01", "Safe", [1] * 8, provider="P4"), None),
).key_questions


def test_peers_in_the_same_local_authority():
    result = peer_percentages(BY_AUTHORITY, locations=["A", "D"], peers_by=("local_authority",))
    # A's peer in Oldham: B 50, below A's 75 -> 1 / 1 = 100%. D states no local authority: none
    assert rows(
        result, "location_id", "local_authority", "n", "peer_median", "percentile_rank"
    ) == [
        ("A", "Oldham", 1, 50.0, 100.0),
        ("D", None, 0, None, None),
    ]


def test_a_custom_peer_list():
    result = peer_percentages(KQ, providers=["P1"], peer_providers=["P3", "P5"])
    # care homes of P3 and P5 only: L5 100, L7 100 -> L1 75 and L2 50 below both: rank 0
    assert rows(result, "location_id", "n", "peer_median", "percentile_rank") == [
        ("L1", 2, 100.0, 0.0),
        ("L2", 2, 100.0, 0.0),
    ]
    # a chosen provider in its own peer list is still not its own peer: P2's L3 50, L4 75
    own = peer_percentages(KQ, providers=["P1"], peer_providers=["P1", "P2"], peers_by=())
    assert rows(own, "location_id", "n", "peer_median") == [("L1", 2, 62.5), ("L2", 2, 62.5)]


def test_peer_trend_of_a_custom_list_and_of_a_size_band():
    trend = peer_trend(OVER_TIME, providers=["P1"], peers_by=(), peer_providers=["P2"])
    # B alone: 50 in Q1, 100 in Q2
    assert rows(trend, "period_start", "n", "peer_median") == [
        (D(2025, 1, 1), 1, 50.0),
        (D(2025, 4, 1), 1, 100.0),
    ]
    # every provider there runs one location: the size band's peers are everyone's, as with
    # no key (Q1: 50, 69, 94)
    sized = peer_trend(OVER_TIME, providers=["P1"], peers_by=("size_band",))
    assert rows(sized, "n", "peer_median")[0] == (3, 69.0)


# One Safe statement (1, Learning culture) per location, current scores:
#   M1 P1 London 3, M2 P1 London 2, M3 P1 North East 4
#   N1 P2 London 2, N2 P3 London 4, N3 P4 North East 1, N4 P5 North East 3
MEANS = build(
    kq("M1", "2025-01-01", "Safe", [3], provider="P1"),
    kq("M2", "2025-01-01", "Safe", [2], provider="P1"),
    kq("M3", "2025-01-01", "Safe", [4], provider="P1", region="North East"),
    kq("N1", "2025-01-01", "Safe", [2], provider="P2"),
    kq("N2", "2025-01-01", "Safe", [4], provider="P3"),
    kq("N3", "2025-01-01", "Safe", [1], provider="P4", region="North East"),
    kq("N4", "2025-01-01", "Safe", [3], provider="P5", region="North East"),
).scores
MEANS_COLUMNS = ("provider_id", "statement", "locations", "score", "peers", "peer_mean",
                 "difference", "low_n")  # fmt: skip


def test_statement_means_beside_the_peers_of_any_location_counted_once():
    result = peer_statement_means(MEANS, providers=["P1"], peers_by=("region",))
    # P1: (3 + 2 + 4) / 3 = 3.0 over 3 locations. Its London locations' peers N1 2, N2 4 and
    # its North East location's N3 1, N4 3: 4 peers, (2 + 4 + 1 + 3) / 4 = 2.5 (not 2.67, as
    # it would be were London's peers counted once per P1 location there); 4 < 5: low_n
    assert rows(result, *MEANS_COLUMNS) == [("P1", "Learning culture", 3, 3.0, 4, 2.5, 0.5, True)]
    england = peer_statement_means(MEANS, providers=["P1", "P2"], peers_by=(), min_n=4)
    # P2 (N1 2) beside the other six: (3 + 2 + 4 + 4 + 1 + 3) / 6 = 17 / 6
    # P1 beside N1-N4: (2 + 4 + 1 + 3) / 4 = 2.5
    assert rows(england, *MEANS_COLUMNS) == [
        ("P1", "Learning culture", 3, 3.0, 4, 2.5, 0.5, False),
        ("P2", "Learning culture", 1, 2.0, 6, pytest.approx(17 / 6), pytest.approx(-5 / 6), False),
    ]


def test_statement_means_of_a_custom_list_and_without_peers():
    listed = peer_statement_means(MEANS, providers=["P1"], peers_by=(), peer_providers=["P2", "P4"])
    # N1 2 and N3 1: mean 1.5
    assert rows(listed, "peers", "peer_mean", "difference") == [(2, 1.5, 1.5)]
    lonely = peer_statement_means(MEANS, providers=["P1"], peer_providers=["P9"])
    assert rows(lonely, "locations", "score", "peers", "peer_mean", "low_n") == [
        (3, 3.0, 0, None, True)
    ]


def test_statement_means_are_not_medians_of_whole_numbers():
    means = peer_statement_means(FRAMES.scores, providers=["P1"], peers_by=PEERS_BOTH)
    # statement 1: P1's L1 3 and L2 2 -> 2.5; London care homes of others L3 2, L4 3, L5 4
    # -> 3.0 (their median is 3 too; P1's median location would be 2.5 as well), 3 peers
    first = means.filter(pl.col("statement_id") == 1)
    assert rows(first, "locations", "score", "peers", "peer_mean") == [(2, 2.5, 3, 3.0)]
    assert means.height == 8  # one row per Safe statement
