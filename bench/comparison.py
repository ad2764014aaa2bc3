"""Three pages' numbers done two other ways, as points of comparison for ours.

    ours    the `queries` functions the page calls, on the frames loaded once (Polars)
    pandas  what a typical Streamlit app would write: the view read once with
            `con.sql(...).df()` (as st.cache_data would keep it), then boolean masks,
            sort + drop_duplicates for "latest", groupby per rerun
    duckdb  raw SQL on the database file per rerun, over an open read-only connection,
            filters as bound parameters, "latest" with QUALIFY row_number()
    duckdb in memory  the same SQL on the two views copied once into in-memory tables
            (as ours are loaded once): DuckDB without the views' joins

Before timing, each way's results are checked equal to ours (same rows, same numbers to
1e-9). Ratio = their median / our median: above 1, ours is faster.
    overview    headline numbers, current rating shares, current percentages in 5-point bins
    statements  statement heatmap overall and by service type (every assessment)
    trends      mean key question percentage per quarter, one line per key question
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import partial

import duckdb
import pandas as pd
import polars as pl
from polars.testing import assert_frame_equal

from bench.context import Context
from bench.query_times import typical_filters
from bench.timing import Row, median_time, say, timed
from queries.current import rating_shares
from queries.distributions import percentage_bins
from queries.filters import ALL, Filters
from queries.frames import load_frames
from queries.headline import headline
from queries.heatmap import statement_heatmap
from queries.trends import percentage_trend

PANDAS_TARGET = ">= 3"
DUCKDB_TARGET = f">= {1 / 1.5:.3f}"
LATEST = ["location_id", "key_question", "assessment_date", "published_date", "assessment_id"]

# ---- ours -------------------------------------------------------------------------------


def ours_overview(frames, f: Filters) -> list[pl.DataFrame]:
    kq = frames.key_questions
    return [
        headline(kq, filters=f),
        rating_shares(kq, filters=f),
        percentage_bins(kq, filters=f, latest=True),
    ]


def ours_statements(frames, f: Filters) -> list[pl.DataFrame]:
    scores = frames.scores
    return [
        statement_heatmap(scores, filters=f),
        statement_heatmap(scores, filters=f, by="service_type"),
    ]


def ours_trends(frames, f: Filters) -> list[pl.DataFrame]:
    return [percentage_trend(frames.key_questions, filters=f, period="quarter", by="key_question")]


# ---- pandas -----------------------------------------------------------------------------


def _mask(df: pd.DataFrame, f: Filters) -> pd.DataFrame:
    keep = pd.Series(True, index=df.index)
    if f.regions:
        keep &= df["region"].isin(f.regions)
    if f.service_types:
        keep &= df["service_type"].isin(f.service_types)
    return df[keep]


def _latest(df: pd.DataFrame) -> pd.DataFrame:
    # The current grain: location, service group and key question, an ungrouped rating in the
    # group of the location's next assessment of the key question, else of its previous one.
    ordered = df.sort_values(LATEST, na_position="first")
    pair = ["location_id", "key_question"]
    later = ordered.groupby(pair)["service_group"].bfill()
    grp = later.groupby([ordered[c] for c in pair]).ffill()
    ordered = ordered.assign(grp=grp.fillna(""))
    latest = ordered.drop_duplicates(["location_id", "grp", "key_question"], keep="last")
    return latest.drop(columns="grp")


def pandas_overview(kq: pd.DataFrame, f: Filters) -> list[pd.DataFrame]:
    sel = _mask(kq, f)
    head = pd.DataFrame(
        {
            "assessments": [sel["assessment_id"].nunique()],
            "locations": [sel["location_id"].nunique()],
            "providers": [sel["provider_id"].dropna().nunique()],
            "key_questions": [len(sel)],
            "scored": [int(sel["key_question_score"].notna().sum())],
            "first_date": [sel["assessment_date"].min()],
            "last_date": [sel["assessment_date"].max()],
        }
    )
    now = _latest(sel)
    rated = now[now["key_question_rating"].notna()]
    shares = rated.groupby(["key_question", "key_question_rating"]).size().reset_index(name="count")
    shares["n"] = shares.groupby("key_question")["count"].transform("sum")
    shares["share"] = shares["count"] / shares["n"]
    scored = now[now["key_question_score"].notna()]
    bins = (
        scored.assign(bin_start=scored["key_question_score"] // 5 * 5)
        .groupby(["key_question", "bin_start"])
        .size()
        .reset_index(name="count")
    )
    bins["n"] = bins.groupby("key_question")["count"].transform("sum")
    bins["share"] = bins["count"] / bins["n"]
    return [head, shares, bins]


def _pandas_heatmap(sel: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return (
        sel.assign(low=sel["score"] <= 2)
        .groupby([*by, "key_question", "statement_id", "statement"], dropna=False)
        .agg(n=("score", "size"), mean_score=("score", "mean"), low_share=("low", "mean"))
        .reset_index()
    )


def pandas_statements(scores: pd.DataFrame, f: Filters) -> list[pd.DataFrame]:
    sel = _mask(scores, f)
    return [_pandas_heatmap(sel, []), _pandas_heatmap(sel, ["service_type"])]


def pandas_trends(kq: pd.DataFrame, f: Filters) -> list[pd.DataFrame]:
    sel = _mask(kq, f)
    sel = sel[sel["key_question_score"].notna()]
    quarter = pd.to_datetime(sel["assessment_date"]).dt.to_period("Q").dt.start_time
    trend = (
        sel.assign(period_start=quarter.dt.date)
        .groupby(["key_question", "period_start"])
        .agg(
            n=("assessment_id", "nunique"),
            rows=("assessment_id", "size"),
            mean_percentage=("key_question_score", "mean"),
        )
        .reset_index()
    )
    return [trend]


# ---- DuckDB SQL -------------------------------------------------------------------------

_WHERE = (
    " WHERE (len($regions) = 0 OR list_contains($regions, region))"
    " AND (len($types) = 0 OR list_contains($types, service_type))"
)
_TIME = "ORDER BY assessment_date, published_date NULLS FIRST, assessment_id"
_GROUPED = (  # the sequence group of each row (see _latest)
    "SELECT *, COALESCE(service_group, first_value(service_group IGNORE NULLS) OVER (PARTITION"
    f" BY location_id, key_question {_TIME} ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING),"
    " last_value(service_group IGNORE NULLS) OVER (PARTITION BY location_id, key_question"
    f" {_TIME} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)) AS grp FROM key_questions"
)
_CURRENT = (
    f"SELECT * EXCLUDE (grp) FROM ({_GROUPED})" + _WHERE + " QUALIFY row_number() OVER"
    " (PARTITION BY location_id, grp, key_question ORDER BY assessment_date DESC,"
    " published_date DESC NULLS LAST, assessment_id DESC) = 1"
)
SQL = {
    "overview": [
        "SELECT count(DISTINCT assessment_id) AS assessments, count(DISTINCT location_id) AS"
        " locations, count(DISTINCT provider_id) AS providers, count(*) AS key_questions,"
        " count(key_question_score) AS scored, min(assessment_date) AS first_date,"
        " max(assessment_date) AS last_date FROM key_questions" + _WHERE,
        f"WITH now AS ({_CURRENT}) SELECT key_question, key_question_rating, count(*) AS count,"
        " sum(count(*)) OVER (PARTITION BY key_question) AS n,"
        " count(*) / sum(count(*)) OVER (PARTITION BY key_question) AS share"
        " FROM now WHERE key_question_rating IS NOT NULL GROUP BY 1, 2",
        f"WITH now AS ({_CURRENT}) SELECT key_question, key_question_score // 5 * 5 AS bin_start,"
        " count(*) AS count, sum(count(*)) OVER (PARTITION BY key_question) AS n,"
        " count(*) / sum(count(*)) OVER (PARTITION BY key_question) AS share"
        " FROM now WHERE key_question_score IS NOT NULL GROUP BY 1, 2",
    ],
    "statements": [
        "SELECT key_question, statement_id, statement, count(*) AS n, avg(score) AS mean_score,"
        " avg((score <= 2)::INTEGER) AS low_share FROM scores" + _WHERE + " GROUP BY ALL",
        "SELECT service_type, key_question, statement_id, statement, count(*) AS n,"
        " avg(score) AS mean_score, avg((score <= 2)::INTEGER) AS low_share FROM scores"
        + _WHERE
        + " GROUP BY ALL",
    ],
    "trends": [
        "SELECT key_question, date_trunc('quarter', assessment_date)::DATE AS period_start,"
        " count(DISTINCT assessment_id) AS n, count(*) AS rows,"
        " avg(key_question_score) AS mean_percentage FROM key_questions"
        + _WHERE
        + " AND key_question_score IS NOT NULL GROUP BY ALL"
    ],
}


def in_memory(db: str) -> duckdb.DuckDBPyConnection:
    """An in-memory database holding both views as tables (scores without evidence)."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    con.execute("ATTACH ? AS source (READ_ONLY)", [db])
    con.execute("CREATE TABLE key_questions AS SELECT * FROM source.key_questions")
    con.execute("CREATE TABLE scores AS SELECT * EXCLUDE (evidence) FROM source.scores")
    con.execute("DETACH source")
    return con


