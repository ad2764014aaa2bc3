"""The Compare page's national picture: one chosen provider's locations placed on the national
distribution of each key question (queries.national), with n and the numbers beside it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import streamlit as st

from queries.distributions import percentage_bins
from queries.filters import Filters
from queries.national import provider_on_national
from ui import charts, coverage, page, session
from ui.app_data import AppData
from ui.tables import numbers


def section(
    data: AppData, filters: Filters, chosen: Sequence[str], labels: Mapping[str, str]
) -> None:
    """Pick one of the `chosen` providers (ids); per key question, the nation's current
    percentages in bins with that provider's locations marked, and both tables."""
    st.header("One provider on the national picture")
    provider = st.selectbox(
        "Provider to place",
        list(chosen),
        format_func=labels.get,
        key=session.COMPARE_NATIONAL_PROVIDER,
        bind="query-params",
        persist_state="session",
    )
    kq = data.frames.key_questions
    placed = provider_on_national(kq, provider=provider, filters=filters)
    if placed.is_empty():
        page.empty_note("current percentages of this provider's locations")
        return
    nation = replace(filters, providers=(), locations=())
    bins = percentage_bins(kq, filters=nation, latest=True)
    name = labels.get(provider, provider)
    st.caption(
        "Pale bars: every location's current percentage of each key question (its latest "
        "scored assessment) in 5-point bins: all of England unless the sidebar narrows it (its "
        "provider choice aside); n counts them (a location rated in two service groups counts "
        f"once in each). Dark bars: {name}'s locations in the same bins, their number above; "
        "the table gives each one's percentage and its percentile rank in the nation, "
        "100 × (locations below + half of those level) / n. Dashed lines: the rating band "
        "edges. " + coverage.scored(kq, nation, latest=True)
    )
    charts.show(charts.national_picture(bins, placed))
    numbers(
        placed,
        f"{name}'s locations on the national picture of each key question",
        filters,
        data,
        key=session.COMPARE_NATIONAL,
        expanded=True,
    )
    numbers(
        bins,
        "Every location's current key question percentage, 5-point bins",
        nation,
        data,
        key=session.COMPARE_NATIONAL_BINS,
        label="National numbers behind this chart",
    )
