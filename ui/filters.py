"""The sidebar filters: the same on every page, bound to the URL so a view can be shared.

Each widget's key is its URL query parameter; `persist_state="session"` keeps the choice
when the user moves between pages, and the URL carries it to whoever opens the link.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import streamlit as st

from ingest.reference import ERAS, KEY_QUESTIONS, RATINGS
from queries.filters import Filters
from ui.data import AppData

FILTER_KEYS = ("date", "region", "service_type", "provider", "key_question", "rating", "era")


class _Names(dict):
    """Provider id -> name; an id without a name (gone from the data) shows as itself."""

    def __missing__(self, key: str) -> str:
        return key


def _distinct(frame: pl.LazyFrame, column: str) -> list[str]:
    values = frame.select(pl.col(column).cast(pl.String).unique().drop_nulls()).collect()
    return sorted(values.to_series())


@st.cache_resource(max_entries=4)
def _options(version: str, _data: AppData) -> dict[str, list]:
    kq = _data.frames.key_questions
    dates = kq.select(lo=pl.col("assessment_date").min(), hi=pl.col("assessment_date").max())
    lo, hi = dates.collect().row(0)
    providers = (
        kq.select("provider_id", pl.col("provider_name").cast(pl.String))
        .unique()
        .drop_nulls()
        .sort("provider_name")
        .collect()
    )
    names = _Names(providers.iter_rows())
    return {
        "dates": [lo or dt.date(2023, 11, 21), hi or dt.date.today()],
        "regions": _distinct(kq, "region"),
        "service_types": _distinct(kq, "service_type"),
        # ~40,000 at national scale: listed once per data version, named by a dict lookup
        "provider_ids": list(names),
        "providers": names,
    }


def _multi(label: str, options, key: str, help: str, format_func=str) -> tuple:
    chosen = st.sidebar.multiselect(
        label, options, key=key, help=help, format_func=format_func, placeholder="All",
        bind="query-params", persist_state="session",
    )  # fmt: skip
    return tuple(chosen)


def sidebar_filters(data: AppData) -> Filters:
    """Draw the filters in the sidebar and return what they select (empty = everything)."""
    options = _options(data.version, data)
    st.sidebar.header("Filters")
    lo, hi = options["dates"]
    _keep_whole_range_whole("date", (lo, hi))
    dates = st.sidebar.date_input(
        "Assessment date", value=(lo, hi), min_value=lo, max_value=hi, key="date",
        format="DD/MM/YYYY", bind="query-params", persist_state="session",
        help="Assessments carried out between these dates (inclusive).",
    )  # fmt: skip
    date_from, date_to = (*dates, None, None)[:2] if dates else (None, None)
    names = options["providers"]
    return Filters(
        date_from=date_from if date_from != lo else None,
        date_to=date_to if date_to != hi else None,
        regions=_multi("Region", options["regions"], "region", "CQC region of the location."),
        service_types=_multi(
            "Service type", options["service_types"], "service_type",
            "The most specific service type the location is registered for.",
        ),
        providers=_multi(
            "Provider", options["provider_ids"], "provider", "Type to search by name.",
            format_func=names.__getitem__,
        ),
        key_questions=_multi(
            "Key question", list(KEY_QUESTIONS), "key_question", "Key question (domain).",
        ),
        ratings=_multi(
            "Key question rating", list(RATINGS), "rating", "Rating of the key question.",
        ),
        eras=_multi(
            "Era", list(ERAS), "era",
            "How scores were arrived at: by evidence category (before 2 December 2024) "
            "or by statement (after). Trends across eras need care.",
        ),
    )  # fmt: skip


def _keep_whole_range_whole(key: str, whole: tuple[dt.date, dt.date]) -> None:
    """A date range left at the whole span of the data widens with it when new data arrives.

    A keyed widget keeps its value when its bounds change, so without this a session opened
    before a load would go on filtering out the new assessments at either end.
    """
    seen = st.session_state.get(f"_{key}_whole")
    if seen and seen != whole and tuple(st.session_state.get(key) or ()) == seen:
        st.session_state[key] = whole
    st.session_state[f"_{key}_whole"] = whole


def current_query_params() -> dict[str, list[str]]:
    """The filter parameters of the current URL, to carry into a link to another page."""
    return {k: st.query_params.get_all(k) for k in FILTER_KEYS if k in st.query_params}
