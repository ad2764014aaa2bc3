"""The one filter every page builds from its sidebar, and the small-sample setting."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterator
from dataclasses import dataclass, fields

import polars as pl

# Aggregates over fewer assessments than this are flagged `low_n` (the app greys them out).
MIN_N = 5

# Filter field -> the column it narrows.
COLUMNS: dict[str, str] = {
    "regions": "region",
    "service_types": "service_type",
    "providers": "provider_id",
    "locations": "location_id",
    "key_questions": "key_question",
    "statements": "statement_id",
    "ratings": "key_question_rating",
    "eras": "era",
}


@dataclass(frozen=True)
class Filters:
    """Date range on assessment_date (inclusive) and value sets; an empty field means everything."""

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

    def _conditions(self) -> Iterator[tuple[str, str, pl.Expr]]:
        if self.date_from is not None:
            yield "date_from", "assessment_date", pl.col("assessment_date") >= self.date_from
        if self.date_to is not None:
            yield "date_to", "assessment_date", pl.col("assessment_date") <= self.date_to
        for field, column in COLUMNS.items():
            if values := getattr(self, field):
                yield field, column, pl.col(column).is_in(list(values))

    def apply(self, frame: pl.LazyFrame, *, skip: Collection[str] = ()) -> pl.LazyFrame:
        """`frame` narrowed by every set field whose column it has, except the fields in `skip`."""
        names = set(frame.collect_schema().names())
        conditions = [
            condition
            for field, column, condition in self._conditions()
            if field not in skip and column in names
        ]
        return frame.filter(*conditions) if conditions else frame

    def describe(self) -> str:
        """One line naming every set field, for exported files: 'everything' when none is set."""
        parts = [
            f"{f.name}: {', '.join(map(str, v)) if isinstance(v, tuple) else v}"
            for f in fields(self)
            if (v := getattr(self, f.name)) not in (None, ())
        ]
        return "; ".join(parts) or "everything"


ALL = Filters()
