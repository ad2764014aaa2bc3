"""Overview: how are the selected services rated and scored right now?"""

from dataclasses import replace

import polars as pl
import streamlit as st

from ingest.reference import BAND_EDGES_PERCENT, KEY_QUESTIONS
from queries.current import rating_shares
from queries.distributions import percentage_bins
from queries.filters import MIN_N
from queries.headline import headline
from queries.places import location_places
from queries.recent import quarter_on_quarter
from ui import charts, coverage, links, page, session, tables

data, filters = page.start(
    "Overview", "How are the selected services rated and scored, as of their latest assessment?"
)
links.follow()
kq = data.frames.key_questions
BIND = dict(bind="query-params", persist_state="session")

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

st.header("Current key question ratings")
st.caption(
    "Each location's latest rating of each key question, ratings-only assessments included. "
    "Bars show the share of rated locations; the label gives the rating and the count. "
    + (
        "A location CQC rated in two assessment service groups counts once in each. "
        if data.options.service_groups
        else ""
    )
    + coverage.rated(kq, filters, latest=True)
)
shares = rating_shares(kq, filters=filters)
charts.show(charts.rating_share_bars(shares), width="stretch")
tables.numbers(shares, "Current key question ratings", filters, data, key=session.OVERVIEW_SHARES)

st.header("Key question percentages")
st.caption(
    f"Percentage of each key question's latest scored assessment, in 5-point bins. Dashed "
    f"lines mark the band edges: up to {BAND_EDGES_PERCENT[0]} Inadequate, up to "
    f"{BAND_EDGES_PERCENT[1]} Requires improvement, up to {BAND_EDGES_PERCENT[2]} Good, above "
    f"Outstanding. {coverage.scored(kq, filters, latest=True)}"
)
bins = percentage_bins(kq, filters=filters, latest=True)
charts.show(charts.percentage_histogram(bins), width="stretch")
tables.numbers(
    bins, "Key question percentages, 5-point bins", filters, data, key=session.OVERVIEW_BINS
)

st.header("Where they are")
left, right = st.columns(2)
map_kq = left.selectbox(
    "Key question on the map",
    filters.key_questions or KEY_QUESTIONS,
    key=session.OVERVIEW_MAP_KEY_QUESTION,
    **BIND,
)
by_score = "Percentage" == right.segmented_control(
    "Colour by", ["Rating", "Percentage"], default="Rating", key=session.OVERVIEW_MAP_COLOUR, **BIND
)
places = location_places(
    kq, data.locations.lazy(), key_question=map_kq, filters=filters, scored=by_score
)
on_the_map = replace(filters, key_questions=(map_kq,))


def open_clicked_location() -> None:
    if clicked := links.picked(session.OVERVIEW_MAP, "location", "location_id"):
        links.go_later(links.LOCATION, links.location_params(clicked[0]))


if places.is_empty():
    page.empty_note(
        f"locations with a current {map_kq} " + ("percentage" if by_score else "rating")
    )
else:
    located = places.filter(pl.col("latitude").is_not_null() & pl.col("longitude").is_not_null())
    total, on_map = places["location_id"].n_unique(), located["location_id"].n_unique()
    unplaced = f"{total - on_map:,} {'has' if total - on_map == 1 else 'have'} none"
    what = "percentage (its latest scored assessment)" if by_score else "rating (from any source)"
    st.caption(
        f"Each location's current {map_kq} {what}, at its postcode's coordinates as CQC's API "
        f"records give them; the shape names the rating too. {on_map:,} of {total:,} locations "
        f"have coordinates; {unplaced} (report text and the rating file give none) and are in "
        "the table only. Click a point, or select a row, to open the location. "
        + (coverage.scored if by_score else coverage.rated)(kq, on_the_map, latest=True)
    )

    drawn, beside = st.columns([3, 2])
    with drawn:
        charts.show(
            charts.location_map(
                located, percentage=by_score, select=charts.Pick("location", "location_id")
            ),
            key=session.OVERVIEW_MAP,
            on_select=open_clicked_location,
            selection_mode="location",
        )
    with beside:
        ids = places["location_id"].head(tables.MAX_ROWS).cast(pl.String).to_list()
        tables.numbers(
            places,
            f"Locations on the map: current {map_kq}",
            filters,
            data,
            key=session.OVERVIEW_PLACES,
            label="Locations on the map",
            expanded=True,
            dataframe_key=session.OVERVIEW_MAP_ROWS,
            on_select=links.location_on_select(session.OVERVIEW_MAP_ROWS, ids),
            selection_mode="single-row",
        )

st.header("What changed recently")
recent = quarter_on_quarter(kq, filters=filters)
if recent.is_empty():
    page.empty_note("scored assessments")
    st.stop()
latest, before = recent["latest_start"][0], recent["previous_start"][0]
recent_quarter = f"Q{(latest.month - 1) // 3 + 1} {latest.year}"
previous = f"Q{(before.month - 1) // 3 + 1} {before.year}"
st.caption(
    f"Mean key question percentage of scored assessments in {recent_quarter}, the latest quarter "
    f"with at least {MIN_N} (the data runs to {numbers['last_date']:%-d %b %Y}), against "
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
tables.numbers(
    recent,
    "What changed recently, by key question",
    filters,
    data,
    key=session.OVERVIEW_RECENT,
    label="Numbers behind these figures",
)
links.link(links.TRENDS, "Trends over time", ":material/trending_up:")
links.link(links.COMPARE, "Providers ranked, and compared with their peers", ":material/balance:")
