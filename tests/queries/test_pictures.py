"""The rated picture and the scored picture (current.py): ratings-only rows dated later than scores.

A rating file (or the API's legacy ratings) dates a ratings-only assessment by its publication
date, so it can be a location's latest row of a key question while an earlier row holds the
score. Rating shares take the latest row of every source; score views the latest scored row.

Frames (Safe only; percentage = 100 x points / (4 x statements), half-up):
    R1 (P1)  2024-06-01  8 x 3         = 24/32 = 75%     Good                 report text
             2025-05-20  rated Requires improvement, no score                  rating file
    R2 (P2)  2025-01-10  8 x 2         = 16/32 = 50%     Requires improvement report text
    R3 (P3)  2019-03-14  rated Outstanding, no score                           rating file
    R4 (P4)  2023-01-01  rated Good, no score                                  API legacy
             2025-02-01  4 x 4 + 4 x 3 = 28/32 = 87.5%   Outstanding, shown 88 report text
Rated picture:  R1 Requires improvement (rating file), R2 Requires improvement,
                R3 Outstanding, R4 Outstanding                          4 locations
Scored picture: R1 75 (2024 report), R2 50, R4 88                      3 locations
"""

from __future__ import annotations

import datetime as dt

import pytest

from queries.bands import distance_to_next_band
from queries.changes import statement_changes
from queries.current import (
    latest_key_questions,
    locations_behind,
    percentage_summary,
    rating_shares,
)
from queries.distributions import percentage_bins, score_distribution
from queries.filters import Filters
from queries.peers import peer_percentages
from queries.rollup import provider_rollup
from tests.queries.builders import build, kq, rows

D = dt.date
FRAMES = build(
    kq("R1", "2024-06-01", "Safe", [3] * 8),
    kq("R1", "2025-05-20", "Safe", rating="Requires improvement", source="rating-file"),
    kq("R2", "2025-01-10", "Safe", [2] * 8, provider="P2"),
    kq("R3", "2019-03-14", "Safe", rating="Outstanding", provider="P3", source="rating-file"),
    kq("R4", "2023-01-01", "Safe", rating="Good", provider="P4", source="api-json"),
    kq("R4", "2025-02-01", "Safe", [4] * 4 + [3] * 4, provider="P4"),
)
KQ, SCORES = FRAMES.key_questions, FRAMES.scores
PICK = ("location_id", "assessment_date", "key_question_rating", "key_question_score")


def test_rating_shares_take_the_ratings_only_row():
    # R1 counts as Requires improvement (its rating file row), not Good (its 2024 report):
    # Requires improvement R1 + R2 = 2 of 4, Outstanding R3 + R4 = 2 of 4, no Good at all
    assert rows(rating_shares(KQ)) == [
        ("Safe", "Requires improvement", 2, 4, 0.5, True),
        ("Safe", "Outstanding", 2, 4, 0.5, True),
    ]


def test_latest_key_questions_in_each_picture():
    assert rows(latest_key_questions(KQ), *PICK) == [
        ("R1", D(2025, 5, 20), "Requires improvement", None),
        ("R2", D(2025, 1, 10), "Requires improvement", 50),
        ("R3", D(2019, 3, 14), "Outstanding", None),
        ("R4", D(2025, 2, 1), "Outstanding", 88),
    ]
    # scored: R1's 2024 report; R3 has no score at all
    assert rows(latest_key_questions(KQ, scored=True), *PICK) == [
        ("R1", D(2024, 6, 1), "Good", 75),
        ("R2", D(2025, 1, 10), "Requires improvement", 50),
        ("R4", D(2025, 2, 1), "Outstanding", 88),
    ]


def test_percentage_summary_uses_the_scored_row():
    # 50, 75 (R1's report), 88: mean 213 / 3 = 71; linear p25 at position 0.5 -> 50 + 0.5 x 25
    # = 62.5, p75 at 1.5 -> 75 + 0.5 x 13 = 81.5. Over every row's latest, R1 would be missing.
    assert rows(percentage_summary(KQ)) == [("Safe", 3, 71.0, 50, 62.5, 75.0, 81.5, 88, True)]


def test_percentage_bins_use_the_scored_row():
    bins = percentage_bins(KQ, latest=True)
    # 50 in 50-54 (Requires improvement), 75 in 75-79 (Good), 88 in 85-89 (holds the edge 87)
    assert rows(bins, "bin_start", "bin_end", "edge", "band", "count", "n") == [
        (50, 54, None, "Requires improvement", 1, 3),
        (75, 79, None, "Good", 1, 3),
        (85, 89, 87, None, 1, 3),
    ]


def test_peers_use_the_scored_row():
    result = peer_percentages(KQ, locations=["R1"], peers_by=())
    # R1 at 75 beside R2 (50) and R4 (88); R3 has no score. Linear quartiles of 50, 88:
    # p25 = 50 + 0.25 x 38 = 59.5, median 69, p75 = 50 + 0.75 x 38 = 78.5; one peer below of 2
    assert rows(
        result, "location_id", "key_question_score", "n", "peer_p25", "peer_median", "peer_p75",
        "percentile_rank",
    ) == [("R1", 75, 2, 59.5, 69.0, 78.5, 50.0)]  # fmt: skip


