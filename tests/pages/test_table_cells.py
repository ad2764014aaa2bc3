"""Every table a page shows holds what any download of it may hold, Streamlit's own toolbar
"Download as CSV" included (it writes the cells the browser was sent): no cell that a
spreadsheet would run as a formula, no invisible bidirectional control. Checked on the data
each table sends, for every page, on a report whose names are hostile."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.load import load
from tests.conftest import REPORTS
from tests.helpers import PAGES, page
from ui import session

FORMULA = '=HYPERLINK("http://127.0.0.1/x","Rowan")'
BIDI = "Court\u202egnp.exe"
LOCATION = "1-1000000404"  # Rowan Court's id in the fixture


@pytest.fixture
def hostile_db(db_path: Path) -> Path:
    report = (REPORTS / "rowan-court-three-key-questions.txt").read_text(encoding="utf-8")
    report = report.replace("Rowan Court Nursing Home", f"{FORMULA} {BIDI}")
    summary = load([("hostile.txt", report.encode())], db_path)
    assert not summary.rejected, summary.line
    return db_path


@pytest.mark.parametrize("name", sorted(p.stem for p in PAGES.glob("*.py")))
def test_no_table_sends_a_formula_or_a_bidi_control(name: str, hostile_db: Path):
    at = page(name)
    at.query_params[session.LOCATION_ID] = LOCATION
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    cells = [  # text cells (a negative number is no formula)
        cell
        for frame in at.dataframe
        for column in frame.value.columns
        for cell in frame.value[column].tolist()
        if isinstance(cell, str)
    ]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert not [c for c in cells if "\u202e" in c]
    if name == "export":  # the preview holds the name, guarded and made visible
        assert f"'{FORMULA} Court<U+202E>gnp.exe" in cells
