"""CQC API records: exact values, loose fields normalised, personal data dropped, and one
view of a location across report text, API records and the rating file."""

from __future__ import annotations

import json
from itertools import permutations
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest import database, readers, store
from ingest.__main__ import main
from ingest.files import FileResult, ReadFile, read_file
from ingest.readers import api_records
from ingest.records import RejectedFile
from tests.conftest import FIXTURES, REPORTS

API = FIXTURES / "api"
RATINGS_CSV = FIXTURES / "rating-files" / "latest-ratings-locations.csv"
BIRCHWOOD = API / "birchwood-two-service-groups.json"
HARBOUR = API / "harbour-lights-legacy-only.json"
ROWAN_API = API / "rowan-court.json"
ROWAN_TEXT = REPORTS / "rowan-court-three-key-questions.txt"

# Every person named anywhere in the API fixtures (contacts, nominated individuals, managers).
PEOPLE = ("Philippa", "Quartermaine", "Theodore", "Blackwood-Smythe", "Gwendolyn",
          "Ashworth-Pryce", "Octavia", "Fennimore")  # fmt: skip


def read(path: Path) -> list[dict]:
    fmt, records = readers.read(str(path), path.read_bytes())
    assert fmt == "api-json"
    return records


def load(con, *paths: Path) -> list[FileResult]:
    return store.load_files(con, [read_file(str(p), p.read_bytes()) for p in paths])


@pytest.fixture
def con(db_path):
    con = database.connect(db_path, read_only=False)
    yield con
    con.close()


def test_location_with_two_service_groups_and_legacy_ratings():
    records = read(BIRCHWOOD)
    # 2019 legacy report, then the SAF assessment's two service groups. The legacy
    # currentRatings dated 2025-04-22 is the SAF assessment (published that day): skipped.
    assert [(r["assessment_date"], r["service_group"]) for r in records] == [
        ("2019-08-01", None),
        ("2025-02-10", "Care Homes"),
        ("2025-02-12", "Homecare"),
    ]
    legacy, care_homes, homecare = records
    assert legacy["era"] == "pre-SAF"
    assert legacy["overall_rating"] == "Good"
    # Responsive comes from currentRatings (dated 2019-08-01), which wins over historicRatings.
    assert [(k["name"], k["rating"]) for k in legacy["key_questions"]] == [
        ("Safe", "Good"), ("Effective", "Good"), ("Caring", "Good"),
        ("Responsive", "Outstanding"), ("Well-led", "Good"),
    ]  # fmt: skip
    assert all(
        k["statements"] == [] and k["computed_score"] is None for k in legacy["key_questions"]
    )

    assert care_homes["location_cqc_id"] == "1-1000000101"
    assert care_homes["provider_cqc_id"] == "1-2000000101"
    assert care_homes["provider_name"] is None  # a location record does not name it
    assert care_homes["region"] == "North West"
    assert care_homes["local_authority"] == "Westmorland and Furness"
    assert care_homes["service_types"] == [
        "Care home service with nursing",
        "Domiciliary care service",
    ]
    assert care_homes["service_type"] == "Care home service with nursing"
    assert care_homes["inspection_category"] == "Residential social care"
    assert care_homes["location_type"] == "Social Care Org"
    assert care_homes["address"] == "4 Birchwood Way, Kendal, Cumbria"
    assert care_homes["overall_rating"] == "Requires improvement"  # "Requires Improvement"
    assert care_homes["published_date"] == "2025-04-22"
    assert care_homes["era"] == "SAF by statement"
    safe, well_led = care_homes["key_questions"]
    # Scores "2", "3 - Good standard", 2 (a number), " 2 ", "3": 2+3+2+2+3 = 12 of 20 -> 60;
    # the misspelt percengtageScore states 56. The statement with "" is not scored.
    assert [s["score"] for s in safe["statements"]] == [2, 3, 2, 2, 3]
    assert [s["id"] for s in safe["statements"]] == [1, 3, 6, 7, 8]
    assert (safe["rating"], safe["score"], safe["computed_score"]) == (
        "Requires improvement",
        56,
        60,
    )
    assert safe["published_date"] == "2025-04-20"
    assert safe["statements"][0]["evidence"] == (
        "Incidents were not always reviewed.\n\nLessons were not shared with night staff."
    )
    # Well-led: 3+3+3+3+2+3+3 = 20 of 28 -> 71.4 -> 71, stated 71 (percentageScore).
    assert (well_led["score"], well_led["computed_score"]) == (71, 71)
    assert care_homes["warnings"] == [
        "location 1-1000000101, Care Homes, Safe: statement 'Involving people to manage risks'"
        " has no score; not loaded",
        "Safe: stated 56 but statements give 12/20 = 60",
    ]
    caring, effective = homecare["key_questions"]
    # 3*5 = 15 of 20 -> 75; stated as the number 75; "GOOD" -> Good; curly apostrophe matched.
    assert (caring["rating"], caring["score"], caring["computed_score"]) == ("Good", 75, 75)
    assert [s["id"] for s in caring["statements"]] == [15, 16, 17, 18, 19]
    assert (effective["rating"], effective["statements"], effective["score"]) == ("Good", [], None)
    assert homecare["overall_rating"] == "Good"


