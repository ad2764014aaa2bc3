"""The Search page at national scale (issue 16): searches, themes, and what the index costs.

Outside Streamlit, like the queries phase, through the app's own functions: the AppData of
the scale file (ui.app_data.load_app_data), the page's reads through AppData.read
(st.cache_data, which works without a server), ui.search, queries.search and
ingest.search_index. Measured:

    search       what pages/search.py computes before it draws: the query parsed, the
                 index read (ui.search.index_ready, matching_documents), the match mask over
                 the scores frame (ui.search.hits), the headline counts
                 (queries.search.match_counts) and the first SHOWN_ROWS matches
                 (match_rows) with their snippets (ui.search.with_snippets: their evidence
                 read). A typical search (two words, Region = the largest region: the
                 typical filter of the other phases) and unfiltered one-word searches, each
                 cold and warm:
                   first  the first search of a data version: the page's reads
                          (ui.app_data._read) are emptied before each run; the document
                          map (ui.search._document_rows, index document -> frame row, once
                          per version) was made when the page opened (ui.search.prepare,
                          timed on its own row, without a target: it is made while the user
                          types, like the frames when the app loads); warm are the loaded
                          frames, the file cache and the imports (one untimed search
                          first); medians of MIN_RUNS runs;
                   cold link  the same with the document map emptied too: a shared link
                          with a query opens the page and searches at once (no target);
                   warm   another search of the same version: the document map and
                          index_ready are cached, the index and the evidence are read anew
                          (what a new query costs); medians of --runs runs.
                 Also, warm, the rest of the page (counts by statement, score and region,
                 matches by quarter), without a target.
    themes       ui.search.theme_table, as the Themes view calls it (no filter): the
                 evidence read (theme_texts), the frame narrowed, queries.themes, an example
                 per term; its caches (_themes, _read) emptied before each run. The statement
                 with the most scored rows; also the key question the view opens on (Safe,
                 sampled to about THEME_ROWS statements), without a target. Medians of
                 MIN_RUNS runs after one warm-up.
    size         the four search_* tables' share of the database file: the storage blocks
                 their segments hold (pragma_storage_info, with pragma database_size's
                 block size) against the file's other used blocks (every other table and
                 the catalogue), on the scale file as bench.scale wrote it. Checked once
                 against fresh copies of the tables with and without the index (CREATE
                 TABLE AS into new files; scale 1, 3.65 million rows: 412.5 against 293.5
                 MiB, +40.5%, where the blocks gave +41.3%); the file itself also holds
                 free blocks the loader left (122 of 1,910 there).
    load         the index's share of a load: `ingest.load.load` (= python -m ingest load)
                 of the ingest phase's report files into a new database, with
                 ingest.search_index.update wrapped (in this process only) to add up its
                 time; share = time in update / the rest of the load. In one process
                 (--workers 1: every second is the loading process's, so the load without
                 the index would take the rest) and with the default reader processes
                 (readers parse alongside, so the wall time would fall by less than the
                 share). The load's rate, index included, for both. Medians of LOAD_RUNS.
    memory       the process's peak resident memory after the app's data, searches and
                 themes (before the loads), against the app's target.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from bench.context import Context
from bench.ingest_rate import MIN_REPORTS, reports_for
from bench.scale import report_corpus
from bench.timing import MIN_RUNS, WARMUP, Row, memory_target, peak_rss_mb, say
from ingest import database, search_index
from ingest.files import default_workers
from ingest.load import iter_files, load
from queries.filters import ALL, Filters
from queries.search import match_counts, match_rows, matches_by_quarter, parse_query
from ui import app_data, search

PHASE = "search"
# At scale 1 (the evidence pool's word shares hold at every scale): the two words together
# in 23% of the largest region's scored statements (109,266 of 483,723 in the South East),
# "medicines" (README's question) in 2.6% of all (72,813), and "staff" in 56% (1.56 million:
# the commonest searchable word of the pool but "not", the heavy case).
TYPICAL_QUERY = "staff training"
ONE_WORD = "medicines"
COMMON_WORD = "staff"
FILTERED_TARGET = "< 0.3"
UNFILTERED_TARGET = "< 1"
THEMES_TARGET = "< 2"
SIZE_TARGET = "<= 50"  # per cent more than the file without the index
LOAD_TARGET = "<= 25"  # per cent more load time
# Loads timed: in one process (the target's), with reader processes.
LOAD_RUNS = {"alone": 3, "workers": 2}
COLUMNS = ["location_name", "provider_name", "assessment_date", "key_question", "statement"]
MIB = 2**20


class _Laps:
    """Seconds per named step, one lap after another."""

    def __init__(self) -> None:
        self.steps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.steps[name] = now - self._last
        self._last = now


def _first_screen(data: app_data.AppData, text: str, filters: Filters) -> tuple[dict, dict]:
    """What the Search page computes before it draws (pages/search.py, in its order): the
    headline counts and the steps' seconds. The first SHOWN_ROWS matches get their snippets."""
    laps = _Laps()
    query = parse_query(text)
    if not data.read(search.index_ready):
        raise RuntimeError("the scale database has no search index")
    documents = data.read(search.matching_documents, query.text)
    laps.lap("index read")
    hits = search.hits(data, documents)
    laps.lap("mask")
    asked = dict(hits=hits, filters=replace(filters, statements=()), score_in=())
    total = match_counts(data.frames.scores, **asked).row(0, named=True)
    laps.lap("counts")
    shown = match_rows(data.frames.scores, **asked, limit=search.SHOWN_ROWS)
    laps.lap(f"first {search.SHOWN_ROWS} rows")
    snippets = search.with_snippets(data, shown, query)
    table = search.labelled(snippets, [*COLUMNS, "score", "snippet"])
    laps.lap("snippets")
    if table.height and table["snippet"].null_count() == table.height:
        raise RuntimeError(f"no snippet found for {text!r}")
    return total, laps.steps


