"""Compare providers: who scores lowest, and how chosen providers stand beside their peers."""

from dataclasses import replace

import polars as pl
import streamlit as st

from ingest.reference import KEY_QUESTIONS
from queries.bands import band_of
from queries.current import latest_key_questions
from queries.filters import MIN_N
from queries.peers import (
    PEER_KEYS,
    SIZE,
    peer_percentages,
    peer_statement_means,
    peer_trend,
    provider_sizes,
    provider_summary,
)
from queries.rollup import provider_rollup
from queries.trends import percentage_trend
from ui import charts, coverage, links, national, page, peers, session
from ui.charts import PEER_TIPS, tips
from ui.tables import MAX_ROWS, numbers

data, filters = page.start(
    "Compare providers",
    "Which providers score lowest on a key question, and how do chosen providers compare with "
    "their peers, now and over time?",
)
links.follow()
kq, labels = data.frames.key_questions, data.provider_labels
BIND = dict(bind="query-params", persist_state="session")
ANYONE = dict(providers=(), locations=())  # peers ignore the sidebar's provider choice


def label_of(frame: pl.DataFrame) -> pl.Expr:
    return links.provider_label(frame, labels).alias("provider_label")


def add_clicked_provider() -> None:
    clicked = links.picked(session.COMPARE_RANKING, "provider", "provider_id")
    chosen = st.session_state.get(session.COMPARE_PROVIDERS) or []
    st.session_state[session.COMPARE_PROVIDERS] = list(dict.fromkeys([*chosen, *clicked]))


left, mid, right = st.columns([2, 1, 2], vertical_alignment="bottom")
key_question = left.selectbox(
    "Key question", filters.key_questions or KEY_QUESTIONS, key=session.COMPARE_KEY_QUESTION, **BIND
)
top = mid.number_input(
    "Providers in the chart", 5, 100, 15, step=5, key=session.COMPARE_TOP, **BIND
)
hide_low_n = right.toggle(
    f"Hide providers under {MIN_N} locations",
    value=True,  # a ranking of single-location providers is a ranking of locations
    key=session.COMPARE_HIDE_LOW_N,
    **BIND,
)
# The peer sections take the key question; the ranking also its service type (below).
scope = asked = replace(filters, key_questions=(key_question,))

# GP practices, dentists and care homes scored on one scale mislead, so the ranking is within
# one service type by default: the one with the most current scored locations (unless the
# sidebar already narrows service types); "All service types" ranks them mixed, and says so.
MIXED = "All service types (mixed)"
current_rows = latest_key_questions(kq, filters=scope, scored=True)
by_type = (
    current_rows.group_by("service_type").len().drop_nulls("service_type")
    .sort("len", "service_type", descending=[True, False])
)  # fmt: skip
types = [MIXED, *by_type["service_type"].cast(pl.String)]
left, right = st.columns([2, 1])
within = left.selectbox(
    "Rank within",
    types,
    index=0 if filters.service_types or len(types) == 1 else 1,
    key=session.COMPARE_RANK_WITHIN,
    help="Providers are ranked against others of one service type; choose the mixed ranking "
    "to put every type on one scale.",
    **BIND,
)
level = right.segmented_control(
    "Rank", ["Providers", "Locations"], default="Providers", key=session.COMPARE_RANK_LEVEL,
    **BIND,
)  # fmt: skip
if within != MIXED:
    scope = replace(scope, service_types=(within,))
kind = "mixed service types" if within == MIXED else within

if level == "Locations":
    st.header(f"Locations ranked by {key_question}, lowest first ({kind})")
    located = (
        latest_key_questions(kq, filters=scope, scored=True)
        .sort("key_question_score", "location_name", "location_id")
        .with_columns(
            label=pl.format("{} ({})", "location_name", "location_id"),
            text=pl.format("{}% {}", "key_question_score", "key_question_rating"),
        )
    )
    if located.is_empty():
        page.empty_note(f"locations with a current {key_question} percentage")
    else:
        st.caption(
            f"Each location's current {key_question} percentage (its latest scored "
            f"assessment), lowest first; the {top} lowest are drawn, all are in the table. "
            + coverage.scored(kq, scope, latest=True)
        )
        charts.show(
            charts.ranked_bars(
                located.head(top),
                label="label",
                value="key_question_score",
                text="text",
                title=f"Current {key_question} percentage",
                tooltip=tips(
                    ("location_name", "Location"),
                    ("provider_name", "Provider"),
                    ("key_question_score", "Percentage"),
                    ("key_question_rating", "Rating"),
                ),
            ),
            width="stretch",
        )
        numbers(
            located.drop("text", "label"),
            f"Locations ranked by current {key_question} percentage ({kind})",
            scope,
            data,
            key=session.COMPARE_LOCATION_RANKING,
        )

