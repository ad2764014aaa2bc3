"""The app on a file it cannot use names the problem and what to do, and never shows a traceback."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ingest import database
from tests.helpers import page


def _random_bytes(path: Path, demo_db: Path) -> None:
    path.write_bytes(os.urandom(300_000))


def _cut_short(path: Path, demo_db: Path) -> None:
    data = demo_db.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _newer_schema(path: Path, demo_db: Path) -> None:
    shutil.copy(demo_db, path)
    con = database.connect(path, read_only=False)
    try:
        con.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    finally:
        con.close()


@pytest.mark.parametrize(
    ("make", "said"),
    [
        (_random_bytes, "damaged"),
        (_cut_short, "damaged"),
        (_newer_schema, "newer version"),
    ],
)
def test_the_app_names_a_file_it_cannot_use(make, said, db_path: Path, demo_db: Path):
    make(db_path, demo_db)
    before = db_path.read_bytes()
    at = page("overview").run()
    assert not at.exception, [e.message for e in at.exception]
    errors = [e.value for e in at.error]
    assert any(said in e and str(db_path) in e for e in errors), errors
    assert not any("being written by a loader" in e for e in errors)
    assert db_path.read_bytes() == before  # the app changed nothing
