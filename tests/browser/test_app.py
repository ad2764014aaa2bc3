"""The whole app in headless Chromium against a real `streamlit run` server (see conftest.py)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlencode

import polars as pl
import pytest
from playwright.sync_api import Page, expect

from tests.browser.app_server import ERRORS, PAGES, ROOT, metric, settle
from tests.helpers import sql
from tests.pages.oracle import JUDGED

pytestmark = pytest.mark.browser


def choose(page: Page, key: str, option: str) -> None:
    """Pick `option` in the sidebar multiselect whose widget key is `key`."""
    page.locator(f".st-key-{key} input").click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")


def no_errors(page: Page) -> None:
    errors = page.locator(ERRORS)
    assert errors.count() == 0, errors.all_inner_texts()


def sidebar_link(page: Page, title: str):
    """The sidebar's link to the page titled `title`."""
    return page.get_by_test_id("stSidebar").get_by_role("link", name=re.compile(re.escape(title)))


def busiest_region(db: Path) -> tuple[str, int]:
    """The region with the most statement scores, and that number."""
    return sql(
        db, f"SELECT region, count(*) AS n FROM {JUDGED} GROUP BY 1 ORDER BY n DESC LIMIT 1"
    )[0]


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_loads_without_an_error(page: Page, app_url: str, name: str):
    assert (ROOT / "pages" / f"{name}.py").exists()
    path, title = PAGES[name]
    page.goto(app_url + path)
    settle(page)
    expect(page.locator("h1").first).to_contain_text(title)
    expect(page.get_by_text("Demo data.", exact=True).first).to_be_visible()
    no_errors(page)


def test_a_filter_change_updates_the_rows_and_the_url_reopens_the_view(
    page: Page, app_url: str, browser, browser_db: Path
):
    (total,) = sql(browser_db, f"SELECT count(*) FROM {JUDGED}")[0]
    region, rows = busiest_region(browser_db)
    page.goto(app_url + "export")
    settle(page)
    expect(metric(page, "Rows")).to_have_text(f"{total:,}")

    choose(page, "region", region)
    expect(metric(page, "Rows")).to_have_text(f"{rows:,}")
    expect(page).to_have_url(re.compile(r"[?&]region="))
    link = page.url

    # Another page keeps the filter: the Data page counts the assessments it selects.
    (assessments,) = sql(
        browser_db, "SELECT count(DISTINCT assessment_id) FROM key_questions WHERE region = ?",
        [region],
    )[0]  # fmt: skip
    sidebar_link(page, "Data and uploads").click()
    expect(metric(page, "Selected by the filters")).to_have_text(f"{assessments:,}")
    expect(page).to_have_url(re.compile(r"/data\?(.*&)?region="))

    fresh = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        shared = fresh.new_page()
        shared.goto(link)  # a new session opening the shared link
        settle(shared)
        expect(metric(shared, "Rows")).to_have_text(f"{rows:,}")
        expect(shared.locator(".st-key-region")).to_contain_text(region)
    finally:
        fresh.close()


def test_a_shared_url_with_filters_shows_the_same_numbers(page: Page, app_url: str, browser_db):
    region, _ = busiest_region(browser_db)
    rows, assessments = sql(
        browser_db,
        f"SELECT count(*), count(DISTINCT assessment_id) FROM {JUDGED}"
        " WHERE region = ? AND key_question = 'Safe'",
        [region],
    )[0]
    page.goto(app_url + "export?" + urlencode({"region": region, "key_question": "Safe"}))
    settle(page)
    expect(metric(page, "Rows")).to_have_text(f"{rows:,}")
    expect(metric(page, "Assessments")).to_have_text(f"{assessments:,}")