def test_bands_use_the_scored_row():
    r1 = distance_to_next_band(KQ).filter(location_id="R1")
    # 24 of 32 points = 75% Good; Outstanding needs 28/32 = 87.5% (+4); Good holds down to
    # 20/32 = 62.5% (4 to spare)
    assert rows(
        r1, "assessment_id", "points", "exact_percentage", "band", "next_band",
        "points_to_next_band", "points_to_spare",
    ) == [("R1@2024-06-01", 24, 75.0, "Good", "Outstanding", 4, 4)]  # fmt: skip


def test_provider_rollup_uses_the_scored_row():
    assert rows(provider_rollup(KQ), "provider_id", "n", "median") == [
        ("P1", 1, 75.0),
        ("P2", 1, 50.0),
        ("P4", 1, 88.0),
    ]


def test_statement_scores_of_the_current_picture():
    spread = score_distribution(SCORES, per="key_question", latest=True)
    # R1 8 x 3, R2 8 x 2, R4 4 x 4 + 4 x 3: 8 twos, 12 threes, 4 fours of 24, 3 assessments
    assert rows(spread, "score", "count", "rows", "n") == [
        (2, 8, 24, 3),
        (3, 12, 24, 3),
        (4, 4, 24, 3),
    ]


def test_locations_behind_each_picture():
    assert rows(locations_behind(KQ, latest=True)) == [(4, 3)]  # rated R1-R4; scored R1 R2 R4
    assert rows(locations_behind(SCORES, latest=True)) == [(3, 3)]
    # every assessment from 2025: R1's rating file, R2, R4's report; scored R2 and R4
    assert rows(locations_behind(KQ, filters=Filters(date_from=D(2025, 1, 1)))) == [(3, 2)]


def test_each_picture_as_it_stood():
    before = Filters(date_to=D(2025, 1, 31))
    # Rated at 31 Jan 2025: R1 Good (2024 report; the file came later), R2 Requires improvement,
    # R3 Outstanding, R4 Good (2023, its report came in February)
    assert rows(rating_shares(KQ, filters=before), "key_question_rating", "count", "n") == [
        ("Requires improvement", 1, 4),
        ("Good", 2, 4),
        ("Outstanding", 1, 4),
    ]
    # Scored at 31 Jan 2025: R1 75 and R2 50 -> mean 62.5
    assert rows(percentage_summary(KQ, filters=before), "n", "mean") == [(2, 62.5)]


def test_a_rating_filter_picks_within_each_picture():
    good = Filters(ratings=("Good",))
    # R1's latest scored assessment was rated Good, so its 75 counts as "rated Good" among
    # scores, while no location's latest rating is Good
    assert rows(percentage_summary(KQ, filters=good), "n", "mean") == [(1, 75.0)]
    assert rating_shares(KQ, filters=good).is_empty()


def test_a_stated_percentage_without_statements_counts_as_scored():
    frames = build(
        kq("S1", "2024-03-01", "Safe", [3] * 8),  # 24/32 = 75%
        kq("S1", "2025-03-01", "Safe", stated=80, rating="Good", source="api-json"),
    )
    # percentages take the API's stated 80; it has no statements, so the statement views
    # keep the 2024 report's eight 3s, and there are no points to band
    assert rows(percentage_summary(frames.key_questions), "n", "mean") == [(1, 80.0)]
    spread = score_distribution(frames.scores, per="key_question", latest=True)
    assert rows(spread, "score", "count", "n") == [(3, 8, 1)]
    assert distance_to_next_band(frames.key_questions).is_empty()


def test_statement_changes_skip_a_ratings_only_row_between_reports():
    frames = build(
        kq("C1", "2024-06-01", "Safe", [3] * 8),
        kq("C1", "2024-09-01", "Safe", rating="Good", source="rating-file"),
        kq("C1", "2025-06-01", "Safe", [4] * 8),
    )
    changes = statement_changes(frames.scores)
    # each of the 8 statements: 3 in the June 2024 report -> 4 in June 2025, +1
    assert (
        rows(changes, "from_date", "from_score", "to_date", "to_score", "change")
        == [(D(2024, 6, 1), 3, D(2025, 6, 1), 4, 1)] * 8
    )


@pytest.mark.parametrize("scored", [False, True])
def test_pictures_agree_without_ratings_only_rows(scored):
    frames = build(kq("A", "2024-01-01", "Safe", [2] * 8), kq("A", "2025-01-01", "Safe", [3] * 8))
    latest = latest_key_questions(frames.key_questions, scored=scored)
    assert rows(latest, "assessment_date", "key_question_score") == [(D(2025, 1, 1), 75)]
