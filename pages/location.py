"""Location: how did one service score, statement by statement, and why that rating?"""

import polars as pl
import streamlit as st

from queries.current import current
from queries.filters import DEREGISTERED
from queries.locations import (
    assessment_history,
    assessment_statements,
    location_key_questions,
    matching_locations,
    selectable_locations,
)
from ui import charts, location, page, session, tables
from ui.links import COMPARE, cqc_page, link
from ui.text import plain
from ui.theme import SCORE_LABELS

data, filters = page.start(
    "Location",
    "How did one service score, statement by statement, and how does each rating follow "
    "from its scores?",
)
locations = data.locations

text = st.text_input(
    "Find a location",
    key=session.LOCATION_SEARCH,
    bind="query-params",
    placeholder="Name, postcode or location id",
    help="Part of the name, the postcode (spaces ignored) or the location id. "
    "The sidebar filters narrow the search to locations they select.",
)
found = matching_locations(
    locations, text or "", within=selectable_locations(data.frames.key_questions, filters)
)
if text:
    st.metric("Matching locations", f"{found.height:,}")
url_id = st.query_params.get(session.LOCATION_ID)
url_id = url_id if url_id in set(locations["location_id"]) else None
matches = found["location_id"].head(location.SEARCH_LIMIT).to_list()
options = list(dict.fromkeys([url_id] * bool(url_id) + matches))
names = location.label(locations.filter(pl.col("location_id").is_in(options)))
chosen = st.selectbox(
    "Location",
    options,
    index=0 if url_id or len(options) == 1 else None,
    format_func=lambda lid: names.get(lid, lid),
    placeholder="Choose a location",
    help=f"The first {location.SEARCH_LIMIT} matches, best first.",
)
if chosen is None:
    if text and found.is_empty():
        page.empty_note("locations")
    else:
        st.info("Type part of a name, a postcode or a location id above, then choose a location.")
    st.stop()
if chosen != url_id:
    st.query_params[session.LOCATION_ID] = chosen  # the URL now opens this location

where = locations.row(by_predicate=pl.col("location_id") == chosen, named=True)
rows = location_key_questions(data.frames.key_questions, chosen)
st.header(plain(where["location_name"]))
if rows.is_empty():
    st.warning("No assessments of this location are loaded.", icon=":material/search:")
    st.stop()
provider_id, provider = rows["provider_id"][0], rows["provider_name"][0]
facts = (
    provider and f"Run by {provider}",
    where["service_type"],
    where["region"],
    where["postcode"],
    f"Location id {chosen}",
)
st.caption(" · ".join(plain(f) for f in facts if f))
if not data.demo and (address := cqc_page(where.get("cqc_location_id"))):  # demo: fictional
    st.markdown(
        f"[:material/open_in_new: This location on CQC's website, with its reports]({address})"
    )
if where.get("registration_status") == DEREGISTERED:
    when = where.get("deregistration_date")
    st.warning(
        f"**Deregistered**{f' on {when:%-d %b %Y}' if when else ''}: CQC no longer registers "
        "this location. Its history is below; current pictures leave it out unless "
        "“Include deregistered locations” is on in the sidebar.",
        icon=":material/door_open:",
    )
# The rating is a line of text, not a metric: "Requires improvement" is too wide for one.
st.markdown(f"Overall rating: **{plain(where['overall_rating'] or 'not stated')}**")
cols = st.columns(3)
cols[0].metric("Assessments", rows["assessment_id"].n_unique())
cols[1].metric("Latest assessment", f"{rows['assessment_date'].max():%-d %b %Y}")
cols[2].metric("Key questions scored", rows["key_question_score"].is_not_null().sum())
if provider_id:
    label = data.provider_labels.get(provider_id, provider_id)
    link(
        COMPARE,
        "Compare this provider",
        icon=":material/balance:",
        **{session.COMPARE_PROVIDERS: [label]},
    )

