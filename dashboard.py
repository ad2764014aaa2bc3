"""Quality Statement Dashboard: navigation only. Each page lives in pages/ and stands alone."""

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).resolve().parent / "pages"

st.set_page_config(page_title="Quality Statement Dashboard", page_icon="📊", layout="wide")
navigation = st.navigation(
    {
        "Explore": [
            st.Page(PAGES / "overview.py", title="Overview", icon="🏠", default=True),
            st.Page(PAGES / "compare.py", title="Compare providers", icon="⚖️"),
            st.Page(PAGES / "trends.py", title="Trends", icon="📈"),
            st.Page(PAGES / "statements.py", title="Quality statements", icon="🧩"),
            st.Page(PAGES / "location.py", title="Location", icon="📍"),
        ],
        "Data": [
            st.Page(PAGES / "export.py", title="Export", icon="⬇️"),
            # Its URL stays /data: links shared before the script was renamed still open it.
            st.Page(PAGES / "sources.py", title="Data and uploads", icon="🗄️", url_path="data"),
        ],
    }
)
navigation.run()
