"""Export: the statement scores the filters select, as a file that says what it holds."""

import polars as pl
import streamlit as st

from ui import db, export, page, session, tables

PREVIEW_ROWS = 100

data, filters = page.start(
    "Export",
    "Which statement scores do the filters select? Download them as CSV or Parquet, with "
    "the filters, data date and row count written into the file.",
)
scores = data.frames.scores
latest = st.toggle(
    "Current picture only",
    key=session.EXPORT_LATEST,
    bind="query-params",
    help="Only each location's latest scored assessment of each key question, as the pages' "
    "current pictures show (deregistered locations left out unless the sidebar includes "
    "them). Off: every assessment the filters select.",
)

counts = (
    export.selected_rows(scores, filters, latest)
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
        "Columns to export",
        export.COLUMNS,
        default=export.COLUMNS,
        key=session.EXPORT_COLUMNS,
        bind="query-params",
        help="The columns of the `scores` table, in the table's order.",
    )
evidence = st.toggle(
    "Include the evidence text",
    key=session.EXPORT_EVIDENCE,
    bind="query-params",
    help="The narrative behind each score. It is read from the database only when a file is "
    "built, and makes the file many times larger.",
)
if not columns:
    st.warning("Choose at least one column to export.", icon=":material/touch_app:")
    st.stop()
fetch = db.evidence_for if evidence else None

st.header("Preview")
st.caption(f"The first {min(PREVIEW_ROWS, counts['rows']):,} of {counts['rows']:,} rows.")
preview = export.export_frame(
    scores, filters, columns, evidence=fetch, limit=PREVIEW_ROWS, latest=latest
)
tables.table(preview, session.EXPORT_PREVIEW)
with st.expander("What each column holds"):
    tables.table(
        pl.DataFrame({"column": [*columns, *["evidence"] * evidence]}).with_columns(
            meaning=pl.col("column").replace_strict(export.DESCRIPTIONS)
        ),
        session.EXPORT_MEANINGS,
    )

st.header("Download")
st.caption(
    "Each file holds all the rows above and states what it is. The CSV (UTF-8, opens in "
    "Excel) starts with lines beginning `#`: filters, data as of, demo or not, row count, "
    "columns and app version; text cells that would start a spreadsheet formula get a "
    "leading `'`. The Parquet file carries the same facts in its metadata (`qsd.*` keys). "
    "The file is built when you click, without reloading the page."
)

# The server holds a whole download in memory, so a file is built only up to a limit.
sample = export.export_frame(
    scores, filters, columns, evidence=fetch, limit=export.SIZE_SAMPLE_ROWS, latest=latest
)
sizes, limit = export.estimated_sizes(sample, counts["rows"]), export.download_limit()
kind = export.csv_kind(sizes, limit)
gz = kind == export.CSV_GZ
plain, packed, most = map(export.size_text, (sizes[export.CSV], sizes[export.CSV_GZ], limit))
if kind is None:
    st.warning(
        f"This selection is too large to download from here: about {plain} as CSV, and even "
        f"compressed over the {most} the server builds at once. Narrow the filters (a region, "
        "a date range) and download it in parts.",
        icon=":material/content_cut:",
    )
    st.stop()
if gz:
    st.info(
        f"About {plain} as CSV, more than the {most} the server builds at once, so the CSV "
        f"comes gzip-compressed (`.csv.gz`, at most about {packed}). Decompressed (double-click "
        "it, or `gunzip`) it is exactly the CSV; `pl.read_csv` and `pandas.read_csv` also read "
        "it as it is. Building it can take a minute or more.",
        icon=":material/compress:",
    )
stem = export.file_stem(filters, latest)
made = {
    "scores": scores,
    "filters": filters,
    "columns": tuple(columns),
    "evidence": fetch,
    "data_as_of": data.as_of,
    "demo": data.demo,
    "latest": latest,
}
left, right = st.columns(2)
left.download_button(
    "Download CSV (gzip)" if gz else "Download CSV",
    export.builder(kind, **made),
    file_name=f"{stem}.{kind}",
    mime=export.MIME[kind],
    key=session.EXPORT_CSV,
    on_click="ignore",
    icon=":material/description:",
    type="primary",
    help=f"At most about {packed}" if gz else f"About {plain}",
)
right.download_button(
    "Download Parquet",
    export.builder(export.PARQUET, **made),
    file_name=f"{stem}.parquet",
    mime=export.MIME[export.PARQUET],
    key=session.EXPORT_PARQUET,
    on_click="ignore",
    icon=":material/table_view:",
)
