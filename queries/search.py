"""What a search of the evidence text means: the query language, words, inflections, snippets,
and the counts the Search page shows.

Text. A statement's evidence is read as its words: the text is lower-cased and stripped of
accents (`normalise`: "Café" reads "cafe"), and a word is a run of characters between
spaces and punctuation (SEPARATORS: whitespace, ASCII punctuation, typographic quotes,
dashes, bullets and the like; `words`), so "well-led" is the two words "well led" and
"provider's" is "provider s". The loader's index (ingest.search_index) reads evidence the
same way, normalising with DuckDB's strip_accents(lower(...)), which `normalise` equals.

The query language (`parse_query`):
    agency staff          both words, anywhere in the statement's evidence
    "agency staff"        the phrase: the words next to each other, in that order
    agency OR bank        either (OR in capitals; it joins the words or phrases beside it)
    staff -agency         staff, but not where the evidence mentions agency
A query is case- and accent-insensitive. Quotation marks must pair up; a query needs one word
or phrase to look for besides its exclusions, and at most MAX_QUERY_CHARS characters and
MAX_TERMS words or phrases. The commonest words (STOP_WORDS: "the", "and", "of", ...) are
not indexed: they count inside a phrase ("listened to") but cannot be searched alone.
Anything else, regular-expression or SQL characters included, is only text to look for.

Inflections (`word_forms`): a word finds its plural and its -ed and -ing forms, whichever
of them the query names: "staff" finds staff, staffs, staffed, staffing; "medicine" and
"medicines" find each other and "medicined"; "agency" finds agencies; "manage" finds
managed and managing; "stop" finds stopped. The endings are added to the word as typed
(after taking off a plural -s): "staffing" finds staffing and staffings, not staff. That
keeps every match explainable, and ambiguous stems ("caring" from care or car) never join
words that are not the same word.

Counting (`match_counts`, `matches_by_quarter`): every count of matching statements comes
with the number of scored statements in the same group under the same filters, so a count is
never read without its base.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from queries.current import selected
from queries.filters import ALL, MIN_N, Filters
from queries.groups import By, keys, low_n

# Characters that separate words (after `normalise`): whitespace, ASCII punctuation, Latin-1
# signs and the General Punctuation block (typographic quotes, dashes, ellipsis, bullets).
SEPARATORS = (
    " \t\n\r\f\v\u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff"
    + "".join(chr(c) for c in range(0x2000, 0x200C))
    + string.punctuation
    + "".join(chr(c) for c in range(0x00A1, 0x00C0))
    + "\u00d7\u00f7"
    + "".join(chr(c) for c in range(0x2010, 0x2028))
    + "".join(chr(c) for c in range(0x2030, 0x205F))
    + "\u20ac"
)
_SEP = "[" + "".join("\\" + c if c in "\\]^-[" else c for c in SEPARATORS) + "]"
_SPLIT = re.compile(_SEP + "+")
_WORD_CHAR = "[^" + _SEP[1:]
MAX_QUERY_CHARS = 500
MAX_TERMS = 12
MAX_PHRASE_WORDS = 10
# Words shorter than this are not indexed (single letters: "s" of "provider's", "a").
MIN_WORD_LENGTH = 2
# Function words too common to index or to search alone, shared with the index's loader.
STOP_WORDS = frozenset(
    """a an and are as at be been being but by for from had has have he her his in into is it
    its of on or our she so that the their them then there these they this those to was we
    were which who will with would you your""".split()
)
# The columns that name one statement row, here and in the index's documents.
MATCH_KEYS = ("assessment_id", "key_question", "statement")
MARK_OPEN, MARK_CLOSE = "«", "»"
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‟": '"', "″": '"'})
_ITEMS = re.compile(r'(-?)"([^"]*)"|([^\s"]+)')
_VOWELS = set("aeiou")


class QueryError(ValueError):
    """A query that cannot be searched; str() is one sentence saying what to change."""


@dataclass(frozen=True)
class Term:
    """One word, or a phrase of words that must stand next to each other (normalised)."""

    words: tuple[str, ...]

    @property
    def text(self) -> str:
        """The term as a query would write it: `staff` or `"agency staff"`."""
        joined = " ".join(self.words)
        return f'"{joined}"' if len(self.words) > 1 else joined

    @property
    def indexed_words(self) -> tuple[str, ...]:
        """Its words the index holds (not stop words, not single letters), each once."""
        return tuple(dict.fromkeys(w for w in self.words if is_indexed(w)))

    def pattern(self) -> str:
        """A regular expression (RE2 and Python alike) finding the term in normalised text."""
        body = f"{_SEP}+".join(_alternatives(w) for w in self.words)
        return f"(?:^|{_SEP}){body}(?:{_SEP}|$)"


@dataclass(frozen=True)
class Clause:
    """Terms joined by OR (any one matches); an excluded clause removes what it matches."""

    terms: tuple[Term, ...]
    excluded: bool = False


@dataclass(frozen=True)
class Query:
    """A parsed query: every required clause must match and no excluded one may."""

    clauses: tuple[Clause, ...]

    @property
    def text(self) -> str:
        """The query written out canonically (what caches and links key on)."""
        return " ".join(
            ("-" if c.excluded else "") + " OR ".join(t.text for t in c.terms) for c in self.clauses
        )

    @property
    def required(self) -> tuple[Clause, ...]:
        """The clauses a statement must match."""
        return tuple(c for c in self.clauses if not c.excluded)

    @property
    def excluded(self) -> tuple[Clause, ...]:
        """The clauses a statement must not match."""
        return tuple(c for c in self.clauses if c.excluded)

    def terms(self) -> tuple[Term, ...]:
        """Every distinct term of the required clauses (what a snippet highlights)."""
        return tuple(dict.fromkeys(t for c in self.required for t in c.terms))


def normalise(text: str) -> str:
    """`text` lower-cased and without accents, as DuckDB's strip_accents(lower(text)) gives it."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """The words of `text` in order: runs between SEPARATORS after `normalise`."""
    return [w for w in _SPLIT.split(normalise(text)) if w]


