"""Quality Statement Dashboard: navigation only. Each page lives in pages/ and stands alone."""

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).resolve().parent / "pages"

st.set_page_config(page_title="Quality Statement Dashboard", page_icon="📊", layout="wide")
navigation = st.navigation(
    [
        st.Page(PAGES / "overview.py", title="Overview", icon="🏠", default=True),
    ]
)
navigation.run()
