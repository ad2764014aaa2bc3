"""Real CQC data (../shared/real-data/) through the real loader, checked against the files.

Every folder is loaded with ingest.load.load into a DuckDB file of its own, and all of them
into one more, once for the module. What the database should hold is worked out here from the
files themselves with the standard library (JSON with json, CSV with csv, ODS with zipfile and
ElementTree), never with the project's readers. Values checked by hand against the files are
written as literals: ids, dates, ratings, scores, never a person's name.

The files are CQC's (Open Government Licence v3.0) and several name people: they are read
where they lie, the tests skip where they are absent, and nothing made from them is written
into the project.
"""

from __future__ import annotations

import csv
import json
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import duckdb
import polars as pl
import pytest

from ingest.load import Summary, iter_files, load
from queries.current import rating_shares, selected
from queries.filters import Filters
from queries.frames import load_frames
from tests.conftest import SHARED

REAL = SHARED / "real-data"
OLDHAM, CAREHOMEHUB, SFC, WMFS, MOOPERD = (
    "oldham-api-2025",
    "carehomehub-2021",
    "sfc-2019",
    "wmfs-2021",
    "mooperd-2025",
)
FOLDERS = (CAREHOMEHUB, MOOPERD, OLDHAM, SFC, WMFS)
API_FOLDERS = (CAREHOMEHUB, OLDHAM, SFC)

pytestmark = pytest.mark.skipif(
    not REAL.is_dir(), reason=f"the real CQC data is not beside this checkout ({REAL})"
)

KEY_QUESTIONS = ("Safe", "Effective", "Caring", "Responsive", "Well-led")
RATINGS = {
    "outstanding": "Outstanding",
    "good": "Good",
    "requires improvement": "Requires improvement",
    "inadequate": "Inadequate",
}
JUDGEMENTS = {
    "regulations met": "Regulations met",
    "not all regulations met": "Not all regulations met",
}
STATUSES = {"assessed": "assessed", "not assessed": "carried forward"}
CARE_HOMES = ("Care home service with nursing", "Care home service without nursing")
SAF_ROLLOUT_END = "2024-04-01"  # November 2023 to March 2024

# Every file that is refused, by its path under real-data/: what it is (the kind of table
# the message must name) and the exact one-line message.
REFUSALS = {
    "README.md": (
        "assessment report",
        "not a CQC assessment report: no 'Report from <date> assessment' line",
    ),
    **{
        f"{folder}/SOURCE.md": (
            "assessment report",
            "not a CQC assessment report: no 'Report from <date> assessment' line",
        )
        for folder in FOLDERS
    },
    f"{CAREHOMEHUB}/Latest_ratings_2_2021_Prov.csv": (
        "Providers sheet",
        "the Providers sheet of CQC's ratings file: it rates providers, not locations; load its"
        " Locations sheet (Latest_ratings.ods, or the Locations sheet saved as CSV)",
    ),
    f"{MOOPERD}/Locations-head_ASC_directory_2025.csv": (
        "adult social care locations export",
        "CQC's adult social care locations export (ratings as columns, a row per location) is"
        " not read; load the 'Care directory with ratings' file (Latest_ratings.ods, or its"
        " Locations sheet saved as CSV)",
    ),
    f"{MOOPERD}/output-head_CQC_directory_2025.csv": (
        "care directory CSV",
        "the CQC care directory CSV has no ratings; load the 'Care directory with ratings' file"
        " (Latest_ratings.ods, or its Locations sheet saved as CSV)",
    ),
    f"{OLDHAM}/locations.json": (
        "/locations list page",
        "a /locations list page: it holds ids and names only, no ratings; sync with"
        " 'python -m ingest api' instead",
    ),
    f"{OLDHAM}/providers.json": (
        "/providers list page",
        "a /providers list page: it holds ids and names only, no ratings; sync with"
        " 'python -m ingest api' instead",
    ),
    f"{WMFS}/2021-05-04_HSCA_Active_Locations_extract.ods": (
        "HSCA Active Locations list",
        "CQC's HSCA Active Locations list: registered locations, no key question ratings; load"
        " the 'Care directory with ratings' file (Latest_ratings.ods, or its Locations sheet"
        " saved as CSV)",
    ),
    f"{WMFS}/cqc_processed.csv": (
        "'Care directory with ratings' Locations table",
        "not the 'Care directory with ratings' Locations table: missing columns"
        " 'Service / Population Group', 'Domain'",
    ),
}


# The database side ----------------------------------------------------------------------------
@dataclass
class Loaded:
    """One load: its summary (with every file's result) and a read-only connection."""

    summary: Summary
    con: duckdb.DuckDBPyConnection

    def rows(self, sql: str, *params: Any) -> list[tuple]:
        return self.con.execute(sql, list(params)).fetchall()

    def value(self, sql: str, *params: Any) -> Any:
        (row,) = self.rows(sql, *params)
        return row[0]


def _load(paths: list[Path], db: Path) -> Loaded:
    summary = load(list(iter_files(paths)), db, keep_results=True)
    return Loaded(summary, duckdb.connect(str(db), read_only=True))


@pytest.fixture(scope="module")
def loads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Loaded]]:
    """Each folder present loaded into a database of its own; "all": every folder in one."""
    tmp = tmp_path_factory.mktemp("real-data")
    done = {
        name: _load([REAL / name], tmp / f"{name}.duckdb")
        for name in FOLDERS
        if (REAL / name).is_dir()
    }
    done["all"] = _load([REAL], tmp / "all.duckdb")
    yield done
    for loaded in done.values():
        loaded.con.close()


def loaded(loads: dict[str, Loaded], name: str) -> Loaded:
    """The load of one folder, or ("all") of every folder: skipped where one is absent."""
    for folder in FOLDERS if name == "all" else (name,):
        if folder not in loads:
            pytest.skip(f"{REAL / folder} is absent")
    return loads[name]


# The files' side: read here with the standard library only -------------------------------------
def _rating(text: Any) -> str | None:
    return RATINGS.get(text.strip().lower()) if isinstance(text, str) else None


def _judgement(text: Any) -> str | None:
    return JUDGEMENTS.get(text.strip().lower()) if isinstance(text, str) else None


