"""The demo corpus: fictional CQC assessment reports and API records from a statistical model.

The demo data is invented, not real. Figures marked [domain] come from
../shared/domain/README.md (CQC's framework, its arithmetic and what real CQC records look
like); the others are the model's own choices, picked to look like the register.

Providers and locations. Providers differ widely in size: about 70% run a single location and
the rest are chains whose sizes follow a heavy-tailed (Pareto) distribution up to a few dozen
locations. Each provider keeps to one line of business (care homes, homecare, supported
living, GP practices, dentists, independent hospitals, hospices or community services), which
sets its locations' service types, 10 in all. Locations are spread over the 9 CQC regions
[domain] roughly as the register is, chains clustering around a home region, and have
fictional names and streets with a real-format postcode from their region's postcode areas.

Two sources, as a user who loads both would have them. Most providers' locations come as
assessment report text, one file per assessment. The locations of every dental provider and
of 15% of the others come as CQC API location records instead (JSON in the shape the API
gives, one file per provider holding its provider record and its location records), because
report text cannot say what only the API says:
- Commissioner geography [domain]: every API location record carries its local authority
  (`localAuthority`), integrated care board (`onspdIcbCode`, `onspdIcbName`) and postcode
  coordinates (`onspdLatitude`, `onspdLongitude`). So that every location has them, the
  report text locations come with their API location records too, as the API's register
  gives them without ratings (the ratings are the reports'): identity, address, service
  types, region, registration and geography, in files of up to REGISTER_FILE_LOCATIONS
  records. They leave out `providerId`: the reports name the provider, not its CQC id, and a
  record naming both would give the location two providers. The loader matches each report
  to its record by name and postcode, and the location takes its CQC id. The places are
  real (demo_places.toml): each postcode area sits at one real town of its region, with the
  town's local authority, ICB and approximate coordinates, a location within about 3 km of
  it; the post towns in addresses stay fictional.
- Dentists, a service CQC does not rate [domain]: no score, no percentage and no rating at
  any level; each key question carries the judgement "Regulations met" or, where its level
  falls below BREACH_LEVEL, "Not all regulations met" (about 1 dental assessment in 8, most
  of them at struggling practices). The API's percentage reads "0" and its rating is empty
  [domain].
- Assessment service groups [domain]: each SAF rating belongs to a group ("Care Homes",
  "Homecare", "General Practice", "Dental" as in CQC's records; the other groups' names are
  the model's, unverified). Half the API-recorded care homes also run a homecare service,
  assessed and rated apart as a second group (about 2% of all locations); such a location has
  no single SAF rating.
- Registration [domain]: every API location has a registration date; 25% of those with room
  for it (4-5% of all locations) were deregistered between 30 days after their last report
  and the snapshot date, with the date. The domain README's 235 of 451 deregistered records
  of one local authority count closures since 2011; the demo's locations were all assessed
  under the SAF, so far fewer of them have closed since.

Assessments. Each location (each service group) has one to three assessments between 21
November 2023 [domain] and October 2026, each published one to four months later. Its first
assessment rates all five key questions; a later one covers one to five (most often all
five, or Safe and Well-led). A key question scores most of its statements (adult social care
usually leaves out environmental sustainability [domain]). A statement's score (1-4) is a
rounded draw around a quality level made of a national mean plus effects of the provider,
the region, the service type, the location (6% of locations are struggling) and the key
question (Caring higher, Safe and Well-led lower). After an overall rating of Requires
improvement or Inadequate (for a dentist, a regulation not met) a location improves, and it
is assessed again sooner. Dentists are inspected less often: a second assessment for 10% of
them, or 80% after a regulation not met.

Carried-forward scores [domain]. Before 2 December 2024 (the evidence-category era) a
statement not re-assessed got a score from the previous rating of its key question (4
Outstanding, 3 Good, 2 Requires improvement, 1 Inadequate), and the report says so in the
words the parser reads ("based on the previous rating"; the API's status "Not Assessed"). In
the real records of the domain README 79 of 99 statement scores (80%) are carried forward,
whole key questions among them. The demo follows that shape: in the evidence-category era an
assessment re-assesses some statements of each key question it covers (one in 40% of key
questions, two in 25%, three in 15%, four or five in 20%), the other statements carry the
previous score, and on a location's first assessment the key questions it did not cover are
shown with every score carried forward, as the API shows them. About 75% of the statement
scores of the era are carried forward (tests/ingest/test_demo.py holds it within 68-82%);
from December 2024 none are. The previous rating of a key question is its latest in the
corpus, or before that a pre-SAF rating the model draws from the location's quality level.

Ratings. Percentages and ratings follow CQC's published arithmetic [domain], except that about
1 key question in 100 states a percentage one point off, as real reports now and then do.
The overall rating of an assessment follows CQC's aggregation principles
(ingest.reference.overall_rating_for) over the location's current key question ratings:
those of this assessment, and for the key questions it did not cover their latest earlier
ratings, as CQC aggregates a focused inspection with the ratings it did not change. Since a
location's first assessment rates all five, every overall rating can be worked out from the
corpus itself. About two thirds of key question ratings come out Good, a quarter Requires
improvement and 2-5% each Outstanding and Inadequate; overall ratings about 55% Good, 35%
Requires improvement (two key questions below Good are enough, and a location below Good in
one is often below in another) and 3-4% each Outstanding and Inadequate. Evidence text is
put together from sentence templates that fit the score and name the statement's topic.

Fictional identifiers. Phone numbers are in Ofcom's range for drama; CQC ids have the real
form ("1-" and digits [domain]) with a leading zero, which no real id has. Every draw comes
from one random.Random(seed), so the same seed and size give byte-identical files; the
geography and the register's registration dates draw nothing (they come from the places
table and hashes), so the scores are those of a corpus without them.

`demo_records` yields the assessment records (ingest.records) of the whole corpus, as the
readers give them (not the register's, which hold no assessment); `render_report` turns a
report text record into report text laid out like a published report page;
`write_demo_corpus` writes the files; `build_database` loads them through the real loader.
Words and sentence templates live in demo_text.toml beside this module, the places in
demo_places.toml.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import math
import random
import re
import shutil
import tempfile
import tomllib
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from ingest import reference as ref
from ingest.records import Record, mismatch_warning

DEFAULT_LOCATIONS = 600
DEFAULT_SEED = 7

FIRST_ASSESSMENT = ref.SAF_START
LAST_ASSESSMENT = dt.date(2026, 10, 31)
# The corpus is a snapshot: an assessment is in it only once its report is published.
PUBLISHED_BY = dt.date(2026, 11, 20)
MISMATCH_RATE = 0.01  # key questions stating a percentage one point off the computed one
FILE_PREFIX = "demo-"
REGISTER_PREFIX = f"{FILE_PREFIX}api-register-"

_TEXT = tomllib.loads(Path(__file__).with_name("demo_text.toml").read_text(encoding="utf-8"))
_WORDS: dict[str, list[str]] = _TEXT["words"]
_LEADS = {int(k): v for k, v in _TEXT["evidence"]["lead"].items()}
_DETAILS = {int(k): v for k, v in _TEXT["evidence"]["detail"].items()}
_NOT_ENOUGH_EVIDENCE: str = _TEXT["evidence"]["not_enough"]
_SUMMARIES: dict[str, list[str]] = _TEXT["summary"]
_CARRIED: dict[str, list[str]] = _TEXT["carried_forward"]
_SCORE_WORDS = {int(k): v for k, v in _TEXT["api"]["score"].items()}
_TOPICS = {int(k): v for k, v in _TEXT["topics"].items()}
_PLACES_TEXT = tomllib.loads(
    Path(__file__).with_name("demo_places.toml").read_text(encoding="utf-8")
)
_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_POSTCODE_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


class Place(NamedTuple):
    """Where a postcode area sits (demo_places.toml): a real town, its council and its ICB."""

    town: str
    local_authority: str
    icb_code: str
    icb_name: str
    latitude: float
    longitude: float


PLACES: dict[str, Place] = {
    area: Place(town, council, icb, _PLACES_TEXT["icbs"][icb], latitude, longitude)
    for area, (town, council, icb, latitude, longitude) in _PLACES_TEXT["areas"].items()
}
JITTER_DEGREES = 0.02  # at most this far (of latitude: 2.2 km) north or east of its area's town
REGISTER_FILE_LOCATIONS = 1000  # register records (of report text locations) per file


class ServiceType(NamedTuple):
    category: str  # the bullet line of a report
    name: str  # the indented line under it: the regulated service type
    adult_social_care: bool
    people: str  # how reports refer to the people using the service
    effect: float  # added to the quality level of its locations
    label: str  # the API's short label (gacServiceTypes[].name)
    group: str  # the assessment service group its SAF ratings belong to (API records)
    organisation: str  # the API's location type
    rated: bool = True  # False: CQC does not rate it (judgements instead)


_ASC, _GP, _DENTAL, _INDEPENDENT = (
    "Social Care Org",
    "Primary Medical Services",
    "Primary Dental Care",
    "Independent Healthcare Org",
)
CARE_HOME_NURSING = ServiceType(
    "Care home", "Care home service with nursing", True, "people", -0.1, "Nursing homes",
    "Care Homes", _ASC,
)  # fmt: skip
CARE_HOME = ServiceType(
    "Care home", "Care home service without nursing", True, "people", 0.0, "Residential homes",
    "Care Homes", _ASC,
)  # fmt: skip
HOMECARE = ServiceType(
    "Homecare agency", "Domiciliary care service", True, "people", -0.04, "Homecare agencies",
    "Homecare", _ASC,
)  # fmt: skip
SUPPORTED_LIVING = ServiceType(
    "Supported living", "Supported living service", True, "people", 0, "Supported living",
    "Supported Living", _ASC,
)  # fmt: skip
GP = ServiceType(
    "Doctors/GPs", "Doctors consultation service", False, "patients", 0.04, "Doctors/Gps",
    "General Practice", _GP,
)  # fmt: skip
DENTAL = ServiceType(
    "Dentist", "Dental service", False, "patients", 0.12, "Dentist", "Dental", _DENTAL,
    rated=False,
)  # fmt: skip
HOSPITAL = ServiceType(
    "Hospital", "Independent hospital", False, "patients", 0.0, "Hospital",
    "Independent Hospitals", _INDEPENDENT,
)  # fmt: skip
HOSPICE = ServiceType(
    "Hospice", "Hospice services", False, "people", 0.3, "Hospice", "Hospices", _INDEPENDENT,
)  # fmt: skip
COMMUNITY = ServiceType(
    "Community services", "Community healthcare service", False, "patients", 0,
    "Community services - Healthcare", "Community Health", _INDEPENDENT,
)  # fmt: skip
COMMUNITY_MH = ServiceType(
    "Community services", "Community based services for people with mental health needs", False,
    "people", -0.06, "Community services - Mental Health", "Community Mental Health", _INDEPENDENT,
)  # fmt: skip
SERVICE_TYPES = (
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
    names: str  # section of demo_text.toml with its name patterns
    weight: float  # share of providers of this kind
    single: float  # share of them that run a single location
    alpha: float  # chain sizes: P(size >= k) falls as (k / 2) ** -alpha, from 2 to max_size
    max_size: int
    services: tuple[tuple[ServiceType, float], ...]


PROVIDER_KINDS = (
    ProviderKind("care_homes", 30, 0.68, 1.1, 60, ((CARE_HOME, 0.62), (CARE_HOME_NURSING, 0.38))),
    ProviderKind("homecare", 22, 0.72, 1.15, 30, ((HOMECARE, 0.85), (SUPPORTED_LIVING, 0.15))),
    ProviderKind("supported_living", 8, 0.7, 1.2, 25, ((SUPPORTED_LIVING, 0.8), (HOMECARE, 0.2))),
    ProviderKind("gp", 17, 0.85, 2.5, 6, ((GP, 1.0),)),
    ProviderKind("dental", 11, 0.7, 1.1, 40, ((DENTAL, 1.0),)),
    ProviderKind("hospitals", 4, 0.6, 1.4, 25, ((HOSPITAL, 0.8), (COMMUNITY, 0.2))),
    ProviderKind("hospices", 3, 0.9, 3.0, 3, ((HOSPICE, 1.0),)),
    ProviderKind("community", 5, 0.7, 1.6, 12, ((COMMUNITY, 0.55), (COMMUNITY_MH, 0.45))),
)
CHAIN_HOME_REGION = 0.4  # share of a chain's locations in its home region, beyond chance

# What comes as CQC API records (see the module doc).
API_PROVIDERS = 0.15  # share of the providers of rated services; every dental provider too
TWO_GROUPS = 0.5  # share of API-recorded care homes with a homecare service group as well
SECOND_GROUP = {CARE_HOME.name: HOMECARE, CARE_HOME_NURSING.name: HOMECARE}
DEREGISTERED = 0.25  # share of API-recorded locations deregistered after their last report
DEREGISTERED_AFTER = 30  # days after the last report, at the soonest
FIRST_REGISTRATION = dt.date(2010, 10, 1)  # the register under the Health and Social Care Act

# Share of locations by region (roughly as in the CQC register) and a small effect on scores.
REGION_WEIGHTS = {
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
REGION_EFFECTS = {
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
KEY_QUESTION_EFFECTS = {
    "Safe": -0.12,
    "Effective": 0.0,
    "Caring": 0.16,
    "Responsive": 0.06,
    "Well-led": -0.12,
}
# How many key questions a later assessment covers, and how likely each is to be among them.
KEY_QUESTION_COUNTS = {1: 20, 2: 27, 3: 10, 4: 6, 5: 37}
KEY_QUESTION_PICK = {
    "Safe": 1.0,
    "Effective": 0.5,
    "Caring": 0.35,
    "Responsive": 0.45,
    "Well-led": 0.95,
}
# Evidence-category era: statements re-assessed in a key question the assessment covers (at
# most all of them); the others carry the score of the previous rating.
REASSESSED_STATEMENTS = {1: 40, 2: 25, 3: 15, 4: 10, 5: 10}
CARRIED_SCORE = {"Outstanding": 4, "Good": 3, "Requires improvement": 2, "Inadequate": 1}
PRE_SAF_SD = 0.25  # spread of the pre-SAF key question level around the location's quality

# The quality level: a statement scores round(level + noise), clipped to 1-4.
MEAN_QUALITY = 2.75
PROVIDER_SD = 0.18
LOCATION_SD = 0.2
STRUGGLING = (0.06, -1.2)  # share of locations that are struggling, and by how much
ASSESSMENT_SD = 0.12
KEY_QUESTION_SD = 0.15
STATEMENT_SD = 0.42
IMPROVEMENT_AFTER_POOR = (0.15, 0.5)  # uniform range added after a poor overall rating
POOR_RATINGS = ("Inadequate", "Requires improvement")
# A dental key question whose level falls below this does not meet every regulation.
BREACH_LEVEL = 2.0
MET, NOT_MET = ref.JUDGEMENTS
# Chance of another assessment, and the days until it, after a poor or a good result:
# rated services, and services CQC does not rate (judged against the regulations).
REASSESSMENT = {True: (0.9, 120, 330), False: (0.7, 180, 480)}
REINSPECTION_UNRATED = {True: (0.8, 120, 300), False: (0.1, 365, 730)}

ENVIRONMENTAL_SUSTAINABILITY = 34
_STATEMENTS_OF = {
    kq: tuple(s for s in ref.STATEMENTS if s.key_question == kq) for kq in ref.KEY_QUESTIONS
}
# The evidence categories an API record files a statement's paragraphs under, in order:
# people's experience, processes, feedback from staff and leaders, observation.
_EVIDENCE_CATEGORIES = ("1", "5", "2", "4")


@dataclass
class _Provider:
    name: str
    brand: str
    kind: ProviderKind
    effect: float
    home_region: str
    number: int
    api: bool  # its locations come as CQC API records


@dataclass
class _Location:
    number: int
    name: str
    service: ServiceType
    address: str
    postcode: str
    phone: str
    region: str
    area: str  # postcode area, a key of PLACES


@dataclass
class _Statement:
    statement: ref.Statement
    score: int | None  # None: judged against the regulations
    evidence: str | None
    carried: bool = False  # the score is the previous rating's
    judgement: str | None = None


@dataclass
class _KeyQuestion:
    name: str
    rating: str | None
    stated: int | None
    computed: int | None
    statements: list[_Statement]
    judgement: str | None = None
    carried: bool = False  # not re-assessed: every score is the previous rating's


@dataclass
class _Assessment:
    assessed: dt.date
    published: dt.date
    key_questions: list[_KeyQuestion]
    overall: str | None
    poor: bool  # rated Requires improvement or Inadequate overall, or a regulation not met
    warnings: list[str] = field(default_factory=list)


class _Model:
    """The draws that make up one corpus; every draw comes from one random.Random(seed)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.provider_names: set[str] = set()
        self.location_names: set[str] = set()
        self.location_keys: set[tuple[str, str]] = set()
        self.providers = 0
        self.regions = list(REGION_WEIGHTS)
        self.region_weights = list(REGION_WEIGHTS.values())
        self.kind_weights = [k.weight for k in PROVIDER_KINDS]
        self.areas = {
            region: sorted(a for a, r in ref.POSTCODE_AREA_REGION.items() if r == region)
            for region in ref.REGIONS
        }

    def provider(self, remaining: int) -> tuple[_Provider, int]:
        """A new provider and how many locations it runs (at most `remaining`)."""
        rng = self.rng
        kind = rng.choices(PROVIDER_KINDS, self.kind_weights)[0]
        size = 1
        if rng.random() >= kind.single:  # a chain: Pareto from 2, truncated at max_size
            beyond = (kind.max_size / 2) ** -kind.alpha
            size = int(2 * (1.0 - rng.random() * (1.0 - beyond)) ** (-1 / kind.alpha))
        home = rng.choices(self.regions, self.region_weights)[0]
        town = _town(rng.choice(self.areas[home]))
        patterns = _TEXT["names"][kind.names]["providers"]
        for attempt in range(40):
            brand = rng.choice(_WORDS["brand_start"]) + rng.choice(_WORDS["brand_end"])
            name = rng.choice(patterns).format(brand=brand, town=town)
            if attempt >= 20:  # a crowded name space (a national-scale corpus): add a place
                name = f"{name} ({_town(rng.choice(self.areas[home]))})"
            if name not in self.provider_names:
                break
        self.provider_names.add(name)
        rated = all(service.rated for service, _ in kind.services)
        api = not rated or rng.random() < API_PROVIDERS
        self.providers += 1
        effect = rng.gauss(0.0, PROVIDER_SD)
        provider = _Provider(name, brand, kind, effect, home, self.providers, api)
        return provider, min(size, remaining)

    def location(self, provider: _Provider, number: int) -> _Location:
        rng = self.rng
        services, weights = zip(*provider.kind.services, strict=True)
        service = rng.choices(services, weights)[0]
        region = provider.home_region
        if rng.random() >= CHAIN_HOME_REGION:
            region = rng.choices(self.regions, self.region_weights)[0]
        area = rng.choice(self.areas[region])
        town = _town(area)
        patterns = _TEXT["names"][provider.kind.names]["locations"]
        for _ in range(10):
            word = rng.choice(_WORDS["place"])
            name = rng.choice(patterns).format(word=word, brand=provider.brand, town=town)
            if name not in self.location_names:
                break
        self.location_names.add(name)
        postcode = self.postcode(area)
        while (name, postcode) in self.location_keys:  # the same name and postcode: one location
            postcode = self.postcode(area)
        self.location_keys.add((name, postcode))
        street = f"{rng.choice(_WORDS['place'])} {rng.choice(_WORDS['street_end'])}"
        address = f"{rng.randint(1, 240)} {street}, {town}"
        if rng.random() < 0.15:
            address = f"{rng.choice(_WORDS['place'])} House, {address}"
        phone = f"(01632) 960{rng.randrange(1000):03d}"  # Ofcom's range for drama
        return _Location(number, name, service, address, postcode, phone, region, area)

    def postcode(self, area: str) -> str:
        rng = self.rng
        district = rng.randint(1, 9) if rng.random() < 0.4 else rng.randint(10, 29)
        unit = rng.choice(_POSTCODE_UNIT_LETTERS) + rng.choice(_POSTCODE_UNIT_LETTERS)
        return f"{area}{district} {rng.randint(0, 9)}{unit}"

    def quality(self, provider: _Provider, location: _Location) -> float:
        """The location's quality level, before the effect of its service type."""
        rng = self.rng
        quality = (
            MEAN_QUALITY
            + provider.effect
            + REGION_EFFECTS[location.region]
            + rng.gauss(0.0, LOCATION_SD)
        )
        share, effect = STRUGGLING
        if rng.random() < share:
            quality += effect
        return quality

    def first_assessment(self) -> tuple[dt.date, dt.date]:
        """(assessment date, publication date) of a location's first assessment."""
        rng = self.rng
        delay = dt.timedelta(days=rng.randint(30, 122))
        latest = min(LAST_ASSESSMENT, PUBLISHED_BY - delay)
        # Slightly earlier than uniform, leaving room for the assessments that follow.
        day = int((latest - FIRST_ASSESSMENT).days * rng.random() ** 1.1)
        assessed = FIRST_ASSESSMENT + dt.timedelta(days=day)
        return assessed, assessed + delay

    def next_assessment(
        self, assessed: dt.date, poor: bool, rated: bool = True
    ) -> tuple[dt.date, dt.date] | None:
        """The next assessment, sooner after a poor result; None when there is none (yet)."""
        rng = self.rng
        chance, shortest, longest = (REASSESSMENT if rated else REINSPECTION_UNRATED)[poor]
        if rng.random() >= chance:
            return None
        following = assessed + dt.timedelta(days=rng.randint(shortest, longest))
        published = following + dt.timedelta(days=rng.randint(30, 122))
        if following > LAST_ASSESSMENT or published > PUBLISHED_BY:
            return None
        return following, published

    def key_questions(self) -> list[str]:
        rng = self.rng
        count = rng.choices(list(KEY_QUESTION_COUNTS), list(KEY_QUESTION_COUNTS.values()))[0]
        pool = dict(KEY_QUESTION_PICK)
        chosen = []
        for _ in range(count):
            kq = rng.choices(list(pool), list(pool.values()))[0]
            chosen.append(kq)
            del pool[kq]
        return [kq for kq in ref.KEY_QUESTIONS if kq in chosen]

    def statements(self, kq: str, service: ServiceType) -> list[ref.Statement]:
        """Most of a key question's statements: now and then one or two are not scored."""
        rng = self.rng
        statements = list(_STATEMENTS_OF[kq])
        if kq == "Well-led":
            not_scored = 0.85 if service.adult_social_care else 0.4
            if rng.random() < not_scored:
                statements = [s for s in statements if s.id != ENVIRONMENTAL_SUSTAINABILITY]
        drop = rng.choices((0, 1, 2), (72, 20, 8))[0]
        for _ in range(min(drop, len(statements) - math.ceil(0.6 * len(statements)))):
            statements.pop(rng.randrange(len(statements)))
        return statements

    def reassessed(self, count: int) -> set[int]:
        """Positions of the statements an evidence-category-era assessment re-assessed."""
        rng = self.rng
        wanted = rng.choices(list(REASSESSED_STATEMENTS), list(REASSESSED_STATEMENTS.values()))[0]
        return set(rng.sample(range(count), min(wanted, count)))

    def evidence(self, statement: ref.Statement, score: int, people: str) -> str:
        rng = self.rng
        words = {
            "topic": _TOPICS[statement.id],
            "people": people,
            "People": people.capitalize(),
            "months": rng.choice((6, 12, 18)),
        }
        details = rng.sample(_DETAILS[score], rng.randint(1, 4))
        if score < 4 and rng.random() < 0.2:  # a brighter note now and then
            details[-1] = rng.choice(_DETAILS[score + 1])
        text = [s.format(**words) for s in (rng.choice(_LEADS[score]), *details)]
        paragraphs = [" ".join(text)]
        if len(text) >= 3 and rng.random() < 0.5:
            cut = rng.randint(1, len(text) - 1)
            paragraphs = [" ".join(text[:cut]), " ".join(text[cut:])]
        if rng.random() < 0.06:
            paragraphs.insert(0, _NOT_ENOUGH_EVIDENCE.format(people=people))
        return "\n\n".join(paragraphs)

    def carried_evidence(self, kq: str, rating: str) -> str:
        """What a report says of a score carried forward (the parser's 'based on the previous
        rating')."""
        template = self.rng.choice(_CARRIED["statement"])
        return template.format(key_question=kq, rating=rating.lower())


