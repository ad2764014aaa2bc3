"""The demo corpus: deterministic, realistic in shape, and read back exactly by the readers."""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import Counter, defaultdict
from itertools import pairwise
from pathlib import Path

import duckdb
import pytest

from ingest import demo
from ingest import reference as ref
from ingest.readers import api_records, report_text
from ingest.records import derived_location_id, location_id, provider_id

SEED_REPORT = Path(__file__).resolve().parents[3] / "shared" / "samples" / "seed-report.txt"
EVIDENCE_ERA = "SAF by evidence category"


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return list(demo.demo_records(demo.DEFAULT_LOCATIONS, demo.DEFAULT_SEED))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[Path]:
    return demo.write_demo_corpus(tmp_path_factory.mktemp("demo"), api_records=True)


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("demo-db")
    return demo.build_database(folder / "demo.duckdb", folder / "reports")


def _sql(db: Path, query: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(query).fetchall()
    finally:
        con.close()


def _key_questions(records: list[dict]) -> list[dict]:
    return [kq for r in records for kq in r["key_questions"]]


def _rated(records: list[dict]) -> list[dict]:
    """Records of services CQC rates (every one but the dentists')."""
    return [r for r in records if r["service_type"] != demo.DENTAL.name]


def _histories(records: list[dict]) -> dict[tuple, list[dict]]:
    """Each location's (each service group's) records, in date order."""
    histories = defaultdict(list)
    for r in records:
        histories[location_id(r), r["service_group"]].append(r)
    return {key: sorted(h, key=lambda r: r["assessment_date"]) for key, h in histories.items()}


def _statements(records: list[dict], era: str | None = None) -> list[dict]:
    return [
        s
        for r in records
        if era is None or r["era"] == era
        for kq in r["key_questions"]
        for s in kq["statements"]
    ]


# Determinism, files and layout ------------------------------------------------------------


def test_same_seed_and_size_give_the_same_bytes(tmp_path):
    first = demo.write_demo_corpus(tmp_path / "a", locations=150, seed=3, api_records=True)
    second = demo.write_demo_corpus(tmp_path / "b", locations=150, seed=3, api_records=True)
    assert [p.name for p in first] == [p.name for p in second]
    assert {p.suffix for p in first} == {".txt", ".json"}
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second, strict=True))
    other = demo.write_demo_corpus(tmp_path / "c", locations=150, seed=4, api_records=True)
    assert [p.read_bytes() for p in other] != [p.read_bytes() for p in first]


def test_report_text_is_the_same_with_or_without_the_api_records(tmp_path):
    both = demo.write_demo_corpus(tmp_path / "a", locations=150, seed=3, api_records=True)
    alone = demo.write_demo_corpus(tmp_path / "b", locations=150, seed=3)
    assert {p.suffix for p in alone} == {".txt"}
    reports = [p for p in both if p.suffix == ".txt"]
    assert [p.name for p in reports] == [p.name for p in alone]
    assert [p.read_bytes() for p in reports] == [p.read_bytes() for p in alone]


def test_default_corpus_is_report_text_the_register_then_one_api_file_per_provider(records, corpus):
    reports = [r for r in records if r["format"] == "report-text"]
    assert [p.name for p in corpus[: len(reports)]] == [r["source"] for r in reports]
    assert corpus[0].read_bytes().decode("utf-8") == demo.render_report(records[0])
    # 600 locations: one register file holds the record of every report text location.
    register = corpus[len(reports)]
    assert register.name == f"{demo.REGISTER_PREFIX}0001.json"
    assert _assessments_in(register) == 0
    located = {location_id(r) for r in reports}
    assert len(json.loads(register.read_text(encoding="utf-8"))) == len(located)
    api_files = corpus[len(reports) + 1 :]
    assert api_files and all(p.suffix == ".json" for p in api_files)
    assert not any(p.name.startswith(demo.REGISTER_PREFIX) for p in api_files)
    assert [r["source"] for r in records[len(reports) :]] == [
        p.name for p in api_files for _ in range(_assessments_in(p))
    ]
    with pytest.raises(ValueError, match="API record"):
        demo.render_report(records[-1])