def _statement_name(text: str) -> str:
    return text.replace("\u2019", "'").lower()


@dataclass
class Expected:
    """What a folder's JSON files say, in the rows the database should have."""

    locations: dict[str, dict] = field(default_factory=dict)  # the last copy of each id
    providers: dict[str, dict] = field(default_factory=dict)
    listed: dict[str, set[str]] = field(default_factory=dict)  # ids in /locations, /providers
    # (location, assessment date, service group, overall rating, era)
    assessments: set[tuple] = field(default_factory=set)
    # (location, date, group, key question, rating, stated percentage, status, judgement)
    key_questions: set[tuple] = field(default_factory=set)
    # (location, date, key question, statement id, statement name, score, status, evidence)
    statements: set[tuple] = field(default_factory=set)


def json_documents(folder: Path) -> Iterator[tuple[Path, Any]]:
    for path in sorted(folder.rglob("*.json")):
        yield path, json.loads(path.read_text(encoding="utf-8-sig"))


def expected(folder: Path) -> Expected:
    out = Expected()
    for _, document in json_documents(folder):
        if isinstance(document, dict) and not (
            "locationId" in document or "providerId" in document
        ):
            for listing in ("locations", "providers"):  # a list page: ids and names only
                for item in document.get(listing, []):
                    out.listed.setdefault(listing, set()).add(item[f"{listing[:-1]}Id"])
            continue
        items = document if isinstance(document, list) else [document]
        for item in items:
            record = item.get("loc", item) if "req" in item else item  # {req, loc} wrapper
            if "locationId" in record:
                out.locations[record["locationId"]] = record
            else:
                out.providers[record["providerId"]] = record
    for location in out.locations.values():
        _assessments(location, out)
    return out


def _assessments(record: dict, out: Expected) -> None:
    """One assessment per SAF service group rating and per legacy report date that rates."""
    loc = record["locationId"]
    published = set()
    for assessment in record.get("assessment") or []:
        published.add(assessment["assessmentPlanPublishedDateTime"][:10])
        for asg in assessment["ratings"]["asgRatings"]:
            date, group = asg["assessmentDate"], asg["name"]
            era = "SAF by evidence category" if date < "2024-12-02" else "SAF by statement"
            out.assessments.add((loc, date, group, _rating(asg["rating"]), era))
            for kq in asg["keyQuestionRatings"]:
                assert kq["name"] in KEY_QUESTIONS
                percentage = int(kq["percentageScore"])
                out.key_questions.add(
                    (
                        loc,
                        date,
                        group,
                        kq["name"],
                        _rating(kq["rating"]),
                        percentage or None,  # "0" is how the API says "none"
                        STATUSES[kq["status"].lower()],
                        _judgement(kq["rating"]),
                    )
                )
                for topic in kq.get("topicareas") or []:
                    score = re.match(r"([1-4]) - ", topic["qualityStatementscore"])
                    if score is None:  # "Regulations met": a judgement, not a score
                        assert _judgement(topic["qualityStatementscore"])
                        continue
                    commentary = [
                        c["commentary"].strip()
                        for c in topic.get("evidenceCategory") or []
                        if c["commentary"].strip()
                    ]
                    out.statements.add(
                        (
                            loc,
                            date,
                            kq["name"],
                            int(topic["qualityStatementId"]),
                            _statement_name(topic["name"]),
                            int(score[1]),
                            STATUSES[topic["status"].lower()],
                            "\n\n".join(commentary) or None,
                        )
                    )
    # Legacy ratings: every key question carries the date of the report that rated it.
    reports: dict[str, dict] = {}
    current = (record.get("currentRatings") or {}).get("overall")
    entries = [current] if current else []
    entries += [
        {**(h.get("overall") or {}), "reportDate": h.get("reportDate")}
        for h in record.get("historicRatings") or []
    ]
    for overall in entries:
        date = overall.get("reportDate")
        if date and _rating(overall.get("rating")):
            report = reports.setdefault(date, {"overall": None, "kqs": {}})
            report["overall"] = report["overall"] or _rating(overall["rating"])
        for kq in overall.get("keyQuestionRatings") or []:
            kq_date = kq.get("reportDate") or date
            if kq_date and _rating(kq["rating"]):
                report = reports.setdefault(kq_date, {"overall": None, "kqs": {}})
                report["kqs"].setdefault(kq["name"], _rating(kq["rating"]))
    for date, report in reports.items():
        # in these files no legacy report is the copy of a SAF assessment (same publication day)
        assert date not in published
        # every legacy report of these files was published before the SAF's rollout ended, so
        # it is of the old framework, whatever its date (issue 12, point 6)
        assert date < SAF_ROLLOUT_END
        out.assessments.add((loc, date, None, report["overall"], "pre-SAF"))
        for name, rating in report["kqs"].items():
            out.key_questions.add((loc, date, None, name, rating, None, None, None))


@pytest.fixture(scope="module")
def files() -> dict[str, Expected]:
    return {name: expected(REAL / name) for name in FOLDERS if (REAL / name).is_dir()}


def of(files: dict[str, Expected], name: str) -> Expected:
    if name not in files:
        pytest.skip(f"{REAL / name} is absent")
    return files[name]


def everything(files: dict[str, Expected]) -> Expected:
    out = Expected()
    for name in API_FOLDERS:
        part = of(files, name)
        out.locations |= part.locations
        out.providers |= part.providers
        out.assessments |= part.assessments
        out.key_questions |= part.key_questions
        out.statements |= part.statements
    return out