def test_legacy_only_record_with_missing_and_empty_blocks():
    [record] = read(HARBOUR)
    assert record["assessment_date"] == "2022-11-03"
    assert record["overall_rating"] == "Requires improvement"
    # "Not rated" is no rating: that key question is left out; "Well Led" is Well-led.
    assert [(k["name"], k["rating"]) for k in record["key_questions"]] == [
        ("Safe", "Inadequate"), ("Effective", "Requires improvement"), ("Caring", "Good"),
        ("Well-led", "Requires improvement"),
    ]  # fmt: skip
    assert record["region"] is None and record["local_authority"] is None  # absent, ""
    assert record["service_types"] == [] and record["service_type"] is None
    assert record["warnings"] == []


def test_list_file_and_a_record_without_ratings():
    records = read(API / "locations-list.json")
    # The day centre has no ratings at all: it gives a record of the location alone.
    assert [(r["location_name"], r.get("kind"), r.get("assessment_date")) for r in records] == [
        ("Willow Bank Hospice", None, "2023-06-30"),
        ("Willow Bank Day Centre", "location", None),
    ]
    assert records[0]["region"] == "East of England"  # the store makes it "East"


def test_provider_record_keeps_the_name_only():
    [record] = read(API / "birchwood-provider.json")
    assert record == {
        "kind": "provider",
        "source": str(API / "birchwood-provider.json"),
        "format": "api-json",
        "provider_cqc_id": "1-2000000101",
        "provider_name": "Birchwood Care Group Ltd",
        "warnings": [],
    }


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"locationId": "1-1", ', "not valid JSON: Expecting property name enclosed in double"
         " quotes (line 1, column 23)"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON is nested too deeply to read"),
        (b'{"hello": "world"}', "JSON but not a CQC location or provider record: the JSON"
         " object has no locationId or providerId"),
        (b'[{"locationId": "1-1", "name": "A"}, 3]', "JSON but not a CQC location or provider"
         " record: item 2 has no locationId or providerId"),
        (b'{"locationId": "1-5", "name": "A", "assessment": [{"ratings": {"asgRatings": [{'
         b'"assessmentDate": "2025-01-01", "keyQuestionRatings": [{"name": "Safe", "topicareas":'
         b' [{"name": "Safeguarding", "qualityStatementscore": "7"}]}]}]}}]}',
         "location 1-5, Safe: score 7 for 'Safeguarding' is outside 1-4"),
        (b'{"locationId": "1-5", "currentRatings": {}}', "location 1-5 has no name"),
        (b'{"locations": [], "total": 0}', "JSON holds no location or provider records"),
        (b'{"changes": ["1-1"], "total": 1}', "a /changes list: it holds location ids only, no"
         " ratings"),
        (b'\xef\xbb\xbf{"locationId": "1-5", "name": "\xff"}', "JSON file is not UTF-8 (byte 31)"),
    ],
)  # fmt: skip
def test_malformed_json_is_rejected_with_one_line(data, reason):
    with pytest.raises(RejectedFile) as err:
        readers.read("bad.json", data)
    assert str(err.value) == reason


