"""Overview: how are the selected services rated and scored right now?"""

import altair as alt
import polars as pl
import streamlit as st

from ingest.reference import BAND_EDGES_PERCENT, RATINGS
from queries.current import rating_shares
from queries.distributions import percentage_bins
from queries.filters import MIN_N
from queries.headline import headline
from queries.recent import quarter_on_quarter
from ui import coverage, links, page
from ui.theme import rating_scale

data, filters = page.start(
    "Overview", "How are the selected services rated and scored, as of their latest assessment?"
)
kq = data.frames.key_questions

numbers = headline(kq, filters=filters).row(0, named=True)
if not numbers["key_questions"]:
    page.empty_note("assessments")
    st.stop()
cols = st.columns(4)
cols[0].metric("Assessments", f"{numbers['assessments']:,}")
cols[1].metric("Locations", f"{numbers['locations']:,}")
cols[2].metric("Providers", f"{numbers['providers']:,}")
cols[3].metric(
    "Latest assessment",
    f"{numbers['last_date']:%-d %b %Y}",
    help=f"Assessments dated {numbers['first_date']:%-d %B %Y} to {numbers['last_date']:%-d %B %Y}",
)
st.caption(
    f"Assessments dated {numbers['first_date']:%-d %B %Y} to {numbers['last_date']:%-d %B %Y}; "
    f"{numbers['key_questions']:,} key question ratings, {numbers['scored']:,} with a score."
)

st.subheader("Current key question ratings")
st.caption(
    "Each location's latest rating of each key question, ratings-only assessments included. "
    "Bars show the share of rated locations; the label gives the rating and the count. "
    + coverage.rated(kq, filters, latest=True)
)
shares = rating_shares(kq, filters=filters)
bars = (
    alt.Chart(shares)
    .mark_bar()
    .encode(
        y=alt.Y("key_question:N", title="Key question", sort=None),
        x=alt.X("share:Q", title="Share of rated locations", axis=alt.Axis(format="%"),
                stack="normalize"),
        color=alt.Color("key_question_rating:N", title="Rating", scale=rating_scale(),
                        sort=list(RATINGS)),
        order=alt.Order("rating_order:Q"),
        tooltip=[
            alt.Tooltip("key_question:N", title="Key question"),
            alt.Tooltip("key_question_rating:N", title="Rating"),
            alt.Tooltip("count:Q", title="Locations", format=","),
            alt.Tooltip("share:Q", title="Share", format=".1%"),
            alt.Tooltip("n:Q", title="Rated locations", format=","),
        ],
    )
    .transform_calculate(rating_order=f"indexof({list(RATINGS)!r}, datum.key_question_rating)")
)  # fmt: skip
st.altair_chart(bars, width="stretch")
with st.expander("Numbers behind this chart"):
    st.dataframe(shares, hide_index=True)

st.subheader("Key question percentages")
st.caption(
    f"Percentage of each key question's latest scored assessment, in 5-point bins. Dashed "
    f"lines mark the band edges: up to {BAND_EDGES_PERCENT[0]} Inadequate, up to "
    f"{BAND_EDGES_PERCENT[1]} Requires improvement, up to {BAND_EDGES_PERCENT[2]} Good, above "
    f"Outstanding. {coverage.scored(kq, filters, latest=True)}"
)
bins = percentage_bins(kq, filters=filters, latest=True)
histogram = (
    alt.Chart(bins)
    .mark_bar()
    .encode(
        x=alt.X("bin_start:Q", title="Key question percentage", bin="binned",
                scale=alt.Scale(domain=[25, 100])),
        x2="bin_end_excl:Q",
        y=alt.Y("sum(count):Q", title="Locations"),
        tooltip=[
            alt.Tooltip("bin_start:Q", title="From %"),
            alt.Tooltip("bin_end:Q", title="To %"),
            alt.Tooltip("sum(count):Q", title="Locations", format=","),
        ],
    )
    .transform_calculate(bin_end_excl="datum.bin_end + 1")
)  # fmt: skip
edges = (
    alt.Chart(alt.Data(values=[{"edge": e + 0.5} for e in BAND_EDGES_PERCENT]))
    .mark_rule(strokeDash=[4, 4], color="#444")
    .encode(x="edge:Q")
)
st.altair_chart(histogram + edges, width="stretch")
with st.expander("Numbers behind this chart"):
    st.dataframe(bins, hide_index=True)

st.subheader("What changed recently")
recent = quarter_on_quarter(kq, filters=filters)
if recent.is_empty():
    page.empty_note("scored assessments")
    st.stop()
latest, before = recent["latest_start"][0], recent["previous_start"][0]
recent_quarter = f"Q{(latest.month - 1) // 3 + 1} {latest.year}"
previous = f"Q{(before.month - 1) // 3 + 1} {before.year}"
st.caption(
    f"Mean key question percentage of scored assessments in {recent_quarter}, the latest quarter "
    f"with at least {MIN_N} (the data runs to {numbers['last_date']:%d %b %Y}), against "
    f"{previous}. Marked “few” where either quarter has under {MIN_N} assessments of it."
)
cols = st.columns(len(recent))
for col, row in zip(cols, recent.iter_rows(named=True), strict=True):
    few = " (few)" if row["low_n"] else ""
    col.metric(
        f"{row['key_question']}{few}",
        "–" if row["latest_mean"] is None else f"{row['latest_mean']:.1f}%",
        delta=None if row["change"] is None else f"{row['change']:+.1f} points",
        help=f"{row['latest_n']} assessments in {recent_quarter}, {row['previous_n']} in "
        f"{previous}. Of {row['reassessed']} re-assessed in {recent_quarter}, "
        f"{row['rating_up']} moved up a rating and {row['rating_down']} down.",
    )
moves = recent.select(pl.col("reassessed", "rating_up", "rating_down").sum()).row(0, named=True)
st.caption(
    f"Ratings of re-assessed key questions in {recent_quarter}: {moves['rating_up']} up, "
    f"{moves['rating_down']} down of {moves['reassessed']}."
)
with st.expander("Numbers behind these figures"):
    st.dataframe(recent, hide_index=True)
links.link(links.TRENDS, "Trends over time", "📈")
links.link(links.COMPARE, "Providers ranked, and compared with their peers", "⚖️")
