"""Each assessment's report on CQC's website: read from API records, stored, kept through the
schema upgrade of an older file (the Location page's links: tests/pages/test_location_reports.py).

Addresses (ingest.readers.api_records): a SAF assessment's plan id gives
https://www.cqc.org.uk/location/<id>/reports/<plan>/overall; a legacy report's link id gives
https://api.cqc.org.uk/public/v1/reports/<link>, where CQC's own pages link its reports.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from ingest.__main__ import main
from ingest.readers import api_records
from tests.conftest import FIXTURES, REPORTS, SHARED
from tests.helpers import sql
from ui import db as ui_db

BIRCHWOOD = FIXTURES / "api" / "birchwood-two-service-groups.json"
ROWAN_TEXT = REPORTS / "rowan-court-three-key-questions.txt"
OLDHAM = SHARED / "real-data" / "oldham-api-2025" / "location_details"
SITE = "https://www.cqc.org.uk/location/"
REPORTS_API = "https://api.cqc.org.uk/public/v1/reports/"


def links_of(doc: dict) -> dict[tuple, str | None]:
    """(assessment date, service group) -> report_url of each assessment record of `doc`."""
    records = api_records.records_from_document(doc, "test.json")
    return {
        (r["assessment_date"], r["service_group"]): r["report_url"]
        for r in records
        if r["assessment_date"]  # not a location without ratings
    }


def test_the_fixture_records_name_their_reports():
    doc = json.loads(BIRCHWOOD.read_text())
    # Its two SAF service groups by their plans; its 2019 report by the link its ratings give
    # (the 2025 legacy copy is the Care Homes assessment, read with its scores).
    assert links_of(doc) == {
        ("2019-08-01", None): f"{REPORTS_API}birchwood-2019",
        ("2025-02-10", "Care Homes"): f"{SITE}1-1000000101/reports/plan-0101-1/overall",
        ("2025-02-12", "Homecare"): f"{SITE}1-1000000101/reports/plan-0101-2/overall",
    }


def legacy(location: str = "1-123", **fields) -> dict:
    """A location record with one legacy report of 2020-05-01."""
    return {
        "locationId": location,
        "name": "Test House",
        "currentRatings": {"overall": {"rating": "Good", "reportDate": "2020-05-01", **fields}},
    }


def test_a_report_link_of_a_plain_form_only():
    listed = {"reports": [{"linkId": "abc-1", "reportDate": "2020-05-01",
                           "reportUri": "/reports/abc-1?20200501090000"}]}  # fmt: skip
    assert links_of(legacy(reportLinkId="abc-1")) == {("2020-05-01", None): f"{REPORTS_API}abc-1"}
    # No link in the ratings: the record's reports[] entry of the same date
    assert links_of({**legacy(), **listed}) == {
        ("2020-05-01", None): f"{REPORTS_API}abc-1?20200501090000"
    }
    for odd in ("../../x", "javascript:alert(1)", "a b", "x" * 65):
        assert links_of(legacy(reportLinkId=odd)) == {("2020-05-01", None): None}
    # a plan id beside a location id that is not CQC's gives no address either
    saf = {
        "locationId": "not a cqc id",
        "name": "Test House",
        "assessment": [{"ratings": {"asgRatings": [
            {"name": "Care Homes", "assessmentDate": "2025-01-02", "assessmentPlanId": "AP1"}
        ]}}],
    }  # fmt: skip
    saf["assessment"][0]["ratings"]["asgRatings"][0]["keyQuestionRatings"] = [
        {"name": "Safe", "rating": "Good"}
    ]
    assert links_of(saf) == {("2025-01-02", "Care Homes"): None}


@pytest.mark.skipif(not OLDHAM.is_dir(), reason=f"the real CQC records are absent ({OLDHAM})")
def test_real_records_name_the_report_of_each_saf_assessment_and_legacy_report():
    saf = legacy_links = 0
    for path in sorted(OLDHAM.glob("location_*.json")):
        doc = json.loads(path.read_text())
        shown = links_of(doc)
        loc = doc["locationId"]
        # Worked out from the file itself: each SAF service group's plan ...
        published = set()
        for assessment in doc.get("assessment") or []:
            published.add(assessment["assessmentPlanPublishedDateTime"][:10])
            for asg in assessment["ratings"]["asgRatings"]:
                key = (asg["assessmentDate"], asg["name"])
                assert shown[key] == f"{SITE}{loc}/reports/{asg['assessmentPlanId']}/overall"
                saf += 1
        # ... and each historic report's link, on the record of its date
        for report in doc.get("historicRatings") or []:
            key = (report["reportDate"], None)
            if key in shown and report["reportDate"] not in published:
                assert shown[key] == f"{REPORTS_API}{report['reportLinkId']}"
                legacy_links += 1
    assert saf == 4  # the four records with SAF blocks (SOURCE.md)
    assert legacy_links > 100


def load(db: Path, *paths: Path) -> None:
    assert main(["load", "--quiet", "--db", str(db), *map(str, paths)]) == 0


def test_links_are_stored_and_an_older_file_gains_them(tmp_path: Path):
    db = tmp_path / "older.duckdb"
    load(db, BIRCHWOOD, ROWAN_TEXT)
    # Make it a file of before the column: no report_url, another schema, and the API
    # assessments as the older program hashed them (its records had no report_url).
    con = duckdb.connect(str(db))
    con.execute("ALTER TABLE assessments DROP COLUMN report_url")
    con.execute("UPDATE meta SET value = 'older' WHERE key = 'schema_hash'")
    con.execute("UPDATE assessments SET content_hash = 'older' WHERE source = 'api-json'")
    con.close()
    assert ui_db.assessment_reports("1-1000000101", path=db).is_empty()  # the app copes

    load(db, BIRCHWOOD)  # the next load brings the file up to date, and the links in
    stored = sql(db, "SELECT assessment_date::VARCHAR, service_group, report_url, source"
                     " FROM assessments ORDER BY ALL")  # fmt: skip
    assert stored == [
        ("2019-08-01", None, f"{REPORTS_API}birchwood-2019", "api-json"),
        ("2025-02-10", "Care Homes", f"{SITE}1-1000000101/reports/plan-0101-1/overall", "api-json"),
        ("2025-02-12", "Homecare", f"{SITE}1-1000000101/reports/plan-0101-2/overall", "api-json"),
        ("2025-03-03", None, None, "report-text"),  # report text names no report
    ]
    assert sql(db, "SELECT value FROM meta WHERE key = 'schema_version'") == [("1",)]