def _rest_of_page(data: app_data.AppData, text: str, filters: Filters) -> None:
    """The page's counts by statement, score and region and its matches by quarter (hits from
    the cached reads, as a rerun of the page has them)."""
    hits = search.hits(data, data.read(search.matching_documents, parse_query(text).text))
    asked = dict(hits=hits, filters=replace(filters, statements=()), score_in=())
    for grouping in ("statement", "score", "region"):
        match_counts(data.frames.scores, by=grouping, **asked)
    matches_by_quarter(data.frames.scores, **asked)


def _forget_all() -> None:
    """The page's caches of one data version emptied: the document map and every read."""
    search._document_rows.clear()
    app_data._read.clear()


def _forget_reads(data: app_data.AppData) -> Callable[[], None]:
    """Another search of the same version: the reads forgotten, index_ready cached again."""

    def forget() -> None:
        app_data._read.clear()
        data.read(search.index_ready)

    return forget


def _runs(
    fn: Callable[[], Any], setup: Callable[[], None], runs: int, warmup: int = WARMUP
) -> tuple[float, list[float], list[Any]]:
    """(median seconds, each run's seconds, each run's result) of `fn`, `setup()` untimed
    before each; `warmup` untimed runs first."""
    for _ in range(warmup):
        setup()
        fn()
    times, results = [], []
    for _ in range(runs):
        setup()
        started = time.perf_counter()
        results.append(fn())
        times.append(time.perf_counter() - started)
    return statistics.median(times), times, results


def _steps_note(results: list[tuple[dict, dict]]) -> str:
    """Each step's median and the counts of the search."""
    total = results[-1][0]
    steps = {name: statistics.median(r[1][name] for r in results) for name in results[0][1]}
    parts = ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in steps.items())
    share = f" ({total['share']:.1%})" if total["share"] is not None else ""
    return (
        f"{total['matches']:,} matching of {total['statements']:,} scored statements{share},"
        f" at {total['locations']:,} locations; medians: {parts}"
    )