else:
    st.header(f"Providers ranked by {key_question}, lowest first ({kind})")
    ranked = provider_rollup(kq, filters=scope).filter(pl.lit(not hide_low_n) | ~pl.col("low_n"))
    if ranked.is_empty():
        page.empty_note(f"providers with a current {key_question} percentage")
    else:
        ranked = ranked.sort("median", "provider_name")
        ranked = ranked.with_columns(
            label_of(ranked),
            text=pl.format("{}% · {} loc.", pl.col("median").round(1), pl.col("n")),
        )
        st.caption(
            f"Median of each provider's locations' current {key_question} percentage (their latest "
            f"scored assessment), with the number of locations; ranked within {kind}. Grey: "
            f"fewer than {MIN_N} locations. Click a bar to add the provider to the comparison "
            "below. " + coverage.scored(kq, scope, latest=True)
        )
        bars = charts.ranked_bars(
            ranked.head(top),
            label="provider_label",
            value="median",
            text="text",
            title=f"Median current {key_question} percentage",
            select=charts.Pick("provider", "provider_id"),
            tooltip=tips(
                ("provider_label", "Provider"),
                ("median", "Median %", ".1f"),
                ("min", "Lowest location %"),
                ("max", "Highest location %"),
                ("n", "Scored locations (n)"),
                ("worst_location_name", "Lowest location"),
            ),
        )
        charts.show(
            bars,
            width="stretch",
            key=session.COMPARE_RANKING,
            on_select=add_clicked_provider,
            selection_mode="provider",
        )
        numbers(
            ranked.drop("text"),
            f"Providers ranked by current {key_question} percentage",
            scope,
            data,
            key=session.COMPARE_RANKING_TABLE,
        )

st.header("Chosen providers beside their peers")
left, right = st.columns(2)
chosen = left.multiselect(
    "Providers to compare",
    list(labels),
    format_func=labels.get,
    key=session.COMPARE_PROVIDERS,
    placeholder="Type a provider's name",
    help="Search by name; choose two or more.",
    **BIND,
)
peer_providers = right.multiselect(
    "Peers only among these providers",
    list(labels),
    format_func=labels.get,
    key=session.COMPARE_PEER_PROVIDERS,
    placeholder="Any provider (no custom list)",
    help="A custom peer list: compare with these providers' locations only (still matched "
    "on what is chosen below). Empty: every other provider.",
    **BIND,
)
# Local authority is offered where a source states it (API records, the rating file).
keys = [k for k in PEER_KEYS if k != "local_authority" or data.options.local_authorities]
peers_by = st.segmented_control(
    "Peers: other providers' locations with the same",
    keys,
    selection_mode="multi",
    default=["service_type"],
    format_func=peers.KEY_NAMES.get,
    key=session.COMPARE_PEERS_BY,
    help="Choose none to compare with all of England. " + peers.SIZE_HELP,
    **BIND,
)
sizes = provider_sizes(kq) if SIZE in peers_by else None  # one count for every section
options = dict(peers_by=peers_by, peer_providers=peer_providers, sizes=sizes)
if not chosen:
    st.info(
        "Choose providers above, or click a provider's bar in the ranking.",
        icon=":material/touch_app:",
    )
    st.stop()
beside = peer_percentages(kq, providers=chosen, filters=filters, **options)
if beside.is_empty():
    page.empty_note("scored key questions of the chosen providers")
    st.stop()

current = latest_key_questions(kq, filters=replace(filters, providers=tuple(chosen)), scored=True)
cols = st.columns(3)
cols[0].metric("Providers", len(chosen))
cols[1].metric("Locations with a current score", f"{beside['location_id'].n_unique():,}")
cols[2].metric("Assessments behind them", f"{current['assessment_id'].n_unique():,}")
summary = provider_summary(beside, "key_question_score", ["key_question"])
summary = summary.with_columns(label_of(summary), band_of("key_question_score"))
st.caption(
    "Dot: the provider's median location, in its rating band's colour (the band is named in the "
    "tooltip and table). Each of the provider's locations has its own peers; bar: the median "
    "over the provider's locations of their peers' 25th and 75th percentiles; tick: the median "
    f"of their peer medians. Grey dots have fewer than {MIN_N} peers. "
    + peers.caption(peers_by, peer_providers, labels, beside["n"], "a location")
    + f" {coverage.scored(kq, replace(filters, **ANYONE), latest=True)}"
)
charts.show(
    charts.beside_peers(
        summary,
        item="key_question",
        value="key_question_score",
        domain=(25, 100),
        title="Current key question percentage",
        rating_colour=True,
        tooltip=tips(
            ("provider_label", "Provider"),
            ("key_question", "Key question"),
            ("key_question_score", "Percentage", ".1f"),
            ("band", "Rating band"),
            *PEER_TIPS,
        ),
    )
)
numbers(
    summary,
    "Chosen providers' key question percentages beside peers",
    filters,
    data,
    key=session.COMPARE_PERCENTAGES,
    expanded=True,
)