def coordinates(area: str, postcode: str) -> tuple[float, float]:
    """Latitude and longitude of a postcode of `area`: its area's town (PLACES), moved north
    and east by up to JITTER_DEGREES of latitude's length each, by a hash of the postcode."""
    place = PLACES[area]
    code = zlib.crc32(postcode.encode())
    north, east = ((part & 0xFFFF) / 0xFFFF * 2 - 1 for part in (code, code >> 16))
    stretch = 1 / math.cos(math.radians(place.latitude))  # a degree east is shorter
    return (
        round(place.latitude + north * JITTER_DEGREES, 6),
        round(place.longitude + east * JITTER_DEGREES * stretch, 6),
    )


def _town(area: str) -> str:
    """A fictional post town for a postcode area, the same for every seed."""
    code = zlib.crc32(area.encode())
    start, end = _WORDS["town_start"], _WORDS["town_end"]
    return start[code % len(start)] + end[(code >> 8) % len(end)]


def _pre_saf_rating(rng: random.Random, level: float) -> str:
    """A key question's rating before the corpus begins: the band of its level."""
    score = min(4, max(1, math.floor(level + rng.gauss(0.0, PRE_SAF_SD) + 0.5)))
    return {4: "Outstanding", 3: "Good", 2: "Requires improvement", 1: "Inadequate"}[score]


