"""Export page and its files: the rows the filters select, with what the file holds written in."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import re
import shutil
import tomllib
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ingest import database, store
from ingest.files import read_file
from queries.filters import ALL, Filters
from queries.frames import load_frames
from tests.conftest import REPORTS
from tests.helpers import ROOT, keyed, metric, page, sql
from tests.pages.oracle import CURRENT_SCORED, JUDGED
from ui import db, export, session, tables
from ui.app_data import AppData

VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
KEYS = ["assessment_id", "key_question", "statement", "score"]
GENERATED = re.compile(rb"# Generated,[^\r]*\r\n")  # the time a file was built


def frames(path: Path):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return load_frames(con)
    finally:
        con.close()


def read_back(data: bytes) -> tuple[dict[str, str], pl.DataFrame]:
    """(the '#' provenance lines as name -> value, the table), read the way a user would."""
    text = data.decode("utf-8-sig")
    block = [row for row in csv.reader(io.StringIO(text)) if row and row[0].startswith("# ")]
    table = pl.read_csv(data, comment_prefix="#", infer_schema=False)
    return {name[2:]: value for name, value in block}, table


def build(kind: str, path: Path, filters=ALL, columns=export.COLUMNS, evidence=False):
    """The Export page's file of `kind` from the database at `path`, as its button builds it."""
    return export.builder(
        kind, frames(path).scores, filters, columns, data_as_of="2026-01-02 03:04:05", demo=True,
        evidence=(lambda ids: db.evidence_for(ids, path)) if evidence else None,
    )()  # fmt: skip


def test_row_count_and_preview_follow_the_region_filter(use_demo_db):
    at = page("export").run()
    assert not at.exception
    (total,) = sql(use_demo_db, f"SELECT count(*) FROM {JUDGED}")[0]
    assert metric(at, "Rows") == f"{total:,}"

    region, rows, assessments = sql(
        use_demo_db,
        f"SELECT region, count(*), count(DISTINCT assessment_id) FROM {JUDGED}"
        " GROUP BY region ORDER BY count(*) DESC, region LIMIT 1",
    )[0]
    at.multiselect(key="region").select(region).run()
    assert not at.exception
    assert metric(at, "Rows") == f"{rows:,}"
    assert metric(at, "Assessments") == f"{assessments:,}"
    preview = keyed(at, session.EXPORT_PREVIEW).value
    assert len(preview) == min(100, rows) and set(preview["region"]) == {region}

    at.multiselect(key="export_columns").unselect("postcode").run()
    at.toggle(key="export_evidence").set_value(True).run()
    assert not at.exception
    preview = keyed(at, session.EXPORT_PREVIEW).value
    assert "postcode" not in preview.columns and preview.columns[-1] == "evidence"
    assert at.download_button(key="export_csv").proto.ignore_rerun  # no rerun on download


def test_the_csv_has_exactly_the_rows_the_filters_select(demo_db):
    region, key_question = sql(
        demo_db, f"SELECT region, key_question FROM {JUDGED} GROUP BY ALL ORDER BY count(*) DESC"
    )[0]
    expected = sql(
        demo_db,
        f"SELECT {', '.join(KEYS)}, evidence FROM {JUDGED} WHERE region = ? AND key_question = ?",
        [region, key_question],
    )
    filters = Filters(regions=(region,), key_questions=(key_question,))
    build = export.builder(
        "csv", frames(demo_db).scores, filters, export.COLUMNS,
        evidence=lambda ids: db.evidence_for(ids, demo_db), data_as_of="2026-01-02 03:04:05",
        demo=True,
    )  # fmt: skip
    data = build()

    assert data.startswith(b"\xef\xbb\xbf# Quality Statement Dashboard export,")
    about, table = read_back(data)
    assert about["Filters"] == f"regions: {region}; key_questions: {key_question}"
    assert about["Rows"] == str(len(expected)) == str(table.height)
    assert about["Data as of"] == "2026-01-02 03:04:05"
    assert about["App version"] == VERSION
    assert about["Demo data"].startswith("yes")
    assert table.columns == [*export.COLUMNS, "evidence"]
    got = table.select(*KEYS, "evidence").with_columns(pl.col("score").cast(pl.Int32))
    assert sorted(got.rows(), key=str) == sorted(expected, key=str)


def test_the_parquet_file_carries_the_provenance_in_its_metadata(demo_db):
    (rows,) = sql(demo_db, f"SELECT count(*) FROM {JUDGED} WHERE era = 'SAF by statement'")[0]
    filters = Filters(eras=("SAF by statement",))
    data = export.builder(
        "parquet", frames(demo_db).scores, filters, ["location_id", "score"],
        evidence=None, data_as_of="2026-01-02 03:04:05", demo=False,
    )()  # fmt: skip
    table = pl.read_parquet(data)
    meta = pl.read_parquet_metadata(data)
    assert table.columns == ["location_id", "score"] and table.height == rows
    assert meta["qsd.rows"] == str(rows)
    assert meta["qsd.filters"] == "eras: SAF by statement"
    assert meta["qsd.what"] == export.WHAT
    assert meta["qsd.app_version"] == VERSION and meta["qsd.demo_data"] == "no"


