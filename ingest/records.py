"""The record every reader produces and the store loads: one assessment of one location.

A reader turns one file into a list of records (report text gives one; an API location
record gives one per assessment service group plus its legacy ratings; a rating file gives
one per location). Every record is a plain JSON-serialisable dict:

    source            file path (or URL) the record was read from
    format            "report-text", "api-json" or "rating-file"
    location_cqc_id   "1-..." when the source names it, else None
    provider_cqc_id   "1-..." when the source names it, else None
    location_name, provider_name, address, postcode, phone     str | None
    service_types     list[str], broadest first
    overall_rating    canonical rating or None
    region            region as stated by the source (None for report text)
    local_authority   str | None
    assessment_date   "YYYY-MM-DD"
    published_date    "YYYY-MM-DD" | None  (latest "Updated" date of its key questions)
    era               from reference.era_for(assessment_date)
    service_group     str | None  (API assessment service group, e.g. "Care Homes")
    key_questions     [ {name, rating, score, computed_score, published_date,
                         statements: [ {id, name, score, evidence} ] } ]
                      score is the stated percentage (int | None); ratings-only key
                      questions have an empty statements list and computed_score None.
    warnings          list[str]

Optional keys: `service_type` (the most specific type, when the list's last is not it),
`location_type` and `inspection_category` (CQC's location type and primary inspection
category, from the API and the rating file). A record with `kind: "provider"` describes a
provider only (source, format, provider_cqc_id, provider_name, warnings) and holds no
assessment.

Readers never raise for a problem they can describe: they raise `RejectedFile` with a
one-line reason, and the CLI prints "<file>: <reason>". Whatever a reason or warning quotes
from a file (or a file's name) is passed through `one_line`, so it stays on one line.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from typing import Any

from ingest import reference as ref
from ingest.reference import normalise, normalise_postcode

Record = dict[str, Any]

# The `kind` of a record that describes a location and holds no assessment (an API record of a
# location with no published rating, such as one deregistered before it was rated).
LOCATION_KIND = "location"
PROVIDER_KIND = "provider"


class RejectedFile(Exception):
    """A file that cannot be read as any supported format; str() is the one-line reason
    (whatever it quotes from the file is escaped by `one_line`)."""

    def __str__(self) -> str:
        return one_line(super().__str__())


# What a message may not hold: control characters (line breaks and terminal escapes among
# them), Unicode's line and paragraph separators, bidirectional overrides and isolates (which
# reorder what a terminal or table shows) and lone surrogates (which cannot be written out).
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escaped(match: re.Match[str]) -> str:
    char = match[0]
    if char in _ESCAPES:
        return _ESCAPES[char]
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte of a file name that is not UTF-8 (surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: str) -> str:
    """`text` with line breaks and other control characters escaped as Python writes them
    ('\\n', '\\x1b', '\\u202e'): it prints on one line, moves no cursor and can be stored.

    A byte of a file name that is not UTF-8 (decoded by the file system as a lone surrogate)
    shows as '\\xff'.
    """
    if text.isprintable():  # the common case: nothing to escape (one pass in C)
        return text
    return _UNPRINTABLE.sub(_escaped, text)


@functools.lru_cache(maxsize=65536)  # the store asks for each record's ids several times
def _digest(*parts: str | None) -> str:
    return hashlib.sha1("|".join(p or "" for p in parts).encode()).hexdigest()[:12]


def location_id(record: Record) -> str:
    """CQC location id, else a stable id from the normalised name and postcode."""
    if record.get("location_cqc_id"):
        return record["location_cqc_id"]
    return derived_location_id(record)


def derived_location_id(record: Record) -> str:
    """The 'x-' id a location gets from its normalised name and postcode alone.

    The store keeps it as an alias of the CQC id of a location with the same name and
    postcode, so report text (which names no id) joins the location's other records.
    """
    postcode = normalise_postcode(record.get("postcode")) or ""
    return "x-" + _digest(normalise(record.get("location_name") or ""), postcode)


def provider_id(record: Record) -> str | None:
    """CQC provider id, else a stable id from the normalised provider name."""
    if record.get("provider_cqc_id"):
        return record["provider_cqc_id"]
    if not record.get("provider_name"):
        return None
    return "x-" + _digest(normalise(record["provider_name"]))


def assessment_id(record: Record, location: str) -> str:
    """Same location, assessment date and service group -> same assessment."""
    return "a-" + _digest(location, record["assessment_date"], record.get("service_group"))


def is_scored(record: Record) -> bool:
    """Whether any key question has statement scores or a stated percentage."""
    return any(kq["statements"] or kq.get("score") is not None for kq in record["key_questions"])


def is_publication_ratings(record: Record) -> bool:
    """A ratings-only record dated by its publication: the rating file's, or the API's legacy.

    Such a record may be a copy of a scored assessment published that day (the same report,
    read with scores and dated by its assessment); the store keeps the scored one only.
    """
    return (
        not is_scored(record)
        and record.get("service_group") is None
        and record.get("published_date") == record["assessment_date"]
    )


def content_hash(record: Record) -> str:
    """Hash of what the record says, ignoring where it was read from and its warnings."""
    return digests_of(record)[0]


# What a key question's hash leaves out of its record: where it was read from, its warnings,
# the other key questions, and the record's published date (the latest of its key
# questions', which differs between the pages of one report).
_NOT_IN_PARTS = ("source", "warnings", "key_questions", "published_date")


def digests_of(record: Record) -> tuple[str, tuple[str, ...]]:
    """(content_hash of the record, the hash of each of its key questions, in order).

    A key question's hash covers the key question and what its record says of the location
    and the assessment, so one page of a report loaded again is recognised as unchanged
    while another page of the same assessment is merged beside it (ingest.store).
    """
    body = {k: v for k, v in record.items() if k not in _NOT_IN_PARTS}
    identity = json.dumps(body, sort_keys=True)
    parts = tuple(
        hashlib.sha256((identity + json.dumps(kq, sort_keys=True)).encode()).hexdigest()
        for kq in record.get("key_questions", ())
    )
    whole = "|".join((identity, str(record.get("published_date")), *parts))
    return hashlib.sha256(whole.encode()).hexdigest(), parts


def mismatch_warning(key_question: str, stated: int, points: int, statements: int) -> str:
    """The warning for a stated percentage that is not the one the statement scores give."""
    computed = ref.rounded_percentage(points, statements)
    given = f"{points}/{4 * statements} = {computed}"
    return f"{key_question}: stated {stated} but statements give {given}"


def check_scores(section: dict, warnings: list[str]) -> None:
    """Fill a key question's computed percentage and warn where its figures do not add up.

    Every reader of statement scores calls this: the stated percentage against the one the
    scores give, the stated rating against their band, and more statements than the
    framework has. A key question without statement scores is left as it is.
    """
    scores = [s["score"] for s in section["statements"]]
    if not scores:
        return
    points, count = sum(scores), len(scores)
    name = section["name"]
    section["computed_score"] = ref.rounded_percentage(points, count)
    if section["score"] is not None and section["score"] != section["computed_score"]:
        warnings.append(mismatch_warning(name, section["score"], points, count))
    band = ref.rating_for(points, count)
    if section["rating"] is not None and section["rating"] != band:
        warnings.append(
            f"{name}: rated {section['rating']} but {points}/{4 * count} is in the {band} band"
        )
    if count > (framework := ref.STATEMENTS_PER_KEY_QUESTION[name]):
        warnings.append(f"{name}: {count} statements scored; the framework has {framework}")
