"""`python -m ingest export --parquet DIR`: the store as a Parquet dataset partitioned by era
and year, read back by DuckDB and by Polars and compared row for row with the store."""

from __future__ import annotations

import json

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from ingest import schema
from ingest.__main__ import main
from tests.helpers import build_demo_db


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("export")
    db = build_demo_db(folder, locations=40, seed=5)
    out = folder / "dataset"
    assert main(["export", "--db", str(db), "--parquet", str(out)]) == 0
    return db, out


def store_rows(db, view: str) -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.sql(f"SELECT * FROM {view}").pl()
    finally:
        con.close()


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


@pytest.mark.parametrize("view", ["scores", "key_questions"])
def test_duckdb_reads_back_every_row_of_the_store(exported, view):
    db, out = exported
    con = duckdb.connect(str(db), read_only=True)
    try:
        columns = [c for c, _ in schema.VIEW_COLUMNS[view]]
        listed = ", ".join(columns)
        back = f"read_parquet('{out / view}/**/*.parquet', hive_partitioning = true)"
        [(stored,)] = con.sql(f"SELECT count(*) FROM {view}").fetchall()
        assert stored > 100
        # the same multiset of rows both ways (EXCEPT ALL keeps duplicates)
        for a, b in ((view, back), (back, view)):
            difference = f"SELECT {listed} FROM {a} EXCEPT ALL SELECT {listed} FROM {b}"
            [(extra,)] = con.sql(f"SELECT count(*) FROM ({difference})").fetchall()
            assert extra == 0, (a, b)
        [(years_ok,)] = con.sql(
            f"SELECT bool_and(year = year(assessment_date)) FROM {back}"
        ).fetchall()
        assert years_ok
    finally:
        con.close()


@pytest.mark.parametrize("view", ["scores", "key_questions"])
def test_polars_reads_back_every_row_of_the_store(exported, view):
    db, out = exported
    stored = store_rows(db, view)
    back = pl.scan_parquet(out / view / "**" / "*.parquet", hive_partitioning=True).collect()
    assert set(back.columns) == {*stored.columns, "year"}
    back = back.select(pl.col(c).cast(stored.schema[c]) for c in stored.columns)
    assert _sorted(back).equals(_sorted(stored))


def test_partitions_by_era_and_year_and_the_contract_in_every_file(exported):
    _, out = exported
    files = sorted((out / "scores").rglob("*.parquet"))
    assert files
    for path in files:
        era, year = path.parent.parent.name, path.parent.name
        assert era.startswith("era=") and year.startswith("year=") and year[5:].isdigit()
        meta = pq.read_schema(path).metadata
        columns = json.loads(meta[b"qsd_columns"])
        assert [c["name"] for c in columns] == [c for c, _ in schema.VIEW_COLUMNS["scores"]]
        assert meta[b"qsd_view"] == b"scores"
        assert meta[b"qsd_schema_version"] == str(schema.SCHEMA_VERSION).encode()


def test_an_existing_folder_is_refused_and_left_as_it_was(exported, capsys):
    db, out = exported
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    assert main(["export", "--db", str(db), "--parquet", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "already exists" in err and "\n" not in err
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


def test_a_missing_database_is_one_line(tmp_path, capsys):
    assert (
        main(["export", "--db", str(tmp_path / "none.duckdb"), "--parquet", str(tmp_path / "o")])
        == 2
    )
    assert capsys.readouterr().err.strip().endswith("no such database")
    assert not (tmp_path / "o").exists()
