"""Several browser sessions on one real server while the database is written underneath them.

The server reads a writable demo database of its own. Every session records each error
element that ever appears (a MutationObserver installed before the app's own scripts), so an
error that flashes up between two checks still fails the test.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from ingest import demo
from tests.browser.app_server import ERRORS, ROOT, metric, running_app, settle
from tests.conftest import REPORTS
from tests.helpers import build_demo_db, holding, sql

pytestmark = pytest.mark.browser

ROWAN = REPORTS / "rowan-court-three-key-questions.txt"
HARBOUR = REPORTS / "harbour-view-variants-and-mismatches.txt"
BUSY = "The database is busy"
RECORD_ERRORS = """
window.__errors = [];
new MutationObserver(() => {
  for (const el of document.querySelectorAll(SELECTOR)) {
    const text = el.innerText.trim();
    if (!window.__errors.includes(text)) window.__errors.push(text);
  }
}).observe(document, {childList: true, subtree: true});
""".replace("SELECTOR", json.dumps(ERRORS))


@pytest.fixture(scope="module")
def live_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database (30 locations, seed 3) that the tests in this module write to."""
    return build_demo_db(tmp_path_factory.mktemp("live-db"))


@pytest.fixture(scope="module")
def live_url(browser: Browser, live_db: Path) -> Iterator[str]:
    with running_app(live_db) as url:
        yield url


@pytest.fixture
def open_sessions(browser: Browser, live_url: str) -> Iterator[Callable[..., list[Page]]]:
    """Opens pages at once, each in a browser context (a session) of its own."""
    contexts = []

    def open_pages(*paths: str) -> list[Page]:
        pages = []
        for path in paths:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(30_000)
            context.add_init_script(RECORD_ERRORS)
            contexts.append(context)
            pages.append(context.new_page())
            pages[-1].goto(live_url + path, wait_until="commit")
        for page in pages:
            settle(page, timeout=60_000)  # first runs on a cold server share the CPU
        return pages

    yield open_pages
    for context in contexts:
        context.close()


def errors_seen(page: Page, expected: str | None = None) -> list[str]:
    seen = page.evaluate("window.__errors")
    return [text for text in seen if not (expected and expected in text)]


def toggle_key_question(page: Page, on: bool) -> None:
    """Select "Safe" in the sidebar key question filter, or remove it again: one rerun."""
    widget = page.locator(".st-key-key_question")
    widget.locator("input").click()
    if on:
        page.get_by_role("option", name="Safe", exact=True).click()
    else:
        page.keyboard.press("Backspace")
    page.keyboard.press("Escape")
    (expect(widget).to_contain_text if on else expect(widget).not_to_contain_text)("Safe")


def upload(page: Page, *files: Path) -> None:
    page.get_by_test_id("stFileUploader").locator('input[type="file"]').set_input_files(
        [str(f) for f in files]
    )
    expect(load_button(page, len(files))).to_be_visible()


def load_button(page: Page, n: int = 1):
    return page.get_by_role("button", name=f"Load {n} file{'s' * (n > 1)}")