# Every file loads or is refused, in one line that says what it is ----------------------------
def test_every_record_loads_and_every_other_file_is_refused_saying_what_it_is(loads):
    everything_loaded = loaded(loads, "all")
    results = {
        Path(r.file).relative_to(REAL).as_posix(): r for r in everything_loaded.summary.results
    }
    assert set(results) == {p.relative_to(REAL).as_posix() for p in iter_files([REAL])}
    refused = {name: r for name, r in results.items() if r.action == "rejected"}
    assert {name: r.message for name, r in refused.items()} == {
        name: message for name, (_, message) in REFUSALS.items()
    }
    for name, result in refused.items():
        kind, _ = REFUSALS[name]
        assert kind in result.message
        assert result.line == f"{REAL / name}: {result.message}"  # names the file
        assert "\n" not in result.line and "\r" not in result.line
    # every JSON file of location or provider records loaded (none is refused)
    records = [n for n in results if n.endswith(".json") and n not in REFUSALS]
    assert len(records) == 3 + (451 + 1 + 20) + 1  # carehomehub, oldham, sfc
    assert Counter(results[n].action for n in records) == {
        "loaded": 215,  # 193 of oldham's location files, its 20 providers, 2 more
        "no ratings": 260,  # locations whose records hold no rating: stored all the same
        "unchanged": 1,  # CQC_data_locs_list.json: the same 103 records as CQC_data.json
    }
    assert results[f"{CAREHOMEHUB}/CQC_data.json"].action == "loaded"
    assert results[f"{CAREHOMEHUB}/CQC_data_locs_list.json"].action == "unchanged"
    # the ingest log says the same, file by file
    log = dict(
        everything_loaded.rows("SELECT file, message FROM ingest_log WHERE action = 'rejected'")
    )
    assert {Path(f).relative_to(REAL).as_posix(): m for f, m in log.items()} == {
        name: message for name, (_, message) in REFUSALS.items()
    }


def test_the_ratings_files_providers_sheet_is_refused_naming_it(loads):
    carehomehub = loaded(loads, CAREHOMEHUB)
    prov = REAL / CAREHOMEHUB / "Latest_ratings_2_2021_Prov.csv"
    (result,) = [r for r in carehomehub.summary.results if r.file == str(prov)]
    assert result.action == "rejected"
    assert result.message.startswith("the Providers sheet of CQC's ratings file")
    assert "load its Locations sheet" in result.message
    with prov.open(encoding="utf-8-sig", newline="") as handle:  # it is the Providers sheet
        header = next(csv.reader(handle))
    assert header[:2] == ["ProviderID", "ProviderName"] and "LocationID" not in header
    assert carehomehub.value("SELECT count(*) FROM providers") == 0


# Counts per folder, from the files and from the database ---------------------------------------
# (locations, providers, assessments, key question results, statement scores) of each folder
COUNTS = {
    CAREHOMEHUB: (104, 0, 173, 851, 0),
    OLDHAM: (451, 20, 441, 2044, 99),
    SFC: (1, 0, 3, 15, 0),
    WMFS: (0, 0, 0, 0, 0),
    MOOPERD: (0, 0, 0, 0, 0),
}


@pytest.mark.parametrize("name", FOLDERS)
def test_counts_per_folder_match_the_files(loads, files, name):
    db, raw = loaded(loads, name), of(files, name)
    from_files = (
        len(raw.locations),
        len(raw.providers),
        len(raw.assessments),
        len(raw.key_questions),
        len(raw.statements),
    )
    from_db = tuple(
        db.value(f"SELECT count(*) FROM {table}")
        for table in (
            "locations",
            "providers",
            "assessments",
            "key_question_results",
            "statement_scores",
        )
    )
    assert from_files == COUNTS[name]
    assert from_db == from_files


def test_counts_of_everything_loaded_together(loads, files):
    db, raw = loaded(loads, "all"), everything(files)
    assert (
        len(raw.locations),
        len(raw.assessments),
        len(raw.key_questions),
        len(raw.statements),
    ) == (556, 617, 2910, 99)
    assert db.rows(
        "SELECT (SELECT count(*) FROM locations), (SELECT count(*) FROM providers),"
        " (SELECT count(*) FROM assessments), (SELECT count(*) FROM key_question_results),"
        " (SELECT count(*) FROM statement_scores), (SELECT count(*) FROM scores),"
        " (SELECT count(*) FROM key_questions)"
    ) == [(556, 20, 617, 2910, 99, 99, 2910)]
    # every id of the /locations and /providers list pages is in the database
    oldham = of(files, OLDHAM)
    assert len(oldham.listed["locations"]) == 451 and len(oldham.listed["providers"]) == 20
    assert oldham.listed["locations"] == set(oldham.locations)
    ids = {r[0] for r in db.rows("SELECT location_id FROM locations")}
    assert oldham.listed["locations"] <= ids
    providers = {r[0] for r in db.rows("SELECT provider_id FROM providers")}
    assert oldham.listed["providers"] == providers == set(oldham.providers)


# Row by row against the files -------------------------------------------------------------------
@pytest.mark.parametrize("name", API_FOLDERS)
def test_every_row_matches_the_files(loads, files, name):
    db, raw = loaded(loads, name), of(files, name)
    assessments = db.rows(
        "SELECT location_id, assessment_date::VARCHAR, service_group, overall_rating, era"
        " FROM assessments"
    )
    assert len(assessments) == len(raw.assessments)
    assert set(assessments) == raw.assessments
    key_questions = db.rows(
        "SELECT a.location_id, a.assessment_date::VARCHAR, a.service_group, k.key_question,"
        " k.rating, k.stated_score, k.status, k.judgement"
        " FROM key_question_results k JOIN assessments a USING (assessment_id)"
    )
    assert len(key_questions) == len(raw.key_questions)
    assert set(key_questions) == raw.key_questions
    statements = db.rows(
        "SELECT a.location_id, a.assessment_date::VARCHAR, s.key_question, s.statement_id,"
        " lower(s.statement), s.score, s.status, s.evidence"
        " FROM statement_scores s JOIN assessments a USING (assessment_id)"
    )
    assert len(statements) == len(raw.statements)
    assert set(statements) == raw.statements  # qualityStatementId is the project's id


