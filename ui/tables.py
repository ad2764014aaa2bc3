"""Every table the app shows, and the numbers behind a chart with a CSV that says what it holds.

`table()` is the one way a page shows a frame: what it shows is what any download of it
holds, Streamlit's own toolbar "Download as CSV" included, so a text cell that a spreadsheet
would run as a formula starts with a single quote there too (ui.export.neutralise_formulas),
and invisible bidirectional controls (which can make a name read backwards) are shown as
`<U+202E>` (ui.text.CONTROLS).
The CSV is the app's one format (ui.export): BOM, a '# name,value' provenance block naming
the content, filters, data as of and row count, then the table with formulas guarded.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from queries.filters import MIN_N, Filters
from ui.app_data import AppData
from ui.export import csv_bytes, neutralise_formulas, provenance
from ui.text import visible_controls

# A table is paged to this many rows: no page sends national-scale row counts to the browser.
MAX_ROWS = 2_000


def shown(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` as a table shows it: formulas guarded and bidirectional controls made visible."""
    return neutralise_formulas(visible_controls(frame))


def table(frame: pl.DataFrame, key: str, *, selectable: bool = False, **dataframe_args):
    """Show `frame` (ui.tables.shown) as a table without its index; the return of st.dataframe.

    A selectable table (`on_select` in `dataframe_args`) is keyed `key` itself; any other sits
    in a container keyed `key` (Streamlit gives a read-only table no key of its own), which is
    how tests and the page's CSS find it.
    """
    if selectable:
        return st.dataframe(shown(frame), hide_index=True, key=key, **dataframe_args)
    with st.container(key=key):
        return st.dataframe(shown(frame), hide_index=True, **dataframe_args)


# How a "Numbers behind" table heads and formats its columns on screen; its CSV keeps the
# column names (the names the README's data contract and queries/ARCHITECTURE.md use).
LABELS = {
    "n": "n",
    "low_n": f"Fewer than {MIN_N} (grey)",
    "low_share": "Share scoring 1-2",
    "mean_score": "Mean score (1-4)",
    "key_question_score": "Percentage",
    "key_question_rating": "Rating",
    "p25": "25th percentile",
    "p75": "75th percentile",
    "peer_p25": "Peers' 25th percentile",
    "peer_p75": "Peers' 75th percentile",
    "peer_median": "Peers' median",
    "percentile_rank": "Percentile rank",
    "low_per_1000": "Scoring 1-2 per 1,000",
    "period_start": "Period from",
    "icb_name": "ICB",
}


def _label(name: str) -> str:
    return LABELS.get(name) or name.replace("_", " ").capitalize().replace(" id", " ID")


def column_config(frame: pl.DataFrame) -> dict[str, object]:
    """Each column headed in words and formatted one way: shares in percent, scores (1-4) to
    two decimals, other decimals to one, dates as '7 Mar 2025', times to the minute."""
    config: dict[str, object] = {}
    for name, dtype in frame.schema.items():
        label = _label(name)
        if name == "share" or name.endswith("_share"):
            config[name] = st.column_config.NumberColumn(label, format="percent")
        elif dtype.is_float():
            whole = "score" in name and "key_question" not in name and "percentage" not in name
            config[name] = st.column_config.NumberColumn(label, format="%.2f" if whole else "%.1f")
        elif dtype.is_integer():
            config[name] = st.column_config.NumberColumn(label, format="localized")
        elif dtype == pl.Date:
            config[name] = st.column_config.DateColumn(label, format="D MMM YYYY")
        elif isinstance(dtype, pl.Datetime):
            config[name] = st.column_config.DatetimeColumn(label, format="D MMM YYYY, HH:mm")
        else:
            config[name] = st.column_config.Column(label)
    return config


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
    """An expander with `frame` as a table (first MAX_ROWS rows) and its CSV download.

    Columns are headed and formatted by `column_config` (a caller's `column_config` wins).

    The table's key is `dataframe_key` (a selectable table), else `key`; the download
    button's `<key>_download`.
    """
    config = column_config(frame) | dataframe_args.pop("column_config", {})
    with st.expander(label, expanded=expanded):
        table(
            frame.head(MAX_ROWS),
            dataframe_key or key,
            selectable=dataframe_key is not None,
            column_config=config,
            **dataframe_args,
        )
        if frame.height > MAX_ROWS:
            st.caption(f"First {MAX_ROWS:,} of {frame.height:,} rows; the download has them all.")
        if "low_n" in frame.columns:
            st.caption(
                f"{LABELS['low_n']}: ticked where a figure rests on fewer than {MIN_N}; the CSV"
                " has the columns under their data names (`low_n`, ...)."
            )
        st.download_button(
            "Download CSV",
            lambda: csv_with_provenance(frame, what, filters, data),  # built on click
            file_name=f"{key}.csv",
            mime="text/csv",
            key=f"{key}_download",
            on_click="ignore",
        )
