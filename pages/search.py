"""Search: where do inspectors say this? The evidence of every report, and its themes."""

import contextlib
from dataclasses import replace

import polars as pl
import streamlit as st

from ingest.database import DatabaseBusy
from queries.search import QueryError, match_counts, match_rows, matches_by_quarter, parse_query
from ui import charts, links, page, search, search_charts, session, tables
from ui.tables import numbers
from ui.text import plain
from ui.theme import SCORE_LABELS

data, filters = page.start(
    "Search the evidence",
    "Where do inspectors say this? Find words and phrases in the evidence of every report, "
    "with how often they come up against all the statements scored.",
)
links.follow()
BIND = dict(bind="query-params", persist_state="session")
scores = data.frames.scores
labels = search.statement_labels(data)  # 'Safe · Safeguarding' -> statement id
VIEWS = {"matches": "Matches", "themes": "Themes of a statement"}
GROUPS = {"region": "Region", "service_type": "Service type"}
share = st.column_config.NumberColumn("Share of scored statements", format="percent")

view = st.segmented_control(
    "Show",
    list(VIEWS),
    format_func=VIEWS.get,
    default="matches",
    required=True,
    key=session.SEARCH_VIEW,
    **BIND,
)
if view == "themes":
    search.show_themes(data, filters, labels)
    st.stop()

text = st.text_input(
    "Search the evidence",
    key=session.SEARCH_QUERY,
    **BIND,
    placeholder='agency staff · "waiting times" · medicines OR medication · staff -training',
    help='Words (all of them), "a phrase", OR between alternatives, -word to leave out. Case and '
    "accents do not matter; a word also finds its plural and -ed/-ing forms (staff finds "
    "staffing; staffing finds only staffing).",
)
cols = st.columns(3)
chosen = cols[0].multiselect(
    "Statements", list(labels), key=session.SEARCH_STATEMENTS, placeholder="All", **BIND
)
score_in = cols[1].multiselect(
    "Scores",
    [1, 2, 3, 4],
    format_func=SCORE_LABELS.get,
    key=session.SEARCH_SCORES,
    placeholder="All",
    **BIND,
)
by = cols[2].selectbox(
    "Counts by", list(GROUPS), format_func=GROUPS.get, key=session.SEARCH_BY, **BIND
)
if not text:
    st.info(
        'Type a word or a phrase, such as `medicines` or `"staff told us"`.',
        icon=":material/search:",
    )
    with contextlib.suppress(DatabaseBusy):  # the first search makes it then
        if data.read(search.index_ready):
            search.prepare(data)  # while the user types: once per data version, for everyone
    st.stop()
try:
    query = parse_query(text)
    if not data.read(search.index_ready):
        st.warning(
            "This database has no search index yet: run `python -m ingest reindex` (or load "
            "any file), then reload.",
            icon=":material/search:",
        )
        st.stop()
    hits = search.hits(data, data.read(search.matching_documents, query.text))
except QueryError as err:
    st.warning(plain(err), icon=":material/edit:")
    st.stop()
except DatabaseBusy:
    st.warning(
        "The database is being written; search again in a moment.", icon=":material/hourglass_top:"
    )
    st.stop()
narrowed = replace(filters, statements=tuple(labels[c] for c in chosen))
asked = dict(hits=hits, filters=narrowed, score_in=tuple(score_in))
total = match_counts(scores, **asked).row(0, named=True)
cols = st.columns(3)
cols[0].metric("Matching statements", f"{total['matches']:,}")
cols[1].metric("Share of scored statements", f"{total['share']:.1%}")
cols[2].metric("Locations", f"{total['locations']:,}")
st.caption(f"Of {total['statements']:,} scored statements under the filters; {plain(query.text)}")
if not total["matches"]:
    st.warning(
        f"No statement's evidence matches {plain(query.text)} under the filters. Try fewer"
        " words, an OR, or widen the filters in the sidebar.",
        icon=":material/search:",
    )
    st.stop()

st.header("Matches")
shown = match_rows(scores, **asked, limit=search.SHOWN_ROWS)
columns = ["location_name", "provider_name", "assessment_date", "key_question", "statement"]
try:
    table = search.labelled(
        search.with_snippets(data, shown, query), [*columns, "score", "snippet"]
    )
except DatabaseBusy:
    table = search.labelled(shown, [*columns, "score"])
    st.caption("⏳ The database is being written; snippets will show in a moment.")
tables.table(
    table,
    session.SEARCH_MATCHES,
    selectable=True,
    selection_mode="single-row",
    on_select=search.open_location(session.SEARCH_MATCHES, shown),
    column_config={
        "snippet": st.column_config.TextColumn("Where it says so", width="large"),
        "assessment_date": st.column_config.DateColumn("Assessed", format="D MMM YYYY"),
    },
)
matched = total["matches"]
first = f"; the first {len(shown):,} of {matched:,}" if matched > len(shown) else ""
st.caption(
    f"Latest first{first}. «» marks what matched. Click a row to open its location at that"
    " statement."
)
search.download_button(data, query, asked, matched)

st.header("Where it comes up")
st.caption("Each count beside the scored statements of its group under the same filters.")
label = pl.format("{} · {}", "key_question", "statement").alias("label")
for title, grouping, key, name in (
    ("Statement", "statement", session.SEARCH_BY_STATEMENT, label),
    ("Score", "score", session.SEARCH_BY_SCORE, pl.col("score").replace_strict(SCORE_LABELS)),
    (GROUPS[by], by, session.SEARCH_BY_GROUP, pl.col(by).cast(pl.String)),
):
    counts = match_counts(scores, by=grouping, **asked).with_columns(
        label=name, text=pl.format("{} of {}", "matches", "statements")
    )
    if grouping == "score":
        counts = counts.sort("score")
    st.markdown(f"**By {title.lower()}**")
    bars = search_charts.share_bars(counts.head(15), label="label", title=title)
    charts.show(bars, width="stretch")
    numbers(
        counts.drop("text"),
        f"Matches of {query.text} by {title.lower()}",
        narrowed,
        data,
        key=key,
        column_config={"share": share},
    )

st.header("Over time")
quarters = matches_by_quarter(scores, **asked)
charts.show(search_charts.matches_by_quarter(quarters), width="stretch")
numbers(
    quarters,
    f"Matches of {query.text} by quarter",
    narrowed,
    data,
    key=session.SEARCH_BY_QUARTER,
    column_config={"share": share},
)
