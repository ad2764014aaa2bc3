"""Links and drill-downs between pages, each carrying the sidebar filters along.

A bound widget's URL parameter holds the option as the widget shows it (its formatted label),
so a link that pre-selects a provider passes the provider's label, not its id.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NoReturn

import polars as pl
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from ui.data import AppData
from ui.filters import current_query_params

PAGES = Path(__file__).resolve().parent.parent / "pages"
COMPARE = PAGES / "compare.py"
TRENDS = PAGES / "trends.py"
STATEMENTS = PAGES / "statements.py"
LOCATION = PAGES / "location.py"

COMPARE_PROVIDERS = "compare_providers"  # the Compare page's provider picker
LOCATION_ID = "location_id"  # the Location page's location picker: it shows the id


@st.cache_resource(max_entries=4)
def _provider_labels(version: str, _data: AppData) -> dict[str, str]:
    providers = (
        _data.frames.key_questions.select("provider_id", pl.col("provider_name").cast(pl.String))
        .unique()
        .drop_nulls("provider_id")
        .collect()
        .sort("provider_name", "provider_id")
    )
    names = Counter(providers["provider_name"])
    return {
        pid: name if name and names[name] == 1 else f"{name or 'Unnamed'} ({pid})"
        for pid, name in providers.iter_rows()
    }


def provider_labels(data: AppData) -> dict[str, str]:
    """Provider id -> the name shown in pickers (with the id where two providers share a name)."""
    return _provider_labels(data.version, data)


def link(page: Path, label: str, icon: str | None = None, **params: Any) -> None:
    """A link to another page that keeps the sidebar filters (plus `params`)."""
    try:
        st.page_link(page, label=label, icon=icon, query_params={**current_query_params(), **params})
    except StreamlitPageNotFoundError:
        pass  # a page run on its own (as in AppTest) has no navigation to link into


def open_compare(provider_ids: Iterable[str], labels: Mapping[str, str]) -> NoReturn:
    """Open the Compare page with these providers chosen and the same filters."""
    chosen = [labels.get(pid, pid) for pid in provider_ids]
    st.switch_page(COMPARE, query_params={**current_query_params(), COMPARE_PROVIDERS: chosen})


def open_location(location_id: str) -> NoReturn:
    """Open the Location page on this location, with the same filters."""
    st.switch_page(LOCATION, query_params={**current_query_params(), LOCATION_ID: location_id})


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