# The history of one location (or one service group) ---------------------------------------


def _history(model: _Model, service: ServiceType, quality: float) -> list[_Assessment]:
    """Its one to three assessments; the ratings current after each give its overall rating."""
    rng = model.rng
    quality += service.effect
    current = {
        kq: _pre_saf_rating(rng, quality + KEY_QUESTION_EFFECTS[kq]) for kq in ref.KEY_QUESTIONS
    }
    history: list[_Assessment] = []
    dates: tuple[dt.date, dt.date] | None = model.first_assessment()
    while dates is not None and len(history) < 3:
        level = quality + rng.gauss(0.0, ASSESSMENT_SD)
        if service.rated:
            assessment = _scored(model, service, *dates, level, current, first=not history)
        else:
            assessment = _judged(model, service, *dates, level)
        history.append(assessment)
        poor = assessment.poor
        quality += rng.uniform(*IMPROVEMENT_AFTER_POOR) if poor else rng.gauss(0.0, 0.08)
        dates = model.next_assessment(dates[0], poor, service.rated)
    return history


def _scored(
    model: _Model,
    service: ServiceType,
    assessed: dt.date,
    published: dt.date,
    level: float,
    current: dict[str, str],
    first: bool,
) -> _Assessment:
    """An assessment with statement scores; `current` (the key question ratings in force) is
    updated with its ratings."""
    rng = model.rng
    carrying = assessed < ref.STATEMENT_SCORING_START
    covered = model.key_questions()
    key_questions, warnings = [], []
    for kq in ref.KEY_QUESTIONS if first else covered:
        kq_level = level + KEY_QUESTION_EFFECTS[kq] + rng.gauss(0.0, KEY_QUESTION_SD)
        chosen = model.statements(kq, service)
        reassessed = set(range(len(chosen)))
        if carrying:
            reassessed = model.reassessed(len(chosen)) if kq in covered else set()
        previous = current[kq]
        statements = []
        for position, statement in enumerate(chosen):
            if position in reassessed:
                noisy = kq_level + rng.gauss(0.0, STATEMENT_SD)
                score = min(4, max(1, math.floor(noisy + 0.5)))
                evidence = model.evidence(statement, score, service.people)
                statements.append(_Statement(statement, score, evidence))
            else:
                evidence = model.carried_evidence(kq, previous)
                statements.append(_Statement(statement, CARRIED_SCORE[previous], evidence, True))
        points, count = sum(s.score for s in statements), len(statements)
        computed = stated = ref.rounded_percentage(points, count)
        if rng.random() < MISMATCH_RATE:
            step = rng.choice((-1, 1))
            stated = computed + step if 25 <= computed + step <= 100 else computed - step
            warnings.append(mismatch_warning(kq, stated, points, count))
        rating = ref.rating_for(points, count)
        key_questions.append(
            _KeyQuestion(kq, rating, stated, computed, statements, carried=not reassessed)
        )
    current.update({k.name: k.rating for k in key_questions})
    overall = ref.overall_rating_for(list(current.values()))
    poor = overall in POOR_RATINGS
    return _Assessment(assessed, published, key_questions, overall, poor, warnings)


