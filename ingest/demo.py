"""The demo corpus: fictional CQC assessment reports drawn from a small statistical model.

The model, in brief. Providers come in very different sizes: each draws its number of
locations from a heavy-tailed (Pareto) distribution, so most run a single location and a few
chains run dozens; a provider keeps to one line of business (care homes, homecare, supported
living, GP practices, dentists, independent hospitals, hospices or community services),
which fixes its locations' service types (10 in all). Locations are spread over the 9 CQC
regions roughly in proportion to where services are, a chain clustering around a home
region; each gets a fictional name and street with a real-format postcode whose area lies in
its region. A location has one to three assessments dated between 21 November 2023 and
October 2026, each published 1-4 months later and covering one to five key questions, most
often all five or Safe and Well-led. A key question scores most of its statements (adult
social care rarely scores environmental sustainability). Each statement score (1-4) is a
rounded draw around a quality level made of a national mean plus effects of the provider,
the region, the service type, the location and the key question (Caring scores higher,
Safe and Well-led lower); a location rated Requires improvement or Inadequate improves
before its next assessment, which comes sooner. Percentages and ratings follow the published
arithmetic (ingest.reference), except that about 1 key question in 100 states a percentage
one point off, as real reports occasionally do. A location's overall rating is the most
common of its key question ratings in that assessment, ties going to the worse. The result
is about two thirds Good, a fifth to a quarter Requires improvement and a few per cent each
Outstanding and Inadequate. Evidence text is assembled from sentence templates that match
the score and name the statement's topic. Everything is drawn from random.Random(seed), so
the same seed and size give byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import random
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ingest import reference as ref
from ingest.records import Record

DEFAULT_LOCATIONS = 600
DEFAULT_SEED = 7

FIRST_ASSESSMENT = ref.SAF_START
LAST_ASSESSMENT = dt.date(2026, 10, 31)
# The corpus is a snapshot: a report appears once published, and nothing is published later.
PUBLISHED_BY = dt.date(2026, 11, 20)
# Share of key questions that state a percentage one point off the computed one.
MISMATCH_RATE = 0.01
FILE_PREFIX = "demo-"

_MONTHS = (
    "January February March April May June July August September October November December"
).split()


class ServiceType(NamedTuple):
    category: str  # the broad bullet line of a report
    name: str  # the indented, specific line
    adult_social_care: bool
    people: str  # how the evidence refers to the people using the service
    effect: float  # added to the quality level of its locations


CARE_HOME_NURSING = ServiceType("Care home", "Care home service with nursing", True, "people", -0.1)
CARE_HOME = ServiceType("Care home", "Care home service without nursing", True, "people", 0.0)
HOMECARE = ServiceType("Homecare agency", "Domiciliary care service", True, "people", -0.04)
SUPPORTED_LIVING = ServiceType("Supported living", "Supported living service", True, "people", 0)
GP = ServiceType("Doctors/GPs", "Doctors consultation service", False, "patients", 0.04)
DENTAL = ServiceType("Dentist", "Dental service", False, "patients", 0.12)
HOSPITAL = ServiceType("Hospital", "Independent hospital", False, "patients", 0.0)
HOSPICE = ServiceType("Hospice", "Hospice services", False, "people", 0.3)
COMMUNITY = ServiceType("Community services", "Community healthcare service", False, "patients", 0)
COMMUNITY_MH = ServiceType(
    "Community services",
    "Community based services for people with mental health needs",
    False,
    "people",
    -0.06,
)
SERVICE_TYPES: tuple[ServiceType, ...] = (
    CARE_HOME_NURSING,
    CARE_HOME,
    HOMECARE,
    SUPPORTED_LIVING,
    GP,
    DENTAL,
    HOSPITAL,
    HOSPICE,
    COMMUNITY,
    COMMUNITY_MH,
)
_PEOPLE = {s.name: s.people for s in SERVICE_TYPES}


class ProviderKind(NamedTuple):
    weight: float  # share of providers of this kind
    alpha: float  # Pareto tail of the number of locations: P(size >= k) = k ** -alpha
    max_size: int
    services: tuple[tuple[ServiceType, float], ...]
    provider_names: tuple[str, ...]  # {brand} and {town} are filled in
    location_names: tuple[str, ...]  # {word}, {brand} and {town} are filled in


PROVIDER_KINDS: tuple[ProviderKind, ...] = (
    ProviderKind(
        30,
        1.15,
        70,
        ((CARE_HOME, 0.62), (CARE_HOME_NURSING, 0.38)),
        (
            "{brand} Care Group Ltd",
            "{brand} Care Homes Limited",
            "{brand} Care Ltd",
            "{brand} Healthcare Ltd",
            "{brand} Residential Care Limited",
        ),
        (
            "{word} House",
            "{word} Lodge",
            "{word} Court",
            "{word} Manor",
            "{word} Grange",
            "{word} View",
            "{word} Hall",
            "The {word} Care Home",
            "{word} Park Care Home",
        ),
    ),
    ProviderKind(
        25,
        1.35,
        40,
        ((HOMECARE, 0.85), (SUPPORTED_LIVING, 0.15)),
        (
            "{brand} Homecare Ltd",
            "{brand} Home Care Services Limited",
            "{brand} Care at Home Ltd",
            "{brand} Community Care Ltd",
        ),
        ("{brand} Homecare ({town})", "{brand} Home Care - {town}", "{brand} {town} Office"),
    ),
    ProviderKind(
        8,
        1.4,
        30,
        ((SUPPORTED_LIVING, 0.8), (HOMECARE, 0.2)),
        ("{brand} Support Ltd", "{brand} Living Services Limited", "{brand} Supported Living CIC"),
        ("{word} Supported Living", "{brand} Supported Living - {town}", "{word} Road Service"),
    ),
    ProviderKind(
        17,
        2.6,
        6,
        ((GP, 1.0),),
        (
            "{town} Medical Partnership",
            "{brand} Health Partnership",
            "{town} Family Practice",
            "{brand} Primary Care Ltd",
        ),
        (
            "{word} Surgery",
            "{word} Medical Centre",
            "{town} Health Centre",
            "{word} Lane Surgery",
            "{town} Medical Practice",
        ),
    ),
    ProviderKind(
        12,
        1.3,
        60,
        ((DENTAL, 1.0),),
        ("{brand} Dental Group Ltd", "{brand} Dental Care Limited", "{brand} Dentistry Ltd"),
        (
            "{word} Dental Practice",
            "{brand} Dental - {town}",
            "{word} Dental Care",
            "{town} Dental Surgery",
        ),
    ),
    ProviderKind(
        3,
        1.5,
        30,
        ((HOSPITAL, 0.8), (COMMUNITY, 0.2)),
        (
            "{brand} Healthcare Ltd",
            "{brand} Hospitals Limited",
            "{brand} Health Group plc",
            "{brand} Clinics Ltd",
        ),
        ("{brand} {town} Hospital", "{word} Hospital", "{word} Clinic", "{brand} Clinic {town}"),
    ),
    ProviderKind(
        2,
        3.0,
        3,
        ((HOSPICE, 1.0),),
        ("{brand} Hospice Trust", "{town} Hospice Care", "{brand} Hospice Foundation"),
        ("{word} Hospice", "{town} Hospice", "{word} House Hospice"),
    ),
    ProviderKind(
        4,
        1.7,
        15,
        ((COMMUNITY, 0.55), (COMMUNITY_MH, 0.45)),
        (
            "{brand} Community Health CIC",
            "{brand} Health Services Ltd",
            "{brand} Community Interest Company",
        ),
        (
            "{brand} Community Services - {town}",
            "{town} Community Health Team",
            "{word} Community Mental Health Service",
            "{town} Wellbeing Service",
        ),
    ),
)

# Share of locations by region, roughly as in the CQC register, and a small effect on scores.
REGION_WEIGHTS: dict[str, float] = {
    "London": 14,
    "South East": 17,
    "South West": 11,
    "East": 11,
    "East Midlands": 9,
    "West Midlands": 10,
    "North East": 5,
    "North West": 13,
    "Yorkshire & Humberside": 10,
}
REGION_EFFECTS: dict[str, float] = {
    "London": -0.06,
    "South East": 0.03,
    "South West": 0.05,
    "East": 0.0,
    "East Midlands": -0.05,
    "West Midlands": -0.04,
    "North East": 0.08,
    "North West": -0.02,
    "Yorkshire & Humberside": -0.03,
}
KEY_QUESTION_EFFECTS: dict[str, float] = {
    "Safe": -0.12,
    "Effective": 0.0,
    "Caring": 0.16,
    "Responsive": 0.06,
    "Well-led": -0.12,
}
# Which key questions an assessment covers: how many, and how likely each is to be picked.
KEY_QUESTION_COUNTS = {1: 20, 2: 27, 3: 10, 4: 6, 5: 37}
KEY_QUESTION_PICK = {
    "Safe": 1.0,
    "Effective": 0.5,
    "Caring": 0.35,
    "Responsive": 0.45,
    "Well-led": 0.95,
}

MEAN_QUALITY = 2.87
PROVIDER_SD = 0.2
LOCATION_SD = 0.22
ASSESSMENT_SD = 0.12
KEY_QUESTION_SD = 0.17
STATEMENT_SD = 0.5
POOR_RATINGS = ("Inadequate", "Requires improvement")

_STATEMENTS_OF: dict[str, tuple[ref.Statement, ...]] = {
    kq: tuple(s for s in ref.STATEMENTS if s.key_question == kq) for kq in ref.KEY_QUESTIONS
}
ENVIRONMENTAL_SUSTAINABILITY = 34

# Word lists: invented or generic words only, so no name is a real provider's.
_BRAND_START = (
    "Bright Silver Gold Clear North Harbour Amber Blue Green Kind True Warm Still High Fair "
    "Oak Willow Hazel Copper Heather Meadow Lantern Tide Cloud Star Moor Vale Brook Rose "
    "Elder Swan Lark Wren Dawn Ever Hollin Marsh Fern Holm"
).split()
_BRAND_END = (
    "water birch crest field view light leaf gate stone bridge haven wood bank lea mead "
    "hollow ford well stream wick dale moor"
).split()
_PLACE_WORDS = (
    "Larkspur Bluebell Foxglove Heather Primrose Meadowsweet Campion Clover Cowslip Hawthorn "
    "Juniper Rowan Willow Alder Hazel Linden Aspen Beech Cedar Holly Laurel Marigold Poppy "
    "Sorrel Tansy Yarrow Thistle Wren Kestrel Skylark Lapwing Heron Kingfisher Swallow "
    "Meadow Riverside Hillcrest Greenacre Fairholme Oakwood Elmfield Ashdene Beechwood "
    "Birchfield Chestnut Maple Mulberry Sycamore Lavender Rosemary Bramble Fernlea Ivydene "
    "Moorside Brookfield Westcroft Eastleigh Southgate Northolme Harebell Teasel Speedwell "
    "Celandine Woodruff Burdock Vetchley Sedgemoor Coppice Fieldfare Redwing Linnet"
).split()
_STREET_ENDS = (
    "Road Lane Street Avenue Close Way Drive Crescent Gardens Grove Terrace Walk Rise Mews"
).split()
_TOWN_START = (
    "Amber Bramble Cinder Dapple Elder Fallow Gorse Heron Ivy Juniper Kestrel Linnet Marram "
    "Nettle Otter Pebble Quill Rowan Sorrel Teasel Umber Vetch Willow Yarrow Thrush Bracken"
).split()
_TOWN_END = "bury combe den field ford ham hurst ley mere stead ton wick borough worth".split()
_POSTCODE_UNIT = "ABDEFGHJLNPQRSTUWXYZ"

# Evidence sentences by score: the first of each list names the statement's topic.
_LEADS: dict[int, tuple[str, ...]] = {
    4: (
        "The service was outstanding in {topic}, and {people} told us it made a real "
        "difference to their lives.",
        "Leaders had embedded an exceptional approach to {topic}, and staff were proud of "
        "what they had achieved.",
        "We found exceptional practice in {topic}, which other services could learn from.",
    ),
    3: (
        "The service had effective systems for {topic}.",
        "Staff understood their responsibilities for {topic} and followed the provider's policies.",
        "Leaders monitored {topic} through regular audits and acted on what they found.",
        "{People} told us they were happy with how the service managed {topic}.",
    ),
    2: (
        "The service did not always have effective arrangements for {topic}.",
        "We found inconsistencies in how staff approached {topic}.",
        "Records relating to {topic} were not always complete or up to date.",
        "The provider had not made sure that {topic} was consistently well managed.",
    ),
    1: (
        "We found significant shortfalls in {topic}, which placed {people} at risk of harm.",
        "The provider had failed to make sure that {topic} was managed safely.",
        "There were no effective systems for {topic}, and concerns we raised at previous "
        "assessments had not been addressed.",
    ),
}
_DETAILS: dict[int, tuple[str, ...]] = {
    4: (
        "{People} and their families spoke highly of the service and described staff as "
        "going above and beyond.",
        "Staff gave us many examples of innovative practice and shared their learning with "
        "other services.",
        "Feedback from partners was consistently very positive.",
        "Audits showed sustained high performance over the last {months} months.",
        "The provider worked with {people} to design improvements and reviewed them regularly.",
        "Staff told us they felt valued and were encouraged to try new ideas.",
        "Leaders used feedback from {people} to shape the service, and could show us the "
        "difference it had made.",
    ),
    3: (
        "{People} told us they were happy with the care they received.",
        "Records we reviewed were mostly complete and up to date.",
        "Staff told us they felt supported by their managers and received the training they "
        "needed.",
        "Partners told us the service worked well with them.",
        "There were some minor areas for improvement, which leaders were already addressing.",
        "Policies and procedures were in place and had been reviewed in the last {months} months.",
        "Staff knew how to raise concerns and were confident these would be acted on.",
        "The provider had a clear plan for further improvement.",
    ),
    2: (
        "Some {people} told us they did not always feel listened to.",
        "Staff did not always receive the training they needed, and some were unsure of the "
        "provider's procedures.",
        "Audits had not identified all of the shortfalls we found.",
        "Leaders were aware of some of the issues and had started to make improvements, but "
        "these were not yet embedded.",
        "Feedback from partners was mixed.",
        "Staff told us they were often too busy to spend time with {people}.",
        "Some actions from the last {months} months of audits were still outstanding.",
    ),
    1: (
        "{People} and their relatives raised serious concerns with us.",
        "Staff had not received appropriate training and did not understand their "
        "responsibilities.",
        "Records were incomplete, inaccurate or missing.",
        "Governance systems had not identified or addressed the risks we found.",
        "Leaders had not acted on concerns raised by staff and partners.",
        "This was a breach of legal regulation, and we have asked the provider to take action.",
        "Incidents had not been investigated, so opportunities to learn were missed.",
    ),
}
_NOT_ENOUGH_EVIDENCE = (
    "We did not collect enough evidence from {people} about this quality statement to express "
    "their views in this report."
)
_SUMMARIES: dict[str, tuple[str, ...]] = {
    "Outstanding": (
        "The service was exceptional in this area.",
        "{People} were at the heart of everything the service did.",
        "Leaders and staff shared a strong commitment to continuous improvement.",
    ),
    "Good": (
        "The service was well run in this area.",
        "{People} received care that met their needs.",
        "Leaders had good oversight of the quality of the service.",
        "Staff worked well together and with other services.",
    ),
    "Requires improvement": (
        "The service needed to make improvements in this area.",
        "We found shortfalls that the provider had not identified.",
        "Leaders had started to address the issues, but further work was needed.",
    ),
    "Inadequate": (
        "We found significant shortfalls in this area.",
        "{People} were at risk of harm.",
        "The provider had not acted on known risks, and we have asked for an action plan.",
    ),
}
# What each statement's evidence talks about.
TOPICS: dict[int, str] = {
    1: "learning from incidents and safety events",
    2: "safe systems, pathways and transitions between services",
    3: "safeguarding people from abuse and neglect",
    4: "involving people in managing risks to their care",
    5: "the safety of the premises and equipment",
    6: "staffing levels and staff training",
    7: "infection prevention and control",
    8: "the management of medicines",
    9: "assessing people's needs",
    10: "delivering care in line with current evidence-based guidance",
    11: "joint working between staff, teams and services",
    12: "supporting people to live healthier lives",
    13: "monitoring and improving outcomes for people",
    14: "consent to care and treatment",
    15: "treating people with kindness, compassion and dignity",
    16: "treating people as individuals",
    17: "supporting people's independence, choice and control",
    18: "responding to people's immediate needs",
    19: "the wellbeing of staff",
    20: "person-centred care",
    21: "continuity of care and joined-up working with other services",
    22: "providing accessible information",
    23: "listening to and involving people",
    24: "equity in access to the service",
    25: "equity in people's experiences and outcomes",
    26: "planning for people's future care, including at the end of life",
    27: "a shared direction and culture",
    28: "capable, compassionate and inclusive leadership",
    29: "freedom to speak up",
    30: "workforce equality, diversity and inclusion",
    31: "governance, management and sustainability",
    32: "partnerships with the wider community",
    33: "learning, improvement and innovation",
    34: "environmental sustainability",
}


@dataclass
class _Provider:
    name: str
    brand: str
    kind: ProviderKind
    effect: float
    home_region: str


@dataclass
class _Location:
    number: int
    name: str
    service: ServiceType
    address: str
    postcode: str
    phone: str
    region: str


class _Model:
    """The draws that make up one corpus; every draw comes from one random.Random(seed)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.provider_names: set[str] = set()
        self.location_keys: set[tuple[str, str]] = set()
        self.location_names: set[str] = set()
        self.regions = list(REGION_WEIGHTS)
        self.region_weights = list(REGION_WEIGHTS.values())
        self.areas = {
            r: sorted(a for a, x in ref.POSTCODE_AREA_REGION.items() if x == r) for r in ref.REGIONS
        }
        self.kind_weights = [k.weight for k in PROVIDER_KINDS]

    # Providers and locations -----------------------------------------------------------
    def provider(self, remaining: int) -> tuple[_Provider, int]:
        rng = self.rng
        kind = rng.choices(PROVIDER_KINDS, self.kind_weights)[0]
        size = min(int((1.0 - rng.random()) ** (-1 / kind.alpha)), kind.max_size, remaining)
        home = rng.choices(self.regions, self.region_weights)[0]
        town = self.town(rng.choice(self.areas[home]))
        for attempt in range(50):
            brand = rng.choice(_BRAND_START) + rng.choice(_BRAND_END)
            name = rng.choice(kind.provider_names).format(brand=brand, town=town)
            if attempt > 10:
                name = f"{name} ({rng.choice(_TOWN_START)}{rng.choice(_TOWN_END)})"
            if name not in self.provider_names:
                break
        self.provider_names.add(name)
        effect = rng.gauss(0.0, PROVIDER_SD)
        return _Provider(name, brand, kind, effect, home), size

    def location(self, provider: _Provider, number: int) -> _Location:
        rng = self.rng
        services, weights = zip(*provider.kind.services, strict=True)
        service = rng.choices(services, weights)[0]
        if rng.random() < 0.5:
            region = provider.home_region
        else:
            region = rng.choices(self.regions, self.region_weights)[0]
        area = rng.choice(self.areas[region])
        town = self.town(area)
        for _ in range(20):
            name = rng.choice(provider.kind.location_names).format(
                word=rng.choice(_PLACE_WORDS), brand=provider.brand, town=town
            )
            if name not in self.location_names:
                break
        self.location_names.add(name)
        while True:
            postcode = self.postcode(area)
            if (name, postcode) not in self.location_keys:
                break
        self.location_keys.add((name, postcode))
        street = f"{rng.choice(_PLACE_WORDS)} {rng.choice(_STREET_ENDS)}"
        address = f"{rng.randint(1, 240)} {street}, {town}"
        if rng.random() < 0.15:
            address = f"{rng.choice(_PLACE_WORDS)} House, {address}"
        phone = f"(01632) 960{rng.randrange(1000):03d}"
        return _Location(number, name, service, address, postcode, phone, region)

    def postcode(self, area: str) -> str:
        rng = self.rng
        district = rng.randint(1, 9) if rng.random() < 0.4 else rng.randint(10, 29)
        unit = rng.choice(_POSTCODE_UNIT) + rng.choice(_POSTCODE_UNIT)
        return f"{area}{district} {rng.randint(0, 9)}{unit}"

    @staticmethod
    def town(area: str) -> str:
        """A fictional post town for a postcode area; the same for every seed."""
        code = zlib.crc32(area.encode())
        return _TOWN_START[code % len(_TOWN_START)] + _TOWN_END[(code >> 8) % len(_TOWN_END)]

    # Assessments -------------------------------------------------------------------------
    def first_date(self) -> dt.date:
        span = (LAST_ASSESSMENT - FIRST_ASSESSMENT).days
        # Assessments picked up through 2024 and 2025: weight later dates more.
        day = int(span * self.rng.random() ** 0.8)
        return FIRST_ASSESSMENT + dt.timedelta(days=day)

    def published(self, assessed: dt.date) -> dt.date | None:
        published = assessed + dt.timedelta(days=self.rng.randint(30, 122))
        return published if published <= PUBLISHED_BY else None

    def next_date(self, assessed: dt.date, overall: str) -> dt.date | None:
        rng = self.rng
        if overall in POOR_RATINGS:
            if rng.random() > 0.85:
                return None
            gap = rng.randint(120, 330)
        else:
            if rng.random() > 0.5:
                return None
            gap = rng.randint(200, 560)
        return assessed + dt.timedelta(days=gap)

    def key_questions(self) -> list[str]:
        rng = self.rng
        count = rng.choices(list(KEY_QUESTION_COUNTS), list(KEY_QUESTION_COUNTS.values()))[0]
        chosen: list[str] = []
        pool = dict(KEY_QUESTION_PICK)
        while len(chosen) < count:
            kq = rng.choices(list(pool), list(pool.values()))[0]
            chosen.append(kq)
            del pool[kq]
        return [kq for kq in ref.KEY_QUESTIONS if kq in chosen]

    def statements(self, kq: str, service: ServiceType) -> list[ref.Statement]:
        rng = self.rng
        statements = list(_STATEMENTS_OF[kq])
        if kq == "Well-led":
            dropped = 0.85 if service.adult_social_care else 0.4
            if rng.random() < dropped:
                statements = [s for s in statements if s.id != ENVIRONMENTAL_SUSTAINABILITY]
        drop = rng.choices((0, 1, 2), (72, 20, 8))[0]
        drop = min(drop, len(statements) - (len(statements) * 3 + 4) // 5)
        for _ in range(drop):
            statements.pop(rng.randrange(len(statements)))
        return statements

    def evidence(self, statement: ref.Statement, score: int, people: str) -> str:
        rng = self.rng
        words = {
            "topic": TOPICS[statement.id],
            "people": people,
            "People": people.capitalize(),
            "months": rng.choice((6, 12, 18)),
        }
        details = rng.sample(_DETAILS[score], rng.randint(1, 4))
        if score < 4 and rng.random() < 0.2:
            details[-1] = rng.choice(_DETAILS[score + 1])
        sentences = [rng.choice(_LEADS[score]), *details]
        text = [s.format(**words) for s in sentences]
        if len(text) >= 3 and rng.random() < 0.5:
            cut = rng.randint(1, len(text) - 1)
            paragraphs = [" ".join(text[:cut]), " ".join(text[cut:])]
        else:
            paragraphs = [" ".join(text)]
        if rng.random() < 0.06:
            paragraphs.insert(0, _NOT_ENOUGH_EVIDENCE.format(people=people))
        return "\n\n".join(paragraphs)


def _score(rng: random.Random, level: float) -> int:
    return min(4, max(1, int(level + rng.gauss(0.0, STATEMENT_SD) + 0.5)))


def overall_rating(ratings: list[str]) -> str:
    """Most common key question rating; a tie goes to the worse rating."""
    counts = Counter(ratings)
    return max(ref.RATINGS, key=lambda r: (counts[r], -ref.RATINGS.index(r)))


def mismatch_warning(name: str, stated: int, points: int, count: int) -> str:
    """The warning the report text parser records for a stated percentage that is off."""
    computed = ref.rounded_percentage(points, count)
    return f"{name}: stated {stated} but statements give {points}/{4 * count} = {computed}"


def demo_records(locations: int = DEFAULT_LOCATIONS, seed: int = DEFAULT_SEED) -> Iterator[Record]:
    """Records (see ingest.records) of the demo corpus, one per assessment, in file order."""
    model = _Model(seed)
    number = 0
    while number < locations:
        provider, size = model.provider(locations - number)
        for _ in range(size):
            number += 1
            location = model.location(provider, number)
            yield from _assessments(model, provider, location)


def _assessments(model: _Model, provider: _Provider, location: _Location) -> Iterator[Record]:
    rng = model.rng
    effect = (
        MEAN_QUALITY
        + provider.effect
        + REGION_EFFECTS[location.region]
        + location.service.effect
        + rng.gauss(0.0, LOCATION_SD)
    )
    assessed = model.first_date()
    for _ in range(3):
        published = model.published(assessed)
        if published is None:
            return
        level = effect + rng.gauss(0.0, ASSESSMENT_SD)
        record = _record(model, provider, location, assessed, published, level)
        yield record
        if record["overall_rating"] in POOR_RATINGS:
            effect += rng.uniform(0.25, 0.6)
        else:
            effect += rng.gauss(0.0, 0.08)
        next_date = model.next_date(assessed, record["overall_rating"])
        if next_date is None or next_date > LAST_ASSESSMENT:
            return
        assessed = next_date


def _record(
    model: _Model,
    provider: _Provider,
    location: _Location,
    assessed: dt.date,
    published: dt.date,
    level: float,
) -> Record:
    rng = model.rng
    service = location.service
    key_questions = []
    warnings = []
    for kq in model.key_questions():
        kq_level = level + KEY_QUESTION_EFFECTS[kq] + rng.gauss(0.0, KEY_QUESTION_SD)
        statements = []
        for statement in model.statements(kq, service):
            score = _score(rng, kq_level)
            evidence = model.evidence(statement, score, service.people)
            statements.append(
                {"id": statement.id, "name": statement.name, "score": score, "evidence": evidence}
            )
        points, count = sum(s["score"] for s in statements), len(statements)
        computed = ref.rounded_percentage(points, count)
        stated = computed
        if rng.random() < MISMATCH_RATE:
            # One point off either way, staying within the possible 25-100.
            step = rng.choice((-1, 1))
            stated = computed - step if not 25 <= computed + step <= 100 else computed + step
            warnings.append(mismatch_warning(kq, stated, points, count))
        key_questions.append(
            {
                "name": kq,
                "rating": ref.rating_for(points, count),
                "score": stated,
                "computed_score": computed,
                "published_date": published.isoformat(),
                "statements": statements,
            }
        )
    return {
        "source": f"{FILE_PREFIX}{location.number:06d}-{_slug(location.name)}-{assessed}.txt",
        "format": "report-text",
        "location_cqc_id": None,
        "provider_cqc_id": None,
        "location_name": location.name,
        "provider_name": provider.name,
        "service_types": [service.category, service.name],
        "service_type": service.name,
        "overall_rating": overall_rating([k["rating"] for k in key_questions]),
        "address": location.address,
        "postcode": location.postcode,
        "phone": location.phone,
        "region": None,
        "local_authority": None,
        "assessment_date": assessed.isoformat(),
        "published_date": published.isoformat(),
        "era": ref.era_for(assessed),
        "service_group": None,
        "key_questions": key_questions,
        "warnings": warnings,
    }


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _long_date(iso: str) -> str:
    day = dt.date.fromisoformat(iso)
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _listed(names: list[str]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + ", and " + names[-1]


def _summary(record: Record, kq: dict, people: str) -> str:
    """Key question summary; varied by a seed taken from the record, so rendering is pure."""
    key = f"{record['location_name']}|{record['assessment_date']}|{kq['name']}"
    rng = random.Random(zlib.crc32(key.encode()))
    statements = kq["statements"]
    reviewed = _listed([s["name"].lower() for s in statements])
    lines = _SUMMARIES[kq["rating"]]
    chosen = [lines[0], *rng.sample(lines[1:], rng.randint(0, len(lines) - 1))]
    text = [f"We reviewed {reviewed}."]
    text += [s.format(People=people.capitalize(), people=people) for s in chosen]
    for statement in rng.sample(statements, min(len(statements), rng.randint(1, 3))):
        paragraphs = statement["evidence"].split("\n\n")
        lead = (
            paragraphs[1] if paragraphs[0].startswith(_NOT_ENOUGH_EVIDENCE[:20]) else paragraphs[0]
        )
        first = lead.split(". ")[0].rstrip(".")
        text.append(f"{statement['name']}: {first}.")
    return f"{kq['name'].upper()} Key question summary: " + " ".join(text)


def render_report(record: Record) -> str:
    """A record as the text of a published report page (the layout of the seed report)."""
    category, *specific = record["service_types"]
    people = _PEOPLE.get(record["service_types"][-1], "people")
    lines = [f"• {category}", *(f"  • {name}" for name in specific), ""]
    lines += [record["location_name"], ""]
    lines += [f"Overall: {record['overall_rating']} read more about inspection ratings", ""]
    lines += [f"{record['address']}, {record['postcode']} {record['phone']}", ""]
    lines += ["Provided and run by:", record["provider_name"], ""]
    if zlib.crc32(f"{record['location_name']}|{record['postcode']}".encode()) % 50 == 0:
        lines += [
            "Important: This service was previously registered at a different address - see "
            "old profile",
            "",
        ]
    lines += [f"Report from {_long_date(record['assessment_date'])} assessment", ""]
    lines += ["On this page"]
    for kq in record["key_questions"]:
        lines += ["", kq["name"], "", kq["rating"], ""]
        lines += [f"Updated {_long_date(kq['published_date'])}", ""]
        lines += [_summary(record, kq, people), ""]
        lines += [
            f"This service scored {kq['score']} (out of 100) for this area. Find out what we "
            "look at when we assess this area and How we calculate these scores."
        ]
        for statement in kq["statements"]:
            lines += ["", statement["name"], "", f"Score: {statement['score']}", ""]
            lines.append(statement["evidence"])
    return "\n".join(lines) + "\n"


def write_demo_corpus(
    out_dir: Path,
    locations: int = DEFAULT_LOCATIONS,
    seed: int = DEFAULT_SEED,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write one report file per assessment into out_dir; the paths written, in order.

    Older demo files (named demo-*.txt) in out_dir that this run does not write are removed,
    so the folder always holds exactly one corpus. `progress(done, total)` is called about a
    hundred times at most.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    records = list(demo_records(locations, seed))
    total = len(records)
    step = max(1, total // 100)
    paths = []
    for done, record in enumerate(records, start=1):
        path = out_dir / record["source"]
        path.write_bytes(render_report(record).encode("utf-8"))
        paths.append(path)
        if progress is not None and (done % step == 0 or done == total):
            progress(done, total)
    written = set(paths)
    for stale in out_dir.glob(f"{FILE_PREFIX}*.txt"):
        if stale not in written:
            stale.unlink()
    return paths