def is_indexed(word: str) -> bool:
    """Whether the index holds `word` (a normalised word): not a stop word, two letters or more."""
    return len(word) >= MIN_WORD_LENGTH and word not in STOP_WORDS


def word_forms(word: str) -> tuple[str, ...]:
    """The words a query word finds, itself included (see the module docstring), sorted."""
    if len(word) < 3 or not word.isalpha():
        return (word,)
    base = _singular(word)
    forms = {word, base}
    if base.endswith("e"):
        forms |= {base + "s", base + "d", base[:-1] + "ing"}
        if base.endswith("ee"):  # agree -> agreeing
            forms.add(base + "ing")
    elif base.endswith("y") and base[-2] not in _VOWELS:
        forms |= {base[:-1] + "ies", base[:-1] + "ied", base + "ing"}
    elif base.endswith(("s", "x", "z", "ch", "sh")):
        forms |= {base + "es", base + "ed", base + "ing"}
    else:
        forms |= {base + "s", base + "ed", base + "ing"}
        if _doubles(base):
            forms |= {base + base[-1] + "ed", base + base[-1] + "ing"}
    return tuple(sorted(forms))


def _singular(word: str) -> str:
    """The word without a plural ending: agencies -> agency, processes -> process."""
    if word.endswith("ies") and len(word) >= 5:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")) and len(word) >= 4:
        return word[:-1]
    return word


def _doubles(base: str) -> bool:
    """Whether -ed and -ing may double the last letter (stop -> stopped): consonant, vowel,
    consonant at the end."""
    return (
        len(base) >= 3
        and base[-1] not in _VOWELS | set("wxy")
        and base[-2] in _VOWELS
        and base[-3] not in _VOWELS
    )


def _alternatives(word: str) -> str:
    return "(?:" + "|".join(re.escape(f) for f in word_forms(word)) + ")"


def parse_query(text: str) -> Query:
    """The Query that `text` writes; QueryError (one sentence) when it cannot be searched."""
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(
            f"The search is {len(text):,} characters long: keep it to {MAX_QUERY_CHARS} or fewer."
        )
    text = text.translate(_QUOTES)
    if text.count('"') % 2:
        raise QueryError(
            'A quotation mark is not closed: put a phrase between two, as in "agency staff".'
        )
    clauses: list[Clause] = []
    pending: list[Term] = []  # the terms of an OR being read
    joining = after_exclusion = False
    for excluded, term, joins in _items(text):
        if joins:
            if after_exclusion:
                raise QueryError(
                    "OR cannot join an exclusion: write -agency -bank to leave out both."
                )
            if not pending or joining:
                raise QueryError("OR needs a word or phrase on each side, as in agency OR bank.")
            joining = True
            continue
        after_exclusion = excluded
        if excluded and joining:
            raise QueryError("OR cannot join an exclusion: write -agency -bank to leave out both.")
        if joining:
            pending.append(term)
            joining = False
            continue
        if pending:
            clauses.append(Clause(tuple(pending)))
            pending = []
        if excluded:
            clauses.append(Clause((term,), excluded=True))
        else:
            pending = [term]
    if joining:
        raise QueryError("OR needs a word or phrase on each side, as in agency OR bank.")
    if pending:
        clauses.append(Clause(tuple(pending)))
    return _checked(Query(tuple(clauses)))


