"""The one filter every page builds from its sidebar, and the small-sample setting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator
from dataclasses import dataclass, fields

import polars as pl

# Aggregates over fewer assessments than this are flagged `low_n` (the app greys them out).
MIN_N = 5

# What a carried-forward statement score says in statement_status (ingest.reference), and
# what a deregistered location says in registration_status.
CARRIED_FORWARD = "carried forward"
DEREGISTERED = "Deregistered"

# The switches, as describe() names them.
SWITCHES = {
    "include_deregistered": "deregistered locations",
    "include_carried_forward": "carried-forward statement scores",
}

# Filter field -> the column it narrows.
COLUMNS: dict[str, str] = {
    "regions": "region",
    "service_types": "service_type",
    "service_groups": "service_group",
    "local_authorities": "local_authority",
    "icbs": "icb_name",
    "providers": "provider_id",
    "locations": "location_id",
    "key_questions": "key_question",
    "statements": "statement_id",
    "ratings": "key_question_rating",
    "eras": "era",
}


@dataclass(frozen=True)
class Filters:
    """Date range on assessment_date (inclusive) and value sets; an empty field means everything.

    Two switches, off by default (what a page shows first):
    - `include_carried_forward`: statement scores CQC carried forward from an earlier
      assessment (statement_status 'carried forward') count as judgements of this one. Off,
      they are left out of every statement-level frame (one with statement_id); key question
      percentages stay as published.
    - `include_deregistered`: deregistered locations stay in current pictures. Off, current
      pictures (queries.current.selected with latest) leave them out; history keeps them.
    """

    date_from: dt.date | None = None
    date_to: dt.date | None = None
    regions: tuple[str, ...] = ()
    service_types: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()
    key_questions: tuple[str, ...] = ()
    statements: tuple[int, ...] = ()
    ratings: tuple[str, ...] = ()
    eras: tuple[str, ...] = ()
    service_groups: tuple[str, ...] = ()
    local_authorities: tuple[str, ...] = ()
    icbs: tuple[str, ...] = ()
    include_deregistered: bool = False
    include_carried_forward: bool = False

    def _conditions(self) -> Iterator[tuple[str, tuple[str, ...], pl.Expr]]:
        """(field, the columns a frame needs for it to apply, condition) of each set field."""
        if self.date_from is not None:
            yield "date_from", ("assessment_date",), pl.col("assessment_date") >= self.date_from
        if self.date_to is not None:
            yield "date_to", ("assessment_date",), pl.col("assessment_date") <= self.date_to
        for field, column in COLUMNS.items():
            if values := getattr(self, field):
                yield field, (column,), pl.col(column).is_in(list(values))
        if not self.include_carried_forward:  # statement-level frames only
            judged = pl.col("statement_status").ne_missing(CARRIED_FORWARD)
            yield "include_carried_forward", ("statement_id", "statement_status"), judged

    def apply(self, frame: pl.LazyFrame, *, skip: Collection[str] = ()) -> pl.LazyFrame:
        """`frame` narrowed by every set field whose columns it has, except the fields in `skip`."""
        names = set(frame.collect_schema().names())
        conditions = [
            condition
            for field, needs, condition in self._conditions()
            if field not in skip and names.issuperset(needs)
        ]
        return frame.filter(*conditions) if conditions else frame

    def describe(self) -> str:
        """One line naming every field not at its default, for exported files.

        'everything' when every field is at its default; the switches read 'carried-forward
        scores included', 'deregistered locations included'.
        """
        parts = []
        for f in fields(self):
            value = getattr(self, f.name)
            if value == f.default:
                continue
            if isinstance(value, bool):
                parts.append(f"{SWITCHES[f.name]} {'included' if value else 'left out'}")
            else:
                shown = ", ".join(map(str, value)) if isinstance(value, tuple) else value
                parts.append(f"{f.name}: {shown}")
        return "; ".join(parts) or "everything"


ALL = Filters()