def test_summary_page_is_rejected_with_advice():
    with pytest.raises(RejectedFile, match="a /locations list page: it holds ids and names only"):
        readers.read(
            str(API / "locations-page-summaries.json"),
            (API / "locations-page-summaries.json").read_bytes(),
        )


def test_parse_command_prints_rejection_not_traceback(tmp_path, capsys):
    bad = tmp_path / "deep.json"
    bad.write_bytes(b'{"a":' * 50_000 + b"1" + b"}" * 50_000)
    assert main(["parse", str(bad), str(HARBOUR)]) == 1
    out, err = capsys.readouterr()
    assert err == f"{bad}: JSON is nested too deeply to read\n"
    assert json.loads(out)["location_name"] == "Harbour Lights Dental Practice"


def test_format_is_recognised_by_content_not_extension(tmp_path):
    json_as_txt = tmp_path / "location.txt"
    json_as_txt.write_bytes(HARBOUR.read_bytes())
    text_as_json = tmp_path / "report.json"
    text_as_json.write_bytes(ROWAN_TEXT.read_bytes())
    csv_as_dat = tmp_path / "ratings.dat"
    csv_as_dat.write_bytes(RATINGS_CSV.read_bytes())
    assert readers.read(str(json_as_txt), json_as_txt.read_bytes())[0] == "api-json"
    assert readers.read(str(text_as_json), text_as_json.read_bytes())[0] == "report-text"
    assert readers.read(str(csv_as_dat), csv_as_dat.read_bytes())[0] == "rating-file"


def _all_text(con) -> str:
    """Every VARCHAR and VARCHAR[] value in every table, as one string."""
    parts = []
    tables = [t for (t,) in con.sql("SELECT table_name FROM duckdb_tables()").fetchall()]
    for table in tables:
        columns = con.sql(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = $t"
            " AND data_type IN ('VARCHAR', 'VARCHAR[]')",
            params={"t": table},
        ).fetchall()
        for (column,) in columns:
            parts += [repr(v) for (v,) in con.sql(f"SELECT {column} FROM {table}").fetchall()]
    return "\n".join(parts)


def test_no_personal_data_reaches_the_database(con, db_path):
    fixtures = b"".join(p.read_bytes() for p in API.glob("*.json"))
    assert all(name.encode() in fixtures for name in PEOPLE)  # the test has names to miss
    results = load(con, *sorted(API.glob("*.json")))
    assert {r.action for r in results} == {"loaded", "rejected"}  # the summary page
    text = _all_text(con)
    assert "Birchwood Care Group Ltd" in text  # a provider name is not a person's
    for name in PEOPLE:
        assert name not in text
    con.execute("CHECKPOINT")
    raw = db_path.read_bytes()
    for name in PEOPLE:
        assert name.encode() not in raw


def test_loaded_api_records_flatten_to_both_views(con):
    [result] = load(con, BIRCHWOOD)
    assert (result.action, result.loaded) == ("loaded", 3)
    scores = con.sql(
        "SELECT key_question, count(*), sum(score), min(key_question_score), min(source)"
        " FROM scores GROUP BY ALL ORDER BY 1"
    ).fetchall()
    # Safe 12 of 5 statements (stated 56), Well-led 20 of 7 (71), Caring 15 of 5 (75).
    assert scores == [
        ("Caring", 5, 15, 75, "api-json"),
        ("Safe", 5, 12, 56, "api-json"),
        ("Well-led", 7, 20, 71, "api-json"),
    ]
    ratings_only = con.sql(
        "SELECT count(*) FROM key_questions WHERE statements_scored IS NULL"
    ).fetchall()
    assert ratings_only == [(5 + 1,)]  # the 2019 report's five, Homecare's Effective
    [(region, region_source, la_source, st_source)] = con.sql(
        "SELECT region, region_source, local_authority_source, service_type_source FROM locations"
    ).fetchall()
    assert (region, region_source, la_source, st_source) == (
        "North West", "api-json", "api-json", "api-json"
    )  # fmt: skip
    [again] = load(con, BIRCHWOOD)
    assert (again.action, again.unchanged) == ("unchanged", 3)


