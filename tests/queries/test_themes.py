"""Themes (queries.themes): term counts on both sides and the log-odds ratio with an informative
Dirichlet prior (Monroe et al. 2008), computed by hand on a four-statement corpus."""

from __future__ import annotations

import math

import polars as pl
import pytest

from queries.themes import log_odds, term_counts, themes
from tests.queries.builders import rows

# Two statements scored 1-2 and two scored 3-4.
TEXTS = pl.DataFrame(
    {
        "score": [1, 2, 3, 4],
        "text": ["agency staff", "agency late", "kind staff", "kind staff"],
    }
)


def test_term_counts_count_words_and_adjacent_pairs_on_each_side():
    counts = term_counts(TEXTS)
    assert rows(counts, "term", "words", "low", "high") == [
        ("agency", 1, 2, 0),
        ("agency late", 2, 1, 0),
        ("agency staff", 2, 1, 0),
        ("kind", 1, 0, 2),
        ("kind staff", 2, 0, 2),
        ("late", 1, 1, 0),
        ("staff", 1, 1, 2),
    ]


def test_stop_words_numbers_and_the_statements_own_name_are_not_themes():
    texts = pl.DataFrame(
        {"score": [1, 3], "text": ["the staff were not supported for 12 months", "staff were kind"]}
    )
    counts = term_counts(texts, exclude=["Staff support", "Supported"])
    # "the", "were", "not", "for" are stop words; "12" a number; "staff" and "supported" are
    # words of the excluded names. A pair needs both its words.
    assert rows(counts, "term", "low", "high") == [("kind", 0, 1), ("months", 1, 0)]


def test_log_odds_with_an_informative_dirichlet_prior_by_hand():
    # n_low = 2 + 1 + 1 + 1 + 1 = 6 terms, n_high = 2 + 2 + 2 = 6. With a prior weight A0 of
    # 12 (the pooled total) each term's prior a_w is its pooled count.
    scored = log_odds(term_counts(TEXTS), prior_weight=12).sort("term")
    got = {r["term"]: r for r in scored.iter_rows(named=True)}
    # agency: y_l 2, y_h 0, a 2: delta = log(4 / (6 + 12 - 2 - 2)) - log(2 / (6 + 12 - 0 - 2))
    #   = log(4/14) - log(2/16); var = 1/4 + 1/2.
    agency = math.log(4 / 14) - math.log(2 / 16)
    assert got["agency"]["prior"] == pytest.approx(2)
    assert got["agency"]["log_odds"] == pytest.approx(agency)
    assert got["agency"]["z"] == pytest.approx(agency / math.sqrt(0.75))
    # staff: y_l 1, y_h 2, a 3: log(4/14) - log(5/13); var = 1/4 + 1/5 (used more above 2).
    staff = math.log(4 / 14) - math.log(5 / 13)
    assert got["staff"]["z"] == pytest.approx(staff / math.sqrt(0.45))
    assert got["staff"]["z"] < 0
    # late: y_l 1, y_h 0, a 1: log(2/16) - log(1/17); var = 1/2 + 1.
    late = math.log(2 / 16) - math.log(1 / 17)
    assert got["late"]["z"] == pytest.approx(late / math.sqrt(1.5))
    # kind is agency's mirror image.
    assert got["kind"]["z"] == pytest.approx(-got["agency"]["z"])


def test_themes_are_the_terms_over_represented_where_scores_are_low_highest_z_first():
    found = themes(TEXTS, prior_weight=12, min_count=1)
    # agency (z 0.955), then the three terms counted once on the low side only (z 0.615),
    # by term; staff and kind lean the other way and are not themes.
    assert found["term"].to_list() == ["agency", "agency late", "agency staff", "late"]
    assert found["z"].to_list() == pytest.approx([0.954568, 0.615453, 0.615453, 0.615453], 1e-5)
    # Rates per 1,000 terms of each side: agency is 2 of the low side's 6.
    assert found["low_per_1000"][0] == pytest.approx(2 * 1000 / 6)
    assert found["high_per_1000"][0] == 0
    # A term needs min_count occurrences in all: agency has 2.
    assert themes(TEXTS, prior_weight=12, min_count=2)["term"].to_list() == ["agency"]


def test_no_texts_no_themes():
    empty = pl.DataFrame(schema={"score": pl.Int32, "text": pl.String})
    assert themes(empty).is_empty()
