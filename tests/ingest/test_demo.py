"""The demo corpus: deterministic, realistic in shape, and read back exactly by the parser."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from itertools import pairwise
from pathlib import Path

import pytest

from ingest import demo
from ingest import reference as ref
from ingest.records import location_id, provider_id

SEED_REPORT = Path(__file__).resolve().parents[3] / "shared" / "samples" / "seed-report.txt"


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return list(demo.demo_records(demo.DEFAULT_LOCATIONS, demo.DEFAULT_SEED))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[Path]:
    return demo.write_demo_corpus(tmp_path_factory.mktemp("demo"))


def _key_questions(records: list[dict]) -> list[dict]:
    return [kq for r in records for kq in r["key_questions"]]


def test_same_seed_and_size_give_the_same_bytes(tmp_path):
    first = demo.write_demo_corpus(tmp_path / "a", locations=150, seed=3)
    second = demo.write_demo_corpus(tmp_path / "b", locations=150, seed=3)
    assert [p.name for p in first] == [p.name for p in second]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second, strict=True))
    other = demo.write_demo_corpus(tmp_path / "c", locations=150, seed=4)
    assert [p.read_bytes() for p in other] != [p.read_bytes() for p in first]


def test_default_corpus_writes_one_utf8_file_per_assessment(records, corpus):
    assert len(corpus) == len(records)
    assert [p.name for p in corpus] == [r["source"] for r in records]
    assert corpus[0].read_bytes().decode("utf-8") == demo.render_report(records[0])


def test_default_size_has_600_locations_and_over_1000_assessments(records):
    per_location = Counter(location_id(r) for r in records)
    assert len(per_location) == demo.DEFAULT_LOCATIONS
    assert set(per_location.values()) == {1, 2, 3}
    assert len(records) >= 1000
    assert {len(r["key_questions"]) for r in records} == {1, 2, 3, 4, 5}


def test_every_region_and_at_least_eight_service_types(records):
    regions = Counter(ref.region_for_postcode(r["postcode"]) for r in records)
    assert set(regions) == set(ref.REGIONS)
    service_types = {r["service_type"] for r in records}
    assert len(service_types) >= 8
    categories = {s.name: s.category for s in demo.SERVICE_TYPES}
    assert all(
        r["service_types"] == [categories[r["service_type"]], r["service_type"]] for r in records
    )


def test_providers_range_from_one_location_to_chains_of_twenty_or_more(records):
    locations = defaultdict(set)
    for r in records:
        locations[provider_id(r)].add(location_id(r))
    sizes = Counter(len(held) for held in locations.values())
    assert sizes[1] > len(locations) / 2  # most providers run one location
    assert max(sizes) >= 20


def test_dates_fall_in_the_saf_period_and_publication_follows_in_one_to_four_months(records):
    for r in records:
        assessed = dt.date.fromisoformat(r["assessment_date"])
        published = dt.date.fromisoformat(r["published_date"])
        assert dt.date(2023, 11, 21) <= assessed <= dt.date(2026, 10, 31)
        assert 28 <= (published - assessed).days <= 123
        assert r["era"] == ref.era_for(assessed)
        assert {kq["published_date"] for kq in r["key_questions"]} == {r["published_date"]}
    eras = Counter(r["era"] for r in records)
    assert eras["SAF by evidence category"] > 0 and eras["SAF by statement"] > 0


def test_key_questions_score_most_of_their_statements(records):
    for kq in _key_questions(records):
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


def test_rating_shares_are_close_to_the_real_ones(records):
    ratings = Counter(kq["rating"] for kq in _key_questions(records))
    share = {rating: n / ratings.total() for rating, n in ratings.items()}
    assert 0.60 <= share["Good"] <= 0.75
    assert 0.17 <= share["Requires improvement"] <= 0.30
    assert 0.02 <= share["Outstanding"] <= 0.07
    assert 0.01 <= share["Inadequate"] <= 0.05


def test_ratings_and_percentages_follow_the_published_arithmetic(records):
    for kq in _key_questions(records):
        scores = [s["score"] for s in kq["statements"]]
        assert kq["rating"] == ref.rating_for(sum(scores), len(scores))
        assert kq["computed_score"] == ref.rounded_percentage(sum(scores), len(scores))
        assert abs(kq["score"] - kq["computed_score"]) <= 1


def test_overall_rating_is_the_most_common_key_question_rating_ties_to_the_worse(records):
    assert demo.overall_rating(["Good", "Good", "Outstanding"]) == "Good"
    assert demo.overall_rating(["Good", "Requires improvement"]) == "Requires improvement"
    assert demo.overall_rating(["Outstanding", "Outstanding", "Good"]) == "Outstanding"
    assert demo.overall_rating(["Inadequate"]) == "Inadequate"
    for r in records:
        assert r["overall_rating"] == demo.overall_rating([k["rating"] for k in r["key_questions"]])


def test_a_location_rated_poorly_tends_to_score_higher_next_time(records):
    history = defaultdict(list)
    for r in records:
        scores = [s["score"] for kq in r["key_questions"] for s in kq["statements"]]
        history[location_id(r)].append((r["overall_rating"], sum(scores) / len(scores)))
    changes = [
        later[1] - earlier[1]
        for assessments in history.values()
        for earlier, later in pairwise(assessments)
        if earlier[0] in demo.POOR_RATINGS
    ]
    assert len(changes) >= 50
    assert sum(changes) / len(changes) > 0.2  # mean statement score rises by a fifth of a point


def test_names_phones_and_postcodes_are_fictional_but_well_formed(records):
    for r in records:
        assert re.fullmatch(r"\(01632\) 960\d{3}", r["phone"])
        assert ref.normalise_postcode(r["postcode"]) == r["postcode"]
        assert ref.normalise_postcode(r["address"]) is None
    providers = {provider_id(r): r["provider_name"] for r in records}
    assert len(set(providers.values())) == len(providers)


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
    assert sections == len(_key_questions(records))
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
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    calls = []
    paths = demo.write_demo_corpus(
        tmp_path, locations=40, seed=1, progress=lambda *a: calls.append(a)
    )
    assert calls[-1] == (len(paths), len(paths)) and len(calls) <= 101
    assert sorted(tmp_path.iterdir()) == sorted([*paths, tmp_path / "notes.txt"])


def test_every_file_parses_back_to_the_record_it_was_rendered_from(records, corpus):
    report_text = pytest.importorskip("ingest.readers.report_text")
    for record, path in zip(records, corpus, strict=True):
        parsed = report_text.parse_report(path.read_text(encoding="utf-8"), path.name)
        assert parsed == record, path.name
