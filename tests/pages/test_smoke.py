"""Every script in pages/ runs on its own (as a deep-linked first visit does) on the demo data.

Generated over pages/*.py: a page added later is tested without a line written for it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import PAGES, page
from ui.page import ATTRIBUTION

SCRIPTS = sorted(p.stem for p in PAGES.glob("*.py"))


def test_there_are_pages_to_smoke():
    assert len(SCRIPTS) >= 7


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_page_runs_alone_with_its_title_and_the_licence(name: str, use_demo_db: Path):
    at = page(name).run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title and at.title[0].value  # each page says what it is
    assert any("**Demo data.**" in i.value for i in at.info), "demo data is flagged"
    assert ATTRIBUTION in [c.value for c in at.sidebar.caption], "the OGL attribution"