@pytest.mark.parametrize("name", API_FOLDERS)
def test_every_location_and_provider_matches_the_files(loads, files, name):
    db, raw = loaded(loads, name), of(files, name)
    stored = {
        row[0]: row[1:]
        for row in db.rows(
            "SELECT location_id, cqc_location_id, location_name, provider_id, postcode, region,"
            " local_authority, phone, registration_status, registration_date::VARCHAR,"
            " deregistration_date::VARCHAR FROM locations"
        )
    }
    assert set(stored) == set(raw.locations)
    for loc, record in raw.locations.items():
        assert stored[loc] == (
            loc,
            record["name"].strip(),
            record["providerId"],
            record["postalCode"],
            record["region"],
            record["localAuthority"],
            record.get("mainPhoneNumber"),
            record["registrationStatus"],
            record["registrationDate"],
            record.get("deregistrationDate"),
        ), loc
    providers = dict(db.rows("SELECT provider_id, provider_name FROM providers"))
    assert providers == {p: r["name"] for p, r in raw.providers.items()}


# Checked by hand against the files --------------------------------------------------------------
STATEMENTS_OF = {  # statement ids 1-33 of each key question (34 is not in these files)
    "Safe": range(1, 9),
    "Effective": range(9, 15),
    "Caring": range(15, 20),
    "Responsive": range(20, 27),
    "Well-led": range(27, 34),
}
# location -> assessment date, published, service group, service type, source label,
# {key question: (percentage, rating, status, published)}, scores other than 3, statements
# "Assessed" (every other one is "Not Assessed": carried forward).
SCORED = {
    "1-5312102242": (  # a care home without nursing: Caring 70 with a score of 2
        "2024-04-17",
        "2024-08-08",
        "Care Homes",
        "Care home service without nursing",
        "Residential homes",
        {
            "Safe": (75, "Good", "assessed", "2024-06-20"),
            "Effective": (75, "Good", "carried forward", None),
            "Caring": (70, "Good", "assessed", "2024-06-20"),
            "Responsive": (75, "Good", "assessed", "2024-06-20"),
            "Well-led": (75, "Good", "assessed", "2024-06-20"),
        },
        {17: 2},
        {3, 4, 6, 7, 8, 17, 25, 28, 31},
    ),
    "1-5203053560": (  # a nursing home
        "2024-07-15",
        "2024-09-17",
        "Care Homes",
        "Care home service with nursing",
        "Nursing homes",
        {
            "Safe": (75, "Good", "assessed", "2024-09-05"),
            "Effective": (75, "Good", "carried forward", None),
            "Caring": (75, "Good", "assessed", "2024-09-05"),
            "Responsive": (75, "Good", "assessed", "2024-09-05"),
            "Well-led": (75, "Good", "assessed", "2024-09-05"),
        },
        {},
        {3, 4, 6, 17, 20, 25, 28, 29, 30, 31},
    ),
    "1-569934227": (  # a GP practice: one statement assessed, 32 carried forward
        "2024-02-26",
        "2024-05-10",
        "General Practice",
        "Doctors consultation service",
        "Doctors/Gps",
        {
            "Safe": (75, "Good", "carried forward", None),
            "Effective": (75, "Good", "carried forward", None),
            "Caring": (75, "Good", "carried forward", None),
            "Responsive": (75, "Good", "assessed", "2024-04-02"),
            "Well-led": (75, "Good", "carried forward", None),
        },
        {},
        {24},
    ),
}


@pytest.mark.parametrize("loc", SCORED)
def test_scored_locations_checked_by_hand(loads, loc):
    db = loaded(loads, OLDHAM)
    date, published, group, service_type, label, kqs, lower, assessed = SCORED[loc]
    assert db.rows(
        "SELECT service_type, service_type_label, registration_status, overall_rating"
        " FROM locations WHERE location_id = ?",
        loc,
    ) == [(service_type, label, "Registered", "Good")]
    assert db.rows(
        "SELECT assessment_date::VARCHAR, published_date::VARCHAR, service_group, overall_rating,"
        " era FROM assessments WHERE location_id = ? AND service_group IS NOT NULL",
        loc,
    ) == [(date, published, group, "Good", "SAF by evidence category")]
    rows = db.rows(
        "SELECT key_question, key_question_score, stated_score, computed_score,"
        " key_question_rating, statement_status, points, statements_scored, judgement,"
        " service_type, service_group"
        " FROM key_questions WHERE location_id = ? AND service_group IS NOT NULL",
        loc,
    )
    expected_rows, identity = [], (service_type, group)
    for kq, (percentage, rating, status, _) in kqs.items():
        points = sum(lower.get(s, 3) for s in STATEMENTS_OF[kq])
        count = len(STATEMENTS_OF[kq])
        assert round(100 * points / (4 * count)) == percentage  # CQC's arithmetic holds
        stated = computed = percentage
        expected_rows.append(
            (kq, percentage, stated, computed, rating, status, points, count, None, *identity)
        )
    assert sorted(rows) == sorted(expected_rows)
    published_by_kq = dict(
        db.rows(
            "SELECT k.key_question, k.published_date::VARCHAR FROM key_question_results k"
            " JOIN assessments a USING (assessment_id)"
            " WHERE a.location_id = ? AND a.service_group IS NOT NULL",
            loc,
        )
    )
    assert published_by_kq == {kq: row[3] for kq, row in kqs.items()}
    scores = db.rows(
        "SELECT key_question, statement_id, score, statement_status, evidence IS NOT NULL"
        " FROM scores WHERE location_id = ?",
        loc,
    )
    assert sorted(scores) == sorted(
        (kq, s, lower.get(s, 3), "assessed" if s in assessed else "carried forward", s in assessed)
        for kq, ids in STATEMENTS_OF.items()
        for s in ids
    )


def test_each_saf_report_is_stored_once(loads):
    """What the real records settle of "one report, stored once" (docs/SOURCES.md): the API
    gives a SAF assessment in `assessment[]` only, no copy of it among the legacy ratings (every
    legacy report date is before the SAF publication); loaded, each SAF location holds one
    assessment per service group rated, and none dated by the SAF publication."""
    db = loaded(loads, OLDHAM)
    checked = 0
    for path, record in json_documents(REAL / OLDHAM / "location_details"):
        saf = [a for a in record.get("assessment") or [] if a.get("ratings")]
        if not saf:
            continue
        checked += 1
        loc = record["locationId"]
        published = {a["assessmentPlanPublishedDateTime"][:10] for a in saf}
        overall = (record.get("currentRatings") or {}).get("overall") or {}
        legacy = [overall.get("reportDate")]
        legacy += [h.get("reportDate") for h in record.get("historicRatings") or []]
        assert all(d < min(published) for d in legacy if d), path.name
        groups = sorted(g["name"] for a in saf for g in a["ratings"].get("asgRatings") or [])
        assert db.rows(
            "SELECT service_group FROM assessments WHERE location_id = ?"
            " AND service_group IS NOT NULL ORDER BY 1",
            loc,
        ) == [(g,) for g in groups]
        on_publication = db.value(
            "SELECT count(*) FROM assessments WHERE location_id = ?"
            " AND service_group IS NULL AND assessment_date::VARCHAR IN (SELECT unnest(?))",
            loc,
            sorted(published),
        )
        assert on_publication == 0, loc
    assert checked == 4  # every location with a SAF assessment in the files


