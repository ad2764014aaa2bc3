"""Labels read whole in Chromium: the sidebar's filter chips and date presets, and every metric
of every page.

Streamlit cuts a chip's or a metric's text short with an ellipsis (no wrapping) once it is
wider than its box; the DOM still holds the whole text, so only the drawn widths tell.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Page, expect

from ingest.reference import CARE_HOME_WITH_NURSING, CARE_HOME_WITHOUT_NURSING
from tests.browser.app_server import PAGES, settle
from tests.helpers import sql
from ui import filters

pytestmark = pytest.mark.browser

WIDTHS = (1400, 1280)  # the browser tests' window, and a common laptop's
# Each element's text and whether something in it is drawn narrower than its text.
CUT_SHORT = """selector => Array.from(document.querySelectorAll(selector)).map(e => [
    e.innerText,
    [e, ...e.querySelectorAll('*')].some(x => x.scrollWidth > x.clientWidth + 1),
])"""
CHIPS = '[data-testid="stSidebar"] .st-key-service_type [data-tag]'
METRICS = '[data-testid="stMetricValue"], [data-testid="stMetricLabel"]'
PRESETS = '[data-testid="stSidebar"] [class*="st-key-date_preset"] button'


def drawn(page: Page, selector: str) -> None:
    """Wait until the page has finished its run and drawn `selector` (a first visit runs
    twice: a deep link reruns through dashboard.py)."""
    settle(page)
    expect(page.locator(selector).first).to_be_visible()
    page.wait_for_timeout(500)  # fonts and the layout settle


def test_filter_chips_show_their_whole_text(page: Page, app_url: str, browser_db: Path):
    types = [t for (t,) in sql(browser_db, "SELECT DISTINCT service_type FROM locations")]
    page.goto(app_url + "statements?" + urlencode([("service_type", t) for t in types]))
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 1000})
        drawn(page, CHIPS)
        chips = page.evaluate(CUT_SHORT, CHIPS)
        # Each chip reads its type whole (wrapped, not cut: "Care home service ..." twice)
        assert sorted(" ".join(text.split()) for text, _ in chips) == sorted(types)
        assert [text for text, cut in chips if cut] == []
    assert {CARE_HOME_WITH_NURSING, CARE_HOME_WITHOUT_NURSING} <= set(types)


def test_date_preset_buttons_show_their_whole_label(page: Page, app_url: str):
    page.goto(app_url + "statements")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 1000})
        drawn(page, PRESETS)
        buttons = page.evaluate(CUT_SHORT, PRESETS)
        # (each label twice: Streamlit's tooltip wrapper matches the selector too)
        assert list(dict.fromkeys(t for t, _ in buttons)) == [p[0] for p in filters.PRESETS]
        assert [text for text, cut in buttons if cut] == []


def views(db: Path) -> dict[str, str]:
    """Each page's address, showing its metrics: Compare with its largest provider chosen,
    Location on one rated Requires improvement overall, Search with a query."""
    [(provider,)] = sql(db, """
        SELECT provider_name FROM key_questions GROUP BY provider_id, provider_name
        ORDER BY count(DISTINCT location_id) DESC, provider_id LIMIT 1
    """)  # fmt: skip
    [(location,)] = sql(db, """
        SELECT location_id FROM locations WHERE overall_rating = 'Requires improvement'
        ORDER BY location_id LIMIT 1
    """)  # fmt: skip
    extra = {
        "compare": {"compare_providers": provider},
        "location": {"location_id": location},
        "search": {"search_query": "staff"},
    }
    return {
        name: path + ("?" + urlencode(extra[name]) if name in extra else "")
        for name, (path, _) in PAGES.items()
    }


@pytest.mark.parametrize("name", list(PAGES))
def test_no_metric_is_cut_short(page: Page, app_url: str, browser_db: Path, name: str):
    page.goto(app_url + views(browser_db)[name])
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 1000})
        drawn(page, METRICS)  # each view shows some
        metrics = page.evaluate(CUT_SHORT, METRICS)
        assert [(width, text) for text, cut in metrics if cut] == []
