"""Which source wins when two describe the same thing: pure rules, no database.

Two kinds of question, each answered in one place:
- **An assessment read from two sources** (same location, date and service group) is stored
  once: a version with statement scores beats one without, then the API beats the rating
  file, which beats report text. A source's own new version always replaces its old one.
- **A location field two sources disagree on** (region, local authority, service type): the
  source ranked higher wins, and on equal rank the later load. Report text states no region:
  it is derived from the postcode area ('derived', lowest). The rating file's service type is
  CQC's primary inspection category ('Residential social care'), a coarser taxonomy than the
  registered service types report text and the API list ('Care home service with nursing'),
  so it only fills a gap.

The store (ingest.store) applies these rules to rows in Python (`merge_location`) and, for
rows already stored, in the upsert's SQL (`LOCATION_MERGE_SQL`): both come from
FIELD_PRECEDENCE, so they cannot disagree.
"""

from __future__ import annotations

from typing import NamedTuple

from ingest.records import Record

# Lowest first.
ASSESSMENT_PRECEDENCE = ("report-text", "rating-file", "api-json")

FIELD_PRECEDENCE: dict[tuple[str, ...], tuple[str, ...]] = {
    ("region", "region_source"): ("derived", "report-text", "rating-file", "api-json"),
    ("local_authority", "local_authority_source"): ("report-text", "rating-file", "api-json"),
    ("service_types", "service_type", "service_type_label", "service_type_source"): (
        "rating-file",
        "report-text",
        "api-json",
    ),
}


class Rank(NamedTuple):
    """How authoritative one version of an assessment is; a higher rank wins (see module doc)."""

    scored: bool
    source_rank: int  # position in ASSESSMENT_PRECEDENCE, -1 for a source not listed
    source: str


def assessment_rank(scored: bool, source: str) -> Rank:
    """The rank of a version of an assessment with (or without) statement scores from `source`."""
    ranking = ASSESSMENT_PRECEDENCE
    return Rank(scored, ranking.index(source) if source in ranking else -1, source)


def record_rank(record: Record) -> Rank:
    """The rank of the assessment a record holds."""
    scored = any(kq["statements"] for kq in record["key_questions"])
    return assessment_rank(scored, record["format"])


def outranks(stored: Rank, new: Rank) -> bool:
    """Whether a stored version beats a new one: only a version from another source can."""
    return stored.source != new.source and stored[:2] > new[:2]


def _field_rank(columns: tuple[str, ...], source: str | None) -> int:
    ranking = FIELD_PRECEDENCE[columns]
    return ranking.index(source) if source in ranking else -1


def merge_location(old: dict | None, new: dict) -> dict:
    """Two rows for one location merged: new values fill gaps, ranked fields by precedence."""
    if old is None:
        return new
    merged = {c: old[c] if new[c] is None else new[c] for c in new}
    for columns in FIELD_PRECEDENCE:
        source = columns[-1]
        older_wins = new[source] is None or _field_rank(columns, old[source]) > _field_rank(
            columns, new[source]
        )
        merged.update({c: (old if older_wins else new)[c] for c in columns})
    return merged


def _ranked_merge_sql(columns: tuple[str, ...]) -> dict[str, str]:
    """SET clauses that apply FIELD_PRECEDENCE to an upsert of the locations table."""
    source = columns[-1]

    def rank(side: str) -> str:  # the source names are constants of this module, not input
        cases = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(FIELD_PRECEDENCE[columns]))
        return f"CASE {side}.{source} {cases} ELSE -1 END"

    wins = (
        f"excluded.{source} IS NOT NULL AND (locations.{source} IS NULL"
        f" OR {rank('excluded')} >= {rank('locations')})"
    )
    return {c: f"{c} = CASE WHEN {wins} THEN excluded.{c} ELSE locations.{c} END" for c in columns}


# Column -> its SET clause in an upsert of `locations` (columns not here: new values fill gaps).
LOCATION_MERGE_SQL: dict[str, str] = {
    column: sql
    for columns in FIELD_PRECEDENCE
    for column, sql in _ranked_merge_sql(columns).items()
}
