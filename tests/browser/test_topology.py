"""The deployment's topology as processes (compose.yaml without Docker): several app servers
on 127.0.0.1 ports reading one store while a loader process writes a new version into it.
Every session, on every server, shows the new data on its next rerun, with no error."""

from __future__ import annotations

import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from ingest import demo
from tests.browser.app_server import ROOT, metric, running_app, settle
from tests.browser.test_concurrency import RECORD_ERRORS, errors_seen, toggle_key_question
from tests.helpers import build_demo_db, sql

pytestmark = pytest.mark.browser

SERVERS = 2  # replicas; each also holds two sessions


def test_replicas_reading_one_store_show_a_load_on_their_next_rerun(
    browser: Browser, tmp_path: Path
):
    db = build_demo_db(tmp_path / "store")
    more = demo.write_demo_corpus(tmp_path / "more", locations=200, seed=9)
    [(before,)] = sql(db, "SELECT count(*) FROM assessments")
    with ExitStack() as stack:
        urls = [stack.enter_context(running_app(db)) for _ in range(SERVERS)]
        assert len(set(urls)) == SERVERS  # separate processes on separate ports
        pages = []
        for url in urls:
            for path in ("", "trends"):
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                context.add_init_script(RECORD_ERRORS)
                stack.callback(context.close)
                pages.append(context.new_page())
                pages[-1].goto(url + path)
        for page in pages:
            settle(page, timeout=60_000)
        overviews = pages[::2]
        for page in overviews:
            expect(metric(page, "Assessments")).to_have_text(f"{before:,}")

        loader = subprocess.Popen(
            [sys.executable, "-m", "ingest", "load", "--quiet", "--db", str(db),
             str(more[0].parent)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        stack.callback(lambda: loader.poll() is None and loader.kill())
        on, during = True, 0
        while loader.poll() is None:  # the sessions go on rerunning while it writes
            during += 1
            for page in overviews:
                toggle_key_question(page, on)
            for page in overviews:
                settle(page)
            on = not on
        _, err = loader.communicate(timeout=60)
        assert loader.returncode == 0, err
        assert during >= 1
        if not on:  # the last round selected the filter: clear it
            for page in overviews:
                toggle_key_question(page, False)
                settle(page)
        [(after,)] = sql(db, "SELECT count(*) FROM assessments")
        assert after == before + len(more)

        for page in overviews:  # one rerun each (a filter on and off): the new version
            deadline = time.monotonic() + 15
            shown = None
            while shown != f"{after:,}" and time.monotonic() < deadline:
                toggle_key_question(page, True)
                settle(page)
                toggle_key_question(page, False)
                settle(page)
                shown = metric(page, "Assessments").inner_text()
            assert shown == f"{after:,}", f"{page.url}: still {shown} after the load"
        for page in pages:
            assert errors_seen(page) == [], page.url
