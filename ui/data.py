"""The app's data: building the demo database on first start, and loading it once per version.

The app never holds a database connection between reruns: it opens the file read-only,
reads what it needs and closes it, so the command-line loader can write at any time. A change
of the file's version (mtime and size) makes the next rerun load afresh; while the loader
holds the file, the app keeps showing the last version it read.
"""

from __future__ import annotations

import fcntl
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import streamlit as st

from ingest import demo, store
from queries.data import Frames, fetch, prepare
from queries.headline import headline
from ui import db

DEMO_REPORTS = Path(__file__).resolve().parent.parent / "data" / "demo-reports"


def build_demo_database(
    target: Path, progress: Callable[[float, str], None] | None = None, locations: int | None = None
) -> None:
    """Write the demo corpus and load it through the real parser into `target`, atomically."""
    say = progress or (lambda fraction, text: None)
    store.make_folder(target.parent)
    with open(target.with_name(target.name + ".build-lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():  # another session built it while we waited
            return
        say(0.0, "Writing the demo reports")
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            staging = Path(tmp) / target.name
            demo.build_database(
                staging,
                DEMO_REPORTS,
                locations=locations or demo.DEFAULT_LOCATIONS,
                progress=lambda done, total: say(
                    done / total, f"Loaded {done:,} of {total:,} demo reports"
                ),
            )
            shutil.move(staging, target)


def ensure_database() -> Path:
    """The database path, building the demo database with visible progress if it is missing."""
    target = store.db_path()
    if not target.exists():
        with st.status("First start: building the demo database…", expanded=True) as status:
            bar = st.progress(0.0)
            try:
                build_demo_database(target, lambda f, text: bar.progress(f, text=text))
            except (OSError, duckdb.Error) as err:
                status.update(label="No database", state="error")
                reason = store.storage_failure(err) or str(err).splitlines()[0]
                st.error(
                    f"There is no database at `{target}` and it cannot be created there: "
                    f"{reason}. Set `{store.DB_ENV}` to a file in a folder that can be written, "
                    "or build the database with `python -m ingest load`.",
                    icon="🚫",
                )
                st.stop()
            status.update(label="Demo database ready", state="complete", expanded=False)
    return target


@dataclass(frozen=True)
class AppData:
    """Everything a page reads, loaded once per data version."""

    frames: Frames
    version: str
    demo: bool
    as_of: str
    locations: pl.DataFrame


@st.cache_resource(max_entries=2, show_spinner="Loading data…")
def _load(path: str, version: str) -> AppData:
    con = db.connect(path, read_only=True)  # retries while a loader holds the file
    try:
        statements, key_questions = fetch(con)
        demo_flag = store.get_meta(con, "demo") == "true"
        as_of = con.execute(
            "SELECT COALESCE(CAST(max(loaded_at) AS VARCHAR), 'never') FROM assessments"
        ).fetchall()[0][0]
        locations = con.sql("SELECT * FROM locations").pl()
    finally:
        con.close()  # before preparing: DuckDB's cache of what it read is freed first
    frames = prepare(statements.lazy(), key_questions.lazy())
    return AppData(frames, version, demo_flag, as_of[:19], locations)


# The last data each database file gave, shown while a loader keeps the file busy.
_LAST_GOOD: dict[str, AppData] = {}


def app_data() -> AppData:
    """The loaded data; builds the demo database on first start.

    When the file has changed but a loader still holds it, the page keeps showing the last
    version it read (and says so) instead of waiting or failing.
    """
    path = str(ensure_database())
    try:
        data = _load(path, store.data_version(path))
    except db.DatabaseBusy:
        if path not in _LAST_GOOD:
            st.error("The database is being written by a loader right now. Reload in a moment.")
            st.stop()
        st.caption("⏳ New data is being loaded; showing the previous version until it is done.")
        return _LAST_GOOD[path]
    _LAST_GOOD[path] = data
    return data


@st.cache_resource(max_entries=2, show_spinner=False)
def _loaded_headline(version: str, _data: AppData) -> dict[str, Any]:
    return headline(_data.frames.key_questions).row(0, named=True)


def loaded_headline(data: AppData) -> dict[str, Any]:
    """queries.headline.headline of everything loaded (no filter), once per data version."""
    return _loaded_headline(data.version, data)


def reload() -> None:
    """Forget the loaded data, so the next rerun reads the database afresh (after an upload)."""
    _load.clear()