def test_provider_record_names_the_provider_of_api_locations(con):
    load(con, BIRCHWOOD)
    assert con.sql("SELECT DISTINCT provider_name FROM scores").fetchall() == [(None,)]
    [result] = load(con, API / "birchwood-provider.json")
    assert (result.action, result.providers) == ("loaded", 1)
    assert con.sql("SELECT DISTINCT provider_name FROM scores").fetchall() == [
        ("Birchwood Care Group Ltd",)
    ]
    [again] = load(con, API / "birchwood-provider.json")
    assert again.action == "unchanged"


def _location_rows(con):
    return con.sql(
        "SELECT location_id, cqc_location_id, region, region_source, local_authority,"
        " local_authority_source, service_type, service_type_source FROM locations"
    ).fetchall()


def test_report_text_location_is_upgraded_to_the_cqc_id(con):
    [text] = load(con, ROWAN_TEXT)
    [(derived,)] = con.sql("SELECT location_id FROM locations").fetchall()
    assert derived.startswith("x-")
    load(con, ROWAN_API)
    # One location now, under the CQC id, holding the report's scored assessment and the
    # API's ratings-only report of 2022-01-12. Its report of 2025-05-20 is the scored one
    # (published that day), so it is not stored again.
    assert _location_rows(con) == [(
        "1-1000000404", "1-1000000404", "Yorkshire & Humberside", "api-json", "Leeds",
        "api-json", "Care home service with nursing", "api-json",
    )]  # fmt: skip
    assert con.sql(
        "SELECT source, count(*) FROM assessments WHERE location_id = '1-1000000404' GROUP BY 1"
        " ORDER BY 1"
    ).fetchall() == [("api-json", 1), ("report-text", 1)]
    assert con.sql("SELECT count(*), min(location_id) FROM scores").fetchall() == [
        (17, "1-1000000404")
    ]
    assert con.sql("SELECT alias_id, location_id FROM location_aliases").fetchall() == [
        (derived, "1-1000000404")
    ]
    # Loading the same report again maps to the CQC id and adds nothing.
    before = con.sql("SELECT * FROM assessments ORDER BY assessment_id").fetchall()
    [again] = load(con, ROWAN_TEXT)
    assert (again.action, again.unchanged) == ("unchanged", 1)
    assert again.assessment_ids != text.assessment_ids  # re-keyed under the CQC id
    assert con.sql("SELECT * FROM assessments ORDER BY assessment_id").fetchall() == before
    assert con.sql("SELECT count(*) FROM locations").fetchall() == [(1,)]


def test_report_text_after_the_api_record_loads_under_the_cqc_id(con):
    load(con, ROWAN_API)
    [result] = load(con, ROWAN_TEXT)
    assert result.action == "loaded"
    assert con.sql("SELECT DISTINCT location_id FROM scores").fetchall() == [("1-1000000404",)]
    assert con.sql("SELECT count(*) FROM locations").fetchall() == [(1,)]


def test_report_text_and_api_record_in_one_batch_become_one_location(con):
    load(con, ROWAN_TEXT, ROWAN_API)
    assert [r[0] for r in _location_rows(con)] == ["1-1000000404"]
    [again] = load(con, ROWAN_TEXT)
    assert again.action == "unchanged"


