"""Quality statements: which statements score lowest, how often they score 1-2, and where."""

import polars as pl
import streamlit as st

from queries.distributions import score_distribution
from queries.filters import MIN_N
from queries.heatmap import heatmap_columns, statement_heatmap
from ui import charts, coverage, links, page, session, tables
from ui.tables import numbers
from ui.theme import SCORE_LABELS

data, filters = page.start(
    "Quality statements",
    "Which quality statements score lowest, how often do they score 1 or 2, and where?",
)
links.follow()
labels, scores = data.provider_labels, data.frames.scores
BIND = dict(bind="query-params", persist_state="session")
SORTS = {
    "low_share": "Share scoring 1-2, highest first",
    "mean_score": "Mean score, lowest first",
    "framework": "Framework order",
}
HEATMAP_COLUMNS = {  # the heatmap's `by` -> its label
    "service_type": "Service type",
    "region": "Region",
    "provider": "Provider",
    "era": "Era",
}
METRICS = {"low_share": "Share scoring 1-2", "mean_score": "Mean score"}
MAX_COLUMNS = 15
label = pl.format("{} · {}", "key_question", "statement").alias("label")

cols = st.columns(4, vertical_alignment="bottom")
sort = cols[0].selectbox(
    "Sort statements by", list(SORTS), format_func=SORTS.get, key=session.STATEMENTS_SORT, **BIND
)
by = cols[1].selectbox(
    "Heatmap columns",
    list(HEATMAP_COLUMNS),
    format_func=HEATMAP_COLUMNS.get,
    key=session.STATEMENTS_BY,
    **BIND,
)
metric = cols[2].segmented_control(
    "Heatmap shows",
    list(METRICS),
    format_func=METRICS.get,
    default="low_share",
    required=True,
    key=session.STATEMENTS_METRIC,
    **BIND,
)
latest = cols[3].toggle(
    "Current picture only",
    key=session.STATEMENTS_LATEST,
    **BIND,
    help="On: each location's latest scored assessment of each key question. Off: every "
    "assessment in the date range.",
)

overall = statement_heatmap(scores, filters=filters, latest=latest).with_columns(label)
if overall.is_empty():
    page.empty_note("statement scores")
    st.stop()
rank = {
    "low_share": [pl.col("low_share"), -pl.col("mean_score")],
    "mean_score": [pl.col("mean_score"), -pl.col("low_share")],
}
ordered = overall.sort(*rank[sort], descending=sort == "low_share") if sort in rank else overall
order = ordered["label"].to_list()
solid = overall.filter(~pl.col("low_n"))
behind = coverage.scored(scores, filters, latest=latest)

cols = st.columns(3)
cols[0].metric("Statement scores", f"{overall['n'].sum():,}")
low_total = (overall["low_share"] * overall["n"]).sum() / overall["n"].sum()
cols[1].metric("Scoring 1 or 2", f"{low_total:.1%}")
cols[2].metric("Statements scored", f"{overall.height}")

st.header("Weakest and strongest statements")
st.caption(
    f"Statements scored at least {MIN_N} times, ranked by share scoring 1-2 (weakest: highest"
    f" first; strongest: lowest first), then by mean score. {behind}"
)
weakest = solid.sort(["low_share", "mean_score", "label"], descending=[True, False, False])
strongest = solid.sort(["low_share", "mean_score", "label"], descending=[False, True, False])
config = {
    "label": st.column_config.TextColumn("Statement"),
    "low_share": st.column_config.NumberColumn("Scoring 1-2", format="percent"),
    "mean_score": st.column_config.NumberColumn("Mean score", format="%.2f"),
    "n": st.column_config.NumberColumn("Scores (n)"),
}
for title, frame, key in (
    ("Weakest", weakest.head(5), session.STATEMENTS_WEAKEST),
    ("Strongest", strongest.head(5), session.STATEMENTS_STRONGEST),
):
    st.markdown(f"**{title}**")
    tables.table(frame.select(list(config)), key, column_config=config)

st.header("Scores 1-4 of each statement")
st.caption(
    "Share of each statement's scores at 1 (significant shortfalls) to 4 (exceptional); the "
    f"figure at the end is the share scoring 1 or 2. Grey: fewer than {MIN_N} scores. {behind}"
)
spread = score_distribution(scores, filters=filters, latest=latest).with_columns(
    label, score_label=pl.col("score").replace_strict(SCORE_LABELS, return_dtype=pl.String)
)
charts.show(charts.score_stack(spread, order), width="stretch")
numbers(spread, "Statement scores 1-4 by statement", filters, data, key=session.STATEMENTS_SPREAD)

st.header(f"{METRICS[metric]} by {HEATMAP_COLUMNS[by].lower()}")
groups = heatmap_columns(scores, by=by, filters=filters, latest=latest).height
grid = statement_heatmap(scores, filters=filters, by=by, latest=latest, top=MAX_COLUMNS)
grid = grid.with_columns(label)
name = links.provider_label(grid, labels) if by == "provider" else pl.col(by).cast(pl.String)
grid = grid.with_columns(group=name)
notes = [behind, f"Grey cells: fewer than {MIN_N} scores. Rows follow the sort chosen above."]
if groups > MAX_COLUMNS:
    notes.append(f"The {MAX_COLUMNS} of {groups:,} columns with the most scores are shown.")
if by == "provider":
    notes.append("Click a cell (or choose a provider below it) to compare it with its peers.")
st.caption(" ".join(notes))
# A cell opens Compare on its provider and its statement's key question.
CARRY = {"key_question": session.COMPARE_KEY_QUESTION}
pick = charts.Pick("cell", "provider_id", tuple(CARRY)) if by == "provider" else None
charts.show(
    charts.heatmap(
        grid,
        column="group",
        column_title=HEATMAP_COLUMNS[by],
        metric=metric,
        order=order,
        select=pick,
    ),
    key=session.STATEMENTS_HEATMAP,
    selection_mode="cell" if pick else None,
    on_select=links.compare_on_click(session.STATEMENTS_HEATMAP, "cell", labels, CARRY)
    if pick
    else "ignore",
)
if pick:
    one = filters.key_questions if len(filters.key_questions) == 1 else ()
    links.compare_picker(
        session.STATEMENTS_PICKER,
        grid["provider_id"].drop_nulls(),
        labels,
        **{session.COMPARE_KEY_QUESTION: one[0]} if one else {},
    )
cut = f" (the {MAX_COLUMNS} of {groups:,} with the most scores)" if groups > MAX_COLUMNS else ""
numbers(
    grid.drop("label"),
    f"Statement scores by {HEATMAP_COLUMNS[by].lower()}{cut}",
    filters,
    data,
    key=session.STATEMENTS_GRID,
)
links.link(
    links.EXPORT,
    "Download the statement scores behind this page",
    ":material/download:",
    **{session.EXPORT_LATEST: "true"} if latest else {},
)
