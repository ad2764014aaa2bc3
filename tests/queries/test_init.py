"""The package: every public function documented and named in ARCHITECTURE.md, Streamlit out."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FunctionType

import queries

ROOT = Path(__file__).resolve().parents[2]
SUMMARY_CHARACTERS = 100  # a docstring's first line: a summary that fits on one line
# Building blocks the documented queries are made of, not queries of their own.
HELPERS = {"current", "load_frames", "prepare", "band_table"}


def public_functions() -> Iterator[tuple[str, FunctionType]]:
    """(qualified name, function) of every public function and method each module defines."""
    for info in pkgutil.iter_modules(queries.__path__):
        module = importlib.import_module(f"queries.{info.name}")
        for name, item in vars(module).items():
            if name.startswith("_") or getattr(item, "__module__", None) != module.__name__:
                continue
            if inspect.isfunction(item):
                yield f"{info.name}.{name}", item
            elif inspect.isclass(item):
                for method, function in vars(item).items():
                    if inspect.isfunction(function) and not method.startswith("_"):
                        yield f"{info.name}.{name}.{method}", function


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


def test_every_public_function_has_a_docstring_that_starts_with_a_summary_line():
    found = list(public_functions())
    assert len(found) > 40  # every module was read
    for name, function in found:
        assert function.__doc__, name
        summary = function.__doc__.strip().splitlines()[0]
        assert 0 < len(summary) <= SUMMARY_CHARACTERS, name


def test_architecture_lists_every_query():
    text = (ROOT / "queries" / "ARCHITECTURE.md").read_text()
    for name, _ in public_functions():
        function = name.split(".")[-1]
        if name.count(".") == 1 and function not in HELPERS:
            assert f"`{function}(" in text, name


def test_importing_the_package_imports_none_of_its_modules():
    # App sessions import the modules from several threads at once; a package importing its
    # modules itself could deadlock Python's import locks (a half-initialised module).
    code = "import sys, queries\nprint(sorted(m for m in sys.modules if m.startswith('queries.')))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