def sql_page(con: duckdb.DuckDBPyConnection, page: str, f: Filters) -> list[pl.DataFrame]:
    params = {"regions": list(f.regions), "types": list(f.service_types)}
    return [con.sql(sql, params=params).pl() for sql in SQL[page]]


# ---- checking and timing ----------------------------------------------------------------


def _comparable(frame: pl.DataFrame | pd.DataFrame, like: pl.DataFrame) -> pl.DataFrame:
    """`frame` with `like`'s columns (those it has), text as String, sorted by its key columns."""
    if isinstance(frame, pd.DataFrame):
        frame = pl.from_pandas(frame)
    columns = [c for c in like.columns if c in frame.columns]
    cast = {
        c: pl.String
        for c in columns
        if isinstance(like.schema[c], pl.Categorical | pl.Enum | pl.String)
    }
    numeric = {c: pl.Float64 for c in columns if like.schema[c].is_numeric()}
    keys = [c for c in columns if c in cast or c in ("bin_start", "period_start", "statement_id")]
    out = frame.select(columns).cast({**cast, **numeric})
    return out.sort(keys, nulls_last=True) if keys else out


def check_equal(page: str, ours: list[pl.DataFrame], theirs: list, how: str) -> None:
    """Every column the other way computes equals ours (derived flags like low_n aside)."""
    for mine, other in zip(ours, theirs, strict=True):
        other = pl.from_pandas(other) if isinstance(other, pd.DataFrame) else other
        if missing := [c for c in other.columns if c not in mine.columns]:
            raise AssertionError(f"{page}/{how}: ours has no columns {missing}")
        a = _comparable(mine.select(other.columns), mine)
        b = _comparable(other, mine)
        try:
            assert_frame_equal(a, b, check_dtypes=False, rel_tol=1e-9, abs_tol=1e-9)
        except AssertionError as err:
            raise AssertionError(f"{page}/{how}: {str(err).splitlines()[0]}") from None


