"""Links and drill-downs between pages, each carrying the sidebar filters along.

A bound widget's URL parameter holds the option as the widget shows it (its formatted label),
so a link that pre-selects a provider passes the provider's label, not its id.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from ingest.reference import is_location_id
from ui import session
from ui.filters import current_query_params

PAGES = Path(__file__).resolve().parent.parent / "pages"
OVERVIEW = PAGES / "overview.py"
COMPARE = PAGES / "compare.py"
TRENDS = PAGES / "trends.py"
STATEMENTS = PAGES / "statements.py"
LOCATION = PAGES / "location.py"
EXPORT = PAGES / "export.py"
DATA = PAGES / "data.py"


@dataclass(frozen=True)
class NavPage:
    """One page of the app: its script, title, Material icon and URL path ('' = the default)."""

    script: Path
    title: str
    icon: str
    url_path: str


# The app's pages by sidebar section: dashboard.py registers them, ui.page draws the links.
NAVIGATION: dict[str, tuple[NavPage, ...]] = {
    "Explore": (
        NavPage(OVERVIEW, "Overview", ":material/home:", ""),
        NavPage(COMPARE, "Compare providers", ":material/balance:", "compare"),
        NavPage(TRENDS, "Trends", ":material/trending_up:", "trends"),
        NavPage(STATEMENTS, "Quality statements", ":material/grid_view:", "statements"),
        NavPage(LOCATION, "Location", ":material/location_on:", "location"),
        NavPage(PAGES / "search.py", "Search the evidence", ":material/search:", "search"),
    ),
    "Data": (
        NavPage(EXPORT, "Export", ":material/download:", "export"),
        NavPage(DATA, "Data and uploads", ":material/database:", "data"),
    ),
}


def sidebar_links(place: Any) -> None:
    """The app's pages as links in `place` (the sidebar's top), each carrying the filters.

    Streamlit's own sidebar navigation links to a bare page address, so filters that arrived
    in a URL were lost on the first click, and "open in new tab" or "copy link" never had
    them; these links hold the filters in their addresses (dashboard.py hides Streamlit's).
    """
    params = current_query_params()
    try:
        for section, pages in NAVIGATION.items():
            place.caption(section)
            for nav in pages:
                place.page_link(nav.script, label=nav.title, icon=nav.icon, query_params=params)
    except StreamlitPageNotFoundError:
        pass  # a page run on its own (as in AppTest) has no navigation to link into


def provider_label(frame: pl.DataFrame, labels: Mapping[str, str]) -> pl.Expr:
    """The picker label of each row's provider_id in `frame` (null for an unknown id).

    Maps only the ids `frame` holds: replacing with all ~40,000 labels would build that
    mapping again on every call.
    """
    ids = frame.get_column("provider_id").unique().drop_nulls().to_list()
    mapping = {pid: labels[pid] for pid in ids if pid in labels}
    return pl.col("provider_id").replace_strict(mapping, default=None, return_dtype=pl.String)


def link(page: Path, label: str, icon: str | None = None, **params: Any) -> None:
    """A link to another page that keeps the sidebar filters (plus `params`)."""
    try:
        st.page_link(
            page, label=label, icon=icon, query_params={**current_query_params(), **params}
        )
    except StreamlitPageNotFoundError:
        pass  # a page run on its own (as in AppTest) has no navigation to link into


def compare_params(provider_ids: Iterable[str], labels: Mapping[str, str]) -> dict[str, Any]:
    """The URL parameter that opens the Compare page with these providers chosen."""
    return {session.COMPARE_PROVIDERS: [labels.get(pid, pid) for pid in provider_ids]}


def location_params(
    location_id: str,
    assessment_id: str | None = None,
    statement_id: int | None = None,
    statement: str | None = None,
) -> dict[str, str]:
    """The URL parameters that open the Location page on a location, with one of its
    assessments chosen and one statement of it opened and scrolled to (each optional)."""
    params = {session.LOCATION_ID: str(location_id)}
    if assessment_id is not None:
        params[session.LOCATION_ASSESSMENT_ID] = str(assessment_id)
        if statement_id is not None or statement:
            shown = str(statement_id) if statement_id is not None else str(statement)
            params[session.LOCATION_STATEMENT] = shown
    return params


def go_later(page: Path, params: Mapping[str, Any]) -> None:
    """From a callback (where switching pages is not allowed): open `page` on the next run.

    `params` are the target page's own; the sidebar filters travel by themselves (their
    widgets keep their values for the session and write them back into the URL), and
    switch_page refuses parameters bound to a widget on the current page.
    """
    st.session_state[session.NEXT_PAGE] = (str(page), dict(params))


def follow() -> None:
    """Open the page a click asked for, if any (call near the top of every page)."""
    if target := st.session_state.pop(session.NEXT_PAGE, None):
        st.switch_page(Path(target[0]), query_params=target[1])


def compare_on_click(
    key: str, param: str, labels: Mapping[str, str], carry: Mapping[str, str] | None = None
) -> Callable[[], None]:
    """A chart callback: open the Compare page with the clicked providers (field provider_id).

    `carry`: field of the clicked mark -> the Compare parameter it sets (the heatmap's cell
    carries its key_question to session.COMPARE_KEY_QUESTION); the chart's Pick selects them.
    """

    def callback() -> None:
        if clicked := picked(key, param, "provider_id"):
            params = compare_params(clicked, labels)
            for field, name in (carry or {}).items():
                if values := picked(key, param, field):
                    params[name] = str(values[0])
            go_later(COMPARE, params)

    return callback


def compare_picker(
    key: str, provider_ids: Iterable[str], labels: Mapping[str, str], **params: Any
) -> None:
    """The keyboard path of a chart's click-to-compare: choose one of the chart's providers,
    then a link (a focusable anchor, filters kept) opens Compare on it; `params` go along."""
    ids = list(dict.fromkeys(provider_ids))
    chosen = st.selectbox(
        "Or choose a provider of the chart to compare",
        ids,
        index=None,
        format_func=lambda pid: labels.get(pid, pid),
        placeholder="Provider",
        key=key,
    )
    if chosen is not None:
        name = labels.get(chosen, chosen)
        link(COMPARE, f"Compare {name} with its peers", ":material/balance:",
             **compare_params([chosen], labels), **params)  # fmt: skip


def location_on_select(key: str, location_ids: Sequence[str]) -> Callable[[], None]:
    """A dataframe callback: open the Location page on the selected row's location."""

    def callback() -> None:
        if rows := picked_rows(key):
            go_later(LOCATION, {session.LOCATION_ID: location_ids[rows[0]]})

    return callback


