"""What every page starts with: its title and question, the data label, the filters, the footer."""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from queries.filters import Filters
from ui.app_data import AppData, app_data
from ui.filters import sidebar_filters
from ui.links import sidebar_links

CAPTION_COLOUR = "#555867"
# A multiselect's chips cut their text short at about 20 characters, so the two care home
# types both read "Care home service ..." (and ICBs "NHS ..."): they wrap instead. Short
# labels (format_func) would not do: a bound widget's URL holds the label, so every shared
# link naming a type would stop selecting it. tests/browser/test_labels.py measures them.
_CHIP = "[data-testid='stMultiSelectTagsContainer'] [data-tag]"
CHIPS_WRAP = (
    f" {_CHIP} {{ height: auto; max-width: 100%; }}"
    f" {_CHIP} span[title] {{ white-space: normal; overflow-wrap: anywhere;"
    " overflow: visible; text-overflow: clip; }"
)
OGL_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
# CQC publishes its data under the Open Government Licence, which asks for this statement.
ATTRIBUTION = (
    "Contains public sector information licensed under the "
    f"[Open Government Licence v3.0]({OGL_URL})."
)


def start(title: str, question: str) -> tuple[AppData, Filters]:
    """Title the page, say what data it shows (demo or real), and read the sidebar filters.

    The sidebar ends with the Open Government Licence attribution, on every page.
    """
    if PagesManager.uses_pages_directory:
        # The server's first run was a deep link to a page, which Streamlit then runs as an
        # old-style multipage app, without dashboard.py (its own links, no filters carried).
        # Run again through dashboard.py: the first call of st.navigation ends that mode.
        PagesManager.uses_pages_directory = False
        st.rerun()
    # Also here, not only in dashboard.py: a deep-linked first visit may run the page alone.
    st.set_page_config(
        page_title=f"{title} · Quality Statement Dashboard",
        page_icon=":material/bar_chart:",
        layout="wide",
    )
    # Captions carry n and definitions: Streamlit fades them (opacity 0.6) to 2.8:1 on white,
    # under WCAG AA's 4.5:1 (axe, tests/browser/test_accessibility.py); this is 7.5:1.
    st.html(
        "<style>[data-testid='stCaptionContainer'], [data-testid='stCaptionContainer'] p "
        f"{{ color: {CAPTION_COLOUR} !important; opacity: 1 !important; }}{CHIPS_WRAP}</style>"
    )
    st.title(title)
    st.caption(question)
    links = st.sidebar.container()  # the pages, once the filters are known
    sidebar = st.sidebar.container()  # the filters, once the data is loaded
    st.sidebar.caption(ATTRIBUTION)  # below them, even on a page that stops early
    data = app_data()
    if data.demo:
        st.info(
            "**Demo data.** Every service, provider and score on this page is fictional, "
            "generated to resemble published CQC reports. Load real reports with "
            "`python -m ingest load`.",
            icon=":material/info:",
        )
    filters = sidebar_filters(data, sidebar, page=title)
    sidebar_links(links)
    sidebar.caption(f"Data as of {data.as_of}" + (" · demo" if data.demo else ""))
    return data, filters


def empty_note(what: str) -> None:
    """Explain an empty result rather than showing a blank chart."""
    st.warning(
        f"No {what} match the filters in the sidebar. Widen the date range or clear a filter.",
        icon=":material/search:",
    )