def test_no_filter_is_described_as_everything(demo_db):
    data = export.builder(
        "csv", frames(demo_db).scores, Filters(), ["score"], evidence=None, data_as_of="x",
        demo=False,
    )()  # fmt: skip
    about, table = read_back(data)
    assert about["Filters"] == "everything"
    (rows,) = sql(demo_db, f"SELECT count(*) FROM {JUDGED}")[0]
    assert about["Rows"] == str(rows) and table.columns == ["score"] and table.height == rows


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("a=b", "a=b"),
        ("Well-led", "Well-led"),
        ("", ""),
        (None, None),
    ],
)
def test_text_that_starts_like_a_formula_gets_a_quote(cell, written):
    frame = pl.DataFrame({"text": [cell], "n": [-5]}, schema={"text": pl.String, "n": pl.Int32})
    safe = export.neutralise_formulas(frame)
    assert safe["text"][0] == written
    assert safe["n"][0] == -5 and safe.schema["n"] == pl.Int32  # numbers stay numbers


def test_a_provider_named_like_a_formula_is_neutralised_in_the_csv(db_path):
    report = (REPORTS / "rowan-court-three-key-questions.txt").read_text(encoding="utf-8")
    report = report.replace("Meadowfield Care Partnership Ltd", '=HYPERLINK("http://x") Ltd')
    con = database.connect(db_path, read_only=False)
    store.load_files(con, [read_file("formula.txt", report.encode())])
    con.close()
    data = export.builder(
        "csv", frames(db_path).scores, Filters(), ["provider_name", "score"], evidence=None,
        data_as_of="x", demo=False,
    )()  # fmt: skip
    _, table = read_back(data)
    assert set(table["provider_name"]) == {'\'=HYPERLINK("http://x") Ltd'}
    assert table["score"].cast(pl.Int32).min() >= 1


def test_a_chart_table_csv_has_the_same_format_as_the_export():
    # Categorical text is guarded too: provider names are Categorical in the loaded frames.
    frame = pl.DataFrame(
        {"provider_name": ["=cmd|' /C calc'!A0", "Oak Care"], "n": [3, -4]},
        schema={"provider_name": pl.Categorical(), "n": pl.Int32},
    )
    data = AppData(frames=None, version="v", demo=True, as_of="2026-01-02 03:04:05",
                   locations=pl.DataFrame())  # fmt: skip
    london = Filters(regions=("London",))
    made = tables.csv_with_provenance(frame, "Providers ranked by Safe", london, data)
    assert made.startswith(b"\xef\xbb\xbf# Quality Statement Dashboard export,Providers ranked")
    about, table = read_back(made)
    assert about["Filters"] == "regions: London"
    assert about["Data as of"] == "2026-01-02 03:04:05"
    assert about["Demo data"].startswith("yes")
    assert about["Rows"] == "2" and about["Columns"] == "provider_name, n"
    assert about["App version"] == VERSION
    assert table.rows() == [("'=cmd|' /C calc'!A0", "3"), ("Oak Care", "-4")]


def test_a_file_written_in_chunks_is_the_file_polars_writes_whole(demo_db, tmp_path, monkeypatch):
    # A formula-like provider name in one chunk: that chunk's column is rewritten as text,
    # the others stay Categorical, and every cell must come out the same.
    path = tmp_path / "formula.duckdb"
    shutil.copy(demo_db, path)
    report = (REPORTS / "rowan-court-three-key-questions.txt").read_text(encoding="utf-8")
    report = report.replace("Meadowfield Care Partnership Ltd", "=HYPERLINK(1) Ltd")
    con = database.connect(path, read_only=False)
    store.load_files(con, [read_file("formula.txt", report.encode())])
    con.close()
    whole = build("csv", path, evidence=True)  # in one chunk: the demo has fewer rows
    rows = frames(path).scores.select(pl.len()).collect().item()
    monkeypatch.setattr(export, "CHUNK_ROWS", 300)
    monkeypatch.setattr(export, "PARQUET_CHUNK_ROWS", 100)
    chunked = build("csv", path, evidence=True)

    assert rows > 6 * 300  # so more than six chunks
    assert GENERATED.sub(b"", chunked) == GENERATED.sub(b"", whole)
    table = export.export_frame(
        frames(path).scores, Filters(), evidence=lambda ids: db.evidence_for(ids, path)
    )
    one_go = export.neutralise_formulas(table).write_csv(line_terminator="\r\n").encode()
    assert whole.endswith(b"\r\n" + one_go) and b"'=HYPERLINK(1) Ltd" in one_go
    parquet = pl.read_parquet(build("parquet", path, evidence=True))
    assert parquet.equals(table)


