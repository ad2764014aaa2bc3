"""Data page (pages/data.py): what is loaded, the ingest log, and uploads through the loader."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest import database, store
from ingest.files import read_file
from tests.conftest import FIXTURES, REPORTS
from tests.helpers import holding, keyed, labelled, metric, only, page, sql
from ui import session, upload

REPORT = REPORTS / "rowan-court-three-key-questions.txt"
# One of each source: Rowan Court's report text; the rating file (Rowan Court's ratings, Elm
# Tree, Kestrel); the API records of Birchwood (scored) and Harbour Lights (legacy ratings).
SOURCES = (
    REPORT,
    FIXTURES / "rating-files" / "latest-ratings-locations.csv",
    FIXTURES / "api" / "birchwood-two-service-groups.json",
    FIXTURES / "api" / "harbour-lights-legacy-only.json",
    FIXTURES / "api" / "birchwood-provider.json",
)
# Per source, from the tables the loader writes (not the views the app reads).
PER_SOURCE = """
    SELECT a.source, count(DISTINCT a.assessment_id), count(DISTINCT a.location_id),
           count(k.key_question), count(COALESCE(k.stated_score, k.computed_score)),
           (SELECT count(*) FROM statement_scores s JOIN assessments b USING (assessment_id)
            WHERE b.source = a.source)
    FROM assessments a LEFT JOIN key_question_results k USING (assessment_id)
    GROUP BY a.source ORDER BY a.source
