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

ROOT = Path(__file__).resolve().parents[2]


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


MACHINE = {"cpus": 2, "cpu_model": "cpu", "memory_gb": 1, "python": "3", "packages": {},
           "load_before": [0.1], "load_after": [0.2], "code": {"commit": "abc1234"}}  # fmt: skip


def run(finished: str, phases: list[str], *rows: Row) -> dict:
    """A bench result as __main__ writes it: a run of `phases` giving `rows`."""
    return {"scale": 1.0, "runs": 5, "finished": finished, "total_seconds": 1.0, "database": "x",
            "counts": {"locations": 1}, "machine": MACHINE, "phases": phases,
            "rows": [r.check().as_dict() for r in rows]}  # fmt: skip


def table_rows(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.startswith("| ")][1:]


def run_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.startswith("- **")]


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


def test_a_run_of_some_phases_replaces_only_their_rows_and_names_its_run(tmp_path):
    path = tmp_path / "RESULTS.md"
    report.record(path, run("T1", list(PHASES),
        Row("queries", "f", "no filter", 0.010), Row("pages", "overview", "filter change", 0.100),
        Row("export", "build", "all rows", 2.0), Row("memory", "app", "every page", 900, "MB"),
    ))  # fmt: skip
    report.record(path, run("T2", ["export"], Row("export", "build", "all rows", 1.5),
                            Row("export", "build", "typical filter", 0.2)))  # fmt: skip
    assert table_rows(path) == [
        "| queries | f | no filter | 10.0 ms |  |  |",
        "| pages | overview | filter change | 100.0 ms |  |  |",
        "| export | build | all rows | 1.50 s |  |  |",
        "| export | build | typical filter | 200.0 ms |  |  |",
        "| memory | app | every page | 900 MB |  |  |",
    ]
    assert [line.split(": Run ")[0] for line in run_lines(path)] == [
        "- **export**",
        "- **ingest, load, queries, pages, search, compare, first-start, memory**",
    ]
    assert run_lines(path)[0].startswith("- **export**: Run T2, ")
    assert "Run T1, " in run_lines(path)[1] and "commit abc1234" in run_lines(path)[1]

    # The pages phase also gives the memory rows: both are replaced, and T1 keeps the rest.
    report.record(path, run("T3", ["pages"], Row("pages", "overview", "filter change", 0.09)))
    phases = [row.split(" | ")[0].removeprefix("| ") for row in table_rows(path)]
    assert phases == ["queries", "pages", "export", "export"]
    assert [line.split(": Run ")[0] for line in run_lines(path)] == [
        "- **pages, memory**",
        "- **export**",
        "- **ingest, load, queries, search, compare, first-start**",
    ]
    # A run of every phase replaces the whole block.
    report.record(path, run("T4", list(PHASES), Row("load", "load_frames", "cold", 2.0)))
    assert table_rows(path) == ["| load | load_frames | cold | 2.00 s |  |  |"]
    assert len(run_lines(path)) == 1 and "Run T4, " in run_lines(path)[0]


def test_a_share_target_allows_its_limit_and_reads_as_a_percentage():
    share = Row("search", "index's share", "", 50.0, unit="%", target="<= 50").check()
    assert share.met is True
    assert Row("search", "index's share", "", 50.1, unit="%", target="<= 50").check().met is False
    assert Row("queries", "f", "", 0.05, target="< 0.05").check().met is False
    assert Row("ingest", "rate", "", 2000, unit="reports/s", target=">= 2000").check().met is True
    assert report.cells(share)[3:] == ("+50.0%", "<= +50.0%", "met")


def test_first_start_copies_the_tree_without_data(tmp_path):
    tree = first_start._clone(tmp_path)
    assert (tree / "dashboard.py").exists()
    assert not (tree / "data").exists()
    assert not (tree / ".git").exists()


@pytest.mark.slow
def test_every_phase_runs_at_tiny_scale(tmp_path):
    # The first-start phase starts a server and a browser (about 10 s): covered above in parts.
    # Its row from an earlier run stays in the recorded table; the phases run replace theirs.
    results = tmp_path / "RESULTS.md"
    earlier = [Row("first-start", "fresh copy", "demo data", 6.5), Row("queries", "gone", "x", 1)]
    report.record(results, run("EARLIER", list(PHASES), *earlier) | {"scale": 0.01})
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--scale", "0.01", "--runs", "1", "--skip",
         "first-start", "--out", str(tmp_path), "--record", "--results", str(results)],
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
    recorded = table_rows(results)
    assert "| first-start | fresh copy | demo data | 6.50 s |  |  |" in recorded
    assert not [line for line in recorded if "| gone |" in line]
    assert len(recorded) == len(rows) + 1


@pytest.mark.slow
def test_concurrent_sessions_phase_gives_percentiles_without_errors(tmp_path):
    # Two websocket sessions against a real `streamlit run` server for a few seconds each,
    # without and with the sharing prototype; no browser at this scale (bench.concurrent.TINY).
    db = tmp_path / "tiny.duckdb"
    scale.write_database(db, locations=60, progress=lambda _: None)
    out = tmp_path / "rows.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.phase", "concurrent", "--scale", "0.01", "--db", str(db),
         "--seed", "7", "--runs", "1", "--data", str(tmp_path), "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=150,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [Row(**r) for r in json.loads(out.read_text())]
    for variant in ("N=2", "N=2, shared query results (bench prototype)"):
        got = {r.name: r for r in rows if r.phase == "concurrent" and r.variant == variant}
        p50, p95 = got["filter-change rerun p50"], got["filter-change rerun p95"]
        assert p50.value > 0 and p95.value >= p50.value, variant
        assert got["errors"].value == 0, got["errors"].note
        assert got["starved sessions"].value == 0, got["starved sessions"].note
        assert got["server peak memory"].value > 0
