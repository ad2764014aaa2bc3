"""The app as a user gets it: `streamlit run dashboard.py` on a free local port, driven by Chromium.

Used by the browser tests (conftest.py) and by screenshots.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.server import CHROMIUM, CHROMIUM_ARGS, ROOT, serve
from ingest import database

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "ROOT", "metric", "running_app", "settle"]

# URL path of each page (st.Page names it after the file; the default page is "/") and its title.
PAGES: dict[str, tuple[str, str]] = {
    "overview": ("", "Overview"),
    "compare": ("compare", "Compare providers"),
    "trends": ("trends", "Trends"),
    "statements": ("statements", "Quality statements"),
    "location": ("location", "Location"),
    "search": ("search", "Search"),
    "export": ("export", "Export"),
    "data": ("data", "Data and uploads"),
}
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'


@contextmanager
def running_app(db: Path, timeout: float = 60) -> Iterator[str]:
    """Start the app on `db`; yields its base URL ('http://127.0.0.1:<port>/'), then stops it."""
    with serve({**os.environ, database.DB_ENV: str(db)}, timeout=timeout) as (url, _):
        yield url


def settle(page, timeout: float = 30_000) -> None:
    """Wait until the app has drawn the page's title and finished running its script."""
    page.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=timeout)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=timeout)
    # A run can follow straight on (a first visit runs again through dashboard.py): wait
    # until no run has started for a moment.
    page.wait_for_timeout(300)
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=timeout)


def metric(page, label: str):
    """The value element of the metric labelled `label` on a Playwright page."""
    label_element = page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    return page.get_by_test_id("stMetric").filter(has=label_element).get_by_test_id("stMetricValue")
