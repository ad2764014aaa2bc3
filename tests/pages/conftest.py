"""Page tests run on one small demo database, built once per session through the real loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import demo, store


def build_demo_db(folder: Path, locations: int = 60, seed: int = 3) -> Path:
    """A database of the demo corpus, loaded by store.load_files as the app and CLI load it."""
    reports = demo.write_demo_corpus(folder / "reports", locations=locations, seed=seed)
    path = folder / "demo.duckdb"
    con = store.connect(path)
    try:
        store.load_files(con, [store.read_file(p.name, p.read_bytes()) for p in reports])
        store.set_meta(con, "demo", "true")
    finally:
        con.close()
    return path


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo database file (60 locations, seed 3). Read it; copy it before writing."""
    return build_demo_db(tmp_path_factory.mktemp("demo-db"))


@pytest.fixture
def use_demo_db(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app ($QSD_DB) at the demo database for one test."""
    monkeypatch.setenv(store.DB_ENV, str(demo_db))
    return demo_db
