"""The benchmark harness at a tiny scale, so it cannot rot. No timing is asserted here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest

from bench import comparison, first_start, report, scale
from bench.phase import PHASES
from bench.timing import Row

ROOT = Path(__file__).resolve().parent.parent


def test_scale_data_follows_the_demo_model_with_pooled_evidence(tmp_path):
    counts = scale.write_database(tmp_path / "tiny.duckdb", locations=60, progress=lambda _: None)
    assert counts["locations"] == 60
    # The demo model gives 1-3 assessments per location, ~20 statements each.
    assert 60 <= counts["assessments"] <= 180
    assert 10 <= counts["statement_scores"] / counts["assessments"] <= 34
    con = duckdb.connect(str(tmp_path / "tiny.duckdb"), read_only=True)
    try:
        missing = con.execute("SELECT count(*) FROM scores WHERE evidence IS NULL").fetchall()
        regions = con.execute("SELECT count(*) FROM locations WHERE region IS NULL").fetchall()
    finally:
        con.close()
    assert missing == [(0,)]
    assert regions == [(0,)]


def test_the_comparison_check_catches_a_different_number():
    ours = pl.DataFrame({"key_question": ["Safe", "Caring"], "n": [3, 4], "low_n": [True, True]})
    same = pl.DataFrame({"n": [4, 3], "key_question": ["Caring", "Safe"]})
    comparison.check_equal("page", [ours], [same.to_pandas()], "pandas")
    with pytest.raises(AssertionError):
        comparison.check_equal("page", [ours], [same.with_columns(n=pl.lit(3))], "duckdb")


def test_results_block_is_replaced_not_appended(tmp_path):
    path = tmp_path / "RESULTS.md"
    path.write_text("# Results\n\nNotes kept.\n")
    result = {
        "scale": 1.0, "runs": 5, "finished": "now", "total_seconds": 1.0, "database": "x",
        "counts": {"locations": 1}, "machine": {
            "cpus": 2, "cpu_model": "cpu", "memory_gb": 1, "python": "3", "packages": {},
            "load_before": [0.1], "load_after": [0.2],
        },
        "rows": [Row("queries", "f", "no filter", 0.01, target="< 0.05").check().as_dict()],
    }  # fmt: skip
    report.record(path, result)
    report.record(path, result)
    text = path.read_text()
    assert text.count("<!-- bench scale=1 begin -->") == 1
    assert "Notes kept." in text
    assert "| queries | f | no filter | 10.0 ms | < 50.0 ms | met |" in text


def test_first_start_copies_the_tree_without_data(tmp_path):
    tree = first_start._clone(tmp_path)
    assert (tree / "dashboard.py").exists()
    assert not (tree / "data").exists()
    assert not (tree / ".git").exists()


@pytest.mark.slow
def test_every_phase_runs_at_tiny_scale(tmp_path):
    # The first-start phase starts a server and a browser (about 10 s): covered above in parts.
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--scale", "0.01", "--runs", "1", "--skip",
         "first-start", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "results-0.01.json").read_text())
    rows = [Row(**r) for r in result["rows"]]
    assert not [r for r in rows if r.name == "phase failed"]
    for phase in set(PHASES) - {"first-start"}:
        measured = [r for r in rows if r.phase == phase and r.value is not None]
        assert len(measured) >= 2, f"{phase} measured nothing"
    assert any(r.phase == "memory" and r.met is not None for r in rows)
    assert "peak memory of the app" in done.stdout
