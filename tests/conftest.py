"""Shared fixtures: paths, a fresh database file, and clean Streamlit caches per test."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
REPORTS = FIXTURES / "reports"
SHARED = TESTS.parent.parent / "shared"
SEED = SHARED / "samples" / "seed-report.txt"


@pytest.fixture
def seed_path() -> Path:
    if not SEED.exists():
        pytest.skip(f"the shared seed report is not beside this checkout ({SEED})")
    return SEED


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A database path of the test's own, also set as $QSD_DB for code that reads it."""
    path = tmp_path / "test.duckdb"
    monkeypatch.setenv("QSD_DB", str(path))
    return path


@pytest.fixture(autouse=True)
def _clear_streamlit_caches():
    yield
    import sys

    if "streamlit" in sys.modules:
        import streamlit as st

        st.cache_data.clear()
        st.cache_resource.clear()