@pytest.mark.parametrize("order", list(permutations(["text", "rating", "api"])))
def test_location_fields_come_from_the_most_authoritative_source(con, order):
    paths = {"text": ROWAN_TEXT, "rating": RATINGS_CSV, "api": ROWAN_API}
    for source in order:
        load(con, paths[source])
    rows = [r for r in _location_rows(con) if r[0] == "1-1000000404"]
    # The API states region and local authority; its registered service type is kept over
    # the rating file's inspection category, whatever the order of loading.
    assert rows == [(
        "1-1000000404", "1-1000000404", "Yorkshire & Humberside", "api-json", "Leeds",
        "api-json", "Care home service with nursing", "api-json",
    )]  # fmt: skip
    [(category, provider)] = con.sql(
        "SELECT l.inspection_category, p.provider_name FROM locations l JOIN providers p"
        " USING (provider_id) WHERE location_id = '1-1000000404'"
    ).fetchall()
    assert (category, provider) == ("Residential social care", "Meadowfield Care Partnership Ltd")


def test_without_the_api_the_rating_file_beats_report_text_on_region_only(con):
    load(con, ROWAN_TEXT)
    assert _location_rows(con)[0][2:4] == ("Yorkshire & Humberside", "derived")
    load(con, RATINGS_CSV)
    assert not [r for r in _location_rows(con) if r[0].startswith("x-")]  # upgraded
    [row] = [r for r in _location_rows(con) if r[0] == "1-1000000404"]
    # Region and local authority as the rating file states them; the report's registered
    # service type stays (the file's inspection category is a coarser taxonomy).
    assert row[2:] == (
        "Yorkshire & Humberside", "rating-file", "Leeds", "rating-file",
        "Care home service with nursing", "report-text",
    )  # fmt: skip


def test_one_command_loads_every_format_in_any_mix(tmp_path, db_path, capsys):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for source in (BIRCHWOOD, HARBOUR, ROWAN_API, API / "birchwood-provider.json", ROWAN_TEXT,
                   REPORTS / "harbour-view-variants-and-mismatches.txt", RATINGS_CSV,
                   FIXTURES / "rating-files" / "latest-ratings-locations.ods"):  # fmt: skip
        (folder / source.name).write_bytes(source.read_bytes())
    assert main(["load", "--quiet", "--db", str(db_path), str(folder)]) == 0
    out = capsys.readouterr().out
    # The ODS is the CSV's table: nothing new. Rowan Court's report of 2022-01-12 comes from
    # the rating file, then from the API, which replaces it: one assessment read from two
    # sources is held once, the API's ranking higher. Its report of 2025-05-20 is held once,
    # with scores, from the report text: the ratings-only copies of it are not stored.
    assert out.startswith("8 files: 6 loaded, 1 unchanged, 1 replaced, 0 rejected;")
    assert main(["load", "--quiet", "--db", str(db_path), str(folder)]) == 0
    assert capsys.readouterr().out.startswith("8 files: 0 loaded, 8 unchanged, 0 replaced")
    con = database.connect(db_path, read_only=False)
    try:
        counts = dict(con.sql("SELECT source, count(*) FROM assessments GROUP BY 1").fetchall())
        rated = con.sql("SELECT count(DISTINCT location_id) FROM key_questions").fetchall()
        scored = con.sql("SELECT count(DISTINCT location_id) FROM scores").fetchall()
    finally:
        con.close()
    # API: Birchwood 3, Harbour 1, Rowan 1 (2022). Report text: Rowan (2025), Harbour View.
    # Rating file: Elm Tree, Kestrel (its Rowan Court reports are the API's and the text's).
    assert counts == {"api-json": 5, "report-text": 2, "rating-file": 2}
    # Birchwood, Harbour Lights, Rowan Court, Harbour View, Elm Tree, Kestrel.
    assert rated == [(6,)]
    assert scored == [(3,)]  # Birchwood (API), Rowan Court and Harbour View (report text)