def test_carried_forward_scores_are_79_of_99(loads):
    db = loaded(loads, OLDHAM)
    assert db.rows("SELECT statement_status, count(*) FROM scores GROUP BY ALL ORDER BY 1") == [
        ("assessed", 20),
        ("carried forward", 79),
    ]
    assert db.value("SELECT count(*) FROM scores WHERE statement_status IS NULL") == 0


def test_dental_regulations_met_has_no_rating_and_no_percentage(loads):
    db = loaded(loads, OLDHAM)
    loc = "1-16561595022"  # every statement "Regulations met", percentageScore "0", rating ""
    assert db.rows(
        "SELECT assessment_date::VARCHAR, published_date::VARCHAR, service_group, overall_rating"
        " FROM assessments WHERE location_id = ?",
        loc,
    ) == [("2024-08-30", "2024-11-18", "Dental", None)]  # its older reports rate nothing
    rows = db.rows(
        "SELECT key_question, key_question_rating, key_question_score, stated_score,"
        " computed_score, points, statements_scored, judgement, statement_status"
        " FROM key_questions WHERE location_id = ?",
        loc,
    )
    assert sorted(rows) == sorted(
        (kq, None, None, None, None, None, None, "Regulations met", "assessed")
        for kq in KEY_QUESTIONS
    )
    assert db.value("SELECT count(*) FROM scores WHERE location_id = ?", loc) == 0
    assert db.value("SELECT count(*) FROM key_questions WHERE key_question_score = 0") == 0
    assert db.rows(
        "SELECT registration_status, registration_date::VARCHAR, location_type,"
        " inspection_category, overall_rating FROM locations WHERE location_id = ?",
        loc,
    ) == [("Registered", "2023-07-25", "Primary Dental Care", "Dentists", None)]


def test_the_dental_practice_is_typed_as_a_dental_service(loads):
    db = loaded(loads, OLDHAM)
    assert (
        db.value("SELECT service_type FROM locations WHERE location_id = '1-16561595022'")
        == "Dental service"
    )


# location -> registration status, registration date, deregistration date
REGISTRATION = {
    "1-134558905": ("Deregistered", "2010-12-02", "2016-11-28"),  # carehomehub, 2016
    "1-125856395": ("Registered", "2011-02-15", None),  # sfc
    "RW603": ("Deregistered", "2010-06-15", "2021-10-07"),  # the hospital's old id ...
    "RM317": ("Registered", "2021-10-01", None),  # ... and its successor
    "5J501": ("Deregistered", "2010-06-15", "2012-09-18"),
    "1-1015412687": ("Deregistered", "2013-10-28", "2014-05-30"),
    "1-5312102242": ("Registered", "2018-06-13", None),
    "1-569934227": ("Registered", "2013-04-01", None),
}


def test_registration_checked_by_hand(loads):
    db = loaded(loads, "all")
    rows = db.rows(
        "SELECT location_id, registration_status, registration_date::VARCHAR,"
        " deregistration_date::VARCHAR FROM locations WHERE location_id IN"
        f" ({', '.join('?' * len(REGISTRATION))})",
        *REGISTRATION,
    )
    assert {r[0]: r[1:] for r in rows} == REGISTRATION
    assert db.rows(
        "SELECT registration_status, count(*), count(deregistration_date) FROM locations"
        " GROUP BY ALL ORDER BY 1"
    ) == [("Deregistered", 280, 280), ("Registered", 276, 0)]
    oldham = loaded(loads, OLDHAM)
    assert oldham.rows(
        "SELECT registration_status, count(*) FROM locations GROUP BY ALL ORDER BY 1"
    ) == [("Deregistered", 235), ("Registered", 216)]
    # the views carry it, for current pictures to leave deregistered locations out
    assert db.value(
        "SELECT count(DISTINCT location_id) FROM key_questions"
        " WHERE registration_status = 'Deregistered'"
    ) == db.value(
        "SELECT count(DISTINCT location_id) FROM locations JOIN assessments USING (location_id)"
        " WHERE registration_status = 'Deregistered'"
    )


def test_legacy_ratings_checked_by_hand(loads):
    db = loaded(loads, "all")
    rows = db.rows(
        "SELECT location_id, assessment_date::VARCHAR, key_question, key_question_rating,"
        " key_question_score, era FROM key_questions"
        " WHERE location_id IN ('1-125856395', 'RM317') ORDER BY 1, 2, 3"
    )
    good, outstanding = "Good", "Outstanding"
    ri, inadequate = "Requires improvement", "Inadequate"
    lucerne = {  # historic 2015 and 2017, current 2019
        "2015-01-23": dict(Safe=good, Effective=good, Caring=good, Responsive=ri),
        "2017-02-08": dict(Safe=good, Effective=outstanding, Caring=outstanding),
        "2019-10-31": dict(Safe=good, Effective=outstanding, Caring=outstanding),
    }
    lucerne["2015-01-23"]["Well-led"] = good
    for date in ("2017-02-08", "2019-10-31"):
        lucerne[date] |= {"Responsive": outstanding, "Well-led": outstanding}
    royal_oldham = {  # its 2022 report "Inspected but not rated" rates nothing
        "2016-08-12": dict(Safe=inadequate, Effective=ri, Caring=good, Responsive=ri),
        "2018-03-01": dict(Safe=ri, Effective=ri, Caring=good, Responsive=ri),
        "2020-02-07": dict(Safe=ri, Effective=good, Caring=good, Responsive=ri),
        "2021-02-10": dict(Safe=ri, Effective=good, Caring=good, Responsive=ri),
    }
    for date, led in zip(royal_oldham, (inadequate, ri, good, good), strict=True):
        royal_oldham[date]["Well-led"] = led
    assert rows == sorted(
        (loc, date, kq, rating, None, "pre-SAF")
        for loc, table in (("1-125856395", lucerne), ("RM317", royal_oldham))
        for date, ratings in table.items()
        for kq, rating in ratings.items()
    )
    assert db.rows(
        "SELECT assessment_date::VARCHAR, overall_rating FROM assessments"
        " WHERE location_id = 'RM317' ORDER BY 1"
    ) == [
        ("2016-08-12", "Inadequate"),
        ("2018-03-01", "Requires improvement"),
        ("2020-02-07", "Requires improvement"),
        ("2021-02-10", "Requires improvement"),
    ]


