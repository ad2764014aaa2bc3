"""Quality Statement Dashboard: navigation only. Each page lives in pages/ and stands alone."""

import streamlit as st

from ui.links import NAVIGATION

st.set_page_config(
    page_title="Quality Statement Dashboard", page_icon=":material/bar_chart:", layout="wide"
)
navigation = st.navigation(
    {
        section: [
            st.Page(
                nav.script,
                title=nav.title,
                icon=nav.icon,
                url_path=nav.url_path or None,
                default=not nav.url_path,
            )
            for nav in pages
        ]
        for section, pages in NAVIGATION.items()
    },
    position="hidden",  # ui.page draws the links, with the filters in their addresses
)
navigation.run()
