"""Themes: the words and two-word phrases over-represented in evidence scored 1-2 against 3-4.

The statistic is the log-odds ratio with an informative Dirichlet prior (Monroe, Colaresi and
Quinn 2008, "Fightin' Words", section 3.5.3), the standard way to compare word use between
two corpora without letting rare words top the list. For a term w counted y_lw times in the
low-scored evidence (n_l terms in all) and y_hw times in the high-scored (n_h):

    a_w     = A0 * (y_lw + y_hw) / (n_l + n_h)        the prior: the pooled frequency, weight A0
    delta_w = log((y_lw + a_w) / (n_l + A0 - y_lw - a_w))
            - log((y_hw + a_w) / (n_h + A0 - y_hw - a_w))
    var_w   = 1 / (y_lw + a_w) + 1 / (y_hw + a_w)
    z_w     = delta_w / sqrt(var_w)

A term ranks by z: how many standard errors its log-odds of appearing in low-scored evidence
exceed those in high-scored evidence. A0 = PRIOR_WEIGHT. Terms are the words of
queries.search (lower case, no accents), none a stop word (THEME_STOP_WORDS) or a word of the
excluded names (the statement's own), and the two-word phrases of adjacent such words; a term
needs MIN_COUNT occurrences in all.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from queries.search import SEPARATORS, STOP_WORDS, words

PRIOR_WEIGHT = 1000.0
MIN_COUNT = 5
LOW_SCORES = (1, 2)
# Stop words for themes: the index's, and words that carry no theme of their own.
THEME_STOP_WORDS = STOP_WORDS | frozenset(
    """about above after again against all also am any because before below between both can
    could did do does doing down during each few further here how i if its itself just me
    more most my myself no nor not now off once only other ought ourselves out over own same
    should some such than too under until up very what when where while whom why yours""".split()
)
_SEPARATORS = list(dict.fromkeys(SEPARATORS))
_OUTPUT = (
    "term",
    "words",
    "low",
    "high",
    "low_per_1000",
    "high_per_1000",
    "prior",
    "log_odds",
    "z",
)


def term_counts(texts: pl.DataFrame, *, exclude: Iterable[str] = ()) -> pl.DataFrame:
    """Occurrences of each term in the low- and high-scored evidence of `texts`, by term.

    `texts` has `score` (1-4) and `text` (evidence lower-cased without accents:
    queries.search.normalise); `exclude` names whose words are not themes. Columns: term,
    words (1 or 2), low and high (occurrences in evidence scored 1-2 and 3-4).
    """
    banned = sorted(THEME_STOP_WORDS | {w for name in exclude for w in words(name)})
    word = pl.col("word")
    tokens = (
        texts.lazy()
        .select(
            low=pl.col("score").is_in(LOW_SCORES),
            word=pl.col("text")
            .str.replace_many(_SEPARATORS, [" "] * len(_SEPARATORS))
            .str.split(" "),
        )
        .with_row_index("doc")
        .explode("word")
        .filter(word != "")
        .with_columns(
            keep=(word.str.len_chars() > 1) & ~word.is_in(banned) & ~word.str.contains("^[0-9]+$")
        )
        .with_columns(  # the next word of the same statement
            after=word.shift(-1),
            pair=pl.col("keep")
            & pl.col("keep").shift(-1).fill_null(False)
            & (pl.col("doc").shift(-1) == pl.col("doc")).fill_null(False),
        )
    )
    unigrams = tokens.filter("keep").select("low", term=word, words=pl.lit(1, pl.UInt8))
    bigrams = tokens.filter("pair").select(
        "low", term=pl.format("{} {}", "word", "after"), words=pl.lit(2, pl.UInt8)
    )
    return (
        pl.concat([unigrams, bigrams])
        .group_by("term", "words")
        .agg(
            low=pl.col("low").sum().cast(pl.UInt32),
            high=(~pl.col("low")).sum().cast(pl.UInt32),
        )
        .sort("term")
        .collect()
    )


def log_odds(counts: pl.DataFrame, *, prior_weight: float = PRIOR_WEIGHT) -> pl.DataFrame:
    """`counts` (term_counts' columns) with the statistic of the module docstring, highest z first.

    Adds: prior (a_w), log_odds (delta_w), z. Totals n_l and n_h are the sums of `low` and
    `high` over the rows given.
    """
    n_low, n_high = counts["low"].sum(), counts["high"].sum()
    total = n_low + n_high
    if not total:
        return counts.with_columns(prior=pl.lit(0.0), log_odds=pl.lit(0.0), z=pl.lit(0.0))
    low, high = pl.col("low").cast(pl.Float64), pl.col("high").cast(pl.Float64)
    prior = prior_weight * (low + high) / total
    delta = ((low + prior) / (n_low + prior_weight - low - prior)).log() - (
        (high + prior) / (n_high + prior_weight - high - prior)
    ).log()
    variance = 1 / (low + prior) + 1 / (high + prior)
    return (
        counts.with_columns(prior=prior, log_odds=delta)
        .with_columns(z=pl.col("log_odds") / variance.sqrt())
        .sort(["z", "term"], descending=[True, False])
    )


def themes(
    texts: pl.DataFrame,
    *,
    exclude: Iterable[str] = (),
    top: int = 20,
    min_count: int = MIN_COUNT,
    prior_weight: float = PRIOR_WEIGHT,
) -> pl.DataFrame:
    """The `top` terms most over-represented in low-scored evidence (z > 0), highest z first.

    Columns: term, words, low, high, low_per_1000 and high_per_1000 (occurrences per 1,000
    terms of each side), prior, log_odds, z.
    """
    counts = term_counts(texts, exclude=exclude)
    scored = log_odds(counts, prior_weight=prior_weight)
    n_low, n_high = max(counts["low"].sum(), 1), max(counts["high"].sum(), 1)
    return (
        scored.filter(pl.col("low") + pl.col("high") >= min_count, pl.col("z") > 0)
        .head(top)
        .with_columns(
            low_per_1000=pl.col("low") * 1000 / n_low, high_per_1000=pl.col("high") * 1000 / n_high
        )
        .select(*_OUTPUT)
    )
