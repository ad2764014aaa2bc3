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


# The services of a hospital CQC rates apart from the location as a whole (the core services
# of its hospital frameworks). Report text for one of them names it on a line of its own after
# the report header (or as "Service: <name>"), and is filed under it as its service group, so
# that a hospital's Maternity ratings never stand as the hospital's own.
HOSPITAL_SERVICES = (
    "Urgent and emergency care",
    "Medical care (including older people's care)",
    "Surgery",
    "Critical care",
    "Maternity",
    "Services for children and young people",
    "End of life care",
    "Outpatients",
    "Diagnostic imaging",
    "Outpatients and diagnostic imaging",
    "Gynaecology",
    "Neonatal services",
)
_HOSPITAL_SERVICES = {normalise(s): s for s in HOSPITAL_SERVICES} | {
    normalise("Urgent and emergency services"): "Urgent and emergency care",
    normalise("Medical care"): "Medical care (including older people's care)",
    normalise("Maternity services"): "Maternity",
}


def hospital_service(line: str) -> str | None:
    """The canonical name of the hospital service a line names (alone, or after "Service:")."""
    if len(line) > 60:
        return None
    text = normalise(line)
    if text.startswith("service:"):
        text = text[len("service:") :].strip()
    return _HOSPITAL_SERVICES.get(text)


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


# The overall rating of a location (or of one assessment service group) aggregates its current
# key question ratings: those of its latest assessment, with the earlier ratings of the key
# questions it did not cover. CQC's published principles ("How we aggregate ratings using the
# rating principles") say what the ratings *normally* give; inspectors may depart from them,
# so a published overall rating that differs is a judgement, not an error:
# - two or more Inadequate -> Inadequate;
# - two or more Requires improvement -> Requires improvement;
# - Good needs no Inadequate and at most one Requires improvement, so a single Inadequate
#   (with at most one Requires improvement beside it) gives Requires improvement, the rating
#   between (unverified: the principles name no rating for this case);
# - two or more Outstanding and none below Good -> Outstanding;
# - otherwise Good.
# Not applied here: the limiter that a breach of regulations caps the overall rating at
# Requires improvement, and any SAF-specific limiters (unverified), which need more than the
# ratings to decide.
def overall_rating_for(ratings: list[str | None] | tuple[str | None, ...]) -> str | None:
    """The overall rating CQC's aggregation principles give these key question ratings.

    `ratings` are canonical ratings (RATINGS), one per key question; None and non-ratings are
    left out. None when no rating is left.
    """
    rated = [r for r in ratings if r in RATINGS]
    if not rated:
        return None
    inadequate = rated.count("Inadequate")
    requires_improvement = rated.count("Requires improvement")
    if inadequate >= 2:
        return "Inadequate"
    if requires_improvement >= 2 or inadequate:
        return "Requires improvement"
    if rated.count("Outstanding") >= 2 and not requires_improvement:
        return "Outstanding"
    return "Good"


# Eras ---------------------------------------------------------------------------------------
SAF_START = dt.date(2023, 11, 21)
STATEMENT_SCORING_START = dt.date(2024, 12, 2)
ERAS: tuple[str, ...] = ("pre-SAF", "SAF by evidence category", "SAF by statement")


# The SAF was rolled out from November 2023 to the end of March 2024; ratings published then
# without SAF scores came from the old framework's inspections (unverified: the date is the
# end of CQC's stated rollout, and a rule that changes here changes everywhere).
SAF_ROLLOUT_END = dt.date(2024, 4, 1)


def era_for(assessment_date: dt.date, *, scored: bool = True) -> str:
    """Era of an assessment: how its scores were arrived at, by date and by form.

    An assessment without statement scores dated in the SAF's rollout is of the old framework
    (`scored` False); one with scores, or any from April 2024, is dated into its SAF era.
    """
    if assessment_date < SAF_START or (not scored and assessment_date < SAF_ROLLOUT_END):
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


# What an assessment says of a statement or key question ------------------------------------
# Judged in this assessment, or carried forward from an earlier rating (the API's status
# "Not Assessed"; report text "based on the previous rating"). None: the source does not say.
ASSESSED = "assessed"
CARRIED_FORWARD = "carried forward"
STATEMENT_STATUSES: tuple[str, ...] = (ASSESSED, CARRIED_FORWARD)
_STATUS_LOOKUP = {"assessed": ASSESSED, "not assessed": CARRIED_FORWARD}


def statement_status(text: str | None) -> str | None:
    """ASSESSED, CARRIED_FORWARD or None from a source's status ('Assessed', 'Not Assessed')."""
    return _STATUS_LOOKUP.get(normalise(text)) if text else None


# Services CQC does not rate (primary dental care, some others) are judged against the
# regulations instead: no score, no percentage, no rating at any level.
JUDGEMENTS: tuple[str, ...] = ("Regulations met", "Not all regulations met")
_JUDGEMENT_LOOKUP = {normalise(j): j for j in JUDGEMENTS} | {
    "regulations not met": "Not all regulations met",
}


def canonical_judgement(text: str | None) -> str | None:
    """'Regulations met' or 'Not all regulations met' when `text` is one, else None."""
    return _JUDGEMENT_LOOKUP.get(normalise(text)) if text and len(text) <= _LONGEST_NAME else None


