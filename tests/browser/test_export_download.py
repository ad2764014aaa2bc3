"""The Export page's download over the size limit, through a real server and Chromium."""

from __future__ import annotations

import gzip
from pathlib import Path
from urllib.parse import urlencode

import duckdb
import polars as pl
import pytest

from queries.filters import Filters
from queries.frames import load_frames
from tests.browser.app_server import ERRORS, running_app, settle
from tests.pages.oracle import JUDGED
from ui import export

pytestmark = pytest.mark.browser


def test_over_the_limit_the_csv_downloads_gzip_compressed(browser, browser_db: Path, monkeypatch):
    con = duckdb.connect(str(browser_db), read_only=True)
    try:
        query = f"SELECT region FROM {JUDGED} GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"
        region = con.execute(query).fetchall()[0][0]
        expected = con.execute(
            f"SELECT assessment_id, key_question, statement, score::VARCHAR FROM {JUDGED}"
            " WHERE region = ?",
            [region],
        ).fetchall()
        scores = load_frames(con).scores
    finally:
        con.close()
    plain = export.builder(
        "csv", scores, Filters(regions=(region,)), export.COLUMNS, evidence=None,
        data_as_of="x", demo=True,
    )()  # fmt: skip
    monkeypatch.setenv(export.LIMIT_ENV, str(len(plain) / 2 / 1e6))  # the CSV is twice the limit

    with running_app(browser_db) as url:
        context = browser.new_context(accept_downloads=True)
        context.set_default_timeout(30_000)
        page = context.new_page()
        page.goto(url + "export?" + urlencode({"region": region}))
        settle(page)
        with page.expect_download() as download:
            page.get_by_test_id("stDownloadButton").filter(has_text="Download CSV (gzip)").click()
        name = download.value.suggested_filename
        data = gzip.decompress(Path(download.value.path()).read_bytes())
        assert page.locator(ERRORS).count() == 0
        context.close()

    assert name.endswith(".csv.gz")
    assert data.startswith(b"\xef\xbb\xbf# Quality Statement Dashboard export,")
    assert f"# Rows,{len(expected)}\r\n".encode() in data
    table = pl.read_csv(data, comment_prefix="#", infer_schema=False)
    got = table.select("assessment_id", "key_question", "statement", "score").rows()
    assert sorted(got) == sorted(expected)