# Ratings-only reports published in the SAF's rollout (November 2023 to March 2024), by hand:
# location -> date, overall rating, {key question: rating} of that report
ROLLOUT = {
    "1-549665958": ("2023-12-15", "Good", dict.fromkeys(KEY_QUESTIONS, "Good")),
    "1-117977107": ("2024-01-05", "Good", dict.fromkeys(KEY_QUESTIONS, "Good")),
    "1-18648277454": ("2024-01-05", "Good", dict.fromkeys(KEY_QUESTIONS, "Good")),
    "1-551258294": (
        "2024-01-19",
        "Good",
        dict.fromkeys(KEY_QUESTIONS, "Good") | {"Responsive": "Requires improvement"},
    ),
    "1-1145266322": ("2024-02-07", "Good", {"Safe": "Good", "Well-led": "Good"}),
    "1-119142905": (
        "2024-02-22",
        "Requires improvement",
        {"Safe": "Requires improvement", "Well-led": "Requires improvement", "Responsive": "Good"},
    ),
    "1-545872379": ("2024-02-22", "Good", {"Responsive": "Requires improvement"}),
}


def test_ratings_without_scores_from_the_saf_rollout_are_of_the_old_framework(loads):
    db = loaded(loads, OLDHAM)
    rows = db.rows(
        "SELECT location_id, assessment_date::VARCHAR, overall_rating, era, source,"
        " (SELECT count(*) FROM statement_scores s WHERE s.assessment_id = a.assessment_id)"
        " FROM assessments a WHERE assessment_date >= '2023-11-21' AND service_group IS NULL"
    )
    assert sorted(rows) == sorted(
        (loc, date, overall, "pre-SAF", "api-json", 0)
        for loc, (date, overall, _) in ROLLOUT.items()
    )
    for loc, (date, _, ratings) in ROLLOUT.items():
        assert (
            dict(
                db.rows(
                    "SELECT key_question, key_question_rating FROM key_questions"
                    " WHERE location_id = ? AND assessment_date = ?",
                    loc,
                    date,
                )
            )
            == ratings
        ), loc
    # a key question the current ratings carry over from an older report keeps that date
    assert db.rows(
        "SELECT key_question, key_question_rating FROM key_questions"
        " WHERE location_id = '1-1145266322' AND assessment_date = '2018-07-11' ORDER BY 1"
    ) == [(kq, "Good") for kq in sorted(KEY_QUESTIONS)]


ODS_CODES = (
    "5J501", "5J533", "5J5X1", "5J5X2", "G7F7V", "H5L2X", "RJXX6", "RM317",
    "RM3Y3", "RT203", "RT242", "RT2C1", "RT2F3", "RW603", "RW6X2", "RY210",
)  # fmt: skip


def test_ods_code_ids_are_accepted_without_a_warning(loads, files):
    db = loaded(loads, OLDHAM)
    raw = of(files, OLDHAM)
    assert sorted(loc for loc in raw.locations if not loc.startswith("1-")) == list(ODS_CODES)
    assert db.rows(
        "SELECT location_id, cqc_location_id, location_type FROM locations"
        " WHERE location_id NOT LIKE '1-%' ORDER BY 1"
    ) == [(code, code, "NHS Healthcare Organisation") for code in ODS_CODES]
    warnings = [w for r in db.summary.results for w in r.warnings]
    assert not [w for w in warnings if any(code in w for code in ODS_CODES)]
    assert not [w for w in warnings if "not of the form" in w]
    for code in ODS_CODES:
        (result,) = [r for r in db.summary.results if r.file.endswith(f"location_{code}.json")]
        assert result.action in ("loaded", "no ratings") and result.warnings == []


def test_cqc_non_ratings_raise_no_warning(loads):
    db = loaded(loads, "all")
    seen = Counter()
    for path in iter_files([REAL]):
        if path.suffix == ".json":
            text = path.read_text(encoding="utf-8-sig")
            for phrase in ("Inspected but not rated", "No published rating"):
                seen[phrase] += text.count(f'"{phrase}"')
    assert seen == {"Inspected but not rated": 402, "No published rating": 1005}
    warnings = [w for r in db.summary.results for w in r.warnings]
    warnings += [w for (ws,) in db.rows("SELECT warnings FROM ingest_log") for w in ws or []]
    assert not [w for w in warnings if "inspected but not rated" in w.lower()]
    assert not [w for w in warnings if "no published rating" in w.lower()]
    # no rating is invented from them
    assert (
        db.value(
            "SELECT count(*) FROM key_questions WHERE key_question_rating NOT IN"
            " ('Outstanding', 'Good', 'Requires improvement', 'Inadequate')"
        )
        == 0
    )


def test_inspected_but_not_rated_reports_load_without_warnings(loads):
    db = loaded(loads, "all")
    warnings = [w for r in db.summary.results for w in r.warnings]
    assert [w for w in warnings if "'No action'" in w] == []


def test_the_load_summary_accounts_for_every_file(loads):
    short = []
    for name in (*FOLDERS, "all"):
        summary = loaded(loads, name).summary
        counts = [int(n) for n in re.findall(r"(\d+) [a-z]", summary.line.split(":", 1)[1])]
        if sum(counts[:-1]) != summary.files:  # the last number is the warnings
            short.append(summary.line)
    assert short == []


