"""The machine a result came from, and the size of the data it ran on."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import duckdb

PACKAGES = ("polars", "duckdb", "streamlit", "pandas", "pyarrow", "altair")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def describe() -> dict:
    """CPU count and model, memory, Python and package versions, load average now."""
    return {
        "cpus": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gb": _memory_gb(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": {p: _version(p) for p in PACKAGES},
        "load_before": load_average(),
    }


def one_line(about: dict) -> str:
    packages = ", ".join(f"{p} {v}" for p, v in about["packages"].items())
    return (
        f"{about['cpus']} CPUs ({about['cpu_model']}), {about['memory_gb']} GB RAM,"
        f" Python {about['python']}, {packages}; load average {about['load_before']}"
    )


def code_state(root: Path) -> dict:
    """The commit measured and the files changed since (read-only git commands)."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        except OSError:
            return ""
        return done.stdout.rstrip("\n") if done.returncode == 0 else ""

    changed = [line[3:] for line in git("status", "--porcelain").splitlines() if line[:2] != "??"]
    return {"commit": git("rev-parse", "--short", "HEAD").strip() or "unknown", "changed": changed}


def counts(db: Path) -> dict[str, int]:
    """Rows of the main tables of the database."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            table: con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            for table in ("locations", "providers", "assessments", "statement_scores")
        }
    finally:
        con.close()
