"""National-scale data: the demo model's records loaded straight into a DuckDB file.

Scale 1 is 82,000 locations. The demo model gives each location 1.8 assessments of about
20 scored statements on average (the framework has run three years, not long enough for
three assessments everywhere), so 82,000 locations make about 150,000 assessments and
3.0 million statement rows: the row count the targets are set for, with a few more
locations than England's 57,000 (the heavier side for every per-location query).

What is the demo model and what is not:
- Every location, provider, date, key question, score, percentage and rating comes from
  `ingest.demo.demo_records`, unchanged: the same distributions as the demo corpus.
- Evidence text is not drawn from the sentence templates (two thirds of the model's time).
  Each statement instead takes a real demo evidence text of the same score from a pool
  generated once (POOL_LOCATIONS locations of the full model), chosen with the model's own
  random generator. Texts have their real length; they repeat, and their topic need not
  match the statement. Because evidence no longer consumes random draws, the draws after
  the first statement differ from the demo corpus of the same seed: same model, other sample.
- Records go through the one loading loop's writer (`ingest.load.Writer`, then
  `ingest.store.load_files`) minus the text parser: one transaction per CHUNK records, bulk
  inserts from Polars frames, the same ids, regions, hashes and views as
  `python -m ingest load` would give. The ingest log has one line per
  chunk, not per file.

Files are named by scale, seed and a fingerprint of the code that shapes the data, and are
reused while that code is unchanged; a stale file of the same scale and seed is removed.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ingest import demo, load
from ingest.database import connect as open_database
from ingest.files import ReadFile

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
LOCATIONS_PER_SCALE = 82_000
MIN_LOCATIONS = 60
CHUNK = 5_000
POOL_LOCATIONS = 300
DEFAULT_SEED = 7
# Raise when this module changes what it generates; the ingest code is fingerprinted below.
GENERATOR_VERSION = "1"
# The code whose changes change the generated data.
_SOURCES = (
    "ingest/demo.py",
    "ingest/demo_text.toml",
    "ingest/demo_places.toml",
    "ingest/store.py",
    "ingest/precedence.py",
    "ingest/schema.py",
    "ingest/records.py",
    "ingest/reference.py",
    "ingest/search_index.py",  # the index tables the loader writes (the search phase sizes them)
    "queries/search.py",  # the index's words: separators, stop words
)

Progress = Callable[[str], None]


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def locations_for(scale: float) -> int:
    """Locations at `scale` (scale 1 = LOCATIONS_PER_SCALE)."""
    return max(MIN_LOCATIONS, round(scale * LOCATIONS_PER_SCALE))


def fingerprint() -> str:
    """12 hex digits that change when the code shaping the data changes."""
    digest = hashlib.sha256(GENERATOR_VERSION.encode())
    for name in _SOURCES:
        path = ROOT / name
        digest.update(name.encode() + (path.read_bytes() if path.exists() else b""))
    return digest.hexdigest()[:12]


def database_path(scale: float, seed: int = DEFAULT_SEED, out: Path = OUT) -> Path:
    return out / f"scale-{scale:g}-seed{seed}-{fingerprint()}.duckdb"


def database(
    scale: float,
    seed: int = DEFAULT_SEED,
    out: Path = OUT,
    progress: Progress = _say,
    any_version: bool = False,
) -> Path:
    """The scale database, generated unless a file with the same parameters exists.

    `any_version` takes the newest file of this scale and seed even if the code that made
    it has changed since (a scale-10 file takes a quarter of an hour to make).
    """
    path = database_path(scale, seed, out)
    if path.exists():
        return path
    if any_version and (made := sorted(out.glob(f"scale-{scale:g}-seed{seed}-*.duckdb"))):
        return max(made, key=lambda p: p.stat().st_mtime)
    out.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(path.name + ".partial")
    for leftover in (staging, staging.with_name(staging.name + ".wal")):
        leftover.unlink(missing_ok=True)
    write_database(staging, locations_for(scale), seed, progress)
    os.replace(staging, path)
    for stale in out.glob(f"scale-{scale:g}-seed{seed}-*.duckdb*"):
        if stale != path:
            stale.unlink()
    return path


def evidence_pool(seed: int) -> dict[int, list[str]]:
    """Real demo evidence texts by score, from POOL_LOCATIONS locations of the full model."""
    pool: dict[int, list[str]] = {1: [], 2: [], 3: [], 4: []}
    for record in demo.demo_records(locations=POOL_LOCATIONS, seed=seed + 1):
        for kq in record["key_questions"]:
            for statement in kq["statements"]:
                pool[statement["score"]].append(statement["evidence"])
    return pool


@contextmanager
def _pooled_evidence(pool: dict[int, list[str]]) -> Iterator[None]:
    """The demo model with evidence taken from `pool` instead of composed from templates."""
    original = demo._Model.evidence

    def pooled(model, statement, score, people):  # the model's own signature
        texts = pool[score]
        return texts[model.rng.randrange(len(texts))]

    demo._Model.evidence = pooled
    try:
        yield
    finally:
        demo._Model.evidence = original


def scale_records(locations: int, seed: int = DEFAULT_SEED) -> Iterator[list[dict]]:
    """The model's records in chunks of CHUNK, with pooled evidence (see the module doc)."""
    pool = evidence_pool(seed)
    with _pooled_evidence(pool):
        records = demo.demo_records(locations=locations, seed=seed)
        while chunk := list(itertools.islice(records, CHUNK)):
            yield chunk