def _judged(
    model: _Model, service: ServiceType, assessed: dt.date, published: dt.date, level: float
) -> _Assessment:
    """An assessment of a service CQC does not rate: each key question meets the regulations,
    or not all of them; no score, no percentage, no rating."""
    rng = model.rng
    key_questions = []
    for kq in ref.KEY_QUESTIONS:
        kq_level = level + KEY_QUESTION_EFFECTS[kq] + rng.gauss(0.0, KEY_QUESTION_SD)
        chosen = model.statements(kq, service)
        breached = set()
        if kq_level < BREACH_LEVEL:
            breached = set(rng.sample(range(len(chosen)), rng.randint(1, 2)))
        statements = [
            _Statement(s, None, None, judgement=NOT_MET if i in breached else MET)
            for i, s in enumerate(chosen)
        ]
        judgement = NOT_MET if breached else MET
        key_questions.append(_KeyQuestion(kq, None, None, None, statements, judgement))
    poor = any(k.judgement == NOT_MET for k in key_questions)
    return _Assessment(assessed, published, key_questions, None, poor)


# The files ---------------------------------------------------------------------------------


@dataclass
class _DemoFile:
    name: str
    records: list[Record]  # as demo_records gives them
    documents: list[dict] | None = None  # API records (JSON); None: the report text of records[0]

    def content(self) -> bytes:
        if self.documents is None:
            return render_report(self.records[0]).encode("utf-8")
        lines = (json.dumps(d, ensure_ascii=False) for d in self.documents)  # a record a line
        return ("[\n" + ",\n".join(lines) + "\n]\n").encode("utf-8")


