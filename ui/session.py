"""Every key the app puts in st.session_state, in one place.

Three kinds:
- URL-bound widget keys, `<page>_<field>` (the sidebar's have no prefix: every page shares
  them). Each is also the widget's URL query parameter (`bind="query-params"`), so renaming
  one breaks shared links. `persist_state="session"` keeps the choice between pages.
- Session-only widget keys: settings not worth sharing, chart and table selections, and the
  download buttons (a table's is `<its key>_download`).
- App state, written and read by the app itself; those starting with `_` are private to the
  module named.

Widgets of the Data page (pages/data.py, URL /data) start `data_`.
"""

from __future__ import annotations

# --- URL-bound widget keys -----------------------------------------------------------------
# Sidebar filters (ui.filters), on every page.
DATE = "date"
REGION = "region"
SERVICE_TYPE = "service_type"
PROVIDER = "provider"
KEY_QUESTION = "key_question"
RATING = "rating"
ERA = "era"
SERVICE_GROUP = "service_group"
LOCAL_AUTHORITY = "local_authority"
ICB = "icb"
DEREGISTERED = "deregistered"  # a toggle: include deregistered locations in current pictures
CARRIED_FORWARD = "carried_forward"  # a toggle: include carried-forward statement scores
FILTER_KEYS = (
    DATE,
    REGION,
    SERVICE_TYPE,
    SERVICE_GROUP,
    LOCAL_AUTHORITY,
    ICB,
    PROVIDER,
    KEY_QUESTION,
    RATING,
    ERA,
    DEREGISTERED,
    CARRIED_FORWARD,
)

# Compare providers. Its provider picker shows labels, so a link passes a provider's label.
COMPARE_KEY_QUESTION = "compare_key_question"
COMPARE_TOP = "compare_top"
COMPARE_HIDE_LOW_N = "compare_hide_low_n"
COMPARE_PROVIDERS = "compare_providers"
COMPARE_PEERS_BY = "compare_peers_by"
COMPARE_PEER_PROVIDERS = "compare_peer_providers"  # a custom peer list (provider labels)
COMPARE_RANK_WITHIN = "compare_rank_within"  # a service type, or the mixed ranking
COMPARE_RANK_LEVEL = "compare_rank_level"  # Providers or Locations

# Trends
TRENDS_MEASURE = "trends_measure"
TRENDS_KEY_QUESTION = "trends_key_question"
TRENDS_STATEMENT = "trends_statement"
TRENDS_BY = "trends_by"
TRENDS_PERIOD = "trends_period"

# Quality statements
STATEMENTS_SORT = "statements_sort"
STATEMENTS_BY = "statements_by"
STATEMENTS_METRIC = "statements_metric"
STATEMENTS_LATEST = "statements_latest"

# Location: the search box is bound; the chosen location is the URL parameter LOCATION_ID,
# written by the page itself (its picker has no key: its options change with every search).
LOCATION_SEARCH = "location_search"
LOCATION_ID = "location_id"  # a URL parameter only, never a session key
# The assessment shown (written by the page, read when the session has not chosen one) and
# a statement of it to open and scroll to (its id, or its name when it has none: a match of
# the Search page links to it): URL parameters only. The focused statement's expander is
# keyed LOCATION_FOCUS (its CSS class st-key-location_focus is what the page scrolls to).
LOCATION_ASSESSMENT_ID = "assessment_id"
LOCATION_STATEMENT = "statement"
LOCATION_FOCUS = "location_focus"

# Export
EXPORT_COLUMNS = "export_columns"
EXPORT_EVIDENCE = "export_evidence"
EXPORT_LATEST = "export_latest"  # the current picture only

# Overview's map: the key question shown, and what colours the points (Rating or Percentage).
OVERVIEW_MAP_KEY_QUESTION = "overview_map_key_question"
OVERVIEW_MAP_COLOUR = "overview_map_colour"

# Compare providers' national picture (ui.national): the provider placed (its label).
COMPARE_NATIONAL_PROVIDER = "compare_national_provider"

# Search (pages/search.py): the query and its options are URL-bound; the tables, the
# download and the theme buttons are session-only.
SEARCH_QUERY = "search_query"
SEARCH_STATEMENTS = "search_statements"  # statement labels ('Safe · Safeguarding')
SEARCH_SCORES = "search_scores"
SEARCH_BY = "search_by"  # counts by region or service type
SEARCH_VIEW = "search_view"  # matches or themes
SEARCH_THEME = "search_theme"  # the statement or key question whose themes are shown
SEARCH_MATCHES = "search_matches"  # the matches table (a row opens the Location page)
SEARCH_DOWNLOAD = "search_download"
SEARCH_BY_STATEMENT = "search_by_statement"  # tables of counts with their CSV downloads
SEARCH_BY_SCORE = "search_by_score"
SEARCH_BY_GROUP = "search_by_group"
SEARCH_BY_QUARTER = "search_by_quarter"
SEARCH_THEMES = "search_themes"


