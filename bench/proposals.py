"""Proposed fixes for missed targets, applied as patches so their effect can be measured.

The code they change belongs to other modules (queries/, ui/); a proposal here is the
measured "after" for bench/RESULTS.md, not the fix itself. The earlier ones (a narrow fetch
in load_frames, Categorical ids, charts without Altair validation, parser fixes) are now in
queries/data.py, ui/charts.py and ingest/. Run e.g.
    python -m bench --only load,pages --propose NAME
Each phase process applies the named proposals before it starts. Delete a proposal once its
fix is in the module it patches (or once it no longer applies: it then raises, loudly).
"""

from __future__ import annotations

import os
from collections.abc import Callable

PROPOSALS: dict[str, Callable[[], None]] = {}


ENV = "BENCH_PROPOSE"


def apply_from_env() -> list[str]:
    """Apply the proposals named in $BENCH_PROPOSE (comma-separated); their names."""
    names = [n for n in os.environ.get(ENV, "").split(",") if n]
    for name in names:
        PROPOSALS[name]()
    return names