def demo_records(locations: int = DEFAULT_LOCATIONS, seed: int = DEFAULT_SEED) -> Iterator[Record]:
    """Records of the demo corpus (see ingest.records), one per assessment, in file order.

    Report text records come first (one per file), then those of the API files, each as the
    API reader gives it with its provider's name, which the API gives in a provider record of
    its own (ingest.store stores the same either way).
    """
    for demo_file in _files(locations, seed, register=False):
        yield from demo_file.records


def _files(
    locations: int, seed: int, api: bool = True, register: bool = True
) -> Iterator[_DemoFile]:
    """The corpus's files in order: report text, then (`api`) the API record files: the
    register records of the report text locations (`register`), then the API providers' files.

    The locations of API-recorded providers are drawn after every report text file, so the
    report text is the same with or without them.
    """
    model = _Model(seed)
    later: list[tuple[_Provider, range]] = []
    records: list[dict] = []  # the register: API location records of report text locations
    number = 0
    while number < locations:
        provider, size = model.provider(locations - number)
        numbers = range(number + 1, number + size + 1)
        number += size
        if provider.api:
            later.append((provider, numbers))
            continue
        for n in numbers:
            location = model.location(provider, n)
            quality = model.quality(provider, location)
            history = _history(model, location.service, quality)
            for assessment in history:
                record = _report_record(provider, location, assessment)
                yield _DemoFile(record["source"], [record])
            if api and register:
                records.append(_register_document(location, history[0].assessed))
    if api:
        for start in range(0, len(records), REGISTER_FILE_LOCATIONS):
            part = start // REGISTER_FILE_LOCATIONS + 1
            name = f"{REGISTER_PREFIX}{part:04d}.json"
            yield _DemoFile(name, [], records[start : start + REGISTER_FILE_LOCATIONS])
        for provider, numbers in later:
            yield _api_file(model, provider, numbers)