def _assessments_in(path: Path) -> int:
    documents = json.loads(path.read_text(encoding="utf-8"))
    return sum(len(d.get("assessment", [])) for d in documents if "locationId" in d)


def test_default_size_has_600_locations_and_over_1000_assessments(records):
    per_location = Counter(location_id(r) for r in records)
    assert len(per_location) == demo.DEFAULT_LOCATIONS
    per_group = Counter((location_id(r), r["service_group"]) for r in records)
    assert set(per_group.values()) == {1, 2, 3}
    assert len(records) >= 1000
    assert {len(r["key_questions"]) for r in records} == {1, 2, 3, 4, 5}


def test_every_region_and_at_least_eight_service_types(records):
    regions = Counter(ref.region_for_postcode(r["postcode"]) for r in records)
    assert set(regions) == set(ref.REGIONS)
    service_types = {r["service_type"] for r in records}
    assert len(service_types) >= 8
    categories = {s.name: s.category for s in demo.SERVICE_TYPES}
    for r in records:
        if r["format"] == "report-text":
            assert r["service_types"] == [categories[r["service_type"]], r["service_type"]]
        else:  # the API lists registered types; its region is stated, and is the postcode's
            assert r["service_types"][0] == r["service_type"] in categories
            assert r["region"] == ref.region_for_postcode(r["postcode"])


def test_providers_range_from_one_location_to_chains_of_twenty_or_more(records):
    locations = defaultdict(set)
    for r in records:
        locations[provider_id(r)].add(location_id(r))
    sizes = Counter(len(held) for held in locations.values())
    assert sizes[1] > len(locations) / 2  # most providers run one location
    assert max(sizes) >= 20
    assert all(r["provider_name"] for r in records)


def test_dates_fall_in_the_saf_period_and_publication_follows_in_one_to_four_months(records):
    for r in records:
        assessed = dt.date.fromisoformat(r["assessment_date"])
        published = dt.date.fromisoformat(r["published_date"])
        assert dt.date(2023, 11, 21) <= assessed <= dt.date(2026, 10, 31)
        assert 28 <= (published - assessed).days <= 123
        # Tagged by form as well as date: a dental assessment of the SAF's rollout has no
        # scores, so it reads as one of the old framework (reference.era_for).
        assert r["era"] == ref.era_for(assessed, scored=bool(_statements([r])))
        assert {kq["published_date"] for kq in r["key_questions"]} == {r["published_date"]}
    eras = Counter(r["era"] for r in records)
    assert eras[EVIDENCE_ERA] > 0 and eras["SAF by statement"] > 0


def test_key_questions_score_most_of_their_statements(records):
    for kq in _key_questions(_rated(records)):
        ids = [s["id"] for s in kq["statements"]]
        framework = [s.id for s in ref.STATEMENTS if s.key_question == kq["name"]]
        assert ids == sorted(set(ids)) and set(ids) <= set(framework)
        assert len(ids) >= 0.6 * len(framework)
        assert all(s["name"] == ref.STATEMENTS_BY_ID[s["id"]].name for s in kq["statements"])
    social_care_well_led = [
        kq
        for r in records
        for kq in r["key_questions"]
        if kq["name"] == "Well-led"
        and r["service_type"] in {s.name for s in demo.SERVICE_TYPES if s.adult_social_care}
    ]
    without_sustainability = [
        kq for kq in social_care_well_led if 34 not in {s["id"] for s in kq["statements"]}
    ]
    assert len(without_sustainability) > 0.6 * len(social_care_well_led)


# Scores and ratings -----------------------------------------------------------------------


def test_rating_shares_are_close_to_the_real_ones(records):
    ratings = Counter(kq["rating"] for kq in _key_questions(_rated(records)))
    share = {rating: n / ratings.total() for rating, n in ratings.items()}
    assert 0.60 <= share["Good"] <= 0.75
    assert 0.17 <= share["Requires improvement"] <= 0.30
    assert 0.02 <= share["Outstanding"] <= 0.07
    assert 0.01 <= share["Inadequate"] <= 0.05