def search_term(rank: int) -> str:
    """The key of the button that searches the theme ranked `rank`."""
    return f"search_term_{rank}"


# --- Session-only widget keys --------------------------------------------------------------
DATE_PRESET = "date_preset"  # the sidebar's quick date ranges: date_preset_<label> (buttons)
COMPARE_RANKING = "compare_ranking"  # the ranking chart (a click adds a provider)
COMPARE_ROWS = "compare_rows"  # the locations table (a row opens the Location page)
TRENDS_CHART = "trends_chart"  # the trend lines (a click opens Compare)
STATEMENTS_HEATMAP = "statements_heatmap"  # the heatmap (a click opens Compare)
TRENDS_PICKER = "trends_compare_picker"  # keyboard path of the trend lines' click
STATEMENTS_PICKER = "statements_compare_picker"  # keyboard path of the heatmap's click
OVERVIEW_MAP = "overview_map"  # the map (a click on a point opens the Location page)
OVERVIEW_MAP_ROWS = "overview_map_rows"  # the map's table (a row opens the Location page)
LOCATION_ASSESSMENT = "location_assessment"  # which assessment's evidence is shown
EXPORT_CSV = "export_csv"  # download buttons
EXPORT_PARQUET = "export_parquet"
DATA_LOG_PROBLEMS = "data_log_problems"  # ingest log: only rejections and warnings
DATA_LOG_PAGE = "data_log_page"  # ingest log: which page of lines
DATA_LOAD = "data_load"  # the upload's Load button


def data_upload(round_: int) -> str:
    """The file uploader's key in upload round `round_`: a new key empties the uploader."""
    return f"data_upload_{round_}"


# Tables with a CSV download (ui.tables.numbers): the table's key; `<key>_download` is its
# button's, and `<key>.csv` the file's name.
COMPARE_RANKING_TABLE = "compare_ranking_table"
COMPARE_PERCENTAGES = "compare_percentages"
COMPARE_STATEMENTS = "compare_statements"
COMPARE_TREND = "compare_trend"
COMPARE_PEER_TREND = "compare_peer_trend"
COMPARE_LOCATION_RANKING = "compare_location_ranking"
COMPARE_LOCATIONS = "compare_locations"  # its table is keyed COMPARE_ROWS (selectable)
TRENDS_TABLE = "trends_table"
TRENDS_CHANGES = "trends_changes"
TRENDS_CHANGES_BY = "trends_changes_by"
TRENDS_TRANSITIONS = "trends_transitions"
STATEMENTS_SPREAD = "statements_spread"
STATEMENTS_GRID = "statements_grid"
OVERVIEW_PLACES = "overview_places"  # the map's numbers; its table is keyed OVERVIEW_MAP_ROWS
COMPARE_NATIONAL = "compare_national"  # the provider's locations on the national picture
COMPARE_NATIONAL_BINS = "compare_national_bins"  # the nation's percentages in bins

# Other tables (st.dataframe keys).
OVERVIEW_SHARES = "overview_shares"
OVERVIEW_BINS = "overview_bins"
OVERVIEW_RECENT = "overview_recent"
STATEMENTS_WEAKEST = "statements_weakest"
STATEMENTS_STRONGEST = "statements_strongest"
LOCATION_NOW = "location_now"
LOCATION_HISTORY = "location_history"
EXPORT_PREVIEW = "export_preview"
EXPORT_MEANINGS = "export_meanings"
DATA_SOURCES = "data_sources"
DATA_ERAS = "data_eras"
DATA_LOG_COUNTS = "data_log_counts"
DATA_LOG = "data_log"
DATA_UPLOAD_TABLE = "data_upload_table"

# --- App state -----------------------------------------------------------------------------
NEXT_PAGE = "_qsd_next_page"  # ui.links: (page, params) a click asked to open on the next run
FILTERS_SEEN = "_qsd_filters_seen"  # ui.filters: (page, widget values, URL parameters) last run


def whole_range(key: str) -> str:
    """ui.filters: the whole date span the range widget `key` was last offered."""
    return f"_{key}_whole"


DATA_UPLOAD_ROUND = "data_upload_round"  # Data page: uploads done this session (see data_upload)
DATA_UPLOAD_RESULTS = "data_upload_results"  # Data page: the last upload's per-file results
