"""CQC's aggregation principles: key question ratings to an overall rating (reference)."""

from __future__ import annotations

from itertools import permutations, product

import pytest

from ingest import reference as ref

OUT, GOOD, RI, INAD = "Outstanding", "Good", "Requires improvement", "Inadequate"


@pytest.mark.parametrize(
    ("ratings", "overall"),
    [
        ([GOOD, GOOD, GOOD, GOOD, GOOD], GOOD),
        ([OUT, OUT, GOOD, GOOD, GOOD], OUT),  # two Outstanding, the rest Good
        ([OUT, OUT, OUT, OUT, OUT], OUT),
        ([OUT, GOOD, GOOD, GOOD, GOOD], GOOD),  # one Outstanding is not enough
        ([OUT, OUT, GOOD, GOOD, RI], GOOD),  # two Outstanding, but one below Good
        ([GOOD, GOOD, GOOD, GOOD, RI], GOOD),  # Good allows one Requires improvement
        ([GOOD, GOOD, GOOD, RI, RI], RI),  # two Requires improvement
        ([OUT, OUT, OUT, RI, RI], RI),
        # One Inadequate rules Good out; Inadequate needs two.
        ([GOOD, GOOD, GOOD, GOOD, INAD], RI),
        ([OUT, OUT, OUT, OUT, INAD], RI),
        ([GOOD, GOOD, GOOD, RI, INAD], RI),
        ([GOOD, GOOD, GOOD, INAD, INAD], INAD),  # two Inadequate
        ([OUT, OUT, OUT, INAD, INAD], INAD),
        ([RI, RI, RI, INAD, INAD], INAD),  # Inadequate's rule comes first
        ([RI, RI, RI, RI, RI], RI),
        ([INAD, INAD, INAD, INAD, INAD], INAD),
    ],
)
def test_principles_on_five_ratings(ratings, overall):
    assert ref.overall_rating_for(ratings) == overall
    assert {ref.overall_rating_for(list(p)) for p in permutations(ratings)} == {overall}


def test_fewer_ratings_and_gaps():
    assert ref.overall_rating_for([]) is None
    assert ref.overall_rating_for([None, None]) is None
    assert ref.overall_rating_for(["Regulations met"]) is None  # a judgement is not a rating
    assert ref.overall_rating_for([RI]) == GOOD  # one Requires improvement, as with four Good
    assert ref.overall_rating_for([INAD]) == RI
    assert ref.overall_rating_for([OUT, OUT]) == OUT
    assert ref.overall_rating_for([OUT, None, OUT, GOOD]) == OUT
    assert ref.overall_rating_for((RI, None, RI)) == RI


def test_a_better_key_question_rating_never_makes_the_overall_rating_worse():
    # All 4^5 = 1,024 combinations: raise each rating one step and compare.
    rank = {r: i for i, r in enumerate(ref.RATINGS)}
    checked = 0
    for ratings in product(ref.RATINGS, repeat=5):
        before = rank[ref.overall_rating_for(ratings)]
        for i, rating in enumerate(ratings):
            if rating != OUT:
                better = (*ratings[:i], ref.RATINGS[rank[rating] + 1], *ratings[i + 1 :])
                assert rank[ref.overall_rating_for(better)] >= before, (ratings, better)
                checked += 1
    assert checked == 5 * 3 * 4**4  # a position that is not Outstanding: 3 of 4 values


def test_overall_rating_lies_between_the_worst_rating_and_the_limits_of_the_low_ones():
    for ratings in product(ref.RATINGS, repeat=5):
        overall = ref.RATINGS.index(ref.overall_rating_for(ratings))
        worst, second = sorted(ref.RATINGS.index(r) for r in ratings)[:2]
        assert overall >= worst  # never below every key question
        if worst < 2:
            assert overall <= 2  # a key question below Good: at best Good
        if second < 2:
            assert overall <= second  # two below Good: at best the better of those two