def test_ratings_and_percentages_follow_the_published_arithmetic(records):
    for kq in _key_questions(_rated(records)):
        scores = [s["score"] for s in kq["statements"]]
        assert kq["rating"] == ref.rating_for(sum(scores), len(scores))
        assert kq["computed_score"] == ref.rounded_percentage(sum(scores), len(scores))
        assert abs(kq["score"] - kq["computed_score"]) <= 1


def test_overall_rating_aggregates_the_current_key_question_ratings(records):
    # CQC aggregates a focused assessment's new ratings with the ratings it did not change:
    # walk each location's (each group's) history, keeping the latest rating of every key
    # question, and apply reference.overall_rating_for to those five.
    checked = partial = differs = 0
    for history in _histories(_rated(records)).values():
        assert len(history[0]["key_questions"]) == 5  # the first assessment rates all five
        current = {}
        for r in history:
            own = [kq["rating"] for kq in r["key_questions"]]
            current.update({kq["name"]: kq["rating"] for kq in r["key_questions"]})
            assert len(current) == 5
            assert r["overall_rating"] == ref.overall_rating_for(list(current.values()))
            checked += 1
            partial += len(own) < 5
            differs += r["overall_rating"] != ref.overall_rating_for(own)
    assert checked == len(_rated(records))
    assert partial > 100  # focused assessments, aggregated with earlier ratings ...
    assert differs > 10  # ... and for some that is not what their own ratings alone give


def test_overall_rating_shares(records):
    overall = Counter(r["overall_rating"] for r in _rated(records))
    share = {rating: n / overall.total() for rating, n in overall.items()}
    assert set(share) == set(ref.RATINGS)
    assert 0.45 <= share["Good"] <= 0.65
    assert 0.25 <= share["Requires improvement"] <= 0.45
    assert 0.01 <= share["Outstanding"] <= 0.06
    assert 0.01 <= share["Inadequate"] <= 0.06


def test_a_location_rated_poorly_tends_to_score_higher_next_time(records):
    changes = []
    for history in _histories(_rated(records)).values():
        means = []
        for r in history:  # scores judged in the assessment, not carried from the last one
            judged = [s["score"] for s in _statements([r]) if s["status"] != ref.CARRIED_FORWARD]
            means.append((r["overall_rating"], sum(judged) / len(judged)))
        changes += [b[1] - a[1] for a, b in pairwise(means) if a[0] in demo.POOR_RATINGS]
    assert len(changes) >= 50
    assert sum(changes) / len(changes) > 0.2  # mean statement score rises by a fifth of a point


# Carried-forward scores -------------------------------------------------------------------


def test_carried_forward_share_in_the_evidence_category_era(records):
    evidence_era = _statements(records, EVIDENCE_ERA)
    carried = [s for s in evidence_era if s["status"] == ref.CARRIED_FORWARD]
    # The domain README's real records: 79 of 99 statement scores "Not Assessed" (80%).
    assert 0.68 <= len(carried) / len(evidence_era) <= 0.82
    assert len(evidence_era) > 5000
    later = _statements(records, "SAF by statement")  # scored directly from December 2024
    assert later and not any(s["status"] == ref.CARRIED_FORWARD for s in later)


def test_a_carried_score_is_the_score_of_the_previous_rating(records):
    score_of = {"Outstanding": 4, "Good": 3, "Requires improvement": 2, "Inadequate": 1}
    compared = 0
    for history in _histories(_rated(records)).values():
        current = {}
        for r in history:
            for kq in r["key_questions"]:
                carried = {
                    s["score"] for s in kq["statements"] if s["status"] == ref.CARRIED_FORWARD
                }
                assert len(carried) <= 1  # one previous rating, one score
                if carried and kq["name"] in current:  # else the pre-SAF rating, not shown
                    assert carried == {score_of[current[kq["name"]]]}
                    compared += 1
            current.update({kq["name"]: kq["rating"] for kq in r["key_questions"]})
    assert compared > 50


def test_each_key_question_of_an_assessment_reassesses_a_statement_or_none(records):
    # Re-assessed in part (1 or more statements judged) or carried over whole; a key question
    # carried over whole is one the location's first assessment did not cover.
    whole = 0
    for history in _histories(_rated(records)).values():
        for position, r in enumerate(history):
            for kq in r["key_questions"]:
                statuses = {s["status"] != ref.CARRIED_FORWARD for s in kq["statements"]}
                if statuses == {False}:
                    whole += 1
                    assert position == 0 and r["era"] == EVIDENCE_ERA
    assert whole > 100


