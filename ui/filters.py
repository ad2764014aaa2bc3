"""The sidebar filters: the same on every page, bound to the URL so a view can be shared.

Each widget's key is its URL query parameter; `persist_state="session"` keeps the choice
when the user moves between pages, and the URL carries it to whoever opens the link.

Streamlit 1.67 drops the query string of the first page change of a session (even of an
st.page_link that carries it), so the filters that arrived in a URL were lost on the first
click. `_carry` puts them back: each run remembers the filters' values and URL parameters
(`session.FILTERS_SEEN`), and a run on another page restores any the URL lost, in the
widgets and in the URL, before the widgets are drawn.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from ingest.reference import ERAS, KEY_QUESTIONS, RATINGS, SAF_START
from queries.filters import Filters
from ui import session
from ui.app_data import AppData


def _multi(place, label: str, options, key: str, help: str, format_func=str) -> tuple:
    chosen = place.multiselect(
        label,
        options,
        key=key,
        help=help,
        format_func=format_func,
        placeholder="All",
        bind="query-params",
        persist_state="session",
    )
    return tuple(chosen)


def _carry(page: str) -> None:
    """On a page change, restore the filters the URL lost (see the module docstring)."""
    seen = st.session_state.get(session.FILTERS_SEEN)
    if not seen or seen[0] == page:
        return
    _, values, params = seen
    for key, value in values.items():
        if key not in st.query_params:
            if key not in params:
                continue  # at its default: nothing was lost
            st.query_params[key] = params[key]
        st.session_state[key] = value


def _remember(page: str) -> None:
    values = {k: st.session_state[k] for k in session.FILTER_KEYS if k in st.session_state}
    st.session_state[session.FILTERS_SEEN] = (page, values, current_query_params())


def sidebar_filters(data: AppData, place: DeltaGenerator | None = None, page: str = "") -> Filters:
    """Draw the filters in the sidebar (or `place` in it) and return what they select.

    An empty field of the Filters means everything. `page` names the page drawing them.
    """
    _carry(page)
    try:
        return _filters(data, place)
    finally:
        _remember(page)


def _filters(data: AppData, place: DeltaGenerator | None) -> Filters:
    place = st.sidebar if place is None else place
    options = data.options
    place.header("Filters")
    lo, hi = options.dates
    _keep_whole_range_whole(session.DATE, (lo, hi))
    dates = place.date_input(
        "Assessment date",
        value=(lo, hi),
        min_value=lo,
        max_value=hi,
        key=session.DATE,
        format="DD/MM/YYYY",
        bind="query-params",
        persist_state="session",
        help="Assessments carried out between these dates (inclusive).",
    )
    _date_presets(place, lo, hi)
    date_from, date_to = (*dates, None, None)[:2] if dates else (None, None)
    names = options.provider_names
    chosen = Filters(
        date_from=date_from if date_from != lo else None,
        date_to=date_to if date_to != hi else None,
        regions=_multi(
            place, "Region", options.regions, session.REGION, "CQC region of the location."
        ),
        service_types=_multi(
            place,
            "Service type",
            options.service_types,
            session.SERVICE_TYPE,
            "The most specific service type the location is registered for.",
        ),
        providers=_multi(
            place,
            "Provider",
            options.provider_ids,
            session.PROVIDER,
            "Type to search by name.",
            format_func=names.__getitem__,
        ),
        key_questions=_multi(
            place,
            "Key question",
            list(KEY_QUESTIONS),
            session.KEY_QUESTION,
            "Key question (domain).",
        ),
        ratings=_multi(
            place,
            "Key question rating",
            list(RATINGS),
            session.RATING,
            "Rating of the key question.",
        ),
        eras=_multi(
            place,
            "Era",
            list(ERAS),
            session.ERA,
            "How scores were arrived at: by evidence category (before 2 December 2024) "
            "or by statement (after). Trends across eras need care.",
        ),
    )
    # Commissioner geography: shown where the sources state it (API records do).
    local_authorities = icbs = ()
    if options.local_authorities:
        local_authorities = _multi(
            place,
            "Local authority",
            options.local_authorities,
            session.LOCAL_AUTHORITY,
            "The local authority the location is in, as the source states it.",
        )
    if options.icbs:
        icbs = _multi(
            place,
            "Integrated care board",
            options.icbs,
            session.ICB,
            "The ICB of the location's postcode (CQC's records give it from ONSPD).",
        )
    groups = ()
    if options.service_groups:  # only sources that name assessment service groups have them
        groups = _multi(
            place,
            "Service group",
            options.service_groups,
            session.SERVICE_GROUP,
            "The assessment service group a rating belongs to (say Care homes or Homecare): "
            "a location assessed in two groups has a current rating in each.",
        )
    deregistered = place.toggle(
        "Include deregistered locations",
        key=session.DEREGISTERED,
        bind="query-params",
        persist_state="session",
        help="Current pictures leave out locations CQC has deregistered; history keeps them.",
    )
    carried = place.toggle(
        "Include carried-forward scores",
        key=session.CARRIED_FORWARD,
        bind="query-params",
        persist_state="session",
        help="Statement scores CQC carried forward from an earlier assessment are not "
        "judgements of this one: left out of statement views unless this is on. Key question "
        "percentages stay as published.",
    )
    return replace(
        chosen,
        service_groups=groups,
        local_authorities=local_authorities,
        icbs=icbs,
        include_deregistered=deregistered,
        include_carried_forward=carried,
    )


# Quick ranges beside the date range (label, help, start given the data's latest date), all
# ending at the latest assessment: the data, not today, is what they count back from.
PRESETS = (
    ("1 year", "The 12 months to the latest assessment.", lambda hi: _years_before(hi, 1)),
    ("2 years", "The 2 years to the latest assessment.", lambda hi: _years_before(hi, 2)),
    ("Since SAF", "Since the Single Assessment Framework began (21 November 2023).",
     lambda hi: SAF_START),
)  # fmt: skip


def _years_before(day: dt.date, years: int) -> dt.date:
    """The day after the same date `years` earlier (29 February: 1 March), so a year is 365
    or 366 days inclusive."""
    try:
        back = day.replace(year=day.year - years)
    except ValueError:  # 29 February
        back = dt.date(day.year - years, 3, 1) - dt.timedelta(days=1)
    return back + dt.timedelta(days=1)


def _date_presets(place: DeltaGenerator, lo: dt.date, hi: dt.date) -> None:
    """Buttons that set the date range to a preset, within the data's span: each as wide as
    its label, on one line in the sidebar's default width, wrapping where it is narrower (in
    equal columns, "Since SAF" was cut to "Sinc...")."""
    row = place.container(horizontal=True, gap="small")
    for label, help, start in PRESETS:
        chosen = (min(max(start(hi), lo), hi), hi)
        row.button(
            label,
            key=f"{session.DATE_PRESET}_{label}",
            help=help,
            on_click=_set_dates,
            args=(chosen,),
            type="tertiary",  # link-like, little padding: the three fit on one line
            width="content",
        )


def _set_dates(dates: tuple[dt.date, dt.date]) -> None:
    st.session_state[session.DATE] = dates


def _keep_whole_range_whole(key: str, whole: tuple[dt.date, dt.date]) -> None:
    """A date range left at the whole span of the data widens with it when new data arrives.

    A keyed widget keeps its value when its bounds change, so without this a session opened
    before a load would go on filtering out the new assessments at either end.
    """
    seen = st.session_state.get(session.whole_range(key))
    if seen and seen != whole and tuple(st.session_state.get(key) or ()) == seen:
        st.session_state[key] = whole
    st.session_state[session.whole_range(key)] = whole


def current_query_params() -> dict[str, list[str]]:
    """The filter parameters of the current URL, to carry into a link to another page."""
    return {k: st.query_params.get_all(k) for k in session.FILTER_KEYS if k in st.query_params}
