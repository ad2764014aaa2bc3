"""Trends: how scores moved over time, and how ratings change from one assessment to the next."""

from dataclasses import replace
from functools import partial

import polars as pl
import streamlit as st

from ingest.reference import KEY_QUESTIONS, STATEMENTS, STATEMENTS_BY_ID
from queries.changes import (
    change_bins,
    change_counts,
    key_question_changes,
    rating_transitions,
    statement_change_counts,
    statement_changes,
)
from queries.filters import MIN_N
from queries.quality import era_mix
from queries.trends import percentage_trend, statement_score_trend
from ui import charts, coverage, links, page, session
from ui.charts import tips
from ui.tables import numbers

data, filters = page.start(
    "Trends",
    "How have key question percentages or statement scores moved over time, and how do "
    "ratings change from one assessment to the next?",
)
links.follow()
labels = data.provider_labels
BIND = dict(bind="query-params", persist_state="session")
LINES_BY = {  # the lines' `by` -> its label
    "none": "Nothing",
    "provider": "Provider",
    "region": "Region",
    "service_type": "Service type",
}
MAX_LINES = 8


def drawn_note(groups: int) -> str:
    return f" The {MAX_LINES} of {groups} with the most are drawn." if groups > MAX_LINES else ""


cols = st.columns([1, 1, 2])
measure = cols[0].radio(
    "Track", ["Key question percentage", "Statement score"], key=session.TRENDS_MEASURE, **BIND
)
key_question = cols[1].selectbox(
    "Key question", filters.key_questions or KEY_QUESTIONS, key=session.TRENDS_KEY_QUESTION, **BIND
)
statement = None
if measure == "Statement score":
    statement = cols[2].selectbox(
        "Statement",
        [s.id for s in STATEMENTS if s.key_question == key_question],
        format_func=lambda i: STATEMENTS_BY_ID[i].name,
        key=session.TRENDS_STATEMENT,
        **BIND,
    )
cols = st.columns([1, 2])
by = cols[0].selectbox(
    "Lines by", list(LINES_BY), format_func=LINES_BY.get, key=session.TRENDS_BY, **BIND
)
period = cols[1].segmented_control(
    "Period",
    ["month", "quarter", "year"],
    default="quarter",
    required=True,
    key=session.TRENDS_PERIOD,
    **BIND,
)
group = None if by == "none" else by
scope = replace(
    filters, key_questions=(key_question,), statements=(statement,) if statement else ()
)
if statement is None:
    what, value, domain = f"{key_question} percentage", "mean_percentage", (25, 100)
    frame, trend_of = data.frames.key_questions, percentage_trend
else:
    what, value, domain = f"score of '{STATEMENTS_BY_ID[statement].name}'", "mean_score", (1, 4)
    frame, trend_of = data.frames.scores, statement_score_trend
trend = trend_of(frame, filters=scope, period=period, by=group)
if trend.is_empty():
    page.empty_note("scored assessments")
    st.stop()


def series_of(frame: pl.DataFrame) -> pl.Expr:
    """What each line, bar or panel stands for: the provider's label, the group, or all."""
    if by == "provider":
        return links.provider_label(frame, labels)
    return pl.col(by).cast(pl.String) if group else pl.lit("All selected")


trend = trend.with_columns(series=series_of(trend))
shown, lines = charts.largest_series(trend, "n", MAX_LINES)
overall = (
    trend.group_by("period_start")
    .agg(  # the groups' means, weighted by their rows
        (pl.col(value) * pl.col("rows")).sum() / pl.col("rows").sum(),
        pl.col("n").sum(),
    )
    .sort("period_start")
)
# The headline compares periods with at least MIN_N assessments (the low-n rule of every
# figure); only when none has that many does it fall back to every period, and says so.
solid = overall.filter(pl.col("n") >= MIN_N)
basis = solid if not solid.is_empty() else overall
first, last = basis.row(0, named=True), basis.row(-1, named=True)
rule = (
    f"{period.title()}s with fewer than {MIN_N} assessments are skipped."
    if not solid.is_empty()
    else f"No {period} has {MIN_N} assessments: these rest on fewer."
)
cols = st.columns(3)
cols[0].metric("Assessments", f"{trend['n'].sum():,}")
cols[1].metric(
    f"Mean, first {period}",
    f"{first[value]:.3g}",
    help=f"{first['period_start']:%-d %b %Y} onwards: n = {first['n']:,} assessments. {rule}",
)
cols[2].metric(
    f"Mean, latest {period}",
    f"{last[value]:.3g}",
    delta=f"{last[value] - first[value]:+.2g} since the first",
    help=f"{last['period_start']:%-d %b %Y} onwards: n = {last['n']:,} assessments. {rule}",
)

