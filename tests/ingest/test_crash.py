"""Killing the loader part-way: the database opens, holds only whole files, and a rerun
completes the load with no duplicates."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from ingest import demo, readers

ROOT = Path(__file__).resolve().parents[2]


def load_command(db: Path, folder: Path, workers: int = 2) -> list[str]:
    return [sys.executable, "-m", "ingest", "load", "--quiet", "--db", str(db),
            "--workers", str(workers), str(folder)]  # fmt: skip


def children(pid: int) -> set[int]:
    """Processes whose parent is `pid` (from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
def test_sigkill_mid_load_then_rerun(tmp_path):
    reports = tmp_path / "reports"
    files = demo.write_demo_corpus(reports, locations=3200, seed=11)  # 2+ batches
    expected = {}  # file -> number of statement scores it holds
    for path in files:
        _, [record] = readers.read(str(path), path.read_bytes())
        expected[str(path)] = sum(len(k["statements"]) for k in record["key_questions"])
    db = tmp_path / "crash.duckdb"
    wal = tmp_path / "crash.duckdb.wal"

    proc = subprocess.Popen(load_command(db, reports), cwd=ROOT)
    deadline = time.monotonic() + 120

    def written() -> int:
        return sum(p.stat().st_size for p in (db, wal) if p.exists())

    # Wait for the first committed batch (BATCH_FILES files: well over 1 MB of database and
    # write-ahead log; the empty schema is far less), then kill inside a later batch.
    while written() < 1_500_000 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)
    assert proc.poll() is None, "the load finished before it could be killed: use more files"
    workers = children(proc.pid)
    assert len(workers) >= 2, "expected the worker processes reading the files"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # The workers notice their loader is gone and exit, rather than wait for work forever.
    while any(running(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [w for w in workers if running(w)], "worker processes outlived the loader"

    con = duckdb.connect(str(db))
    stored = dict(
        con.sql(
            "SELECT a.source_file, count(s.score) FROM assessments a"
            " LEFT JOIN statement_scores s USING (assessment_id) GROUP BY 1"
        ).fetchall()
    )
    con.close()
    assert 0 < len(stored) < len(files), "expected a part-loaded database"
    # Only whole files: every stored file has all of its statement scores.
    assert {f: n for f, n in stored.items()} == {f: expected[f] for f in stored}

    rerun = subprocess.run(load_command(db, reports), cwd=ROOT, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(files) - len(stored)} loaded, {len(stored)} unchanged" in rerun.stdout

    con = duckdb.connect(str(db), read_only=True)
    assessments, scores = con.sql(
        "SELECT count(DISTINCT assessment_id), count(*) FROM statement_scores"
    ).fetchall()[0]
    [(rows,)] = con.sql("SELECT count(*) FROM assessments").fetchall()
    con.close()
    assert rows == assessments == len(files)  # every demo report has statement scores
    assert scores == sum(expected.values())
