"""Export: the statement scores the filters select, as a file that says what it holds."""

import datetime as dt

import polars as pl
import streamlit as st

from queries.current import selected
from ui import db, page
from ui.export import COLUMNS, DESCRIPTIONS, builder, export_frame

PREVIEW_ROWS = 100

data, filters = page.start(
    "Export",
    "Which statement scores do the filters select? Download them as CSV or Parquet, with "
    "the filters, data date and row count written into the file.",
)
scores = data.frames.scores

counts = (
    selected(scores, filters)
    .select(
        rows=pl.len(),
        assessments=pl.col("assessment_id").n_unique(),
        locations=pl.col("location_id").n_unique(),
    )
    .collect()
    .row(0, named=True)
)
cols = st.columns(3)
cols[0].metric("Rows", f"{counts['rows']:,}", help="One row per scored quality statement.")
cols[1].metric("Assessments", f"{counts['assessments']:,}")
cols[2].metric("Locations", f"{counts['locations']:,}")
if not counts["rows"]:
    page.empty_note("statement scores")
    st.stop()

with st.expander("Columns"):
    columns = st.multiselect(
        "Columns to export", COLUMNS, default=COLUMNS, key="export_columns",
        bind="query-params", help="The columns of the `scores` table, in the table's order.",
    )  # fmt: skip
evidence = st.toggle(
    "Include the evidence text", key="export_evidence", bind="query-params",
    help="The narrative behind each score. It is read from the database only when a file is "
    "built, and makes the file many times larger.",
)  # fmt: skip
if not columns:
    st.warning("Choose at least one column to export.", icon="☝️")
    st.stop()
fetch = db.evidence_for if evidence else None

st.subheader("Preview")
st.caption(f"The first {min(PREVIEW_ROWS, counts['rows']):,} of {counts['rows']:,} rows.")
st.dataframe(
    export_frame(scores, filters, columns, evidence=fetch, limit=PREVIEW_ROWS), hide_index=True
)
with st.expander("What each column holds"):
    st.dataframe(
        pl.DataFrame({"column": [*columns, *["evidence"] * evidence]}).with_columns(
            meaning=pl.col("column").replace_strict(DESCRIPTIONS)
        ),
        hide_index=True,
    )

st.subheader("Download")
st.caption(
    "Each file holds all the rows above and states what it is. The CSV (UTF-8, opens in "
    "Excel) starts with lines beginning `#`: filters, data as of, demo or not, row count, "
    "columns and app version; text cells that would start a spreadsheet formula get a "
    "leading `'`. The Parquet file carries the same facts in its metadata (`qsd.*` keys). "
    "The file is built when you click, without reloading the page."
)
stem = f"qsd-scores-{dt.date.today():%Y%m%d}"
made = {"scores": scores, "filters": filters, "columns": tuple(columns), "evidence": fetch,
        "data_as_of": data.as_of, "demo": data.demo}  # fmt: skip
left, right = st.columns(2)
left.download_button(
    "Download CSV", builder("csv", **made), file_name=f"{stem}.csv", mime="text/csv",
    key="export_csv", on_click="ignore", icon="📄", type="primary",
)  # fmt: skip
right.download_button(
    "Download Parquet", builder("parquet", **made), file_name=f"{stem}.parquet",
    mime="application/vnd.apache.parquet", key="export_parquet", on_click="ignore", icon="🧱",
)  # fmt: skip