def test_files_say_a_carried_score_is_based_on_the_previous_rating(records, corpus):
    reports = [r for r in records if r["format"] == "report-text"]
    said = sum(
        p.read_text(encoding="utf-8").count("based on the previous rating")
        for p in corpus
        if p.suffix == ".txt"
    )
    carried = sum(s["status"] == ref.CARRIED_FORWARD for s in _statements(reports))
    summaries = sum(  # a key question not re-assessed says so in its summary too
        all(s["status"] == ref.CARRIED_FORWARD for s in kq["statements"])
        for kq in _key_questions(reports)
    )
    assert carried > 1000 and said == carried + summaries
    statuses = Counter(
        t["status"]
        for p in corpus
        if p.suffix == ".json"
        for d in json.loads(p.read_text(encoding="utf-8"))
        for a in d.get("assessment", [])
        for g in a["ratings"]["asgRatings"]
        for k in g["keyQuestionRatings"]
        for t in k["topicareas"]
    )
    assert set(statuses) == {"Assessed", "Not Assessed"}  # the API's words


# Services CQC does not rate, registration, service groups ---------------------------------


def test_dentists_have_judgements_and_no_score_or_rating(records):
    dentists = [r for r in records if r["service_type"] == demo.DENTAL.name]
    assert len({location_id(r) for r in dentists}) >= 40
    judgements = Counter()
    for r in dentists:
        assert r["format"] == "api-json" and r["service_group"] == "Dental"
        assert r["overall_rating"] is None
        assert len(r["key_questions"]) == 5
        for kq in r["key_questions"]:
            assert kq["rating"] is None and kq["score"] is None and kq["computed_score"] is None
            assert kq["statements"] == []
            judgements[kq["judgement"]] += 1
    assert set(judgements) == set(ref.JUDGEMENTS)
    assert 0.03 <= judgements["Not all regulations met"] / judgements.total() <= 0.2
    assert all(r["service_type"] != demo.DENTAL.name for r in _rated(records))


def test_some_locations_were_deregistered_after_their_last_report(records):
    last = defaultdict(str)
    status = {}
    for r in records:
        last[location_id(r)] = max(last[location_id(r)], r["published_date"])
        if r["format"] == "api-json":
            status[location_id(r)] = (r["registration_status"], r["deregistration_date"])
            assert r["registration_date"] < r["assessment_date"]
    deregistered = {loc: date for loc, (state, date) in status.items() if state == "Deregistered"}
    assert 0.03 <= len(deregistered) / demo.DEFAULT_LOCATIONS <= 0.07
    for loc, date in deregistered.items():
        assert date is not None
        assert 30 <= (dt.date.fromisoformat(date) - dt.date.fromisoformat(last[loc])).days
        assert date <= demo.PUBLISHED_BY.isoformat()
    registered = [date for state, date in status.values() if state == "Registered"]
    assert registered and set(registered) == {None}


def test_some_locations_have_two_service_groups_each_rated_apart(records):
    groups = defaultdict(set)
    for r in records:
        groups[location_id(r)].add(r["service_group"])
    two = {loc for loc, held in groups.items() if len(held) == 2}
    assert len(two) >= 5
    assert all(groups[loc] == {"Care Homes", "Homecare"} for loc in two)
    assert max(len(held) for held in groups.values()) == 2
    for loc in two:
        service_types = {tuple(r["service_types"]) for r in records if location_id(r) == loc}
        assert len(service_types) == 1
        assert service_types.pop()[1] == demo.HOMECARE.name  # the second registered type


def test_names_phones_and_postcodes_are_fictional_but_well_formed(records):
    for r in records:
        if r["format"] == "report-text":
            assert re.fullmatch(r"\(01632\) 960\d{3}", r["phone"])
        else:  # CQC's form ('1-' and digits) with a leading zero, which no real id has
            assert re.fullmatch(r"01632 960\d{3}", r["phone"])
            assert re.fullmatch(r"1-0\d{9}", r["location_cqc_id"])
            assert re.fullmatch(r"1-09\d{8}", r["provider_cqc_id"])
        assert ref.normalise_postcode(r["postcode"]) == r["postcode"]
        assert ref.normalise_postcode(r["address"]) is None
    providers = {provider_id(r): r["provider_name"] for r in records}
    assert len(set(providers.values())) == len(providers)