# CQC's standard words for "no rating here": not ratings, and not a problem to warn about.
NOT_RATED: frozenset[str] = frozenset(
    normalise(t)
    for t in (
        "Not rated",
        "No rating",
        "Insufficient evidence to rate",
        "Not yet rated",
        "Inspected but not rated",
        "No published rating",
        "No action",  # what an "Inspected but not rated" report gives each key question
    )
)


def is_not_rated(text: str | None) -> bool:
    """Whether `text` is one of CQC's standard non-ratings ('Inspected but not rated', ...)."""
    return bool(text) and normalise(text) in NOT_RATED


# Location ids: social care and independent services have "1-<digits>"; NHS locations have
# ODS codes ("RM317", "RT203", "RHAY9", "5J4"), letters and digits.
_LOCATION_ID = re.compile(r"^(?:1-\d{5,}|[A-Z0-9]{3,6})$")


def is_location_id(text: str) -> bool:
    """Whether `text` has the form of a CQC location id: '1-<digits>' or an ODS code."""
    return bool(_LOCATION_ID.match(text))


# Registered service types ------------------------------------------------------------------
# One vocabulary: the registered service types as CQC names them (the names report text lists
# and the API's gacServiceTypes[].description gives). Sources with a label of their own map
# onto it: the API's short gacServiceTypes[].name and the ratings file's primary inspection
# category (with its "Care Home?" column). The source's own label is kept beside the type.
CARE_HOME_WITH_NURSING = "Care home service with nursing"
CARE_HOME_WITHOUT_NURSING = "Care home service without nursing"
# A care home whose source (the ratings file) does not say whether it provides nursing.
CARE_HOME_NURSING_UNSTATED = "Care home service (nursing not stated)"
CARE_HOME_TYPES: tuple[str, ...] = (
    CARE_HOME_WITH_NURSING,
    CARE_HOME_WITHOUT_NURSING,
    CARE_HOME_NURSING_UNSTATED,
)

# The API's short label -> the registered type it stands for (the most common one where a
# label covers several: "Doctors/Gps" is a consultation or a treatment service).
_SERVICE_TYPE_OF_LABEL: dict[str, str] = {
    "Nursing homes": CARE_HOME_WITH_NURSING,
    "Residential homes": CARE_HOME_WITHOUT_NURSING,
    "Homecare agencies": "Domiciliary care service",
    "Supported living": "Supported living service",
    "Supported housing": "Extra Care housing services",
    "Shared lives": "Shared Lives",
    "Dentist": "Dental service",
    "Doctors/Gps": "Doctors consultation service",
    "Rehabilitation (illness/injury)": "Rehabilitation services",
    "Rehabilitation (substance abuse)": (
        "Residential substance misuse treatment and/or rehabilitation service"
    ),
    "Community services - Healthcare": "Community healthcare service",
    "Community services - Learning disabilities": (
        "Community based services for people with a learning disability"
    ),
    "Community services - Mental Health": (
        "Community based services for people with mental health needs"
    ),
    "Community services - Substance abuse": (
        "Community based services for people who misuse substances"
    ),
    "Diagnosis/screening": "Diagnostic and/or screening service",
    "Clinic": (
        "Acute services without overnight beds / listed acute services with or without"
        " overnight beds"
    ),
    "Hospital": "Acute services with overnight beds",
    "Hospitals - Mental health/capacity": (
        "Hospital services for people with mental health needs, learning disabilities and"
        " problems with substance misuse"
    ),
    "Ambulances": "Ambulance service",
    "Urgent care centres": "Urgent care services",
    "Phone/online advice": "Remote clinical advice service",
    "Hospice": "Hospice services",
    "Home hospice care": "Hospice services at home",
    "Long-term conditions": "Long term conditions services",
    "Blood and transplant service": "Blood and Transplant service",
}

# The ratings file's primary inspection category -> registered type, where one category
# means one type. "Residential social care" is a care home (its "Care Home?" is Y) whose
# nursing the file does not state; other categories span several types and map to none.
_SERVICE_TYPE_OF_CATEGORY: dict[str, str] = {
    "Dentists": "Dental service",
    "GP Practices": "Doctors consultation service",
    "Ambulance service": "Ambulance service",
    "Hospice services": "Hospice services",
    "Residential substance misuse": (
        "Residential substance misuse treatment and/or rehabilitation service"
    ),
    "Community substance misuse": "Community based services for people who misuse substances",
}
_LABEL_LOOKUP = {normalise(k): v for k, v in _SERVICE_TYPE_OF_LABEL.items()}
_CATEGORY_LOOKUP = {normalise(k): v for k, v in _SERVICE_TYPE_OF_CATEGORY.items()}


def service_type_of_label(label: str | None) -> str | None:
    """The registered service type an API short label ('Nursing homes') stands for."""
    return _LABEL_LOOKUP.get(normalise(label)) if label else None


def service_type_of_category(category: str | None, care_home: bool | None = None) -> str | None:
    """The registered service type a ratings-file inspection category stands for, if one."""
    if not category:
        return None
    if normalise(category) == "residential social care" and care_home is not False:
        return CARE_HOME_NURSING_UNSTATED
    return _CATEGORY_LOOKUP.get(normalise(category))
