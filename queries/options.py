"""What the sidebar offers: the values to filter on, and a display name for every provider.

Computed once per data version (ui.app_data keeps them with the frames): at national scale
there are ~40,000 providers, listed once and then named by a dict lookup.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

import polars as pl

from ingest.reference import SAF_START


class ProviderNames(dict):
    """Provider id -> name; an id without a name (gone from the data) shows as itself."""

    def __missing__(self, key: str) -> str:
        return key


@dataclass(frozen=True)
class FilterOptions:
    """The values each sidebar filter offers (regions, service types and providers sorted)."""

    dates: tuple[dt.date, dt.date]
    regions: list[str] = field(default_factory=list)
    service_types: list[str] = field(default_factory=list)
    service_groups: list[str] = field(default_factory=list)
    local_authorities: list[str] = field(default_factory=list)
    icbs: list[str] = field(default_factory=list)
    provider_ids: list[str] = field(default_factory=list)
    provider_names: ProviderNames = field(default_factory=ProviderNames)


def distinct_values(frame: pl.LazyFrame, column: str) -> list[str]:
    """The values of `column`, as strings, sorted, without null."""
    # unique before the cast: a categorical's distinct codes, not every row's text
    values = frame.select(pl.col(column).unique().drop_nulls().cast(pl.String)).collect()
    return sorted(values.to_series())


def date_range(key_questions: pl.LazyFrame) -> tuple[dt.date | None, dt.date | None]:
    """The first and last assessment_date (None when there are no rows)."""
    dates = key_questions.select(
        first=pl.col("assessment_date").min(), last=pl.col("assessment_date").max()
    )
    return dates.collect().row(0)


def provider_names(key_questions: pl.LazyFrame) -> ProviderNames:
    """Provider id -> name of every provider with both, in name order."""
    providers = (
        _providers(key_questions).drop_nulls().sort("provider_name", maintain_order=True).collect()
    )
    return ProviderNames(zip(*(c.to_list() for c in providers.get_columns()), strict=True))


def _providers(key_questions: pl.LazyFrame) -> pl.LazyFrame:
    """Each (provider_id, provider_name) pair once, as strings (unique before the cast)."""
    return (
        key_questions.select("provider_id", "provider_name")
        .unique()
        .select(pl.col("provider_id", "provider_name").cast(pl.String))
    )


def filter_options(key_questions: pl.LazyFrame) -> FilterOptions:
    """The sidebar's options: dates, regions, service types, service groups and providers.

    Dates are the first and last assessment dates; with nothing loaded, the SAF's start to today.
    """
    first, last = date_range(key_questions)
    names = provider_names(key_questions)
    return FilterOptions(
        dates=(first or SAF_START, last or dt.date.today()),
        regions=distinct_values(key_questions, "region"),
        service_types=distinct_values(key_questions, "service_type"),
        service_groups=distinct_values(key_questions, "service_group"),
        local_authorities=distinct_values(key_questions, "local_authority"),
        icbs=distinct_values(key_questions, "icb_name"),
        provider_ids=list(names),
        provider_names=names,
    )


def provider_labels(key_questions: pl.LazyFrame) -> dict[str, str]:
    """Provider id -> a unique display name: its name, with the id where two share a name.

    In name order, then id. A provider without a name is 'Unnamed (<id>)'.
    """
    providers = (
        _providers(key_questions)
        .drop_nulls("provider_id")
        .collect()
        .sort("provider_name", "provider_id")
    )
    ids, labels = (c.to_list() for c in providers.get_columns())
    names = Counter(labels)
    return {
        pid: name if name and names[name] == 1 else f"{name or 'Unnamed'} ({pid})"
        for pid, name in zip(ids, labels, strict=True)
    }