PAGES: dict[str, tuple[Callable, Callable, str]] = {
    "overview": (ours_overview, pandas_overview, "key_questions"),
    "statements": (ours_statements, pandas_statements, "scores"),
    "trends": (ours_trends, pandas_trends, "key_questions"),
}


def run(ctx: Context) -> list[Row]:
    con = duckdb.connect(str(ctx.db), read_only=True)
    con.execute("SET enable_progress_bar = false")
    rows = []
    seconds, frames = timed(lambda: load_frames(con))
    rows.append(Row("compare", "load: ours (queries.frames.load_frames)", "once", seconds))
    seconds, pandas_frames = timed(
        lambda: {
            "key_questions": con.sql("SELECT * FROM key_questions").df(),
            "scores": con.sql("SELECT * EXCLUDE (evidence) FROM scores").df(),
        }
    )
    rows.append(Row("compare", "load: pandas (con.sql().df())", "once", seconds))
    seconds, memory = timed(lambda: in_memory(str(ctx.db)))
    rows.append(Row("compare", "load: DuckDB in-memory tables", "once", seconds))
    # The pandas and SQL versions count every row: compare like with like, carried-forward
    # scores and deregistered locations included.
    every = {"include_carried_forward": True, "include_deregistered": True}
    selections = {
        "no filter": replace(ALL, **every),
        "typical filter": replace(typical_filters(ctx), **every),
    }
    for page, (ours_fn, pandas_fn, view) in PAGES.items():
        ways = {
            "ours": partial(ours_fn, frames),
            "pandas": partial(pandas_fn, pandas_frames[view]),
            "duckdb": partial(sql_page, con, page),
            "duckdb in memory": partial(sql_page, memory, page),
        }
        for label, f in selections.items():
            rows.extend(_compare(page, label, f, ways, ctx.runs))
    con.close()
    memory.close()
    return rows


def _compare(page: str, label: str, f: Filters, ways: dict[str, Callable], runs: int) -> list[Row]:
    """Check every way against ours, then time each; rows of times and ratios."""
    ours = ways["ours"](f)
    for how, way in ways.items():
        if how != "ours":
            check_equal(page, ours, way(f), how)
    mine, mine_runs, _ = median_time(partial(ways["ours"], f), runs)
    rows = [Row("compare", page, f"{label}: ours", mine, runs=mine_runs)]
    for how, way in ways.items():
        if how == "ours":
            continue
        theirs, their_runs, _ = median_time(partial(way, f), runs)
        rows.append(Row("compare", page, f"{label}: {how}", theirs, runs=their_runs))
        target = {"pandas": PANDAS_TARGET, "duckdb": DUCKDB_TARGET}.get(how, "")
        ratio = Row("compare", page, f"{label}: {how} / ours", theirs / mine, "x", target=target)
        rows.append(ratio.check())
        say(
            f"  compare: {page} [{label}] ours {mine * 1000:.1f} ms, {how}"
            f" {theirs * 1000:.1f} ms, ratio {theirs / mine:.2f}"
        )
    return rows