# Report text ------------------------------------------------------------------------------

_SECTION = re.compile(
    r"\n\n(?P<kq>Safe|Effective|Caring|Responsive|Well-led)\n\n(?P<rating>[A-Za-z ]+)\n\n"
    r"Updated \d{1,2} [A-Z][a-z]+ 20\d\d\n\n[A-Z-]+ Key question summary: [^\n]+\n\n"
    r"This service scored (?P<stated>\d+) \(out of 100\)[^\n]*\n(?P<body>.*?)(?=\n\n(?:"
    r"Safe|Effective|Caring|Responsive|Well-led)\n\n[A-Z]|\Z)",
    re.DOTALL,
)


def test_stated_percentages_in_the_files_match_their_scores_except_a_deliberate_few(
    records, corpus
):
    sections = mismatched = 0
    for path in corpus:
        if path.suffix != ".txt":
            continue
        text = path.read_text(encoding="utf-8")
        found = list(_SECTION.finditer(text))
        assert found, path.name
        for section in found:
            scores = [int(s) for s in re.findall(r"\n\nScore: ([1-4])\n\n", section["body"])]
            points, count = sum(scores), len(scores)
            assert section["rating"] == ref.rating_for(points, count)
            off = int(section["stated"]) - ref.rounded_percentage(points, count)
            assert off in (-1, 0, 1)
            sections += 1
            mismatched += off != 0
    assert sections == len(_key_questions([r for r in records if r["format"] == "report-text"]))
    assert 0 < mismatched <= 0.02 * sections


def test_reports_are_laid_out_like_the_seed_report(records):
    text = demo.render_report(records[0])
    lines = text.split("\n")
    assert lines[0].startswith("• ") and lines[1].startswith("  • ") and lines[2] == ""
    assert re.fullmatch(r"Overall: [A-Za-z ]+ read more about inspection ratings", lines[5])
    assert lines[7] == f"{records[0]['address']}, {records[0]['postcode']} {records[0]['phone']}"
    assert lines[9:11] == ["Provided and run by:", records[0]["provider_name"]]
    assert re.search(
        r"\nReport from [1-9]\d? [A-Z][a-z]+ 20\d\d assessment\n\nOn this page\n", text
    )
    assert text.endswith("\n") and not text.endswith("\n\n")
    if SEED_REPORT.exists():
        seed = SEED_REPORT.read_text(encoding="utf-8")
        seed = re.sub(r"\nImportant: [^\n]*\n", "", seed)
        assert _shape(text)[:12] == _shape(seed)[:12]


def _shape(text: str) -> list[str]:
    """Each line as the kind of line it is: enough to compare layouts."""
    kinds = []
    for line in text.split("\n"):
        if line.startswith("  • "):
            kinds.append("sub-bullet")
        elif line.startswith("• "):
            kinds.append("bullet")
        elif not line:
            kinds.append("blank")
        else:
            kinds.append(line.split()[0] if line.split()[0] in {"Overall:", "Provided"} else "text")
    return kinds


def test_write_reports_progress_and_replaces_an_older_corpus(tmp_path):
    (tmp_path / "demo-000999-old-2024-01-01.txt").write_text("stale", encoding="utf-8")
    (tmp_path / "demo-api-00999-old.json").write_text("[]", encoding="utf-8")
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    calls = []
    paths = demo.write_demo_corpus(
        tmp_path, locations=40, seed=1, progress=lambda *a: calls.append(a), api_records=True
    )
    assert calls[-1] == (len(paths), len(paths)) and len(calls) <= 101
    assert sorted(tmp_path.iterdir()) == sorted([*paths, tmp_path / "notes.txt"])