def _search_rows(ctx: Context, data: app_data.AppData) -> list[Row]:
    region = ctx.typical()["region"]
    typical = Filters(regions=(region,))
    searches = (
        (
            TYPICAL_QUERY,
            typical,
            f'two words "{TYPICAL_QUERY}", Region {region} (the largest)',
            FILTERED_TARGET,
        ),
        (ONE_WORD, ALL, f'one word "{ONE_WORD}", no filter', UNFILTERED_TARGET),
        (
            COMMON_WORD,
            ALL,
            f'one word "{COMMON_WORD}" (the commonest), no filter',
            UNFILTERED_TARGET,
        ),
    )
    name = f"search: counts + first {search.SHOWN_ROWS} matches with snippets"
    rows = []
    _forget_all()
    _first_screen(data, TYPICAL_QUERY, typical)  # untimed: imports, compiled patterns, pools
    median, times, _ = _runs(lambda: search.prepare(data), _forget_all, MIN_RUNS, warmup=0)
    rows.append(
        Row(
            PHASE,
            "search: the document map (ui.search.prepare)",
            "made when the Search page opens, before a query is typed; once per data version",
            median,
            runs=times,
        )
    )
    say(f"  search: the document map {median * 1000:.0f} ms")
    for text, filters, label, target in searches:
        for when, setup, runs, check in (
            (
                "cold link: a shared link's first search, no document map yet",
                _forget_all,
                min(MIN_RUNS, ctx.runs),
                False,
            ),
            (
                "first: the first search of the data version, after the page opened",
                app_data._read.clear,
                min(MIN_RUNS, ctx.runs),
                True,
            ),
            ("warm: another search", _forget_reads(data), ctx.runs, True),
        ):
            median, times, results = _runs(
                lambda text=text, filters=filters: _first_screen(data, text, filters),
                setup,
                runs,
                warmup=0,
            )
            row = Row(
                PHASE,
                name,
                f"{label}; {when}",
                median,
                runs=times,
                target=target if check else None,
                note=_steps_note(results),
            )
            rows.append(row.check() if check else row)
            say(f"  search: {text!r} [{when}] {median * 1000:.0f} ms; {row.note}")
    app_data._read.clear()
    _first_screen(data, TYPICAL_QUERY, typical)  # the reads cached, as a rerun has them
    median, times, _ = _runs(
        lambda: _rest_of_page(data, TYPICAL_QUERY, typical), lambda: None, ctx.runs
    )
    rows.append(
        Row(
            PHASE,
            "search: the rest of the page (counts by statement, score, region; by quarter)",
            f'"{TYPICAL_QUERY}", Region {region}; warm',
            median,
            runs=times,
        )
    )
    say(f"  search: the rest of the page {median * 1000:.0f} ms")
    return rows


def _themes_rows(ctx: Context, data: app_data.AppData) -> list[Row]:
    largest = (
        data.frames.scores.filter(pl.col("statement_id").is_not_null())
        .group_by("statement_id", "key_question", "statement")
        .len()
        .sort(["len", "statement_id"], descending=[True, False])
        .head(1)
        .collect()
    )
    if largest.is_empty():
        return [Row(PHASE, "themes", note="skipped: no scored statement")]
    sid, kq, statement, count = largest.row(0)

    def forget() -> None:
        search._themes.clear()
        app_data._read.clear()

    rows = []
    for choice, label, target in (
        ((sid, None), f"statement {kq} · {statement} ({count:,} rows), no filter", THEMES_TARGET),
        ((None, "Safe"), "key question Safe (the view's first choice, sampled), no filter", ""),
    ):
        median, times, results = _runs(
            lambda choice=choice: search.theme_table(data, ALL, *choice),
            forget,
            min(MIN_RUNS, ctx.runs),
        )
        found, read, every = results[-1]
        sampled = f", 1 in {every} sampled" if every > 1 else ""
        note = f"{found.height} terms from {read:,} statements{sampled}"
        rows.append(
            Row(
                PHASE,
                "themes: ui.search.theme_table (first ask)",
                label,
                median,
                runs=times,
                target=target,
                note=note,
            ).check()
        )
        say(f"  search: themes of {label} {median:.2f} s; {note}")
    return rows


def _blocks(con: duckdb.DuckDBPyConnection, table: str) -> set[int]:
    """The storage blocks holding the persistent segments of `table`."""
    info = f"pragma_storage_info('{table}')"
    found = con.execute(
        f"SELECT block_id FROM {info} WHERE persistent AND block_id >= 0 UNION"
        f" SELECT unnest(additional_block_ids) FROM {info} WHERE persistent"
    ).fetchall()
    return {b for (b,) in found if b is not None and b >= 0}