def _items(text: str) -> Iterable[tuple[bool, Term | None, bool]]:
    """(excluded, term, is OR) for each word, phrase and OR of the query, in order."""
    for match in _ITEMS.finditer(text):
        minus, phrase, bare = match.groups()
        if bare == "OR":
            yield False, None, True
            continue
        excluded = bool(minus) or (bare is not None and bare.startswith("-"))
        found = tuple(words(phrase if bare is None else bare))
        if not found:
            continue  # punctuation only: nothing to look for
        if len(found) > MAX_PHRASE_WORDS:
            raise QueryError(f"A phrase may have at most {MAX_PHRASE_WORDS} words.")
        yield excluded, Term(found), False


def _checked(query: Query) -> Query:
    terms = [t for c in query.clauses for t in c.terms]
    if not terms:
        raise QueryError("Type a word or a phrase to look for.")
    if len(terms) > MAX_TERMS:
        raise QueryError(
            f"Use at most {MAX_TERMS} words and phrases; this search has {len(terms)}."
        )
    if not query.required:
        raise QueryError(
            "Add a word to look for: a search of exclusions alone (-word) would find nearly"
            " every statement."
        )
    for term in terms:
        if not term.indexed_words:
            raise QueryError(
                f"{_named(term)} is too common or too short to search for on its own: add"
                " another word, or put it in a phrase with one."
            )
    return query


def _named(term: Term) -> str:
    return term.text if len(term.words) > 1 else f"“{term.text}”"


def matches(text: str | None, query: Query) -> bool:
    """Whether a statement's evidence `text` matches `query` (the reference semantics)."""
    found = words(text or "")
    return all(_clause_in(found, c) for c in query.required) and not any(
        _clause_in(found, c) for c in query.excluded
    )


def _clause_in(found: Sequence[str], clause: Clause) -> bool:
    return any(_term_in(found, t) for t in clause.terms)


def _term_in(found: Sequence[str], term: Term) -> bool:
    forms = [set(word_forms(w)) for w in term.words]
    width = len(forms)
    return any(
        all(found[i + j] in forms[j] for j in range(width)) for i in range(len(found) - width + 1)
    )