def test_every_file_reads_back_to_the_records_it_was_written_from(records, corpus):
    position = 0
    registered = []
    for path in corpus:
        if path.suffix == ".txt":
            parsed = report_text.parse_report(path.read_text(encoding="utf-8"), path.name)
            assert parsed == records[position], path.name
            position += 1
            continue
        if path.name.startswith(demo.REGISTER_PREFIX):  # locations only: no provider, no rating
            registered += api_records.read(path.name, path.read_bytes())
            continue
        provider, *read = api_records.read(path.name, path.read_bytes())
        assert provider["kind"] == "provider"
        expected = records[position : position + len(read)]
        # An API location record names no provider: the provider record beside it does.
        assert {r["provider_name"] for r in expected} == {provider["provider_name"]}
        assert read == [{**r, "provider_name": None} for r in expected], path.name
        position += len(read)
    assert position == len(records)
    # The register holds each report text location once, under the name and postcode its
    # reports give (the loader's match), with a CQC id and no provider or assessment.
    assert {r["kind"] for r in registered} == {"location"}
    assert not any(r["provider_cqc_id"] or r["provider_name"] for r in registered)
    reports = [r for r in records if r["format"] == "report-text"]
    assert sorted(derived_location_id(r) for r in registered) == sorted(
        {location_id(r) for r in reports}
    )
    assert all(ref.is_location_id(r["location_cqc_id"]) for r in registered)


# The database build -----------------------------------------------------------------------


def test_the_built_database_holds_every_rule(records, database):
    [(locations, providers)] = _sql(
        database, "SELECT count(*), count(DISTINCT provider_id) FROM locations"
    )
    assert locations == demo.DEFAULT_LOCATIONS
    assert providers == len({provider_id(r) for r in records})
    assert _sql(database, "SELECT count(*) FROM assessments") == [(len(records),)]
    assert _sql(database, "SELECT count(*) FROM scores WHERE provider_name IS NULL") == [(0,)]
    # Dentists: judgements, no rating, no percentage, no statement score.
    assert _sql(
        database,
        "SELECT count(*) FILTER (judgement IS NULL OR key_question_rating IS NOT NULL"
        " OR key_question_score IS NOT NULL), count(*) FROM key_questions"
        " WHERE service_type = 'Dental service'",
    ) == [(0, len(_key_questions([r for r in records if r["service_type"] == "Dental service"])))]
    assert _sql(database, "SELECT count(*) FROM scores WHERE service_type = 'Dental service'") == [
        (0,)
    ]
    # Deregistered locations, each with a date; the others with none.
    [(deregistered, dated, undated_others)] = _sql(
        database,
        "SELECT count(*) FILTER (registration_status = 'Deregistered'),"
        " count(deregistration_date) FILTER (registration_status = 'Deregistered'),"
        " count(deregistration_date) FILTER (registration_status IS DISTINCT FROM"
        " 'Deregistered') FROM locations",
    )
    assert deregistered == dated >= 15 and undated_others == 0
    # Locations with two service groups.
    [(two,)] = _sql(
        database,
        "SELECT count(*) FROM (SELECT location_id FROM key_questions"
        " GROUP BY 1 HAVING count(DISTINCT service_group) = 2)",
    )
    assert two >= 5
    # Carried-forward scores are flagged, and only in the evidence-category era.
    shares = dict(
        _sql(
            database,
            "SELECT era, avg(coalesce(statement_status = 'carried forward', false)::INT)"
            " FROM scores GROUP BY 1",
        )
    )
    assert 0.68 <= shares[EVIDENCE_ERA] <= 0.82 and shares["SAF by statement"] == 0
    # Every file loads; the register's hold locations only ("no ratings": details stored).
    logged = _sql(database, "SELECT file, action FROM ingest_log")
    register = [a for f, a in logged if Path(f).name.startswith(demo.REGISTER_PREFIX)]
    assert register == ["no ratings"]
    assert {a for f, a in logged if not Path(f).name.startswith(demo.REGISTER_PREFIX)} == {"loaded"}


# Commissioner geography ------------------------------------------------------------------

SHARED_REAL = Path(__file__).resolve().parents[3] / "shared" / "real-data"
ENGLAND = ((49.9, 55.9), (-5.8, 1.8))  # latitude, longitude: Land's End to Berwick, Lowestoft


def _area(postcode: str) -> str:
    return re.match(r"[A-Z]+", postcode)[0]


