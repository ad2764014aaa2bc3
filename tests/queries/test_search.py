"""What a search means (queries.search): words, inflections, the query language, snippets, and
the counts with their base, on hand-written text and frames."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from queries.filters import Filters
from queries.search import (
    MAX_QUERY_CHARS,
    Clause,
    QueryError,
    Term,
    match_counts,
    match_rows,
    matches,
    matches_by_quarter,
    normalise,
    parse_query,
    snippet,
    word_forms,
    words,
)
from tests.queries.builders import build, kq, rows


def test_text_is_read_as_lower_case_words_without_accents():
    assert normalise("Café NAÏVE Ångström") == "cafe naive angstrom"
    # Punctuation, typographic quotes and dashes separate words; digits are words.
    text = "Well-led: the provider’s “agency” staff… 24/7 — see §3 (e.g. £50)."
    assert words(text) == [
        "well", "led", "the", "provider", "s", "agency", "staff", "24", "7", "see", "3", "e",
        "g", "50",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("word", "forms"),
    [
        ("staff", ("staff", "staffed", "staffing", "staffs")),
        # As typed: the -ing form finds itself (and its plural), not the base word.
        ("staffing", ("staffing", "staffinged", "staffinging", "staffings")),
        # A plural is taken back to its singular first, so both find the same words.
        ("medicines", ("medicine", "medicined", "medicines", "medicining")),
        ("medicine", ("medicine", "medicined", "medicines", "medicining")),
        ("agencies", ("agencied", "agencies", "agency", "agencying")),
        ("manage", ("manage", "managed", "manages", "managing")),
        ("agree", ("agree", "agreed", "agreeing", "agrees", "agreing")),
        ("stop", ("stop", "stoped", "stoping", "stopped", "stopping", "stops")),
        ("processes", ("process", "processed", "processes", "processing")),
        ("gp", ("gp",)),  # too short to inflect
        ("covid19", ("covid19",)),  # not all letters
    ],
)
def test_a_word_finds_its_plural_and_ed_and_ing_forms(word, forms):
    assert word_forms(word) == forms


def test_the_query_language_words_phrases_or_and_exclusions():
    query = parse_query('Agency OR bank “Waiting Times” -COVID -"no concerns"')
    assert query.clauses == (
        Clause((Term(("agency",)), Term(("bank",)))),
        Clause((Term(("waiting", "times")),)),
        Clause((Term(("covid",)),), excluded=True),
        Clause((Term(("no", "concerns")),), excluded=True),
    )
    assert query.text == 'agency OR bank "waiting times" -covid -"no concerns"'
    # A hyphenated word is the phrase of its parts, as the text reads it.
    assert parse_query("well-led").clauses == (Clause((Term(("well", "led")),)),)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('"agency staff', "quotation mark is not closed"),
        ("-agency -bank", "exclusions alone"),
        ("x" * 10_000, f"10,000 characters long: keep it to {MAX_QUERY_CHARS}"),
        ("OR staff", "OR needs a word or phrase on each side"),
        ("staff OR", "OR needs a word or phrase on each side"),
        ("staff OR OR agency", "OR needs a word or phrase on each side"),
        ("staff OR -agency", "OR cannot join an exclusion"),
        ("-agency OR bank", "OR cannot join an exclusion"),
        ("the", "“the” is too common or too short"),
        ('"to the"', '"to the" is too common or too short'),
        (".*", "Type a word or a phrase"),
        ("   ", "Type a word or a phrase"),
        ("%_%", "Type a word or a phrase"),
    ],
)
def test_a_bad_query_is_one_clear_sentence(text, says):
    with pytest.raises(QueryError, match=None) as raised:
        parse_query(text)
    assert says in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("(staff|agency)+", ("staff", "agency")),
        ("staff'; DROP TABLE statement_scores; --", None),
        ("[a-z]* \\d{3}$", "too common or too short"),
        ("^$", "Type a word or a phrase"),
        ("%staff%", ("staff",)),
    ],
)
def test_regex_and_sql_characters_are_only_text(text, phrase):
    if isinstance(phrase, str):  # nothing searchable is left: a clear message, no error
        with pytest.raises(QueryError, match=phrase):
            parse_query(text)
        return
    query = parse_query(text)
    if phrase is not None:
        assert query.clauses == (Clause((Term(phrase),)),)
    assert matches("Agency staff; drop the table statement scores", query) in (True, False)


EVIDENCE = "Agency staff did not always receive an induction; STAFFING levels were low. Café café."


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("agency", True),
        ("AGENCIES", True),  # plural, upper case
        ("staff", True),  # staff, and STAFFING
        ("staffing", True),
        ("staffed", False),  # endings go on the word as typed: staffed finds staffed(s) only
        ("staffing levels", True),
        ('"agency staff"', True),
        ('"staff agency"', False),  # the order matters in a phrase
        ('"agency induction"', False),  # adjacent words only
        ("induction -agency", False),
        ("induction -bank", True),
        ("bank OR induction", True),
        ("bank OR nurse", False),
        ("cafe", True),  # accents do not matter
        ("café", True),
        ("ind", False),  # whole words only
        ('"levels were low"', True),
        ('"staffing levels" -"were high"', True),
    ],
)
def test_matches_follows_the_module_rules(query, expected):
    assert matches(EVIDENCE, parse_query(query)) is expected


def test_the_term_pattern_agrees_with_matches():
    import re

    for text in ("staffing levels were low", "overstaff levels", "staff, levels", "staff"):
        term = parse_query('"staff levels"').clauses[0].terms[0]
        assert bool(re.search(term.pattern(), normalise(text))) is matches(
            text, parse_query('"staff levels"')
        )


def test_a_snippet_marks_each_match_as_text_around_the_first():
    text = "The home was clean. " * 10 + "Agency staff did not always receive an induction."
    got = snippet(text, parse_query('agency "an induction"'), width=60)
    # The window starts a third of its width (20) before the first match (at 200), at the
    # next word; it ends 60 characters on, or at the end of a match it would cut.
    assert got == "… home was clean. «Agency» staff did not always receive «an induction» …"
    short = snippet("Café <b>agency</b> STAFF", parse_query("cafe staff"))
    assert short == "«Café» <b>agency</b> «STAFF»"  # the text as written, markup untouched


def _frames():
    # L1 (London): Safe scored 1, 3, 4 in January; L2 (North West): Safe 2, 2 in April;
    # L3 (London): Effective 3 in May. The statements are the first of each key question.
    return build(
        kq("L1", "2025-01-15", "Safe", [1, 3, 4]),
        kq("L2", "2025-04-10", "Safe", [2, 2], region="North West"),
        kq("L3", "2025-05-01", "Effective", [3]),
    ).scores


def _hits(scores: pl.LazyFrame) -> pl.Series:
    """Matches: L1's first and third Safe statements and L2's first."""
    frame = scores.collect()
    safe = frame["statement_id"].unique().sort().to_list()
    first, third = safe[0], safe[2]
    return frame.select(
        (pl.col("location_id") == "L1") & pl.col("statement_id").is_in([first, third])
        | (pl.col("location_id") == "L2") & (pl.col("statement_id") == first)
    ).to_series()


def test_match_counts_give_each_group_its_base():
    scores = _frames()
    hits = _hits(scores)
    [total] = match_counts(scores, hits=hits).to_dicts()
    # 3 of the 6 scored statements match, at 2 locations and 2 assessments.
    assert (total["matches"], total["statements"], total["share"]) == (3, 6, 0.5)
    assert (total["locations"], total["n"]) == (2, 2)
    # London: L1's 2 matches of its 3 statements and L3's 1 = 2 of 4; North West: 1 of 2.
    by_region = match_counts(scores, hits=hits, by="region")
    assert rows(by_region, "region", "matches", "statements", "share") == [
        ("London", 2, 4, 0.5),
        ("North West", 1, 2, 0.5),
    ]
    # By score: 1 of 1 scored 1 (L1), 1 of 2 scored 2 (L2), 1 of 1 scored 4; no 3 matches.
    by_score = match_counts(scores, hits=hits, by="score").sort("score")
    assert rows(by_score, "score", "matches", "statements") == [(1, 1, 1), (2, 1, 2), (4, 1, 1)]
    # Narrowed to scores 1-2 and to London: only L1's score of 1, of 1 statement.
    narrowed = match_counts(
        scores, hits=hits, filters=Filters(regions=("London",)), score_in=(1, 2)
    )
    assert rows(narrowed, "matches", "statements", "share") == [(1, 1, 1.0)]


def test_match_rows_are_the_matching_statements_the_filters_select_latest_first():
    scores = _frames()
    found = match_rows(scores, hits=_hits(scores))
    assert rows(found, "location_id", "score") == [("L2", 2), ("L1", 1), ("L1", 4)]
    within = match_rows(scores, hits=_hits(scores), filters=Filters(date_to=dt.date(2025, 3, 1)))
    assert rows(within, "location_id", "score") == [("L1", 1), ("L1", 4)]


def test_matches_by_quarter_against_every_scored_statement_of_the_quarter():
    scores = _frames()
    quarters = matches_by_quarter(scores, hits=_hits(scores))
    # 2025 Q1: 2 of L1's 3; Q2: 1 of 3 (L2's 2 and L3's 1).
    assert rows(quarters, "quarter", "matches", "statements", "n") == [
        ("2025 Q1", 2, 3, 1),
        ("2025 Q2", 1, 3, 1),
    ]
    assert quarters["share"].to_list() == pytest.approx([2 / 3, 1 / 3])
    assert quarters["quarter_start"].to_list() == [dt.date(2025, 1, 1), dt.date(2025, 4, 1)]