# No person's name from the files is in the database ---------------------------------------------
def _variants(title: str, given: str, family: str) -> set[str]:
    """The ways a text might write a person's name: 'Given Family', 'First Family', ..."""
    title, given, family = (" ".join(p.split()).lower() for p in (title, given, family))
    if not (given and family):
        return set()
    out = {f"{given} {family}", f"{given.split()[0]} {family}", f"{family}, {given}"}
    if title:
        out.add(f"{title} {family}")
    return out


def _json_people(document: Any, out: set[str]) -> int:
    """Names from every personGivenName / personFamilyName (contacts, nominated individuals)."""
    found = 0
    if isinstance(document, dict):
        if "personFamilyName" in document or "personGivenName" in document:
            found += 1
            out |= _variants(
                document.get("personTitle") or "",
                document.get("personGivenName") or "",
                document.get("personFamilyName") or "",
            )
        for value in document.values():
            found += _json_people(value, out)
    elif isinstance(document, list):
        for value in document:
            found += _json_people(value, out)
    return found


def _listed_people(text: str, out: set[str]) -> int:
    """Names written 'Family, Given Middle' or 'Family, Given, Title' (CQC's data files)."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) < 2 or not parts[0]:
        return 0
    out |= _variants(parts[2] if len(parts) > 2 else "", parts[1], parts[0])
    return 1


_ODS = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"


def _ods_rows(path: Path, sheet: str) -> list[list[str]]:
    root = ElementTree.fromstring(zipfile.ZipFile(path).read("content.xml"))
    (table,) = [t for t in root.iter(f"{_ODS}table") if t.get(f"{_ODS}name") == sheet]
    rows = []
    for row in table.iter(f"{_ODS}table-row"):
        cells: list[str] = []
        for cell in row:
            repeat = min(int(cell.get(f"{_ODS}number-columns-repeated", "1")), 200)
            text = "\n".join("".join(p.itertext()) for p in cell.iter(f"{_TEXT}p"))
            cells += [text] * repeat
        rows.append(cells)
    return rows


def people_in_files() -> tuple[set[str], Counter]:
    """Every person's name in the real files (as the strings to look for), and where from."""
    names: set[str] = set()
    sources: Counter = Counter()
    for _, document in json_documents(REAL):
        sources["json"] += _json_people(document, names)
    wmfs = REAL / WMFS / "2021-05-04_HSCA_Active_Locations_extract.ods"
    if wmfs.exists():
        header, *rows = _ods_rows(wmfs, "HSCA_Active_Locations")
        personal = [
            i
            for i, h in enumerate(header)
            if h.startswith(
                ("Registered manager", "Provider Nominated Individual", "Provider Main Partner")
            )
        ]
        assert len(personal) == 3
        for row in rows:
            for i in personal:
                if i < len(row) and row[i]:
                    sources["wmfs"] += _listed_people(row[i], names)
    mooperd = REAL / MOOPERD / "Locations-head_ASC_directory_2025.csv"
    if mooperd.exists():
        with mooperd.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                if row["Registered manager"]:
                    sources["mooperd"] += _listed_people(row["Registered manager"], names)
    return names, sources


def text_values(db: Loaded) -> list[tuple[str, str, str]]:
    """(table, column, value) of every distinct text value of every table."""
    columns = db.rows(
        "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c"
        " JOIN information_schema.tables t USING (table_schema, table_name)"
        " WHERE t.table_type = 'BASE TABLE' AND c.data_type IN ('VARCHAR', 'VARCHAR[]')"
    )
    out = []
    for table, column, kind in columns:
        values = f"unnest({column})" if kind == "VARCHAR[]" else column
        for (value,) in db.rows(f"SELECT DISTINCT {values} FROM {table}"):
            if value:
                out.append((table, column, value))
    return out


def test_no_persons_name_from_the_files_is_in_the_database(loads, files):
    db = loaded(loads, "all")
    names, sources = people_in_files()
    # the fields that name people: contacts[] and nominatedIndividual of the API records
    # (registered managers, partners, nominated individuals), the registered manager, nominated
    # individual and main partner columns of the HSCA list, the registered manager column of
    # the adult social care export
    assert sources == {"json": 653, "wmfs": 91, "mooperd": 871}
    assert len(names) > 3000
    values = text_values(db)
    tables = {t for t, _, _ in values}
    assert {"locations", "providers", "assessments", "statement_scores", "ingest_log"} <= tables
    pattern = re.compile(
        r"(?<!\w)(?:"
        + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        + r")(?!\w)"
    )
    # A provider or service registered under a person's own name (a sole trader, a partnership,
    # a GP practice named after its doctor) is named so by CQC: that is its name, stored as
    # location_name or provider_name exactly as the record gives it.
    published = {r["name"].strip() for r in everything(files).locations.values()}
    published |= {r["name"].strip() for r in everything(files).providers.values()}
    hits = [(t, c, v) for t, c, v in values if pattern.search(" ".join(v.lower().split()))]
    elsewhere = [(t, c) for t, c, v in hits if (t, c) not in _NAME_COLUMNS or v not in published]
    assert elsewhere == []  # (table, column) only: a failure prints no name
    # checked by hand: one provider (a partnership of two people) and two services named
    # after their doctor, each the name CQC registers it under
    named = Counter((t, c) for t, c, _ in hits)
    assert named == {("providers", "provider_name"): 1, ("locations", "location_name"): 2}


_NAME_COLUMNS = {("locations", "location_name"), ("providers", "provider_name")}


