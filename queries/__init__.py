"""The analytics layer: pure Polars functions over the loaded frames (see ARCHITECTURE.md).

`current` and `headline` are not re-exported: they share their module's name, and binding
them here would hide the modules `queries.current` and `queries.headline`.
"""

from queries.bands import band_of, band_table, distance_to_next_band
from queries.changes import (
    change_bins,
    change_counts,
    key_question_changes,
    rating_transitions,
    statement_change_counts,
    statement_changes,
)
from queries.current import (
    latest_key_questions,
    locations_behind,
    percentage_summary,
    rating_shares,
)
from queries.data import Frames, load_frames, prepare
from queries.distributions import percentage_bins, score_distribution
from queries.filters import ALL, MIN_N, Filters
from queries.headline import loaded_by
from queries.heatmap import heatmap_columns, statement_heatmap
from queries.locations import (
    assessment_history,
    assessment_statements,
    location_key_questions,
    matching_locations,
    selectable_locations,
)
from queries.peers import peer_percentages, peer_statement_scores, peer_trend, provider_summary
from queries.quality import (
    era_mix,
    incomplete_key_questions,
    score_mismatches,
    statement_coverage,
    unrecognised_statements,
)
from queries.recent import quarter_on_quarter
from queries.rollup import provider_rollup
from queries.trends import percentage_trend, statement_score_trend

__all__ = [
    "ALL",
    "MIN_N",
    "Filters",
    "Frames",
    "assessment_history",
    "assessment_statements",
    "band_of",
    "band_table",
    "change_bins",
    "change_counts",
    "distance_to_next_band",
    "era_mix",
    "heatmap_columns",
    "incomplete_key_questions",
    "key_question_changes",
    "latest_key_questions",
    "load_frames",
    "loaded_by",
    "location_key_questions",
    "locations_behind",
    "matching_locations",
    "peer_percentages",
    "peer_statement_scores",
    "peer_trend",
    "percentage_bins",
    "percentage_summary",
    "percentage_trend",
    "prepare",
    "provider_rollup",
    "provider_summary",
    "quarter_on_quarter",
    "rating_shares",
    "rating_transitions",
    "score_distribution",
    "score_mismatches",
    "selectable_locations",
    "statement_change_counts",
    "statement_changes",
    "statement_coverage",
    "statement_heatmap",
    "statement_score_trend",
    "unrecognised_statements",
]