def test_the_export_csv_has_exactly_the_rows_the_filters_select(
    page: Page, app_url: str, browser_db: Path
):
    region, _ = busiest_region(browser_db)
    expected = sql(
        browser_db,
        f"SELECT assessment_id, key_question, statement, score::VARCHAR FROM {JUDGED}"
        " WHERE region = ? AND key_question = 'Safe'",
        [region],
    )
    page.goto(app_url + "export?" + urlencode({"region": region, "key_question": "Safe"}))
    settle(page)
    with page.expect_download() as download:
        page.get_by_test_id("stDownloadButton").filter(has_text="Download CSV").click()
    data = Path(download.value.path()).read_bytes()

    assert data.startswith(b"\xef\xbb\xbf#")  # UTF-8 with BOM, then the provenance block
    text = data.decode("utf-8-sig")
    assert f"# Rows,{len(expected)}\r\n" in text
    assert f"# Filters,regions: {region}; key_questions: Safe\r\n" in text
    table = pl.read_csv(data, comment_prefix="#", infer_schema=False)
    got = table.select("assessment_id", "key_question", "statement", "score").rows()
    assert sorted(got) == sorted(expected)
    no_errors(page)


def test_a_location_link_opens_its_page_and_a_pick_updates_the_link(
    page: Page, app_url: str, browser_db: Path
):
    location_id, name, assessments = sql(
        browser_db,
        "SELECT location_id, location_name, count(*) FROM locations JOIN assessments"
        " USING (location_id) GROUP BY ALL ORDER BY count(*) DESC, location_id LIMIT 1",
    )[0]
    other_id, other_name, postcode = sql(
        browser_db,
        "SELECT location_id, location_name, postcode FROM locations WHERE location_id <> ?"
        " ORDER BY location_id LIMIT 1",
        [location_id],
    )[0]
    main = page.get_by_test_id("stMainBlockContainer")
    page.goto(app_url + "location?" + urlencode({"location_id": location_id}))
    settle(page)
    expect(main.locator("h2").first).to_contain_text(name)
    expect(metric(page, "Assessments")).to_have_text(str(assessments))

    page.locator(".st-key-location_search input").fill(postcode.replace(" ", "").lower())
    page.keyboard.press("Enter")
    expect(metric(page, "Matching locations")).to_be_visible()
    main.get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option", name=f"{other_name} · {postcode} · {other_id}").click()
    expect(main.locator("h2").first).to_contain_text(other_name)
    expect(page).to_have_url(re.compile(f"location_id={other_id}"))
    no_errors(page)


def test_filters_from_a_shared_link_survive_the_sidebar_refresh_and_a_new_tab(
    page: Page, app_url: str, browser, browser_db: Path
):
    types = [
        t
        for (t,) in sql(
            browser_db, f"SELECT DISTINCT service_type FROM {JUDGED} WHERE service_type IS NOT NULL"
        )
    ][:2]
    [(rows,)] = sql(
        browser_db,
        f"SELECT count(*) FROM {JUDGED} WHERE service_type IN ({', '.join('?' * len(types))})",
        types,
    )
    page.goto(app_url + "statements?" + urlencode([("service_type", t) for t in types]))
    settle(page)
    sidebar_link(page, "Export").click()  # the first sidebar click keeps the filters
    settle(page)
    expect(metric(page, "Rows")).to_have_text(f"{rows:,}")
    expect(page).to_have_url(re.compile(r"/export\?(.*&)?service_type="))

    page.reload()  # a refresh, then the sidebar again
    settle(page)
    sidebar_link(page, "Quality statements").click()
    settle(page)
    sidebar_link(page, "Export").click()
    settle(page)
    expect(metric(page, "Rows")).to_have_text(f"{rows:,}")

    # Every sidebar link holds the filters in its address: "open in new tab" keeps them.
    href = sidebar_link(page, "Export").get_attribute("href")
    assert all(f"service_type={t.replace(' ', '+')}" in href for t in types), href
    fresh = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        tab = fresh.new_page()
        tab.goto(href if href.startswith("http") else app_url + href.lstrip("/"))
        settle(tab)
        expect(metric(tab, "Rows")).to_have_text(f"{rows:,}")
    finally:
        fresh.close()
