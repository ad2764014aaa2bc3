"""The demo corpus: fictional CQC assessment reports drawn from a small statistical model.

The demo data is invented, not real. Providers differ widely in size: about 70% run a single
location and the rest are chains whose sizes follow a heavy-tailed (Pareto) distribution up
to a few dozen locations. Each provider keeps to one line of business (care homes, homecare,
supported living, GP practices, dentists, independent hospitals, hospices or community
services), which sets its locations' service types, 10 in all. Locations are spread over the
9 CQC regions roughly as the register is, chains clustering around a home region, and have
fictional names and streets with a real-format postcode from their region's postcode areas.
Each location has one to three assessments between 21 November 2023 and October 2026, each
published one to four months later and covering one to five key questions (most often all
five, or Safe and Well-led); a key question scores most of its statements (adult social care
usually leaves out environmental sustainability). A statement's score (1-4) is a rounded draw
around a quality level made of a national mean plus effects of the provider, the region, the
service type, the location (6% of locations are struggling) and the key question (Caring
higher, Safe and Well-led lower). After an overall rating of Requires improvement or
Inadequate a location improves, and it is assessed again sooner. Percentages and ratings
follow CQC's published arithmetic, except that about 1 key question in 100 states a
percentage one point off, as real reports now and then do. The overall rating of an
assessment is the most common of its key question ratings, a tie going to the worse rating.
About two thirds of key question ratings come out Good, a quarter Requires improvement and
2-5% each Outstanding and Inadequate. Evidence text is put together from sentence templates
that fit the score and name the statement's topic. Every draw comes from one
random.Random(seed), so the same seed and size give byte-identical files.

`demo_records` yields the records (ingest.records) straight from the model; `render_report`
turns one into report text laid out like a published report page; `write_demo_corpus` writes
the files. Words and sentence templates live in demo_text.toml beside this module.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import math
import random
import re
import shutil
import tempfile
import tomllib
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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

_TEXT = tomllib.loads(Path(__file__).with_name("demo_text.toml").read_text(encoding="utf-8"))
_WORDS: dict[str, list[str]] = _TEXT["words"]
_LEADS = {int(k): v for k, v in _TEXT["evidence"]["lead"].items()}
_DETAILS = {int(k): v for k, v in _TEXT["evidence"]["detail"].items()}
_NOT_ENOUGH_EVIDENCE: str = _TEXT["evidence"]["not_enough"]
_SUMMARIES: dict[str, list[str]] = _TEXT["summary"]
_TOPICS = {int(k): v for k, v in _TEXT["topics"].items()}
_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_POSTCODE_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


class ServiceType(NamedTuple):
    category: str  # the bullet line of a report
    name: str  # the indented line under it: the regulated service type
    adult_social_care: bool
    people: str  # how reports refer to the people using the service
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
# How many key questions an assessment covers, and how likely each is to be among them.
KEY_QUESTION_COUNTS = {1: 20, 2: 27, 3: 10, 4: 6, 5: 37}
KEY_QUESTION_PICK = {
    "Safe": 1.0,
    "Effective": 0.5,
    "Caring": 0.35,
    "Responsive": 0.45,
    "Well-led": 0.95,
}

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
# Chance of another assessment, and the days until it, after a poor or a good overall rating.
REASSESSMENT = {True: (0.9, 120, 330), False: (0.7, 180, 480)}

ENVIRONMENTAL_SUSTAINABILITY = 34
_STATEMENTS_OF = {
    kq: tuple(s for s in ref.STATEMENTS if s.key_question == kq) for kq in ref.KEY_QUESTIONS
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
        self.location_names: set[str] = set()
        self.location_keys: set[tuple[str, str]] = set()
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
        provider = _Provider(name, brand, kind, rng.gauss(0.0, PROVIDER_SD), home)
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
        return _Location(number, name, service, address, postcode, phone, region)

    def postcode(self, area: str) -> str:
        rng = self.rng
        district = rng.randint(1, 9) if rng.random() < 0.4 else rng.randint(10, 29)
        unit = rng.choice(_POSTCODE_UNIT_LETTERS) + rng.choice(_POSTCODE_UNIT_LETTERS)
        return f"{area}{district} {rng.randint(0, 9)}{unit}"

    def first_assessment(self) -> tuple[dt.date, dt.date]:
        """(assessment date, publication date) of a location's first assessment."""
        rng = self.rng
        delay = dt.timedelta(days=rng.randint(30, 122))
        latest = min(LAST_ASSESSMENT, PUBLISHED_BY - delay)
        # Slightly earlier than uniform, leaving room for the assessments that follow.
        day = int((latest - FIRST_ASSESSMENT).days * rng.random() ** 1.1)
        assessed = FIRST_ASSESSMENT + dt.timedelta(days=day)
        return assessed, assessed + delay

    def next_assessment(self, assessed: dt.date, poor: bool) -> tuple[dt.date, dt.date] | None:
        """The next assessment, sooner after a poor rating; None when there is none (yet)."""
        rng = self.rng
        chance, shortest, longest = REASSESSMENT[poor]
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


