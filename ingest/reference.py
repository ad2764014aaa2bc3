"""Reference facts of the CQC Single Assessment Framework, kept in one place.

The 34 quality statements, how names are matched, how scores become percentages and
ratings, the eras, and the postcode-area -> region table. Anything here that CQC may
change (rounding, band edges, era dates) is defined once and used everywhere.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from math import floor
from typing import NamedTuple

KEY_QUESTIONS: tuple[str, ...] = (
    "Safe",
    "Effective",
    "Caring",
    "Responsive",
    "Well-led",
)

# Worst to best; the order every chart and table uses.
RATINGS: tuple[str, ...] = ("Inadequate", "Requires improvement", "Good", "Outstanding")

REGIONS: tuple[str, ...] = (
    "London",
    "South East",
    "South West",
    "East",
    "East Midlands",
    "West Midlands",
    "North East",
    "North West",
    "Yorkshire & Humberside",
)


class Statement(NamedTuple):
    id: int
    key_question: str
    name: str


STATEMENTS: tuple[Statement, ...] = tuple(
    Statement(i, kq, name)
    for i, (kq, name) in enumerate(
        [
            ("Safe", "Learning culture"),
            ("Safe", "Safe systems, pathways and transitions"),
            ("Safe", "Safeguarding"),
            ("Safe", "Involving people to manage risks"),
            ("Safe", "Safe environments"),
            ("Safe", "Safe and effective staffing"),
            ("Safe", "Infection prevention and control"),
            ("Safe", "Medicines optimisation"),
            ("Effective", "Assessing needs"),
            ("Effective", "Delivering evidence-based care and treatment"),
            ("Effective", "How staff, teams and services work together"),
            ("Effective", "Supporting people to live healthier lives"),
            ("Effective", "Monitoring and improving outcomes"),
            ("Effective", "Consent to care and treatment"),
            ("Caring", "Kindness, compassion and dignity"),
            ("Caring", "Treating people as individuals"),
            ("Caring", "Independence, choice and control"),
            ("Caring", "Responding to people's immediate needs"),
            ("Caring", "Workforce wellbeing and enablement"),
            ("Responsive", "Person-centred care"),
            ("Responsive", "Care provision, integration and continuity"),
            ("Responsive", "Providing information"),
            ("Responsive", "Listening to and involving people"),
            ("Responsive", "Equity in access"),
            ("Responsive", "Equity in experiences and outcomes"),
            ("Responsive", "Planning for the future"),
            ("Well-led", "Shared direction and culture"),
            ("Well-led", "Capable, compassionate and inclusive leaders"),
            ("Well-led", "Freedom to speak up"),
            ("Well-led", "Workforce equality, diversity and inclusion"),
            ("Well-led", "Governance, management and sustainability"),
            ("Well-led", "Partnerships and communities"),
            ("Well-led", "Learning, improvement and innovation"),
            ("Well-led", "Environmental sustainability - sustainable development"),
        ],
        start=1,
    )
)
STATEMENTS_BY_ID: dict[int, Statement] = {s.id: s for s in STATEMENTS}
STATEMENTS_PER_KEY_QUESTION: dict[str, int] = {
    kq: sum(s.key_question == kq for s in STATEMENTS) for kq in KEY_QUESTIONS
}

# Spellings seen in the wild that plain normalisation does not reach.
_STATEMENT_VARIANTS: dict[str, int] = {
    "Safety learning culture": 1,
    "How staff and teams work together": 11,
    "Equity in experience and outcomes": 25,
    "Partnership and communities": 32,
    "Environmental sustainability and sustainable development": 34,
    "Environmental sustainability": 34,
}

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-")
_QUOTES = dict.fromkeys(map(ord, "\u2018\u2019\u201a\u201b\u2032`\u00b4"), "'")


@functools.lru_cache(maxsize=16384)
def normalise(text: str) -> str:
    """Lower-case, straight apostrophes, plain hyphens, no commas, single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_DASHES).translate(_QUOTES)
    text = text.lower().replace(",", " ").replace("&", " and ")
    return re.sub(r"\s+", " ", text).strip(" .:;")


_STATEMENT_LOOKUP: dict[str, int] = {normalise(s.name): s.id for s in STATEMENTS} | {
    normalise(name): sid for name, sid in _STATEMENT_VARIANTS.items()
}
_KEY_QUESTION_LOOKUP: dict[str, str] = {normalise(kq): kq for kq in KEY_QUESTIONS} | {
    "well led": "Well-led",
    "wellled": "Well-led",
}
_RATING_LOOKUP: dict[str, str] = {normalise(r): r for r in RATINGS} | {
    "requires improvements": "Requires improvement",
}


def statement_id(name: str) -> int | None:
    """The statement id (1-34) a name refers to, or None when it is not a known statement."""
    return _STATEMENT_LOOKUP.get(normalise(name))


# No key question or rating name is anywhere near this long: longer lines (evidence
# paragraphs) are answered without normalising them, which is most of a report's lines.
_LONGEST_NAME = 48


@functools.lru_cache(maxsize=4096)
def _key_question(name: str) -> str | None:
    return _KEY_QUESTION_LOOKUP.get(normalise(name))


@functools.lru_cache(maxsize=4096)
def _rating(name: str) -> str | None:
    return _RATING_LOOKUP.get(normalise(name))


def canonical_key_question(name: str) -> str | None:
    return None if len(name) > _LONGEST_NAME else _key_question(name)


def canonical_rating(name: str) -> str | None:
    return None if len(name) > _LONGEST_NAME else _rating(name)


def key_questions_of(lines: list[str]) -> list[str | None]:
    """canonical_key_question of each line, in one call (the report parser's hot loop)."""
    return [_key_question(line) if len(line) <= _LONGEST_NAME else None for line in lines]