def _report_record(provider: _Provider, location: _Location, assessment: _Assessment) -> Record:
    """The record of an assessment as report text gives it (what the parser reads back)."""
    service = location.service
    published = assessment.published.isoformat()
    key_questions = [
        {
            "name": kq.name,
            "rating": kq.rating,
            "score": kq.stated,
            "computed_score": kq.computed,
            "published_date": published,
            "statements": [
                {
                    "id": s.statement.id,
                    "name": s.statement.name,
                    "score": s.score,
                    "evidence": s.evidence,
                    "status": ref.CARRIED_FORWARD if s.carried else None,
                }
                for s in kq.statements
            ],
        }
        for kq in assessment.key_questions
    ]
    assessed = assessment.assessed
    return {
        "source": f"{FILE_PREFIX}{location.number:06d}-{_slug(location.name)}-{assessed}.txt",
        "format": "report-text",
        "location_cqc_id": None,
        "provider_cqc_id": None,
        "location_name": location.name,
        "provider_name": provider.name,
        "service_types": [service.category, service.name],
        "service_type": service.name,
        "overall_rating": assessment.overall,
        "address": location.address,
        "postcode": location.postcode,
        "phone": location.phone,
        "region": None,
        "local_authority": None,
        "assessment_date": assessed.isoformat(),
        "published_date": published,
        "era": ref.era_for(assessed),
        "service_group": None,
        "key_questions": key_questions,
        "warnings": list(assessment.warnings),
    }


