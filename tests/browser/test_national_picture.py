"""Compare providers' national picture in Chromium: drawn for a provider chosen in the URL,
its numbers beside it, and no serious or critical axe violation on the page it completes."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.app_server import ERRORS, settle
from tests.browser.test_accessibility import SERIOUS, STREAMLIT_OWN
from tests.helpers import sql
from tests.pages.oracle import CURRENT
from ui import session

pytestmark = pytest.mark.browser


def test_the_national_picture_draws_for_a_provider_in_the_url(
    page: Page, app_url: str, browser_db: Path
):
    ((name,),) = sql(browser_db, f"""
        SELECT provider_name FROM ({CURRENT})
        WHERE key_question_score IS NOT NULL GROUP BY 1
        ORDER BY count(DISTINCT location_id) DESC, 1 LIMIT 1
    """)  # fmt: skip
    page.goto(app_url + "compare?" + urlencode({session.COMPARE_PROVIDERS: name}))
    settle(page)
    heading = page.get_by_role("heading", name="One provider on the national picture")
    heading.scroll_into_view_if_needed()
    expect(page.get_by_text(f"{name}'s locations in the same bins", exact=False)).to_be_visible()
    table = page.locator(f".st-key-{session.COMPARE_NATIONAL}")
    expect(table.locator("canvas").first).to_be_visible()
    charts = page.locator('[data-testid="stVegaLiteChart"]')  # the national picture is last
    expect(charts.last).to_be_visible()
    assert charts.last.bounding_box()["height"] > 300  # a panel per key question
    assert page.locator(ERRORS).count() == 0
    page.wait_for_timeout(2_000)  # elements fade in: measure the colours they settle at
    found = Axe().run(page).response["violations"]
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"][:3]])
        for v in found
        if v["impact"] in SERIOUS and v["id"] not in STREAMLIT_OWN
    ]
    assert serious == []