# A care-home filter counts every care home ---------------------------------------------------
def test_a_care_home_filter_counts_every_care_home(loads, files):
    db, raw = loaded(loads, "all"), everything(files)
    care_homes = {
        loc
        for loc, record in raw.locations.items()
        if any(
            t["name"] in ("Nursing homes", "Residential homes") for t in record["gacServiceTypes"]
        )
    }
    assert {loc for loc in care_homes if raw.locations[loc]["careHome"] == "Y"} == care_homes
    assert sum(r["careHome"] == "Y" for r in raw.locations.values()) == len(care_homes) == 161
    stored = dict(
        db.rows(
            "SELECT location_id, service_type FROM locations WHERE service_type IN (?, ?)",
            *CARE_HOMES,
        )
    )
    assert set(stored) == care_homes
    assert Counter(stored.values()) == {CARE_HOMES[0]: 47, CARE_HOMES[1]: 114}
    assert stored["1-112828458"] == CARE_HOMES[0]  # registered for both: the first listed
    assert stored["1-5203053560"] == CARE_HOMES[0] and stored["1-5312102242"] == CARE_HOMES[1]
    for loc in care_homes:  # nursing or not, as the record's registered type says
        listed = [t["description"] for t in raw.locations[loc]["gacServiceTypes"]]
        assert stored[loc] in listed
    # the sidebar's filter on the key_questions view: every rated care home, from every source
    rated = {loc for loc, *_ in raw.assessments} & care_homes
    frame = db.con.sql("SELECT * FROM key_questions").pl().lazy()  # as queries.frames reads it
    chosen = Filters(service_types=CARE_HOMES).apply(frame).collect()
    assert set(chosen["location_id"]) == rated and len(rated) == 117
    assert set(chosen["service_type"]) == set(CARE_HOMES)
    labels = dict(
        db.rows(
            "SELECT DISTINCT service_type, service_type_label FROM locations"
            " WHERE service_type IN (?, ?)",
            *CARE_HOMES,
        )
    )
    assert labels == {CARE_HOMES[0]: "Nursing homes", CARE_HOMES[1]: "Residential homes"}


# Current Safe ratings below Good, with and without deregistered locations ----------------------
SAFE_BELOW_GOOD = """
    WITH latest AS (
        SELECT location_id, registration_status, key_question_rating,
               row_number() OVER (
                   PARTITION BY location_id ORDER BY assessment_date DESC, published_date DESC
               ) AS n
        FROM key_questions
        WHERE key_question = 'Safe' AND key_question_rating IS NOT NULL
          AND local_authority = 'Oldham'
    )
    SELECT count(*),
           count(*) FILTER (WHERE key_question_rating IN ('Requires improvement', 'Inadequate')),
           round(100 * count(*) FILTER (
               WHERE key_question_rating IN ('Requires improvement', 'Inadequate')
           ) / count(*), 1)
    FROM latest WHERE n = 1 {registered}
"""


def test_share_of_current_safe_ratings_below_good_without_deregistered_locations(loads, files):
    # The figures for Oldham's 451 records: the latest Safe rating of each location,
    # and the share of them below Good; 22.9% with deregistered locations, 14.2% without.
    db = loaded(loads, "all")
    assert db.value("SELECT count(*) FROM locations WHERE local_authority = 'Oldham'") == 451
    with_them = db.rows(SAFE_BELOW_GOOD.format(registered=""))
    without = db.rows(
        SAFE_BELOW_GOOD.format(registered="AND registration_status <> 'Deregistered'")
    )
    assert with_them == [(192, 44, 22.9)]
    assert without == [(120, 17, 14.2)]
    # the same from the files: the latest Safe rating of each Oldham record
    raw = of(files, OLDHAM)
    latest: dict[str, tuple[str, str]] = {}
    for loc, date, _, kq, rating, *_ in raw.key_questions:
        if kq == "Safe" and rating and raw.locations[loc]["localAuthority"] == "Oldham":
            latest[loc] = max(latest.get(loc, ("", "")), (date, rating))
    below = {loc for loc, (_, r) in latest.items() if r in ("Requires improvement", "Inadequate")}
    registered = {x for x in latest if raw.locations[x]["registrationStatus"] == "Registered"}
    assert (len(latest), len(below)) == (192, 44)
    assert (len(registered), len(below & registered)) == (120, 17)


def _current_safe(db: Loaded, include_deregistered: bool) -> pl.DataFrame:
    frames = load_frames(db.con)
    filters = Filters(key_questions=("Safe",), include_deregistered=include_deregistered)
    return (
        selected(frames.key_questions, filters, latest=True)
        .filter(pl.col("key_question_rating").is_not_null())
        .collect()
    )


def test_the_apps_current_picture_leaves_deregistered_locations_out(loads):
    db = loaded(loads, OLDHAM)  # every record of this folder is of Oldham
    assert db.value("SELECT count(DISTINCT local_authority) FROM locations") == 1
    default, everyone = _current_safe(db, False), _current_safe(db, True)
    assert set(default["registration_status"]) == {"Registered"}
    assert default["location_id"].n_unique() == 120
    assert everyone["location_id"].n_unique() == 192
    assert set(everyone.filter(pl.col("registration_status") == "Deregistered")["location_id"]) == {
        loc for loc in everyone["location_id"] if loc not in set(default["location_id"])
    }


def test_the_apps_rating_shares_count_each_location_once(loads):
    db = loaded(loads, OLDHAM)
    frames = load_frames(db.con)
    for include, n, below in ((False, 120, 17), (True, 192, 44)):
        filters = Filters(key_questions=("Safe",), include_deregistered=include)
        shares = rating_shares(frames.key_questions, filters=filters)
        assert set(shares["n"]) == {n}
        worse = shares.filter(
            pl.col("key_question_rating").is_in(["Requires improvement", "Inadequate"])
        )
        assert worse["count"].sum() == below


def test_commissioner_geography_filters_pick_a_patch(loads):
    # Oldham's records state the local authority and the ICB of every location (ONSPD).
    db = loaded(loads, OLDHAM)
    frames = load_frames(db.con)
    [(icb, icb_locations)] = db.rows(
        "SELECT icb_name, count(DISTINCT location_id) FROM key_questions"
        " WHERE icb_name IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
    )
    chosen = Filters(icbs=(icb,)).apply(frames.key_questions).collect()
    assert chosen["location_id"].n_unique() == icb_locations > 0
    [(authority, authority_rows)] = db.rows(
        "SELECT local_authority, count(*) FROM scores"
        " WHERE local_authority IS NOT NULL GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
    )
    scores = Filters(local_authorities=(authority,), include_carried_forward=True)
    assert scores.apply(frames.scores).collect().height == authority_rows > 0