def test_the_places_cover_every_postcode_area_in_england_each_council_in_one_region():
    assert set(demo.PLACES) == set(ref.POSTCODE_AREA_REGION)
    assert len({p.icb_code for p in demo.PLACES.values()}) == 42  # England's ICBs since 2023
    regions = defaultdict(set)
    for area, place in demo.PLACES.items():
        regions[place.local_authority].add(ref.POSTCODE_AREA_REGION[area])
        (south, north), (west, east) = ENGLAND
        assert south < place.latitude < north and west < place.longitude < east, area
        assert place.icb_code.startswith("E54") and place.icb_name.endswith("Integrated Care Board")
    assert {c: r for c, r in regions.items() if len(r) > 1} == {}
    # By hand: Oldham is Greater Manchester's, Truro the south-west tip, Newcastle the north.
    oldham = demo.PLACES["OL"]
    assert (oldham.local_authority, oldham.icb_code) == ("Oldham", "E54000057")
    assert min(demo.PLACES.values(), key=lambda p: p.longitude).town == "Truro"
    assert max(demo.PLACES.values(), key=lambda p: p.latitude).town == "Newcastle upon Tyne"


def test_a_postcodes_coordinates_lie_within_2_km_each_way_of_its_town_the_same_each_time():
    lat, lon = demo.coordinates("LS", "LS6 2QT")
    assert (lat, lon) == demo.coordinates("LS", "LS6 2QT")
    assert (lat, lon) != demo.coordinates("LS", "LS7 2QT")
    leeds = demo.PLACES["LS"]  # 53.800 N, 1.549 W
    north_km = (lat - leeds.latitude) * 111.2  # a degree of latitude is 111.2 km
    east_km = (lon - leeds.longitude) * 111.2 * 0.5920  # cos(53.8 degrees) = 0.5920
    assert abs(north_km) <= 2.23 and abs(east_km) <= 2.23  # 0.02 degrees of latitude


def test_every_demo_location_has_its_areas_council_icb_and_coordinates(database):
    rows = _sql(
        database,
        "SELECT postcode, region, local_authority, icb_code, icb_name, latitude, longitude,"
        " local_authority_source FROM locations",
    )
    assert len(rows) == demo.DEFAULT_LOCATIONS
    for postcode, region, council, code, name, lat, lon, source in rows:
        place = demo.PLACES[_area(postcode)]
        assert region == ref.region_for_postcode(postcode), postcode
        assert (council, code, name, source) == (
            place.local_authority,
            place.icb_code,
            place.icb_name,
            "api-json",
        )
        assert (lat, lon) == demo.coordinates(_area(postcode), postcode)
    # Every region, and most of the ICBs and councils, appear at the default size.
    [(icbs, councils)] = _sql(
        database, "SELECT count(DISTINCT icb_code), count(DISTINCT local_authority) FROM locations"
    )
    assert icbs >= 35 and councils >= 60


@pytest.mark.skipif(not SHARED_REAL.is_dir(), reason=f"no real CQC data at {SHARED_REAL}")
def test_the_places_agree_with_real_cqc_records():
    """Real API location records in the demo's areas: their coordinates lie within 65 km of
    the area's town (postcode areas are large), and where their council is the area's, so is
    their ICB."""
    real = []

    def collect(node):
        if isinstance(node, dict):
            if "locationId" in node and node.get("onspdLatitude") is not None:
                real.append(node)
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    for path in SHARED_REAL.rglob("*.json"):
        collect(json.loads(path.read_text(encoding="utf-8")))
    checked = councils = 0
    for record in real:
        postcode = ref.normalise_postcode(record.get("postalCode"))
        place = postcode and demo.PLACES.get(_area(postcode))
        if not place:
            continue
        north_km = (record["onspdLatitude"] - place.latitude) * 111.2
        east_km = (record["onspdLongitude"] - place.longitude) * 111.2
        east_km *= math.cos(math.radians(place.latitude))
        assert math.hypot(north_km, east_km) < 65, (postcode, place.town)
        checked += 1
        if record.get("localAuthority") == place.local_authority and record.get("onspdIcbCode"):
            assert record["onspdIcbCode"] == place.icb_code, postcode
            councils += 1
    assert checked >= 100 and councils >= 100