st.header(f"Mean {what} per {period}")
notes = [
    coverage.scored(frame, scope),
    f"Hover a point for its mean and `n` (assessments); grey points: fewer than {MIN_N}.",
]
if lines > MAX_LINES:
    notes.append(
        f"The {MAX_LINES} of {lines} lines with the most assessments are drawn (all are "
        "in the table); narrow the sidebar filters to see others."
    )
if by == "provider":
    notes.append("Click a point (or choose a provider below it) to compare it with its peers.")
st.caption(" ".join(notes))
if era_mix(data.frames.key_questions, filters=scope, by=group)["mixed"].any():
    st.warning(
        "These lines cross 2 December 2024, when CQC began scoring statements "
        "directly rather than through evidence categories: compare across it with care.",
        icon=":material/warning:",
    )
pick = charts.Pick("line", "provider_id") if by == "provider" else None
charts.show(
    charts.trend_lines(
        shown,
        value=value,
        series="series",
        series_title=LINES_BY[by],
        title=f"Mean {what}",
        domain=domain,
        select=pick,
        tooltip=tips(
            ("series", LINES_BY[by]),
            ("period_start", f"{period.title()} from"),
            (value, "Mean", ".2f"),
            ("n", "Assessments (n)"),
            ("rows", "Scores"),
        ),
    ),
    width="stretch",
    key=session.TRENDS_CHART,
    selection_mode="line" if pick else None,
    on_select=links.compare_on_click(session.TRENDS_CHART, "line", labels) if pick else "ignore",
)
if pick:
    links.compare_picker(session.TRENDS_PICKER, shown["provider_id"].drop_nulls(), labels)
numbers(trend, f"Mean {what} per {period}", scope, data, key=session.TRENDS_TABLE)

st.header("Change from one assessment to the next")
if statement is None:
    pairs, step = key_question_changes(data.frames.key_questions, filters=scope), 5
    count_changes = partial(change_counts, data.frames.key_questions)
else:
    pairs, step = statement_changes(data.frames.scores, filters=scope), 1
    count_changes = partial(statement_change_counts, data.frames.scores)
changes = change_bins(pairs, step=step)
if changes.is_empty():
    page.empty_note(f"locations scored twice on {what}")
else:
    counts = dict(changes.group_by("direction").agg(pl.col("count").sum()).iter_rows())
    cols = st.columns(4)
    for col, direction in zip(cols, ("improved", "unchanged", "declined"), strict=False):
        col.metric(direction.title(), f"{counts.get(direction, 0):,}")
    cols[3].metric("Mean change", f"{pairs['change'].mean():+.2f}")
    moved = pairs.filter(pl.col("change").is_not_null())["location_id"].n_unique()
    st.caption(
        f"Locations re-assessed on {what}: change from the earlier to the later one. "
        + coverage.scored_text(moved)
    )
    charts.show(charts.change_histogram(changes, step=step), width="stretch")
    numbers(
        changes,
        f"Change in {what} between consecutive assessments",
        scope,
        data,
        key=session.TRENDS_CHANGES,
    )
if group and not changes.is_empty():
    counts = count_changes(filters=scope, by=group)
    counts = counts.with_columns(series=series_of(counts)).sort(
        "n", "series", descending=[True, False]
    )
    drawn, groups = charts.largest_series(counts, "n", MAX_LINES)
    st.caption(
        f"Per {LINES_BY[by].lower()}: ↓ declined, = unchanged, ↑ improved; faded: fewer "
        f"than {MIN_N} re-assessments.{drawn_note(groups)}"
    )
    charts.show(
        charts.direction_bars(drawn, series="series", series_title=LINES_BY[by]), width="stretch"
    )
    numbers(
        counts.drop("series"),
        f"Change in {what} by {LINES_BY[by].lower()}",
        scope,
        data,
        key=session.TRENDS_CHANGES_BY,
    )

st.header(f"{key_question} rating transitions")
rated = replace(scope, statements=())
transitions = rating_transitions(data.frames.key_questions, filters=rated, by=group)
if transitions.is_empty():
    page.empty_note(f"locations rated twice on {key_question}")
else:
    drawn, groups = charts.largest_series(
        transitions.with_columns(series=series_of(transitions)), "count", MAX_LINES
    )
    panels = f" of its {LINES_BY[by].lower()} (a panel each)" if group else ""
    st.caption(
        "Rows: the rating at a location's earlier assessment; columns: at the next one. "
        f"Each cell gives the locations and their share of all rated pairs{panels}."
        f"{drawn_note(groups)} " + coverage.rated(data.frames.key_questions, rated)
    )
    facet = dict(facet="series", facet_title=LINES_BY[by]) if group else {}
    charts.show(charts.transition_matrix(drawn, **facet), width="stretch")
    numbers(
        transitions,
        f"{key_question} rating transitions",
        rated,
        data,
        key=session.TRENDS_TRANSITIONS,
    )
