"""A match of the Search page opens its Location page at that statement, in Chromium: the
statement's evidence open, marked and scrolled into view, the sidebar filters kept."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app_server import ERRORS, settle
from tests.helpers import sql
from tests.pages.oracle import JUDGED
from ui import session

pytestmark = pytest.mark.browser
MEDICINES = "regexp_matches(lower(evidence), '(^|[^a-z0-9])medicine(s|d)?([^a-z0-9]|$)')"
ROW_HEIGHT = 35  # st.dataframe's header and rows, in pixels


def in_view(page: Page, selector: str) -> bool:
    """Whether the element's top is inside the window (the app scrolls its main block)."""
    box = page.locator(selector).bounding_box()
    return box is not None and 0 <= box["y"] < page.viewport_size["height"]


def check_focused(page: Page, db: Path, region: str) -> None:
    """The Location page shows the statement its URL names, open and in view, and that
    statement is a match of `medicines` in `region`."""
    params = {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}
    assert params["region"] == region  # the sidebar filter came along
    [(name, evidence, found_region)] = sql(
        db,
        f"SELECT statement, evidence, region FROM {JUDGED} WHERE location_id = ?"
        " AND assessment_id = ? AND statement_id = ?",
        [params["location_id"], params["assessment_id"], int(params["statement"])],
    )
    assert found_region == region
    [(matches,)] = sql(db, f"SELECT {MEDICINES} FROM (SELECT ? AS evidence)", [evidence])
    assert matches
    focus = page.locator(f".st-key-{session.LOCATION_FOCUS}")
    expect(focus).to_contain_text(name)
    first_line = evidence.splitlines()[0][:60]
    expect(focus.get_by_text(first_line, exact=False)).to_be_visible()  # open
    page.wait_for_timeout(2_500)  # the page's scrolling is done
    assert in_view(page, f".st-key-{session.LOCATION_FOCUS}")
    assert not in_view(page, '[data-testid="stMainBlockContainer"] h1')  # it was scrolled
    errors = page.locator(ERRORS)
    assert errors.count() == 0, errors.all_inner_texts()


def test_a_clicked_match_opens_its_statement_on_the_location_page(
    page: Page, app_url: str, browser, browser_db: Path
):
    [(region,)] = sql(
        browser_db,
        f"SELECT region FROM {JUDGED} WHERE {MEDICINES} GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
    )
    page.goto(app_url + "search?" + urlencode({"search_query": "medicines", "region": region}))
    settle(page)
    grid = page.locator(f".st-key-{session.SEARCH_MATCHES}")
    grid.scroll_into_view_if_needed()
    expect(grid.locator("canvas").first).to_be_visible()  # the grid is drawn
    page.wait_for_timeout(500)
    box = grid.bounding_box()
    # The first row's selection box, in the column of row markers at the left.
    page.mouse.click(box["x"] + 20, box["y"] + ROW_HEIGHT + ROW_HEIGHT / 2)
    # (the Search page reruns, then switches: slow on a busy machine)
    expect(page).to_have_url(re.compile(r"/location\?.*statement="), timeout=30_000)
    settle(page)
    check_focused(page, browser_db, region)

    # The address opens the same view in a new session (a shared link).
    fresh = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        shared = fresh.new_page()
        shared.goto(page.url)
        settle(shared)
        check_focused(shared, browser_db, region)
    finally:
        fresh.close()
