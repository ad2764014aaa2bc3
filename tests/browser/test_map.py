"""The Overview's map in Chromium: drawn from the page's own data (no map tiles, no request
beyond the app), and a row of the table beside it opens that location's page."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app_server import ERRORS, settle
from tests.helpers import sql
from tests.pages.oracle import CURRENT
from ui import session

pytestmark = pytest.mark.browser
ROW_HEIGHT = 35  # st.dataframe's header and rows, in pixels
# Streamlit fetches the Material icon of st.set_page_config's page_icon (the browser tab's
# icon) from Google's font server: the app's one request beyond it, with or without the map.
PAGE_ICON = "https://fonts.gstatic.com/s/i/short-term/release/materialsymbolsrounded/"


def test_the_map_draws_with_no_outside_request_and_a_row_opens_its_location(
    page: Page, app_url: str, browser_db: Path
):
    outside: list[str] = []
    page.on(
        "request",
        lambda r: (
            outside.append(r.url)
            if urlparse(r.url).hostname != "127.0.0.1" and not r.url.startswith("data:")
            else None
        ),
    )
    page.goto(app_url + "?" + urlencode({session.OVERVIEW_MAP_KEY_QUESTION: "Well-led"}))
    settle(page)
    drawn = page.locator(f".st-key-{session.OVERVIEW_MAP}")
    drawn.scroll_into_view_if_needed()
    expect(drawn.locator("canvas, svg").first).to_be_visible()
    page.wait_for_timeout(1_000)  # charts draw after the script has finished
    box = drawn.bounding_box()
    assert box["width"] > 300 and box["height"] > 400
    assert [u for u in outside if not u.startswith(PAGE_ICON)] == []

    # The table beside it, in the order it shows (location name, then id): its first row.
    first = sql(browser_db, f"""
        SELECT location_id FROM ({CURRENT})
        WHERE key_question = 'Well-led' AND key_question_rating IS NOT NULL
        ORDER BY location_name, location_id LIMIT 1
    """)[0][0]  # fmt: skip
    grid = page.locator(f".st-key-{session.OVERVIEW_MAP_ROWS}")
    grid.scroll_into_view_if_needed()
    expect(grid.locator("canvas").first).to_be_visible()
    page.wait_for_timeout(500)
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 20, box["y"] + ROW_HEIGHT + ROW_HEIGHT / 2)
    expect(page).to_have_url(re.compile(r"/location\?.*location_id="), timeout=30_000)
    settle(page)
    assert parse_qs(urlparse(page.url).query)["location_id"] == [first]
    errors = page.locator(ERRORS)
    assert errors.count() == 0, errors.all_inner_texts()
    assert [u for u in outside if not u.startswith(PAGE_ICON)] == []
