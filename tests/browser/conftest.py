"""One app server per test module, on a small demo database, and headless Chromium to drive it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.app_server import CHROMIUM, CHROMIUM_ARGS, running_app
from tests.helpers import build_demo_db


@pytest.fixture(scope="module")
def browser_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The database the server reads: 30 demo locations (seed 3), never written by the tests."""
    return build_demo_db(tmp_path_factory.mktemp("browser-db"))


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def app_url(browser, browser_db: Path) -> Iterator[str]:
    """Base URL of `streamlit run dashboard.py` on 127.0.0.1, stopped after the module."""
    with running_app(browser_db) as url:
        yield url


@pytest.fixture
def page(browser, app_url):
    """A fresh browser tab (its own session, downloads allowed)."""
    context = browser.new_context(accept_downloads=True, viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()