def test_the_gzip_csv_is_the_csv_compressed(demo_db):
    plain = build("csv", demo_db, evidence=True)
    packed = build("csv.gz", demo_db, evidence=True)
    assert GENERATED.sub(b"", gzip.decompress(packed)) == GENERATED.sub(b"", plain)
    assert len(packed) < len(plain) / 5
    # Polars reads the gzip members (one per chunk) as one file, as pandas and gunzip do.
    table = pl.read_csv(packed, comment_prefix="#", infer_schema=False)
    assert table.equals(read_back(plain)[1])


def test_an_empty_selection_keeps_its_header_and_columns(demo_db):
    nowhere = Filters(regions=("Nowhere",))
    about, table = read_back(build("csv", demo_db, nowhere, ["location_id", "score"]))
    assert about["Rows"] == "0" and table.columns == ["location_id", "score"] and not table.height
    unpacked = gzip.decompress(build("csv.gz", demo_db, nowhere, ["score"], evidence=True))
    assert read_back(unpacked)[1].columns == ["score", "evidence"]
    parquet = pl.read_parquet(build("parquet", demo_db, nowhere, ["score"]))
    assert parquet.columns == ["score"] and parquet.height == 0


@pytest.mark.parametrize("evidence", [False, True])
def test_the_size_estimate_is_near_the_csv_and_over_its_gzip(demo_db, evidence):
    fetch = (lambda ids: db.evidence_for(ids, demo_db)) if evidence else None
    scores = frames(demo_db).scores
    sample = export.export_frame(scores, Filters(), evidence=fetch, limit=export.SIZE_SAMPLE_ROWS)
    (rows,) = sql(demo_db, f"SELECT count(*) FROM {JUDGED}")[0]
    sizes = export.estimated_sizes(sample, rows)
    plain = len(build("csv", demo_db, evidence=evidence))
    packed = len(build("csv.gz", demo_db, evidence=evidence))
    assert 0.9 * plain < sizes["csv"] < 1.1 * plain
    assert packed < sizes["csv.gz"] < plain / 5


def test_the_csv_is_gzip_compressed_over_the_limit_and_not_built_far_over_it():
    sizes = {"csv": 1_000, "csv.gz": 100}
    assert export.csv_kind(sizes, 1_000) == "csv"
    assert export.csv_kind(sizes, 999) == "csv.gz" == export.csv_kind(sizes, 100)
    assert export.csv_kind(sizes, 99) is None


def test_the_limit_is_read_from_the_environment(monkeypatch):
    monkeypatch.delenv(export.LIMIT_ENV, raising=False)
    assert export.download_limit() == 1_000_000_000
    monkeypatch.setenv(export.LIMIT_ENV, "2.5")
    assert export.download_limit() == 2_500_000


def test_the_page_offers_gzip_over_the_limit_and_nothing_far_over_it(use_demo_db, monkeypatch):
    plain = len(build("csv", use_demo_db))
    monkeypatch.setenv(export.LIMIT_ENV, str(plain / 2 / 1e6))  # the CSV is twice the limit
    at = page("export").run()
    assert not at.exception
    button = at.download_button(key="export_csv")
    assert button.label == "Download CSV (gzip)" and button.proto.ignore_rerun
    assert any("`.csv.gz`" in info.value for info in at.info)
    assert at.download_button(key="export_parquet").label == "Download Parquet"

    monkeypatch.setenv(export.LIMIT_ENV, "0.001")  # 1 kB: not even the gzip fits
    at.run()
    assert not at.exception
    assert not at.get("download_button")
    assert any("too large to download from here" in w.value for w in at.warning)


def test_the_current_picture_option_exports_exactly_the_rows_behind_a_current_page(use_demo_db):
    [(rows, assessments)] = sql(use_demo_db, f"""
        SELECT count(*), count(DISTINCT assessment_id)
        FROM {JUDGED} s JOIN ({CURRENT_SCORED}) c USING (assessment_id, key_question)
    """)  # fmt: skip
    at = page("export")
    at.query_params[session.EXPORT_LATEST] = "true"  # as the Statements page links here
    at.run()
    assert not at.exception
    assert at.toggle(key=session.EXPORT_LATEST).value is True
    assert metric(at, "Rows") == f"{rows:,}"
    assert metric(at, "Assessments") == f"{assessments:,}"
    # The file the button builds holds those rows, and says it is the current picture.
    made = export.builder(
        "csv", frames(use_demo_db).scores, ALL, export.COLUMNS, evidence=None,
        data_as_of="2026-01-02 03:04:05", demo=True, latest=True,
    )().decode("utf-8-sig")  # fmt: skip
    about = dict(line.split(",", 1) for line in made.splitlines() if line.startswith("# "))
    assert about["# Rows"] == str(rows)
    assert "current picture" in about["# Quality Statement Dashboard export"]
    body = pl.read_csv(io.StringIO(made), comment_prefix="#")
    assert body.height == rows


def test_file_names_say_what_they_hold():
    day = dt.date(2026, 12, 2)
    assert export.file_stem(Filters(), today=day) == "qsd-scores-20261202"
    named = export.file_stem(Filters(regions=("London",)), latest=True, today=day)
    assert named == "qsd-scores-current-regions_london-20261202"