def snippet(text: str | None, query: Query, width: int = 240) -> str:
    """About `width` characters of `text` around its first match, each match within «».

    On one line; an ellipsis marks text left out. Plain text: never markup.
    """
    text = " ".join((text or "").split())
    norm, origin = _normalised_with_origins(text)
    spans = sorted(
        (origin[m.start()], origin[m.end() - 1] + 1)
        for term in query.terms()
        for m in re.finditer(_highlighter(term), norm)
    )
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    first = merged[0][0] if merged else 0
    begin = max(0, min(first - width // 3, len(text) - width))
    if begin:  # start at a word
        space = text.find(" ", begin)
        begin = space + 1 if 0 <= space < first else begin
    finish = min(len(text), begin + width)
    cut = next((end for start, end in merged if start < finish < end), None)
    if cut is not None:  # never half a match
        finish = cut
    elif finish < len(text):  # end at a word
        space = text.rfind(" ", begin, finish)
        finish = space if space > max(first, begin) else finish
    pieces, at = [], begin
    for start, end in merged:
        if end <= begin or start >= finish:
            continue
        start, end = max(start, begin), min(end, finish)
        pieces += [text[at:start], MARK_OPEN, text[start:end], MARK_CLOSE]
        at = end
    pieces.append(text[at:finish])
    return ("… " if begin else "") + "".join(pieces) + (" …" if finish < len(text) else "")


def _highlighter(term: Term) -> str:
    """The term's pattern matching the words only (lookarounds: Python's re)."""
    body = f"{_SEP}+".join(_alternatives(w) for w in term.words)
    return f"(?<!{_WORD_CHAR}){body}(?!{_WORD_CHAR})"


def _normalised_with_origins(text: str) -> tuple[str, list[int]]:
    """`normalise(text)` and, for each of its characters, the position it came from."""
    out: list[str] = []
    origin: list[int] = []
    for i, char in enumerate(text):
        piece = normalise(char)
        out.append(piece)
        origin += [i] * len(piece)
    return "".join(out), origin


def match_rows(
    scores: pl.LazyFrame,
    *,
    hits: pl.Series,
    filters: Filters = ALL,
    score_in: Sequence[int] = (),
    limit: int | None = None,
) -> pl.DataFrame:
    """The rows of `scores` that match and that the filters select, latest first.

    `hits`: a Boolean per row of `scores`, true where its evidence matches (the Search page
    has it from the index); `score_in` keeps those scores only; `limit`: the first rows
    only. Columns: the frame's.
    """
    rows = (
        _narrowed(scores, hits, filters, score_in)
        .filter("_hit")
        .drop("_hit")
        .sort(
            ["assessment_date", "assessment_key", "key_question", "statement_id"],
            descending=[True, False, False, False],
            nulls_last=True,
        )
    )
    return (rows if limit is None else rows.head(limit)).collect()


def _narrowed(
    scores: pl.LazyFrame, hits: pl.Series, filters: Filters, score_in: Sequence[int]
) -> pl.LazyFrame:
    """The rows the filters and `score_in` select, with their `_hit`."""
    rows = selected(scores.with_columns(hits.alias("_hit")), filters)
    return rows.filter(pl.col("score").is_in(list(score_in))) if score_in else rows


def match_counts(
    scores: pl.LazyFrame,
    *,
    hits: pl.Series,
    by: By = None,
    filters: Filters = ALL,
    score_in: Sequence[int] = (),
    min_n: int = MIN_N,
) -> pl.DataFrame:
    """Matching statements per group against every scored statement of the group, most first.

    `hits` as for match_rows; `by` also takes "score". Columns: [by], matches, statements
    (scored statements the filters select), share (matches / statements), locations (with a
    match), n (assessments with a match), low_n. Groups without a match are left out; no
    `by`: one row.
    """
    group = ["score"] if by == "score" else keys(by)
    rows = _narrowed(scores, hits, filters, score_in)
    # The base counts every row; the rest only the matching ones (fewer to count distinct).
    base = rows.group_by(group or pl.lit(0).alias("_all")).agg(statements=pl.len())
    found = (
        rows.filter("_hit")
        .group_by(group or pl.lit(0).alias("_all"))
        .agg(
            matches=pl.len(),
            locations=pl.col("location_key").n_unique(),
            n=pl.col("assessment_key").n_unique(),
        )
    )
    on = group or ["_all"]
    counts = (
        base.join(found, on=on, how="inner" if group else "left")
        .with_columns(pl.col("matches", "locations", "n").fill_null(0))
        .with_columns(pl.col("matches", "statements", "locations", "n").cast(pl.UInt32))
        .with_columns(share=pl.col("matches") / pl.col("statements"), low_n=low_n(min_n))
        .select(*group, "matches", "statements", "share", "locations", "n", "low_n")
    )
    found = counts.sort(["matches", *group], descending=[True] + [False] * len(group)).collect()
    if not group and found.is_empty():  # nothing selected: one row of zeros
        zeros = dict.fromkeys(("matches", "statements", "locations", "n"), 0)
        return pl.DataFrame([zeros | {"share": None, "low_n": True}], schema=found.schema)
    return found


def matches_by_quarter(
    scores: pl.LazyFrame,
    *,
    hits: pl.Series,
    filters: Filters = ALL,
    score_in: Sequence[int] = (),
    min_n: int = MIN_N,
) -> pl.DataFrame:
    """Matching statements per quarter of the assessment date, against all scored ones.

    `hits` as for match_rows. Columns: quarter_start (Date), quarter ('2025 Q1'), matches,
    statements, share, n (assessments with a match), low_n; every quarter with a scored
    statement, in order.
    """
    hit = pl.col("_hit")
    return (
        _narrowed(scores, hits, filters, score_in)
        .group_by(pl.col("assessment_date").dt.truncate("1q").alias("quarter_start"))
        .agg(
            matches=hit.sum().cast(pl.UInt32),
            statements=pl.len().cast(pl.UInt32),
            n=pl.col("assessment_key").filter(hit).n_unique().cast(pl.UInt32),
        )
        .with_columns(
            quarter=pl.format(
                "{} Q{}", pl.col("quarter_start").dt.year(), pl.col("quarter_start").dt.quarter()
            ),
            share=pl.col("matches") / pl.col("statements"),
            low_n=low_n(min_n),
        )
        .select("quarter_start", "quarter", "matches", "statements", "share", "n", "low_n")
        .sort("quarter_start")
        .collect()
    )