def picked(key: str, param: str, field: str) -> list[Any]:
    """Values of `field` in the points the user clicked in chart `key`'s selection `param`."""
    state = st.session_state.get(key)
    points = state.get("selection", {}).get(param) if state else None
    if isinstance(points, Mapping):  # an empty selection may come back as {}
        points = points.get(field, [])
        return list(points) if isinstance(points, list) else [points]
    return [p[field] for p in points or [] if isinstance(p, Mapping) and field in p]


def picked_rows(key: str) -> list[int]:
    """Row positions the user selected in dataframe `key`."""
    state = st.session_state.get(key)
    return list(state.get("selection", {}).get("rows", [])) if state else []


CQC_LOCATION_PAGE = "https://www.cqc.org.uk/location/"
# Where an assessment's report may be (ingest.readers.api_records builds them): CQC's own
# hosts and plain characters only, so a stored value can be drawn as a link.
_REPORT_PAGE = re.compile(
    r"^https://(?:www\.cqc\.org\.uk/location/|api\.cqc\.org\.uk/public/v1/reports/)"
    r"[A-Za-z0-9/?.-]{1,200}$"
)


def cqc_page(cqc_id: str | None) -> str | None:
    """The address of a location's page on CQC's website (its reports), for a CQC id; None
    for anything else (a derived id of report text alone has no page)."""
    return f"{CQC_LOCATION_PAGE}{cqc_id}" if cqc_id and is_location_id(cqc_id) else None


def report_page(url: str | None) -> str | None:
    """`url` when it is an address of a report on CQC's website, else None."""
    return url if url and _REPORT_PAGE.match(url) else None
