"""One provider's locations on the national distribution of each key question.

Current percentages (statements scored alike; 2025-01-01 unless said):
    location provider  region      Safe (8 statements)       Caring (5 statements)
    L1       P1        London      75 (2024's 100 superseded) 100
    L2       P1        London      50
    L3       P2        London      50                         75
    L4       P2        London      75
    L5       P3        London      100
    L6       P4        London      25 (Homecare)
    L7       P5        North East  100
National Safe, sorted: 25 50 50 75 75 100 100 (n = 7). Linear quartiles at positions
(n - 1) x q = 1.5, 3, 4.5: 50, 75, 87.5.
percentile_rank = 100 x (below + equal / 2) / n, the location itself among the equal.
"""

from __future__ import annotations

import polars as pl
import pytest

from queries.distributions import percentage_bins
from queries.filters import Filters
from queries.national import national_results, provider_on_national
from tests.queries.builders import build, kq, rows

FRAMES = build(
    kq("L1", "2024-01-01", "Safe", [4] * 8, provider="P1"),
    kq("L1", "2025-01-01", "Safe", [3] * 8, provider="P1"),
    kq("L1", "2025-01-01", "Caring", [4] * 5, provider="P1"),
    kq("L2", "2025-01-01", "Safe", [2] * 8, provider="P1"),
    kq("L3", "2025-01-01", "Safe", [2] * 8, provider="P2"),
    kq("L3", "2025-01-01", "Caring", [3] * 5, provider="P2"),
    kq("L4", "2025-01-01", "Safe", [3] * 8, provider="P2"),
    kq("L5", "2025-01-01", "Safe", [4] * 8, provider="P3"),
    kq("L6", "2025-01-01", "Safe", [1] * 8, provider="P4", service_type="Homecare"),
    kq("L7", "2025-01-01", "Safe", [4] * 8, provider="P5", region="North East"),
)
KQ = FRAMES.key_questions
PLACED = (
    "key_question",
    "location_id",
    "key_question_score",
    "n",
    "national_p25",
    "national_median",
    "national_p75",
    "below",
    "equal",
)


def test_a_providers_locations_on_the_national_distribution():
    result = provider_on_national(KQ, provider="P1")
    assert rows(result, *PLACED) == [
        # Safe: L2 at 50 has 25 below it and 50, 50 (itself) equal; L1 at 75 has three below
        ("Safe", "L2", 50, 7, 50.0, 75.0, 87.5, 1, 2),
        ("Safe", "L1", 75, 7, 50.0, 75.0, 87.5, 3, 2),
        # Caring: 75 and 100 (n = 2): quartiles at positions 0.25, 0.5, 0.75
        ("Caring", "L1", 100, 2, 81.25, 87.5, 93.75, 1, 1),
    ]
    # (1 + 2/2) / 7 = 28.57%, (3 + 2/2) / 7 = 57.14%, (1 + 1/2) / 2 = 75%
    assert result["percentile_rank"].to_list() == pytest.approx([200 / 7, 400 / 7, 75.0])
    assert result["low_n"].to_list() == [False, False, True]  # Caring rests on 2 locations
    assert rows(result, "key_question_rating")[0] == ("Requires improvement",)


def test_the_sidebar_narrows_the_nation_but_not_to_the_chosen_provider():
    # Sidebar: London only, provider P2 chosen. The nation is London's, every provider's.
    sidebar = Filters(regions=("London",), providers=("P2",))
    result = provider_on_national(KQ, provider="P1", filters=sidebar)
    safe = result.filter(result["key_question"] == "Safe")
    # London Safe: 25 50 50 75 75 100 (n = 6): quartile positions 1.25, 2.5, 3.75
    assert rows(safe, *PLACED) == [
        ("Safe", "L2", 50, 6, 50.0, 62.5, 75.0, 1, 2),
        ("Safe", "L1", 75, 6, 50.0, 62.5, 75.0, 3, 2),
    ]
    assert safe["percentile_rank"].to_list() == pytest.approx([200 / 6, 400 / 6])
    # A provider with no current percentage has nothing to place.
    assert provider_on_national(KQ, provider="P9").is_empty()


def test_the_nation_is_what_the_national_histogram_counts():
    # The histogram of the same rows (percentage_bins over the nation) has the same n.
    result = provider_on_national(KQ, provider="P1")
    bins = percentage_bins(KQ, filters=Filters(providers=()), latest=True)
    totals = dict(rows(bins.group_by("key_question").agg(n=pl.col("count").sum())))
    assert {kq: n for kq, n in rows(result, "key_question", "n")} == totals
    assert national_results(KQ, Filters(providers=("P1",))).collect().height == 7 + 2
