"""The package: every public function is exported, documented, and Streamlit stays out."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import queries

ROOT = Path(__file__).resolve().parents[2]


def test_queries_never_imports_streamlit():
    code = (
        "import importlib, pkgutil, sys, queries\n"
        "for m in pkgutil.iter_modules(queries.__path__):\n"
        "    importlib.import_module('queries.' + m.name)\n"
        "print('streamlit' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_every_export_has_a_one_line_docstring():
    for name in queries.__all__:
        item = getattr(queries, name)
        if inspect.isfunction(item):
            assert item.__doc__ and "\n" not in item.__doc__.strip(), name


def test_architecture_lists_every_query():
    text = (ROOT / "queries" / "ARCHITECTURE.md").read_text()
    helpers = {"current", "load_frames", "prepare", "band_table"}
    for name in queries.__all__:
        if inspect.isfunction(getattr(queries, name)) and name not in helpers:
            assert f"`{name}(" in text, name


def test_the_package_imports_its_modules_only_when_a_name_is_asked_for():
    # App sessions import the modules from several threads at once; a package importing its
    # modules itself could deadlock Python's import locks (a half-initialised module).
    code = (
        "import sys, queries\n"
        "print(sorted(m for m in sys.modules if m.startswith('queries.')))\n"
        "from queries.quality import era_mix\n"
        "print(queries.era_mix is era_mix, queries.provider_rollup.__module__)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.split("\n")[:2] == ["[]", "True queries.rollup"]