def _town(area: str) -> str:
    """A fictional post town for a postcode area, the same for every seed."""
    code = zlib.crc32(area.encode())
    start, end = _WORDS["town_start"], _WORDS["town_end"]
    return start[code % len(start)] + end[(code >> 8) % len(end)]


def overall_rating(ratings: list[str]) -> str:
    """The most common key question rating; a tie goes to the worse rating."""
    counts = Counter(ratings)
    return max(ref.RATINGS, key=lambda r: (counts[r], -ref.RATINGS.index(r)))


def demo_records(locations: int = DEFAULT_LOCATIONS, seed: int = DEFAULT_SEED) -> Iterator[Record]:
    """Records of the demo corpus (see ingest.records), one per assessment, in file order."""
    model = _Model(seed)
    number = 0
    while number < locations:
        provider, size = model.provider(locations - number)
        for _ in range(size):
            number += 1
            yield from _assessments(model, provider, model.location(provider, number))


def _assessments(model: _Model, provider: _Provider, location: _Location) -> Iterator[Record]:
    rng = model.rng
    quality = (
        MEAN_QUALITY
        + provider.effect
        + REGION_EFFECTS[location.region]
        + location.service.effect
        + rng.gauss(0.0, LOCATION_SD)
    )
    share, effect = STRUGGLING
    if rng.random() < share:
        quality += effect
    dates: tuple[dt.date, dt.date] | None = model.first_assessment()
    for _ in range(3):
        if dates is None:
            return
        level = quality + rng.gauss(0.0, ASSESSMENT_SD)
        record = _record(model, provider, location, *dates, level)
        yield record
        poor = record["overall_rating"] in POOR_RATINGS
        quality += rng.uniform(*IMPROVEMENT_AFTER_POOR) if poor else rng.gauss(0.0, 0.08)
        dates = model.next_assessment(dates[0], poor)


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
            noisy = kq_level + rng.gauss(0.0, STATEMENT_SD)
            score = min(4, max(1, math.floor(noisy + 0.5)))
            statements.append(
                {
                    "id": statement.id,
                    "name": statement.name,
                    "score": score,
                    "evidence": model.evidence(statement, score, service.people),
                    "status": None,
                }
            )
        points, count = sum(s["score"] for s in statements), len(statements)
        computed = stated = ref.rounded_percentage(points, count)
        if rng.random() < MISMATCH_RATE:
            step = rng.choice((-1, 1))
            stated = computed + step if 25 <= computed + step <= 100 else computed - step
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
    """A key question summary, varied by a seed taken from the record so rendering is pure."""
    key = f"{record['location_name']}|{record['assessment_date']}|{kq['name']}"
    rng = random.Random(zlib.crc32(key.encode()))
    statements = kq["statements"]
    options = _SUMMARIES[kq["rating"]]
    chosen = [options[0], *rng.sample(options[1:], rng.randint(0, len(options) - 1))]
    text = [f"We reviewed {_listed([s['name'].lower() for s in statements])}."]
    text += [s.format(people=people, People=people.capitalize()) for s in chosen]
    not_enough = _NOT_ENOUGH_EVIDENCE.format(people=people)
    for statement in rng.sample(statements, min(len(statements), rng.randint(1, 3))):
        lead = next(p for p in statement["evidence"].split("\n\n") if p != not_enough)
        text.append(f"{statement['name']}: {lead.split('. ')[0].rstrip('.')}.")
    return f"{kq['name'].upper()} Key question summary: " + " ".join(text)


def render_report(record: Record) -> str:
    """A record as the text of a published report page, laid out like the seed report."""
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
) -> list[Path]:
    """Write one UTF-8 report file per assessment into out_dir; the paths, in order.

    Demo files (demo-*.txt) already in out_dir that this run does not write are removed, so
    the folder holds one corpus. `progress(done, total)` is called at most about 100 times.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    records = list(demo_records(locations, seed))
    step = max(1, len(records) // 100)
    paths = []
    for done, record in enumerate(records, start=1):
        path = out_dir / record["source"]
        path.write_bytes(render_report(record).encode("utf-8"))
        paths.append(path)
        if progress is not None and (done % step == 0 or done == len(records)):
            progress(done, len(records))
    written = set(paths)
    for stale in out_dir.glob(f"{FILE_PREFIX}*.txt"):
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
    """Write the demo corpus to `reports_dir` and load it into `path` through the real loader.

    The database is built in a staging file beside `path` and moved into place whole, under
    a lock beside it, so two processes (or app sessions) starting at once build it once and
    nobody ever opens half of it; a `path` that exists is left as it is. It is marked as demo
    data (meta `demo` = true). `progress(done, total)` follows the reports loaded.
    """
    from ingest import database, load

    database.make_folder(path.parent)
    with open(path.with_name(path.name + ".build-lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():  # built by another process while we waited
            return path
        reports = write_demo_corpus(reports_dir, locations=locations, seed=seed)
        with tempfile.TemporaryDirectory(dir=path.parent) as staging:
            built = Path(staging) / path.name
            load.load(
                reports,
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
