"""Helpers the tests share: SQL on a database file (the oracle), and finding what a page shows.

AppTest elements are found by key (`at.selectbox(key=...)`, `keyed(at, key)` for a table) or,
where an element has no key, by its label: never by position.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
from streamlit.testing.v1 import AppTest

from ingest import demo

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "pages"
TIMEOUT = 60  # seconds an AppTest run may take: the first run of a page loads the data


def build_demo_db(folder: Path, locations: int = 30, seed: int = 3) -> Path:
    """A database of the demo corpus in `folder`, loaded through the real parser and loader."""
    return demo.build_database(folder / "demo.duckdb", folder / "reports", locations, seed)


@contextmanager
def holding(path: Path) -> Iterator[None]:
    """Another process holds `path` open for writing (DuckDB's lock) until the block ends."""
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; c = duckdb.connect(sys.argv[1]);"
            " print('ready', flush=True); sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        yield
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)


def sql(path: Path, query: str, params: list | dict | None = None) -> list[tuple]:
    """Every row of `query` on the database file at `path`, opened read-only."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(query, params or []).fetchall()
    finally:
        con.close()


def page(name: str) -> AppTest:
    """An AppTest of pages/<name>.py (not yet run)."""
    return AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=TIMEOUT)


def metric(at: AppTest, label: str) -> str:
    """The value of the metric labelled `label`."""
    return labelled(at.metric, label).value


def table(at: AppTest, *columns: str):
    """The first dataframe shown that has all of `columns` (as pandas)."""
    return next(d.value for d in at.dataframe if set(columns) <= set(d.value.columns))


def keyed(at: AppTest, key: str) -> Any:
    """The table (AppTest Dataframe) shown by ui.tables.table under `key`.

    A selectable table carries the key itself; any other sits in a container with the key.
    """
    for frame in at.dataframe:
        if frame.key == key:
            return frame
    blocks = [*_blocks(at.main), *_blocks(at.sidebar)]
    [block] = [b for b in blocks if getattr(b, "key", None) == key]
    [frame] = list(block.dataframe)
    return frame


def _blocks(node: Any) -> Iterable[Any]:
    for child in getattr(node, "children", {}).values():
        if hasattr(child, "children"):
            yield child
            yield from _blocks(child)


def labelled(elements: Iterable[Any], label: str) -> Any:
    """The element among `elements` whose label is `label` (an element with no key)."""
    return next(e for e in elements if e.label == label)


def only(elements: Iterable[Any]) -> Any:
    """The one element of `elements`; fails when there are none or several."""
    [element] = list(elements)
    return element