"""


@pytest.fixture
def own_copy(demo_db, tmp_path, monkeypatch) -> Path:
    """A copy of the demo database for a test that writes, set as $QSD_DB."""
    path = tmp_path / "copy.duckdb"
    shutil.copy(demo_db, path)
    monkeypatch.setenv("QSD_DB", str(path))
    return path


@pytest.fixture
def sources_db(db_path) -> Path:
    """A database of every source format, synced with the API up to 1 May 2026, 10:00 UTC."""
    con = database.connect(db_path, read_only=False)
    try:
        store.load_files(con, [read_file(str(p), p.read_bytes()) for p in SOURCES])
        database.set_meta(con, "last_sync", "2026-05-01T10:00:00Z")
    finally:
        con.close()
    return db_path


def test_per_source_counts_and_the_last_sync(sources_db):
    at = page("data").run()
    assert not at.exception
    columns = ["source", "assessments", "locations", "key_questions", "scored", "statement_scores"]
    expected = [list(row) for row in sql(sources_db, PER_SOURCE)]
    shown = keyed(at, session.DATA_SOURCES).value
    assert shown[columns].values.tolist() == expected
    # every source is there; ratings-only sources have no scores
    assert dict(zip(shown["source"], shown["statement_scores"], strict=True))["rating-file"] == 0
    assert set(shown["source"]) == {"report-text", "api-json", "rating-file"}
    assert any(m.value == "**Last API sync**: 1 May 2026, 10:00 UTC" for m in at.markdown)

    # A region filter changes what is selected, not what is loaded
    ((region,),) = sql(
        sources_db, "SELECT region FROM locations WHERE location_id = '1-1000000404'"
    )
    at.multiselect(key="region").select(region).run()
    assert not at.exception
    selected = dict(
        sql(
            sources_db,
            "SELECT a.source, count(*) FROM assessments a JOIN locations l USING (location_id)"
            " WHERE l.region = ? GROUP BY 1",
            [region],
        )
    )
    shown = keyed(at, session.DATA_SOURCES).value
    assert dict(zip(shown["source"], shown["selected"], strict=True)) == {
        source: selected.get(source, 0) for source in shown["source"]
    }
    assert shown[columns].values.tolist() == expected


def test_counts_follow_the_era_filter(use_demo_db):
    at = page("data").run()
    assert not at.exception
    (loaded,) = sql(use_demo_db, "SELECT count(DISTINCT assessment_id) FROM key_questions")[0]
    assert (
        metric(at, "Assessments loaded") == metric(at, "Selected by the filters") == f"{loaded:,}"
    )
    assert any(m.value.startswith("**Demo data**") for m in at.markdown)

    era, selected = sql(
        use_demo_db,
        "SELECT era, count(DISTINCT assessment_id) FROM key_questions GROUP BY era"
        " ORDER BY era DESC LIMIT 1",
    )[0]
    at.multiselect(key="era").select(era).run()
    assert not at.exception
    assert metric(at, "Assessments loaded") == f"{loaded:,}"
    assert metric(at, "Selected by the filters") == f"{selected:,}"
    eras = keyed(at, session.DATA_ERAS).value.set_index("era")
    assert eras.loc[era, "selected"] == selected
    assert eras["selected"].sum() == selected


def test_sources_and_the_ingest_log_latest_first(use_demo_db):
    at = page("data").run()
    sources = keyed(at, session.DATA_SOURCES).value
    expected = sql(
        use_demo_db,
        "SELECT source, count(*), count(DISTINCT location_id) FROM assessments"
        " GROUP BY source ORDER BY source",
    )
    assert sources[["source", "assessments", "locations"]].values.tolist() == [
        list(row) for row in expected
    ]
    assert any(m.value == "**Last API sync**: never synced" for m in at.markdown)
    latest = sql(use_demo_db, "SELECT file, action FROM ingest_log ORDER BY log_id DESC LIMIT 50")
    log = keyed(at, session.DATA_LOG).value
    # Named without the folders of the machine that loaded them (the demo's are absolute).
    assert any(file.startswith("/") for file, _ in latest)
    assert log[["file", "action"]].values.tolist() == [[Path(f).name, a] for f, a in latest]
    assert not log["message"].str.contains("/", regex=False).any()

    at.toggle(key="data_log_problems").set_value(True).run()
    (problems,) = sql(
        use_demo_db,
        "SELECT count(*) FROM ingest_log WHERE action = 'rejected' OR len(warnings) > 0",
    )[0]
    assert len(keyed(at, session.DATA_LOG).value) == min(problems, 50)
    assert all(keyed(at, session.DATA_LOG).value["warnings"].str.len() > 0)


def test_upload_loads_through_the_store_and_shows_the_new_data(own_copy):
    at = page("data").run()
    (before,) = sql(own_copy, "SELECT count(*) FROM assessments")[0]
    labelled(at.file_uploader, "Report files").set_value(
        [("rowan.txt", REPORT.read_bytes(), "text/plain"), ("empty.txt", b"  ", "text/plain")]
    ).run()
    at.button(key=session.DATA_LOAD).click().run()
    assert not at.exception
    assert only(at.success).value.startswith(
        "2 files: 1 loaded, 0 unchanged, 0 replaced, 1 rejected;"
    )
    results = keyed(at, session.DATA_UPLOAD_TABLE).value
    assert results[["file", "action"]].values.tolist() == [
        ["rowan.txt", "loaded"],
        ["empty.txt", "rejected"],
    ]
    (after,) = sql(own_copy, "SELECT count(*) FROM assessments")[0]
    assert after == before + 1
    assert metric(at, "Assessments loaded") == f"{after:,}"  # the cache was cleared
    logged = sql(own_copy, "SELECT file, action FROM ingest_log ORDER BY log_id DESC LIMIT 2")
    assert sorted(logged) == [("upload/empty.txt", "rejected"), ("upload/rowan.txt", "loaded")]
    assert labelled(at.file_uploader, "Report files").value in (
        None,
        [],
    )  # emptied for the next upload


def test_upload_while_another_writer_holds_the_database_loses_nothing(own_copy, monkeypatch):
    monkeypatch.setattr(database, "READ_WAIT_SECONDS", 0.1)
    monkeypatch.setattr(upload, "WAIT_SECONDS", 0.1)
    at = page("data").run()
    (before,) = sql(own_copy, "SELECT count(*) FROM assessments")[0]
    with holding(own_copy):
        labelled(at.file_uploader, "Report files").set_value(
            ("rowan.txt", REPORT.read_bytes(), "text/plain")
        ).run()
        at.button(key=session.DATA_LOAD).click().run()
        assert not at.exception
        assert any("busy" in e.value and "Nothing was loaded" in e.value for e in at.error)
        assert [f.name for f in labelled(at.file_uploader, "Report files").value] == [
            "rowan.txt"
        ]  # still there
    assert sql(own_copy, "SELECT count(*) FROM assessments")[0][0] == before