by_statement = peer_statement_means(data.frames.scores, providers=chosen, filters=asked, **options)
if not by_statement.is_empty():
    st.header(f"{key_question} statement scores beside peers")
    st.caption(
        "Means, not medians (a median of whole-number scores is nearly always 3). Dot: the "
        "mean current score (1-4) of the provider's locations, with how many; tick: the mean "
        "current score of their peers, the peers of any of its locations counted once. Grey "
        f"dots have fewer than {MIN_N} peers. "
        + peers.caption(peers_by, peer_providers, labels, by_statement["peers"], "a statement")
        + f" {coverage.scored(data.frames.scores, replace(asked, **ANYONE), latest=True)}"
    )
    labelled = by_statement.with_columns(label_of(by_statement))
    charts.show(
        charts.beside_peers(
            labelled,
            item="statement",
            value="score",
            domain=(1, 4),
            title="Mean current statement score (1-4)",
            peer="peer_mean",
            quartiles=False,
            tooltip=tips(
                ("provider_label", "Provider"),
                ("statement", "Statement"),
                ("score", "Mean score", ".2f"),
                ("locations", "Locations (n)"),
                ("peer_mean", "Peers' mean score", ".2f"),
                ("difference", "Difference", "+.2f"),
                ("peers", "Peers (n)"),
            ),
        )
    )
    numbers(
        by_statement,
        f"Chosen providers' {key_question} statement scores beside peers",
        asked,
        data,
        key=session.COMPARE_STATEMENTS,
        column_config={
            "score": st.column_config.NumberColumn("Mean score (1-4)", format="%.2f"),
            "peer_mean": st.column_config.NumberColumn("Peers' mean score", format="%.2f"),
            "difference": st.column_config.NumberColumn("Difference", format="%+.2f"),
        },
    )

st.header(f"{key_question} over time beside peers")
trend = percentage_trend(kq, filters=replace(asked, providers=tuple(chosen)), by="provider")
peer_rows = peer_trend(kq, providers=chosen, filters=asked, **options)
st.caption(
    "Mean percentage of each provider's assessments per quarter; dashed line and band: the "
    "median and 25th-75th percentile of the chosen providers' peers together (every peer "
    f"assessment in the quarter: {peers.definition(peers_by, peer_providers, labels)}; n in "
    f"the tooltip). Grey points: fewer than {MIN_N} assessments. Choose the years with the "
    "sidebar's date range. " + coverage.scored(kq, replace(asked, **ANYONE))
)
charts.show(
    charts.trend_lines(
        trend.with_columns(label_of(trend)),
        value="mean_percentage",
        series="provider_label",
        series_title="Provider",
        title=f"Mean {key_question} percentage",
        domain=(25, 100),
        peers=peer_rows,
        tooltip=tips(
            ("provider_label", "Provider"),
            ("period_start", "Quarter from"),
            ("mean_percentage", "Mean %", ".1f"),
            ("n", "Assessments (n)"),
        ),
    ),
    width="stretch",
)
numbers(
    trend,
    f"Chosen providers' {key_question} percentage per quarter",
    asked,
    data,
    key=session.COMPARE_TREND,
)
numbers(
    peer_rows,
    f"Peers' {key_question} percentage per quarter",
    asked,
    data,
    key=session.COMPARE_PEER_TREND,
    label="Peer numbers behind this chart",
)

st.header("Each location beside its peers")
st.caption("Select a row to open that location's page.")
open_location = links.location_on_select(
    session.COMPARE_ROWS, beside["location_id"].head(MAX_ROWS).to_list()
)
numbers(
    beside,
    "Chosen providers' locations beside peers",
    filters,
    data,
    key=session.COMPARE_LOCATIONS,
    label="Locations",
    expanded=True,
    dataframe_key=session.COMPARE_ROWS,
    on_select=open_location,
    selection_mode="single-row",
)

national.section(data, filters, chosen, labels)