def write_database(
    path: Path, locations: int, seed: int = DEFAULT_SEED, progress: Progress = _say
) -> dict[str, int]:
    """Generate `locations` locations into a new database at `path`; row counts."""
    started = time.perf_counter()
    done = 0
    with load.Writer(path, hold_seconds=float("inf")) as writer:  # nobody else opens it
        for number, chunk in enumerate(scale_records(locations, seed)):
            batch = ReadFile(
                file=f"bench-scale-{number:05d}",
                format="report-text",
                file_hash=hashlib.sha256(f"{seed}-{number}".encode()).hexdigest(),
                records=chunk,
            )
            (result,) = writer.store([batch])
            if result.action == "rejected":
                raise RuntimeError(f"the store refused generated chunk {number}: {result.message}")
            done += len(chunk)
            if number % 10 == 0:
                progress(
                    f"  scale data: {done:,} assessments written"
                    f" ({time.perf_counter() - started:.0f} s)"
                )
        writer.set_meta({"bench_scale": f"locations={locations} seed={seed}"})
    con = open_database(path, read_only=False)
    try:
        con.execute("CHECKPOINT")
        counts = counts_of(con)
    finally:
        con.close()
    progress(
        f"  scale data: {counts['locations']:,} locations, {counts['assessments']:,} assessments,"
        f" {counts['statement_scores']:,} statement rows in {time.perf_counter() - started:.0f} s"
    )
    return counts


def counts_of(con) -> dict[str, int]:
    """Rows per table of interest."""
    tables = ("providers", "locations", "assessments", "key_question_results", "statement_scores")
    return {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in tables}


def report_corpus(count: int, seed: int = DEFAULT_SEED, out: Path = OUT) -> Path:
    """A folder of `count` report text files rendered from the full demo model (with evidence)."""
    folder = out / f"reports-{count}-seed{seed}-{fingerprint()}"
    done = folder / ".complete"  # hidden: the loader skips it
    if done.exists():
        return folder
    for stale in out.glob(f"reports-{count}-seed{seed}-*"):
        for child in stale.iterdir():
            child.unlink()
        stale.rmdir()
    folder.mkdir(parents=True)
    records = demo.demo_records(locations=count, seed=seed)
    for record in itertools.islice(records, count):
        (folder / record["source"]).write_bytes(demo.render_report(record).encode("utf-8"))
    written = sum(1 for _ in folder.glob("*.txt"))
    if written < count:  # a location count below the assessment count always suffices
        raise RuntimeError(f"the demo model gave {written} reports, not {count}")
    done.write_text("ok\n")
    return folder