def _location_cqc_id(number: int) -> str:
    return f"1-0{number:09d}"  # CQC's form with a leading zero: no real location has it


def _provider_cqc_id(number: int) -> str:
    return f"1-09{number:08d}"


def _api_file(model: _Model, provider: _Provider, numbers: range) -> _DemoFile:
    """One provider's API records: its provider record, then a location record for each."""
    from ingest.readers import api_records

    rng = model.rng
    documents: list[dict] = [
        {
            "providerId": _provider_cqc_id(provider.number),
            "organisationType": "Provider",
            "name": provider.name,
            "registrationStatus": "Registered",
            "region": provider.home_region,
            "locationIds": [_location_cqc_id(n) for n in numbers],
        }
    ]
    for n in numbers:
        location = model.location(provider, n)
        services = [location.service]
        if location.service.name in SECOND_GROUP and rng.random() < TWO_GROUPS:
            services.append(SECOND_GROUP[location.service.name])
        quality = model.quality(provider, location)
        groups = [(service, _history(model, service, quality)) for service in services]
        documents.append(_location_document(model, provider, location, groups))
    name = f"{FILE_PREFIX}api-{provider.number:05d}-{_slug(provider.name)}.json"
    records = [
        {**r, "provider_name": provider.name}
        for r in api_records.records_from_document(documents, name)
        if r.get("kind") is None
    ]
    return _DemoFile(name, records, documents)


def _api_rating(rating: str | None) -> str:
    """A rating as the API's SAF blocks write it ('Requires Improvement'); '' for none."""
    return (rating or "").replace("improvement", "Improvement")


def _location_document(
    model: _Model,
    provider: _Provider,
    location: _Location,
    groups: list[tuple[ServiceType, list[_Assessment]]],
) -> dict:
    """A location as `GET /locations/{id}` gives it: identity, registration, SAF assessments."""
    rng = model.rng
    held = sorted(
        ((a, service) for service, history in groups for a in history),
        key=lambda pair: (pair[0].assessed, pair[1].group),
    )
    first = held[0][0].assessed
    registered = first - dt.timedelta(days=rng.randint(120, (first - FIRST_REGISTRATION).days))
    last = max(a.published for a, _ in held)
    room = (PUBLISHED_BY - last).days
    deregistered = None
    if rng.random() < DEREGISTERED and room >= DEREGISTERED_AFTER:
        deregistered = last + dt.timedelta(days=rng.randint(DEREGISTERED_AFTER, room))
    return {
        **_identity_document(location, [s for s, _ in groups]),
        "providerId": _provider_cqc_id(provider.number),
        "registrationStatus": "Deregistered" if deregistered else "Registered",
        "registrationDate": registered.isoformat(),
        "deregistrationDate": deregistered.isoformat() if deregistered else "",
        "assessmentServiceGroup": [
            {"assessmentServiceName": s.group, "status": "Active"} for s, _ in groups
        ],
        "assessment": [
            _api_assessment(a, service, f"AP{location.number:07d}{i}")
            for i, (a, service) in enumerate(held)
        ],
    }


def _identity_document(location: _Location, services: list[ServiceType]) -> dict:
    """What a location record says of what and where a location is, its geography included."""
    street, town = location.address.rsplit(", ", 1)
    place = PLACES[location.area]
    latitude, longitude = coordinates(location.area, location.postcode)
    return {
        "locationId": _location_cqc_id(location.number),
        "organisationType": "Location",
        "type": location.service.organisation,
        "name": location.name,
        "postalAddressLine1": street,
        "postalAddressTownCity": town,
        "region": location.region,
        "localAuthority": place.local_authority,
        "onspdIcbCode": place.icb_code,
        "onspdIcbName": place.icb_name,
        "onspdLatitude": latitude,
        "onspdLongitude": longitude,
        "postalCode": location.postcode,
        "mainPhoneNumber": location.phone.replace("(", "").replace(")", ""),
        "gacServiceTypes": [{"name": s.label, "description": s.name} for s in services],
    }


def _register_document(location: _Location, first: dt.date) -> dict:
    """A report text location's API location record, as the register gives it: no ratings,
    no provider id (see the module doc), registered on a day a hash of its id picks, at least
    120 days before its first assessment."""
    record = _identity_document(location, [location.service])
    span = max(1, (first - FIRST_REGISTRATION).days - 120)
    days = 120 + zlib.crc32(record["locationId"].encode()) % span
    registered = first - dt.timedelta(days=days)
    return {
        **record,
        "registrationStatus": "Registered",
        "registrationDate": registered.isoformat(),
        "deregistrationDate": "",
    }


def _api_assessment(assessment: _Assessment, service: ServiceType, plan: str) -> dict:
    published = assessment.published.isoformat()
    return {
        "assessmentDate": assessment.assessed.isoformat(),
        "assessmentPlanPublishedDateTime": f"{published} 09:30:00",
        "ratings": {
            "asgRatings": [
                {
                    "name": service.group,
                    "title": service.group,
                    "assessmentPlanId": plan,
                    "assessmentDate": assessment.assessed.isoformat(),
                    "rating": _api_rating(assessment.overall),
                    "keyQuestionRatings": [
                        _api_key_question(kq, published) for kq in assessment.key_questions
                    ],
                }
            ]
        },
    }