_KEYS = (
    "locationId", "providerId", "name", "assessment", "ratings", "asgRatings",
    "keyQuestionRatings", "topicareas", "qualityStatementscore", "percengtageScore",
    "percentageScore", "rating", "assessmentDate", "assessmentPlanPublishedDateTime",
    "currentRatings", "overall", "historicRatings", "reportDate", "gacServiceTypes",
    "inspectionCategories", "locations", "primary", "postalCode", "region", "evidenceCategory",
    "commentary",
)  # fmt: skip
_LEAVES = st.none() | st.booleans() | st.integers() | st.text(max_size=6) | st.sampled_from(
    ["Good", "3", "3 - Good", "9", "2025-01-01", "Requires Improvement", "1-1", "Y", "Safe",
     "Safeguarding", "Caring", "Well-led"]
)  # fmt: skip
_DOCUMENTS = st.recursive(
    _LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_KEYS), inner),
    max_leaves=40,
)


@given(_DOCUMENTS)
@settings(max_examples=300, deadline=None)
def test_any_json_document_is_read_or_rejected_in_one_line(document):
    try:
        records = api_records.records_from_document(document, "fuzz.json")
    except RejectedFile as err:
        assert "\n" not in str(err)
        return
    for record in records:
        json.dumps(record)
        if record.get("kind") != "provider":
            assert isinstance(record["location_name"], str)
        if record.get("kind") is None:  # an assessment (not a location with no ratings)
            assert record["era"] in ("pre-SAF", "SAF by evidence category", "SAF by statement")
            for kq in record["key_questions"]:
                assert all(1 <= s["score"] <= 4 for s in kq["statements"])


def test_an_assessment_held_under_both_ids_is_kept_once_when_they_join(con):
    # The same report, loaded from a file under a shorter name (derived id), and fetched by
    # the sync with the CQC id: two assessments until a record links the shorter name too.
    short = ROWAN_TEXT.read_text(encoding="utf-8").replace(
        "Rowan Court Nursing Home", "Rowan Court"
    )
    [from_file] = read_file("rowan-short.txt", short.encode()).records
    [synced] = read_file("https://api/reports/rowan-2025", ROWAN_TEXT.read_bytes()).records
    synced["location_cqc_id"] = "1-1000000404"
    api = json.loads(ROWAN_API.read_text(encoding="utf-8")) | {"name": "Rowan Court"}
    files = [
        ReadFile("rowan-short.txt", "report-text", "h1", [from_file]),
        ReadFile("https://api/reports/rowan-2025", "report-text", "h2", [synced]),
    ]
    store.load_files(con, files)
    assert con.sql("SELECT count(*) FROM assessments").fetchall() == [(2,)]
    store.load_files(con, [read_file("rowan-short.json", json.dumps(api).encode())])
    report_text = con.sql(
        "SELECT location_id, source_file FROM assessments WHERE source = 'report-text'"
    ).fetchall()
    assert report_text == [("1-1000000404", "https://api/reports/rowan-2025")]
    assert con.sql("SELECT count(*) FROM scores").fetchall() == [(17,)]
    assert con.sql("SELECT count(*) FROM locations").fetchall() == [(1,)]


def test_the_service_type_is_the_one_the_primary_inspection_category_names():
    # A dental practice CQC also registers for a hospital service, listed first.
    record = json.loads((API / "rowan-court.json").read_text(encoding="utf-8"))
    record["gacServiceTypes"] = [
        {"name": "Hospital", "description": "Acute services with overnight beds"},
        {"name": "Dentist", "description": "Dental service"},
    ]
    record["inspectionCategories"] = [{"primary": "Y", "code": "P2", "name": "Dentists"}]
    _, [location, *_] = readers.read("dental.json", json.dumps(record).encode())
    assert location["service_type"] == "Dental service"
    assert location["service_types"] == ["Acute services with overnight beds", "Dental service"]
    # No category naming a listed type: the first listed, as before.
    record["inspectionCategories"] = [{"primary": "Y", "code": "H1", "name": "Something else"}]
    _, [location, *_] = readers.read("other.json", json.dumps(record).encode())
    assert location["service_type"] == "Acute services with overnight beds"
