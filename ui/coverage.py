"""The sentence a chart's caption ends with: which locations its numbers rest on.

Rating shares count every rated location, whichever source rated it (report text, the API,
the rating file). Score views count scored assessments only: a location rated by a rating
file or the API's legacy ratings alone is not in them, and a location whose latest rating
came without scores counts with its latest scored assessment (queries.current).
"""

from __future__ import annotations

import polars as pl

from queries.current import locations_behind
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
    return rated_text(locations_behind(frame, filters=filters, latest=latest)["rated"][0])


def scored(frame: pl.LazyFrame, filters: Filters, *, latest: bool = False) -> str:
    """The caption sentence of a score chart of the rows `filters` select.

    `latest`: of the current picture.
    """
    return scored_text(locations_behind(frame, filters=filters, latest=latest)["scored"][0])