def _size_rows(ctx: Context) -> list[Row]:
    con = duckdb.connect(str(ctx.db), read_only=True)
    try:
        tables = dict(
            con.execute(
                "SELECT table_name, estimated_size FROM duckdb_tables()"
                " WHERE database_name = current_database() AND schema_name = 'main'"
            ).fetchall()
        )
        if missing := set(search_index.TABLES) - set(tables):
            return [Row(PHASE, "index's share of the database file", note=f"no {missing}")]
        blocks = {table: _blocks(con, table) for table in tables}
        [(block_size, used)] = con.execute(
            "SELECT block_size, used_blocks FROM pragma_database_size()"
            " WHERE database_name = current_database()"
        ).fetchall()
    finally:
        con.close()
    index = set().union(*(blocks[t] for t in search_index.TABLES))
    other = set().union(*(b for t, b in blocks.items() if t not in search_index.TABLES))
    rest = used - len(index)
    each = ", ".join(
        f"{t.removeprefix('search_')} {len(blocks[t]) * block_size / MIB:,.1f} MiB"
        f" ({tables[t]:,} rows)"
        for t in search_index.TABLES
    )
    shared = f"; {len(index & other)} blocks shared with other tables" if index & other else ""
    note = (
        f"index {len(index) * block_size / MIB:,.1f} MiB ({each}) against"
        f" {rest * block_size / MIB:,.1f} MiB for the rest of the file"
        f" ({used:,} used blocks of {block_size // 1024} KiB){shared}"
    )
    say(f"  search: index size {note}")
    share = 100 * len(index) / rest if rest else None
    return [
        Row(
            PHASE,
            "index's share of the database file (search_* tables / the rest)",
            "storage blocks (pragma_storage_info) of the scale file",
            share,
            unit="%",
            target=SIZE_TARGET,
            note=note,
        ).check()
    ]


@contextmanager
def _timed_updates() -> Iterator[list[float]]:
    """ingest.search_index.update wrapped (this process only): the seconds of each call."""
    spent: list[float] = []
    original = search_index.update

    def update(con: Any, rows: Any) -> None:
        started = time.perf_counter()
        try:
            original(con, rows)
        finally:
            spent.append(time.perf_counter() - started)

    search_index.update = update
    try:
        yield spent
    finally:
        search_index.update = original


def _load_rows(ctx: Context) -> list[Row]:
    count = reports_for(ctx.scale)
    folder = report_corpus(count, ctx.seed, ctx.out)
    files = list(iter_files([folder]))
    workers = default_workers()
    rows = []
    with tempfile.TemporaryDirectory(dir=ctx.out) as name, _timed_updates() as spent:
        tmp = Path(name)
        load(files[:MIN_REPORTS], tmp / "warm-up.duckdb", workers=1)  # imports, file cache
        for key, count_workers, label, target in (
            ("alone", 1, "one process (--workers 1)", LOAD_TARGET),
            ("workers", workers, f"{workers} reader processes (the default)", ""),
        ):
            shares, rates, index_times, times = [], [], [], []
            for run in range(min(LOAD_RUNS[key], ctx.runs)):
                spent.clear()
                started = time.perf_counter()
                summary = load(files, tmp / f"{key}-{run}.duckdb", workers=count_workers)
                seconds = time.perf_counter() - started
                if summary.rejected:
                    raise RuntimeError(f"the demo reports did not all load: {summary.line}")
                index = sum(spent)
                times.append(seconds)
                index_times.append(index)
                shares.append(100 * index / (seconds - index))
                rates.append(count / seconds)
            share, rate = statistics.median(shares), statistics.median(rates)
            note = (
                f"search_index.update {statistics.median(index_times):.2f} s of"
                f" {statistics.median(times):.2f} s ({len(spent)} calls a load)"
            )
            variant = f"{count:,} report files, {label}"
            rows.append(
                Row(
                    PHASE,
                    "index's share of a load (time in search_index.update / the rest)",
                    variant,
                    share,
                    unit="%",
                    runs=shares,
                    target=target,
                    note=note,
                ).check()
            )
            rows.append(
                Row(
                    PHASE,
                    "python -m ingest load (parse + store + index)",
                    variant,
                    rate,
                    unit="reports/s",
                    runs=rates,
                )
            )
            say(f"  search: load {label}: {rate:,.0f} reports/s, index {share:+.1f}%; {note}")
    return rows


def run(ctx: Context) -> list[Row]:
    started = time.perf_counter()
    data = app_data.load_app_data(str(ctx.db), database.data_version(ctx.db))
    say(f"  search: app data loaded in {time.perf_counter() - started:.1f} s")
    rows = _search_rows(ctx, data)
    rows += _themes_rows(ctx, data)
    rows.append(
        Row(
            PHASE,
            "peak memory with the app's frames loaded",
            "after the searches and themes",
            peak_rss_mb(),
            unit="MB",
            target=memory_target(ctx.scale),
        ).check()
    )
    del data
    app_data.load_app_data.clear()
    _forget_all()
    search._themes.clear()
    rows += _size_rows(ctx)
    rows += _load_rows(ctx)
    return rows