st.subheader("Current key question percentages")
st.caption(
    "Each key question's latest scored assessment; a later rating without scores (from "
    "the rating file, say) is listed under Every assessment. Dashed lines: band edges."
)
now = current(rows.lazy(), scored=True).collect()
now = now.with_columns(
    label=pl.format("{}% {}", "key_question_score", "key_question_rating"),
    key_question=pl.col("key_question").cast(pl.String),
)
if now.is_empty():
    st.info(
        "This location has ratings but no scores: there is nothing to chart.",
        icon=":material/info:",
    )
else:
    charts.show(charts.key_question_percentages(now), width="stretch")
    with st.expander("Numbers behind this chart"):
        tables.table(
            now.select(
                "key_question",
                "assessment_date",
                "key_question_rating",
                "key_question_score",
                "points",
                "statements_scored",
                "band",
                "next_band",
                "points_to_next_band",
                "points_to_spare",
            ),
            session.LOCATION_NOW,
        )

st.subheader("Every assessment")
reports = location.report_links(data, chosen)
report_of = pl.col("assessment_id").replace_strict(reports, default=None, return_dtype=pl.String)
history = assessment_history(rows).select(
    "assessment_date", report_of.alias("report"), pl.exclude("assessment_date")
)
tables.table(
    history,
    session.LOCATION_HISTORY,
    column_config={
        "assessment_date": st.column_config.DateColumn("Assessed", format="D MMM YYYY"),
        "report": st.column_config.LinkColumn("CQC report", display_text="Open on CQC's site"),
    },
)
st.caption(
    "CQC report: the assessment's report on CQC's website, where its source names one (CQC's "
    "API records do; report text and the ratings file do not)."
    + (" Demo data: none, as the services are fictional." if data.demo else "")
)

st.subheader("Scores and evidence of one assessment")
assessments = rows.unique("assessment_id").sort("assessment_date", descending=True)
when = dict(zip(assessments["assessment_id"], assessments["assessment_date"], strict=True))
era = dict(zip(assessments["assessment_id"], assessments["era"].cast(pl.String), strict=True))
url_assessment = st.query_params.get(session.LOCATION_ASSESSMENT_ID)
if session.LOCATION_ASSESSMENT not in st.session_state and url_assessment in when:
    st.session_state[session.LOCATION_ASSESSMENT] = url_assessment  # a link's assessment
assessment = st.selectbox(
    "Assessment",
    list(when),
    key=session.LOCATION_ASSESSMENT,
    format_func=lambda a: f"{when[a]:%-d %B %Y} · {era[a]}",
)
if report := reports.get(assessment):
    st.markdown(f"[:material/open_in_new: This assessment's report on CQC's website]({report})")
# The statement a link (a match of the Search page) asked for: opened and scrolled to while
# its assessment is shown; choosing another assessment drops it from the URL.
focus = location.focused_statement(st.query_params.get(session.LOCATION_STATEMENT))
if assessment != url_assessment:
    st.query_params[session.LOCATION_ASSESSMENT_ID] = assessment  # the URL opens this one
    if session.LOCATION_STATEMENT in st.query_params:
        del st.query_params[session.LOCATION_STATEMENT]
    focus = None
texts = location.evidence(data, chosen)
if texts is None:
    st.warning(
        "The database is being written; evidence text will show in a moment.",
        icon=":material/hourglass_top:",
    )
for row in rows.filter(pl.col("assessment_id") == assessment).iter_rows(named=True):
    st.markdown(f"#### {row['key_question']}: {row['key_question_rating'] or 'not rated'}")
    st.markdown("  \n".join(location.working(row)))
    table = assessment_statements(data.frames.scores, texts, assessment, row["key_question"])
    for s in table.iter_rows(named=True):
        here = focus is not None and s["statement"] == focus
        with st.expander(
            f"{plain(s['statement'])} · score {SCORE_LABELS[s['score']]}",
            expanded=here,
            key=session.LOCATION_FOCUS if here else None,
            icon=":material/search:" if here else None,
        ):
            if here:
                st.caption("The statement the link opened.")
            st.text(s["evidence"] or "No evidence text was published for this statement.")
            if here:
                location.scroll_to_focus()
        focus = None if here else focus  # one statement only
