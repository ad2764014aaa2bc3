"""The charts' click-to-compare drill-downs have a keyboard path: a provider chosen in a select
box, then a link to Compare reached with Tab and followed with Enter, the filters kept."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from playwright.sync_api import Page, expect

from tests.browser.app_server import settle
from tests.helpers import sql
from ui import session

pytestmark = pytest.mark.browser


def largest_provider(db: Path, region: str) -> str:
    [(name,)] = sql(db, """
        SELECT provider_name FROM key_questions WHERE region = ? AND key_question_score IS NOT NULL
        GROUP BY provider_id, provider_name ORDER BY count(*) DESC, provider_id LIMIT 1
    """, [region])  # fmt: skip
    return name


@pytest.mark.parametrize(
    ("path", "params", "picker", "carried"),
    [
        ("statements", {session.STATEMENTS_BY: "Provider", session.KEY_QUESTION: "Well-led"},
         session.STATEMENTS_PICKER, {session.COMPARE_KEY_QUESTION: "Well-led"}),
        ("trends", {session.TRENDS_BY: "Provider"}, session.TRENDS_PICKER, {}),
    ],
)  # fmt: skip
def test_a_provider_of_the_chart_opens_compare_from_the_keyboard(
    page: Page, app_url: str, browser_db: Path, path, params, picker, carried
):
    [(region,)] = sql(browser_db, "SELECT min(region) FROM locations WHERE region IS NOT NULL")
    provider = largest_provider(browser_db, region)
    page.goto(app_url + path + "?" + urlencode({**params, session.REGION: region}))
    settle(page)
    box = page.locator(f".st-key-{picker} input")
    expect(box).to_be_visible()
    box.focus()
    page.keyboard.type(provider)
    page.keyboard.press("Enter")
    settle(page)
    link = page.get_by_role("link", name=f"Compare {provider} with its peers")
    expect(link).to_be_visible()
    link.focus()
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("h1").first).to_contain_text("Compare providers")
    settle(page)
    query = parse_qs(urlparse(page.url).query)
    assert query[session.COMPARE_PROVIDERS] == [provider]
    assert query[session.REGION] == [region]  # the filters came along
    for key, shown in carried.items():  # the widget shows it (a default stays out of the URL)
        expect(page.locator(f".st-key-{key} input")).to_have_value(shown)