def _api_key_question(kq: _KeyQuestion, published: str) -> dict:
    topics = []
    for s in kq.statements:
        paragraphs = s.evidence.split("\n\n") if s.evidence else []
        topics.append(
            {
                "name": s.statement.name,
                "qualityStatementId": str(s.statement.id),
                "qualityStatementscore": (
                    f"{s.score} - {_SCORE_WORDS[s.score]}" if s.score else s.judgement
                ),
                "status": "Not Assessed" if s.carried else "Assessed",
                "evidenceCategory": [
                    {"evidenceCategoryId": c, "commentary": text, "commentaryDate": published}
                    for c, text in zip(_EVIDENCE_CATEGORIES, paragraphs, strict=False)
                ],
            }
        )
    return {
        "name": kq.name,
        "rating": _api_rating(kq.rating) or kq.judgement,
        "percentageScore": str(kq.stated or 0),  # the API's "0": no percentage
        "status": "Not Assessed" if kq.carried else "Assessed",
        "commentaryDate": published,
        "topicareas": topics,
    }


# Report text -------------------------------------------------------------------------------


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
    """A key question summary, varied by a seed taken from the record so rendering is pure."""
    head = f"{kq['name'].upper()} Key question summary: "
    statements = [s for s in kq["statements"] if s["status"] != ref.CARRIED_FORWARD]
    if not statements:  # not re-assessed
        return head + _CARRIED["summary"].format(rating=kq["rating"].lower())
    key = f"{record['location_name']}|{record['assessment_date']}|{kq['name']}"
    rng = random.Random(zlib.crc32(key.encode()))
    options = _SUMMARIES[kq["rating"]]
    chosen = [options[0], *rng.sample(options[1:], rng.randint(0, len(options) - 1))]
    text = [f"We reviewed {_listed([s['name'].lower() for s in statements])}."]
    text += [s.format(people=people, People=people.capitalize()) for s in chosen]
    not_enough = _NOT_ENOUGH_EVIDENCE.format(people=people)
    for statement in rng.sample(statements, min(len(statements), rng.randint(1, 3))):
        lead = next(p for p in statement["evidence"].split("\n\n") if p != not_enough)
        text.append(f"{statement['name']}: {lead.split('. ')[0].rstrip('.')}.")
    return head + " ".join(text)


def render_report(record: Record) -> str:
    """A report text record as the text of a published report page, laid out like the seed
    report."""
    if record["format"] != "report-text":
        raise ValueError(f"{record['source']} is an API record: write_demo_corpus writes it")
    category, *specific = record["service_types"]
    people = _PEOPLE.get(record["service_types"][-1], "people")
    lines = [f"• {category}", *(f"  • {name}" for name in specific), ""]
    lines += [record["location_name"], ""]
    lines += [f"Overall: {record['overall_rating']} read more about inspection ratings", ""]
    lines += [f"{record['address']}, {record['postcode']} {record['phone']}", ""]
    lines += ["Provided and run by:", record["provider_name"], ""]
    if zlib.crc32(f"{record['location_name']}|{record['postcode']}".encode()) % 50 == 0:
        notice = "previously registered at a different address - see old profile"
        lines += [f"Important: This service was {notice}", ""]
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
            lines += [statement["evidence"]]
    return "\n".join(lines) + "\n"


def write_demo_corpus(
    out_dir: Path,
    locations: int = DEFAULT_LOCATIONS,
    seed: int = DEFAULT_SEED,
    progress: Callable[[int, int], None] | None = None,
    *,
    api_records: bool = False,
) -> list[Path]:
    """Write the demo corpus into out_dir; the paths, in order.

    Report text, one UTF-8 file per scored assessment; with `api_records`, also the JSON files
    of API location records: the register of the report text locations, and one file per
    provider whose locations come as API records (build_database loads them all). Demo
    files (demo-*.txt, demo-*.json) already in out_dir that this run does not write are
    removed, so the folder holds one corpus. `progress(done, total)` is called at most about
    100 times.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = list(_files(locations, seed, api=api_records))
    step = max(1, len(files) // 100)
    paths = []
    for done, demo_file in enumerate(files, start=1):
        path = out_dir / demo_file.name
        path.write_bytes(demo_file.content())
        paths.append(path)
        if progress is not None and (done % step == 0 or done == len(files)):
            progress(done, len(files))
    written = set(paths)
    for pattern in ("*.txt", "*.json"):
        for stale in out_dir.glob(f"{FILE_PREFIX}{pattern}"):
            if stale not in written:
                stale.unlink()
    return paths


def build_database(
    path: Path,
    reports_dir: Path,
    locations: int = DEFAULT_LOCATIONS,
    seed: int = DEFAULT_SEED,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write the demo corpus (report text and API records) to `reports_dir` and load it into
    `path` through the real loader.

    The database is built in a staging file beside `path` and moved into place whole, under
    a lock beside it, so two processes (or app sessions) starting at once build it once and
    nobody ever opens half of it; a `path` that exists is left as it is. It is marked as demo
    data (meta `demo` = true). `progress(done, total)` follows the files loaded.
    """
    from ingest import database, load

    database.make_folder(path.parent)
    with open(path.with_name(path.name + ".build-lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():  # built by another process while we waited
            return path
        files = write_demo_corpus(reports_dir, locations=locations, seed=seed, api_records=True)
        # The register first: report text read after it loads under its CQC ids directly,
        # where read before it each location moves there (a build four times as long).
        files.sort(key=lambda path: not path.name.startswith(REGISTER_PREFIX))
        with tempfile.TemporaryDirectory(dir=path.parent) as staging:
            built = Path(staging) / path.name
            load.load(
                files,
                built,
                batch=200,
                progress=progress,
                hold_seconds=float("inf"),  # nobody else opens the staging file
                meta={"demo": "true"},
            )
            con = database.connect(built, read_only=False)
            try:
                con.execute("CHECKPOINT")
            finally:
                con.close()
            shutil.move(built, path)
    return path