def test_cli_load_while_three_sessions_rerun(open_sessions, live_db: Path, tmp_path: Path):
    more = demo.write_demo_corpus(tmp_path / "more", locations=300, seed=4)  # > 1 batch of 500
    [(before,)] = sql(live_db, "SELECT count(*) FROM assessments")
    # Four sessions start at once on the fresh server (their first imports race each other).
    overview, data, export, trends = open_sessions("", "data", "export", "trends")
    expect(metric(overview, "Assessments")).to_have_text(f"{before:,}")
    assert errors_seen(trends) == []
    trends.context.close()

    loader = subprocess.Popen(
        [sys.executable, "-m", "ingest", "load", "--quiet", "--db", str(live_db),
         str(more[0].parent)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        rounds, during, on = 0, 0, True
        while loader.poll() is None or rounds < 2:
            during += loader.poll() is None
            toggle_key_question(overview, on)
            data.locator(".st-key-data_log_problems label").click()
            toggle_key_question(export, on)
            for page in (overview, data, export):
                settle(page)
            rounds, on = rounds + 1, not on
        out, err = loader.communicate(timeout=60)
    finally:
        if loader.poll() is None:
            loader.kill()
            loader.wait()
    assert loader.returncode == 0, err
    assert f"{len(more)} files: {len(more)} loaded," in out  # every report is a new assessment
    [(after,)] = sql(live_db, "SELECT count(*) FROM assessments")
    assert after == before + len(more)

    # The same session shows the new data on its next rerun, within a few seconds.
    finished = time.monotonic()
    if not on:  # the last round selected the filter: clear it
        toggle_key_question(overview, False)
        settle(overview)
    shown = None
    while time.monotonic() - finished < 10:
        toggle_key_question(overview, True)
        settle(overview)
        toggle_key_question(overview, False)
        settle(overview)
        shown = metric(overview, "Assessments").inner_text()
        if shown == f"{after:,}":
            break
    assert shown == f"{after:,}", f"still {shown} assessments 10 s after the load"
    print(f"rounds of reruns begun during the load: {during}; new data shown after "
          f"{time.monotonic() - finished:.1f} s")  # fmt: skip
    for page in (overview, data, export):
        assert errors_seen(page) == []
    assert during >= 1


def test_two_sessions_upload_at_the_same_moment_and_both_land(open_sessions, live_db: Path):
    [(before,)] = sql(live_db, "SELECT count(*) FROM assessments")
    first, second = open_sessions("data", "data")
    upload(first, ROWAN)
    upload(second, HARBOUR)
    load_button(first).click()
    load_button(second).click()  # a few milliseconds later: both scripts run at once
    for page in (first, second):
        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(
            "1 file: 1 loaded, 0 unchanged, 0 replaced, 0 rejected"
        )
    assert sql(live_db, "SELECT count(*) FROM assessments") == [(before + 2,)]
    logged = sql(
        live_db,
        "SELECT list(action ORDER BY file) FROM ingest_log"
        " WHERE file IN ('upload/rowan-court-three-key-questions.txt',"
        " 'upload/harbour-view-variants-and-mismatches.txt')",
    )
    assert logged == [(["loaded", "loaded"],)]
    for page in (first, second):  # the next rerun of either session shows both files
        page.locator(".st-key-data_log_problems label").click()
        expect(metric(page, "Assessments loaded")).to_have_text(f"{before + 2:,}")
        assert errors_seen(page) == []


def test_upload_while_another_process_holds_the_lock_then_retry(
    open_sessions, live_db: Path, tmp_path: Path
):
    # A new assessment: the same location a year earlier.
    report = tmp_path / "rowan-2024.txt"
    report.write_bytes(ROWAN.read_bytes().replace(b"2025", b"2024"))
    [(before,)] = sql(live_db, "SELECT count(*) FROM assessments")
    [(log_before,)] = sql(live_db, "SELECT count(*) FROM ingest_log")
    [page] = open_sessions("data")
    upload(page, report)
    with holding(live_db):
        load_button(page).click()
        expect(page.get_by_test_id("stAlertContentError")).to_contain_text(BUSY, timeout=60_000)
        expect(page.get_by_test_id("stAlertContentError")).to_contain_text("Nothing was loaded")
        expect(page.get_by_test_id("stFileChipName")).to_have_text(report.name)
    assert sql(live_db, "SELECT count(*) FROM assessments") == [(before,)]
    assert sql(live_db, "SELECT count(*) FROM ingest_log") == [(log_before,)]

    load_button(page).click()  # the same files, once the other writer has gone
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(
        "1 file: 1 loaded", timeout=30_000
    )
    assert sql(live_db, "SELECT count(*) FROM assessments") == [(before + 1,)]
    assert errors_seen(page, expected=BUSY) == []
