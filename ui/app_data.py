"""The app's data: one AppData per database file and data version, built once and shared.

- `ensure_database()`: the database path; on first start it builds the demo database
  (ingest.demo.build_database, which locks, stages and moves the file into place) with a
  progress bar.
- `app_data()`: the AppData of the current version of the file ($QSD_DB). The version is
  ingest.database.data_version (the file's and its WAL's mtime and size), so a load by the
  command line or an upload shows on the next rerun without a restart. `load_app_data` builds
  it in one `st.cache_resource` keyed on (path, version): the frames, the locations, the
  settings, and, computed once when first asked for, the filter options, provider labels and
  the headline of everything loaded.
- `AppData.read(query, ...)`: a read of what the frames do not hold (ui.db: evidence, the
  ingest log), cached per (path, version, query, arguments) in `_read`.

The app never holds a connection between reruns: it opens the file read-only, reads and
closes it, so a loader can write at any time. While a loader holds a changed file, a page
keeps showing the last version it read (`_last_good`, per path: the one piece of state kept
across versions) instead of waiting or failing.

Keys of st.session_state are listed in ui/session.py.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import polars as pl
import streamlit as st

from ingest import database, demo
from ingest.schema import SCHEMA_VERSION
from queries.frames import Frames, fetch, prepare
from queries.headline import headline
from queries.options import FilterOptions, filter_options, provider_labels

DEMO_REPORTS = Path(__file__).resolve().parent.parent / "data" / "demo-reports"

T = TypeVar("T")


def build_demo_database(
    target: Path, progress: Callable[[float, str], None] | None = None, locations: int | None = None
) -> None:
    """Write the demo corpus and load it through the real parser into `target`, atomically.

    `progress(fraction, text)` follows the reports loaded; a `target` that exists is kept.
    """
    say = progress or (lambda fraction, text: None)
    say(0.0, "Writing the demo reports")
    demo.build_database(
        target,
        DEMO_REPORTS,
        locations=locations or demo.DEFAULT_LOCATIONS,
        progress=lambda done, total: say(
            done / total, f"Loaded {done:,} of {total:,} demo reports"
        ),
    )


def ensure_database() -> Path:
    """The database path, building the demo database with visible progress if it is missing."""
    target = database.db_path()
    if not target.exists():
        with st.status("First start: building the demo database…", expanded=True) as status:
            bar = st.progress(0.0)
            try:
                build_demo_database(target, lambda f, text: bar.progress(f, text=text))
            except (OSError, duckdb.Error, database.DatabaseUnwritable) as err:
                status.update(label="No database", state="error")
                reason = database.storage_failure(err) or str(err).splitlines()[0]
                st.error(
                    f"There is no database at `{target}` and it cannot be created there: "
                    f"{reason}. Set `{database.DB_ENV}` to a file in a folder that can be "
                    "written, or build the database with `python -m ingest load`.",
                    icon=":material/block:",
                )
                st.stop()
            status.update(label="Demo database ready", state="complete", expanded=False)
        st.rerun()  # draw the page afresh, without the build's status box
    return target


@dataclass(frozen=True)
class AppData:
    """Everything a page reads of one version of the database, loaded once.

    `settings` is the `meta` table (schema_version, demo, last_sync, ...). The properties
    below are computed on first use and then kept with the version.
    """

    frames: Frames
    version: str
    demo: bool
    as_of: str
    locations: pl.DataFrame
    path: str = ""
    settings: Mapping[str, str] = field(default_factory=dict)

    @functools.cached_property
    def options(self) -> FilterOptions:
        """What the sidebar filters offer (queries.options.filter_options)."""
        return filter_options(self.frames.key_questions)

    @functools.cached_property
    def provider_labels(self) -> dict[str, str]:
        """Provider id -> the name shown in pickers (with the id where two share a name)."""
        return provider_labels(self.frames.key_questions)

    @functools.cached_property
    def headline(self) -> dict[str, Any]:
        """queries.headline.headline of everything loaded (no filter)."""
        return headline(self.frames.key_questions).row(0, named=True)

    def read(self, query: Callable[..., T], *args: Hashable, **options: Hashable) -> T:
        """`query(*args, **options, path=...)` on this file, once per version and arguments.

        `query` is one of ui.db's reads. database.DatabaseBusy while a loader holds the
        file (not cached: the next rerun tries again).
        """
        name = f"{query.__module__}.{query.__qualname__}"
        return _read(self.path, self.version, name, args, tuple(sorted(options.items())), query)


@st.cache_data(max_entries=64, show_spinner=False)
def _read(
    path: str,
    version: str,
    name: str,
    args: tuple[Hashable, ...],
    options: tuple[tuple[str, Hashable], ...],
    _query: Callable[..., T],
) -> T:
    return _query(*args, **dict(options), path=path)


@st.cache_resource(max_entries=2, show_spinner="Loading data…")
def load_app_data(path: str, version: str) -> AppData:
    """Read `path` (at data version `version`, the cache key) into an AppData."""
    with database.reading(path) as con:  # retries while a loader holds the file
        statements, key_questions = fetch(con)
        settings = database.read_meta(con)
        as_of = con.execute(
            "SELECT COALESCE(CAST(max(loaded_at) AS VARCHAR), 'never') FROM assessments"
        ).fetchall()[0][0]
        locations = con.sql("SELECT * FROM locations").pl()
    # Closed before preparing: DuckDB's cache of what it read is freed first.
    frames = prepare(statements.lazy(), key_questions.lazy())
    demo_data = settings.get("demo") == "true"
    return AppData(frames, version, demo_data, as_of[:19], locations, path, settings)


@st.cache_resource
def _last_good() -> dict[str, AppData]:
    """The last AppData each database file gave, shown while a loader keeps the file busy."""
    return {}


def app_data() -> AppData:
    """The loaded data; builds the demo database on first start.

    When the file has changed but a loader still holds it, the page keeps showing the last
    version it read (and says so) instead of waiting or failing.
    """
    path = str(ensure_database())
    last_good = _last_good()
    try:
        data = load_app_data(path, database.data_version(path))
    except database.DatabaseBusy:
        if path not in last_good:
            _stop_if_damaged(path)
            st.error("The database is being written by a loader right now. Reload in a moment.")
            st.stop()
        st.caption("⏳ New data is being loaded; showing the previous version until it is done.")
        return last_good[path]
    except (duckdb.Error, OSError) as err:
        _stop_if_damaged(path)
        st.error(
            f"The database `{path}` could not be read: {database.first_line(err)}",
            icon=":material/block:",
        )
        st.stop()
    if _newer(data.settings):
        _stop_if_damaged(path)
    last_good[path] = data
    return data


def _newer(settings: Mapping[str, str]) -> bool:
    """Whether the file was set up by a newer version of the app (its views may differ)."""
    version = settings.get("schema_version") or "0"
    return not (version.isascii() and version.isdigit()) or int(version) > SCHEMA_VERSION


def _stop_if_damaged(path: str) -> None:
    """Say so and stop the page when the file is damaged or from a newer version of the app."""
    if problem := database.check_file(path):
        st.error(
            f"{problem} The dashboard shows nothing from it. Point `{database.DB_ENV}` at "
            "another file, or move this one aside and load the reports again with "
            "`python -m ingest load` (a missing file is rebuilt with the demo data).",
            icon=":material/block:",
        )
        st.stop()


def reload() -> None:
    """Forget the loaded data, so the next rerun reads the database afresh (after an upload)."""
    load_app_data.clear()
