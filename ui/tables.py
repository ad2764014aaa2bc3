"""The numbers behind a chart: a table one click away and a CSV that says what it holds.

The CSV is the app's one format (ui.export): BOM, a '# name,value' provenance block naming
the content, filters, data as of and row count, then the table with formulas guarded.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from queries.filters import MIN_N, Filters
from ui.data import AppData
from ui.export import csv_bytes, provenance

# A table is paged to this many rows: no page sends national-scale row counts to the browser.
MAX_ROWS = 2_000


def csv_with_provenance(frame: pl.DataFrame, what: str, filters: Filters, data: AppData) -> bytes:
    """`frame` as the app's CSV (ui.export.csv_bytes), its provenance saying it holds `what`."""
    return csv_bytes(frame, provenance(frame, filters, data.as_of, data.demo, what=what))


def numbers(
    frame: pl.DataFrame,
    what: str,
    filters: Filters,
    data: AppData,
    *,
    key: str,
    label: str = "Numbers behind this chart",
    expanded: bool = False,
    dataframe_key: str | None = None,
    **dataframe_args,
) -> None:
    """An expander with `frame` as a table (first MAX_ROWS rows) and its CSV download."""
    with st.expander(label, expanded=expanded):
        shown = frame.head(MAX_ROWS)
        st.dataframe(shown, hide_index=True, key=dataframe_key, **dataframe_args)
        if frame.height > MAX_ROWS:
            st.caption(f"First {MAX_ROWS:,} of {frame.height:,} rows; the download has them all.")
        if "low_n" in frame.columns:
            st.caption(f"`low_n` is true where a figure rests on fewer than {MIN_N} assessments.")
        st.download_button(
            "Download CSV",
            lambda: csv_with_provenance(frame, what, filters, data),  # built on click
            file_name=f"{key}.csv",
            mime="text/csv",
            key=f"{key}_download",
            on_click="ignore",
        )
