"""The analytics layer: pure Polars functions over the loaded frames (see ARCHITECTURE.md).

`current` and `headline` are not re-exported: they share their module's name, and binding
them here would hide the modules `queries.current` and `queries.headline`.

The names below are imported from their modules when first asked for, not when the package
is: app sessions run in threads of one process, and a package that imported its modules
while another thread imported one of them directly could deadlock Python's import locks
(one thread holding the package's, the other a module's), which Python breaks by handing
one of them a half-initialised module (an ImportError on a cold server's first pages).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, tuple[str, ...]] = {
    "bands": ("band_of", "band_table", "distance_to_next_band"),
    "changes": (
        "change_bins",
        "change_counts",
        "key_question_changes",
        "rating_transitions",
        "statement_change_counts",
        "statement_changes",
    ),
    "current": ("latest_key_questions", "locations_behind", "percentage_summary", "rating_shares"),
    "data": ("Frames", "load_frames", "prepare"),
    "distributions": ("percentage_bins", "score_distribution"),
    "filters": ("ALL", "Filters", "MIN_N"),
    "headline": ("loaded_by",),
    "heatmap": ("heatmap_columns", "statement_heatmap"),
    "locations": (
        "assessment_history",
        "assessment_statements",
        "location_key_questions",
        "matching_locations",
        "selectable_locations",
    ),
    "peers": ("peer_percentages", "peer_statement_scores", "peer_trend", "provider_summary"),
    "quality": (
        "era_mix",
        "incomplete_key_questions",
        "score_mismatches",
        "statement_coverage",
        "unrecognised_statements",
    ),
    "recent": ("quarter_on_quarter",),
    "rollup": ("provider_rollup",),
    "trends": ("percentage_trend", "statement_score_trend"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module 'queries' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"queries.{_MODULE_OF[name]}"), name)
    globals()[name] = value
    return value
