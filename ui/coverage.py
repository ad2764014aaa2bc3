"""The sentence a chart's caption ends with: which locations its numbers rest on.

Rating shares count every rated location, whichever source rated it (report text, the API,
the rating file). Score views count scored assessments only: a location rated by a rating
file or the API's legacy ratings alone is not in them, and a location whose latest rating
came without scores counts with its latest scored assessment (queries.current).
Each sentence then says what the sidebar's switches left out (queries.current.left_out):
carried-forward statement scores, deregistered locations.
"""

from __future__ import annotations

import polars as pl

from queries.current import left_out, locations_behind
from queries.filters import Filters


def rated_text(n: int) -> str:
    """'All rated locations (N), from every source.'"""
    return f"All rated locations ({n:,}), from every source."


def scored_text(n: int) -> str:
    """'Scored assessments only: N locations.'"""
    return f"Scored assessments only: {n:,} location{'s' * (n != 1)}."


def rated(frame: pl.LazyFrame, filters: Filters, *, latest: bool = False) -> str:
    """The caption sentence of a rating-share chart of the rows `filters` select.

    `latest`: of the current picture.
    """
    behind = locations_behind(frame, filters=filters, latest=latest)["rated"][0]
    return rated_text(behind) + left_out_text(frame, filters, latest=latest)


def scored(frame: pl.LazyFrame, filters: Filters, *, latest: bool = False) -> str:
    """The caption sentence of a score chart of the rows `filters` select.

    `latest`: of the current picture.
    """
    behind = locations_behind(frame, filters=filters, latest=latest)["scored"][0]
    return scored_text(behind) + left_out_text(frame, filters, latest=latest, scored=True)


def left_out_text(
    frame: pl.LazyFrame, filters: Filters, *, latest: bool = False, scored: bool = False
) -> str:
    """' Left out: N carried-forward statement scores, M deregistered locations (sidebar).'

    Empty when the switches left nothing out.
    """
    carried, deregistered = left_out(frame, filters, latest=latest, scored=scored).row(0)
    parts = [
        *([f"{carried:,} carried-forward statement score{'s' * (carried != 1)}"] * bool(carried)),
        *(
            [f"{deregistered:,} deregistered location{'s' * (deregistered != 1)}"]
            * bool(deregistered)
        ),
    ]
    return f" Left out: {', '.join(parts)} (switches in the sidebar)." if parts else ""