def ratings_of(lines: list[str]) -> list[str | None]:
    """canonical_rating of each line, in one call."""
    return [_rating(line) if len(line) <= _LONGEST_NAME else None for line in lines]


# Scoring arithmetic ----------------------------------------------------------------------
# A key question's exact percentage is 100 * points / (4 * statements). CQC publishes it
# rounded; half-up fits every published example. Bands are decided on the exact fraction:
# the integer bands 88-100 / 63-87 / 39-62 / 25-38 under half-up rounding are exactly
# "at least 87.5", "at least 62.5", "more than 37.5" on the fraction (37.5 rounds to 38,
# which is Inadequate), so both descriptions give the same rating for every possible score.
BAND_EDGES_PERCENT: tuple[int, int, int] = (38, 62, 87)


def percentage(points: int, statements: int) -> float:
    """Exact key question percentage from the sum of statement scores."""
    return 100.0 * points / (4 * statements)


def rounded_percentage(points: int, statements: int) -> int:
    """Published integer percentage (half-up), computed in integers to avoid float edges."""
    return floor((100 * points * 2 + 4 * statements) / (2 * 4 * statements))


def rating_for(points: int, statements: int) -> str:
    """Rating band of an exact score: compares 100*points with thresholds * 4*statements."""
    scaled = 100 * points * 2  # compare 2*100*points against 2*edge*4n to stay integral
    denom = 4 * statements
    if scaled >= 175 * denom:
        return "Outstanding"
    if scaled >= 125 * denom:
        return "Good"
    if scaled > 75 * denom:
        return "Requires improvement"
    return "Inadequate"


def rating_for_percentage(score: int) -> str:
    """Rating band of a published integer percentage."""
    if score >= 88:
        return "Outstanding"
    if score >= 63:
        return "Good"
    if score >= 39:
        return "Requires improvement"
    return "Inadequate"


# Eras ---------------------------------------------------------------------------------------
SAF_START = dt.date(2023, 11, 21)
STATEMENT_SCORING_START = dt.date(2024, 12, 2)
ERAS: tuple[str, ...] = ("pre-SAF", "SAF by evidence category", "SAF by statement")


def era_for(assessment_date: dt.date) -> str:
    """Era of an assessment: how its scores were arrived at."""
    if assessment_date < SAF_START:
        return "pre-SAF"
    if assessment_date < STATEMENT_SCORING_START:
        return "SAF by evidence category"
    return "SAF by statement"


# Regions from postcode areas -----------------------------------------------------------------
# An area that straddles a regional boundary is given the region holding most of it; a
# region derived this way is marked "derived" and any source that states a region wins.
_AREA_REGIONS: dict[str, tuple[str, ...]] = {
    "London": (
        "E",
        "EC",
        "N",
        "NW",
        "SE",
        "SW",
        "W",
        "WC",
        "BR",
        "CR",
        "EN",
        "HA",
        "IG",
        "RM",
        "SM",
        "TW",
        "UB",
    ),
    "South East": (
        "BN",
        "CT",
        "DA",
        "GU",
        "HP",
        "KT",
        "ME",
        "MK",
        "OX",
        "PO",
        "RG",
        "RH",
        "SL",
        "SO",
        "TN",
    ),
    "South West": (
        "BA",
        "BH",
        "BS",
        "DT",
        "EX",
        "GL",
        "PL",
        "SN",
        "SP",
        "TA",
        "TQ",
        "TR",
    ),
    "East": ("AL", "CB", "CM", "CO", "IP", "LU", "NR", "PE", "SG", "SS", "WD"),
    "East Midlands": ("DE", "LE", "LN", "NG", "NN"),
    "West Midlands": ("B", "CV", "DY", "HR", "ST", "SY", "TF", "WR", "WS", "WV"),
    "North East": ("DH", "DL", "NE", "SR", "TS"),
    "North West": (
        "BB",
        "BL",
        "CA",
        "CH",
        "CW",
        "FY",
        "L",
        "LA",
        "M",
        "OL",
        "PR",
        "SK",
        "WA",
        "WN",
    ),
    "Yorkshire & Humberside": (
        "BD",
        "DN",
        "HD",
        "HG",
        "HU",
        "HX",
        "LS",
        "S",
        "WF",
        "YO",
    ),
}
POSTCODE_AREA_REGION: dict[str, str] = {
    area: region for region, areas in _AREA_REGIONS.items() for area in areas
}
_POSTCODE = re.compile(r"\b([A-Z]{1,2})([0-9][0-9A-Z]?)\s*([0-9][A-Z]{2})\b")


def normalise_postcode(text: str | None) -> str | None:
    """'cv345ah' -> 'CV34 5AH'; None when the text holds no UK postcode."""
    if not text:
        return None
    match = _POSTCODE.search(text.upper())
    return f"{match[1]}{match[2]} {match[3]}" if match else None


def region_for_postcode(postcode: str | None) -> str | None:
    """CQC region of an English postcode's area, or None (outside England or unknown)."""
    match = _POSTCODE.search(postcode.upper()) if postcode else None
    return POSTCODE_AREA_REGION.get(match[1]) if match else None


_REGION_LOOKUP: dict[str, str] = {normalise(r): r for r in REGIONS} | {
    "east of england": "East",
    "yorkshire and the humber": "Yorkshire & Humberside",
    "yorkshire and humber": "Yorkshire & Humberside",
    "yorkshire and humberside": "Yorkshire & Humberside",
}


def canonical_region(name: str | None) -> str | None:
    return _REGION_LOOKUP.get(normalise(name)) if name else None
