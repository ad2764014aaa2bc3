"""Page tests run on one small demo database, built once per session through the real loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import database
from tests.helpers import build_demo_db


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo database file (60 locations, seed 3). Read it; copy it before writing."""
    return build_demo_db(tmp_path_factory.mktemp("demo-db"), locations=60)


@pytest.fixture
def use_demo_db(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the app ($QSD_DB) at the demo database for one test."""
    monkeypatch.setenv(database.DB_ENV, str(demo_db))
    return demo_db
