"""Reading files in worker processes gives what reading them in the loader gives, in order,
and a load with workers stores exactly what a load without them stores."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from ingest import demo, files, load
from ingest.records import content_hash

# Every table's rows, without the times of loading.
TABLES = {
    "assessments": "SELECT * EXCLUDE (loaded_at) FROM assessments ORDER BY ALL",
    "key_question_results": "SELECT * FROM key_question_results ORDER BY ALL",
    "statement_scores": "SELECT * FROM statement_scores ORDER BY ALL",
    "locations": "SELECT * FROM locations ORDER BY ALL",
    "providers": "SELECT * FROM providers ORDER BY ALL",
    "location_aliases": "SELECT * EXCLUDE (linked_at) FROM location_aliases ORDER BY ALL",
    "ingest_log": "SELECT * EXCLUDE (log_id, logged_at) FROM ingest_log ORDER BY ALL",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Demo reports with bad files among them: empty, binary, and one that is not there."""
    folder = tmp_path_factory.mktemp("corpus")
    paths = sorted(demo.write_demo_corpus(folder / "reports", locations=16, seed=5))
    (folder / "reports" / "empty.txt").write_bytes(b"")
    (folder / "reports" / "binary.txt").write_bytes(bytes(range(256)) * 4)
    bad = [folder / "reports" / n for n in ("empty.txt", "binary.txt", "gone.txt")]
    return paths[:10] + bad + paths[10:]


def test_workers_read_what_the_loader_reads_in_order(corpus):
    alone = list(files.read_batches(corpus, 7, workers=1))
    parallel = list(files.read_batches(corpus, 7, workers=2))
    assert [len(b) for b in parallel] == [7] * (len(corpus) // 7) + [len(corpus) % 7]
    assert parallel == alone  # dataclasses: every field, records and digests included
    read = [f for batch in parallel for f in batch]
    assert [f.file for f in read] == [str(p) for p in corpus]
    rejected = {Path(f.file).name: f.message for f in read if isinstance(f, files.FileResult)}
    assert rejected["empty.txt"] == "file is empty"
    assert rejected["binary.txt"] == "binary file, not report text"
    assert rejected["gone.txt"] == "cannot be read: No such file or directory"
    for f in read:
        if isinstance(f, files.ReadFile):
            assert f.digests == [content_hash(r) for r in f.records]


def _tables(db: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: con.sql(sql).fetchall() for name, sql in TABLES.items()}
    finally:
        con.close()


def test_load_with_workers_stores_what_one_process_stores(corpus, tmp_path, monkeypatch):
    for workers in (1, 2):  # batches of 6: several, so the workers are used
        done = load.load(corpus, tmp_path / f"{workers}.duckdb", workers=workers, batch=6)
        status, summary = (1 if done.rejected else 0), done.line
        assert status == 1  # the three bad files
        assert summary.startswith(f"{len(corpus)} files: {len(corpus) - 3} loaded,")
        assert "3 rejected" in summary
    one, two = _tables(tmp_path / "1.duckdb"), _tables(tmp_path / "2.duckdb")
    assert len(one["statement_scores"]) > 100
    assert one == two
    # Loading again changes nothing, whichever way it is read.
    summary = load.load(corpus, tmp_path / "1.duckdb", workers=2, batch=6).line
    assert f"0 loaded, {len(corpus) - 3} unchanged" in summary
    assert _tables(tmp_path / "1.duckdb")["statement_scores"] == one["statement_scores"]
