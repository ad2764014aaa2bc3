"""Every table and view of the database, with each column documented in one place.

The loader, the app, the tests and the README's data contract all read from here.
Identifiers: `location_id` / `provider_id` are the CQC id ("1-" + digits) when a source gives
one, else a stable derived id ("x-" + 12 hex digits of a hash of the normalised name and,
for locations, postcode). `assessment_id` is derived from location and assessment date (and
service group, for API records that carry several), so a later version of the same
assessment replaces the earlier one.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

# (table, column, type, description) in creation order.
COLUMNS: dict[str, list[tuple[str, str, str]]] = {
    "quality_statements": [
        (
            "statement_id",
            "INTEGER PRIMARY KEY",
            "Stable id 1-34 of the quality statement",
        ),
        (
            "key_question",
            "VARCHAR NOT NULL",
            "Safe, Effective, Caring, Responsive or Well-led",
        ),
        ("statement", "VARCHAR NOT NULL", "Canonical statement name"),
    ],
    "providers": [
        ("provider_id", "VARCHAR PRIMARY KEY", "CQC provider id, or derived 'x-' id"),
        ("cqc_provider_id", "VARCHAR", "CQC provider id when a source gave one"),
        ("provider_name", "VARCHAR NOT NULL", "Provider name as published"),
        ("source", "VARCHAR NOT NULL", "Source that last described the provider"),
    ],
    "locations": [
        ("location_id", "VARCHAR PRIMARY KEY", "CQC location id, or derived 'x-' id"),
        ("cqc_location_id", "VARCHAR", "CQC location id when a source gave one"),
        ("location_name", "VARCHAR NOT NULL", "Location name as published"),
        ("provider_id", "VARCHAR", "Provider running the location"),
        ("address", "VARCHAR", "Postal address without postcode"),
        ("postcode", "VARCHAR", "Normalised postcode ('CV34 5AH')"),
        ("phone", "VARCHAR", "Public telephone number of the service"),
        ("service_types", "VARCHAR[]", "Every service type listed, broadest first"),
        ("service_type", "VARCHAR", "Most specific service type listed"),
        ("service_type_source", "VARCHAR", "Source the service type came from"),
        ("region", "VARCHAR", "One of CQC's 9 regions"),
        (
            "region_source",
            "VARCHAR",
            "'derived' (from postcode area) or the stating source",
        ),
        ("local_authority", "VARCHAR", "Local authority when a source states it"),
        ("local_authority_source", "VARCHAR", "Source the local authority came from"),
        ("overall_rating", "VARCHAR", "Latest overall rating stated by a source"),
        ("source", "VARCHAR NOT NULL", "Source that last described the location"),
        ("location_type", "VARCHAR", "CQC location type ('Social Care Org', ...)"),
        (
            "inspection_category",
            "VARCHAR",
            "CQC primary inspection category ('Residential social care', ...)",
        ),
        (
            "service_type_label",
            "VARCHAR",
            "The service type as its source labelled it ('Nursing homes'), beside the"
            " registered type in service_type",
        ),
        ("registration_status", "VARCHAR", "'Registered' or 'Deregistered', as a source states"),
        ("registration_date", "DATE", "Date the location was registered with CQC"),
        ("deregistration_date", "DATE", "Date the location was deregistered, if it was"),
        ("icb_code", "VARCHAR", "Integrated care board code of the postcode (ONSPD)"),
        ("icb_name", "VARCHAR", "Integrated care board of the postcode (ONSPD)"),
        ("latitude", "DOUBLE", "Latitude of the postcode (ONSPD)"),
        ("longitude", "DOUBLE", "Longitude of the postcode (ONSPD)"),
    ],
    "location_aliases": [
        (
            "alias_id",
            "VARCHAR PRIMARY KEY",
            "Derived 'x-' id (normalised name and postcode) of a location with a CQC id",
        ),
        ("location_id", "VARCHAR NOT NULL", "CQC location id the alias stands for"),
        ("source", "VARCHAR NOT NULL", "Source that named the CQC id"),
        ("linked_at", "TIMESTAMP NOT NULL", "When the alias was last set"),
    ],
    "assessments": [
        ("assessment_id", "VARCHAR PRIMARY KEY", "Derived id of the assessment"),
        ("location_id", "VARCHAR NOT NULL", "Location assessed"),
        (
            "assessment_date",
            "DATE NOT NULL",
            "Date of the assessment ('Report from ...')",
        ),
        ("published_date", "DATE", "Latest 'Updated' date of its key questions"),
        (
            "era",
            "VARCHAR NOT NULL",
            "pre-SAF, SAF by evidence category, SAF by statement",
        ),
        ("overall_rating", "VARCHAR", "Overall rating stated with the assessment"),
        ("service_group", "VARCHAR", "Assessment service group (API records)"),
        ("source", "VARCHAR NOT NULL", "report-text, api-json or rating-file"),
        ("source_file", "VARCHAR", "File (or URL) the assessment was read from"),
        (
            "content_hash",
            "VARCHAR NOT NULL",
            "Hash of the parsed content; detects new versions",
        ),
        ("loaded_at", "TIMESTAMP NOT NULL", "When this version was loaded"),
        (
            "report_url",
            "VARCHAR",
            "Address of the assessment's report on CQC's website where the source names it"
            " (API records: a SAF assessment's plan, a legacy report's link); null otherwise",
        ),
    ],
    "key_question_results": [
        ("assessment_id", "VARCHAR NOT NULL", "Assessment the result belongs to"),
        ("key_question", "VARCHAR NOT NULL", "Canonical key question name"),
        ("rating", "VARCHAR", "Rating stated for the key question"),
        ("published_date", "DATE", "'Updated' date of the key question"),
        ("stated_score", "INTEGER", "Percentage stated by the source (0-100)"),
        (
            "computed_score",
            "INTEGER",
            "Percentage computed from statement scores (half-up)",
        ),
        ("points", "INTEGER", "Sum of the statement scores"),
        ("statements_scored", "INTEGER", "Number of statements scored"),
        (
            "status",
            "VARCHAR",
            "'assessed' (judged in this assessment) or 'carried forward' (from an earlier"
            " rating); null where the source does not say",
        ),
        (
            "judgement",
            "VARCHAR",
            "'Regulations met' or 'Not all regulations met' for a service CQC does not rate"
            " (no rating, no percentage)",
        ),
        (
            "source_file",
            "VARCHAR",
            "File the key question was read from (the pages of one report may be several)",
        ),
        ("content_hash", "VARCHAR", "Hash of the key question as parsed; detects new versions"),
    ],
    "statement_scores": [
        ("assessment_id", "VARCHAR NOT NULL", "Assessment the score belongs to"),
        ("key_question", "VARCHAR NOT NULL", "Key question the statement sits under"),
        (
            "position",
            "INTEGER NOT NULL",
            "Order of the statement within the key question",
        ),
        (
            "statement_id",
            "INTEGER",
            "Statement id 1-34, null when the name is not known",
        ),
        (
            "statement",
            "VARCHAR NOT NULL",
            "Canonical name, or the name as published if unknown",
        ),
        ("score", "INTEGER NOT NULL", "Score 1-4"),
        ("evidence", "VARCHAR", "Narrative evidence text for the score"),
        (
            "status",
            "VARCHAR",
            "'assessed' or 'carried forward' (a score from an earlier rating, not a judgement"
            " of this assessment); null where the source does not say",
        ),
    ],
    "ingest_log": [
        (
            "log_id",
            "BIGINT DEFAULT nextval('ingest_log_seq') PRIMARY KEY",
            "Order of the entry",
        ),
        ("logged_at", "TIMESTAMP NOT NULL", "When the file was processed"),
        ("file", "VARCHAR NOT NULL", "Path of the file as given"),
        (
            "format",
            "VARCHAR",
            "Format recognised (report-text, api-json, rating-file, ...)",
        ),
        ("content_hash", "VARCHAR", "Hash of the file's bytes"),
        ("action", "VARCHAR NOT NULL", "loaded, unchanged, replaced or rejected"),
        ("assessment_id", "VARCHAR", "Assessment loaded, unchanged or replaced"),
        ("message", "VARCHAR", "Rejection reason or a description of the change"),
        ("warnings", "VARCHAR[]", "Warnings recorded while reading the file"),
    ],
    "meta": [
        (
            "key",
            "VARCHAR PRIMARY KEY",
            "Setting name: schema_version, schema_hash (of the DDL the file was last set up"
            " with), demo, last_sync (ISO time an API sync is complete to), sync_state (JSON"
            " progress of an unfinished API sync)",
        ),
        ("value", "VARCHAR", "Setting value"),
    ],
    # The search index of the evidence text (ingest.search_index keeps it in step with the
    # scores, in each file's transaction, its version in meta key search_index;
    # queries.search says how text is read into words).
    "search_terms": [
        ("term_id", "UINTEGER NOT NULL", "Id of the word in the index"),
        (
            "term",
            "VARCHAR NOT NULL",
            "A word of evidence text as search reads it: lower case, no accents, a-z and 0-9",
        ),
    ],
    "search_documents": [
        ("doc_id", "UINTEGER NOT NULL", "Id of one statement's evidence in the index"),
        ("assessment_id", "VARCHAR NOT NULL", "Assessment of the statement"),
        ("key_question", "VARCHAR NOT NULL", "Key question of the statement"),
        ("statement", "VARCHAR NOT NULL", "Statement name, as in statement_scores"),
    ],
    "search_postings": [
        ("term_id", "UINTEGER NOT NULL", "A word (search_terms) the evidence holds"),
        ("doc_id", "UINTEGER NOT NULL", "The statement (search_documents) whose evidence holds it"),
    ],
    "search_key_questions": [
        ("assessment_id", "VARCHAR NOT NULL", "An assessment whose evidence the index holds"),
        ("key_question", "VARCHAR NOT NULL", "One of its key questions"),
        ("location_id", "VARCHAR", "The assessment's location when indexed"),
        ("first_doc", "UINTEGER", "First of its documents (consecutive ids; null: none)"),
        ("last_doc", "UINTEGER", "Last of its documents"),
    ],
}

_FLAT_SELECT = """
    SELECT l.location_id, l.location_name, l.provider_id, p.provider_name, l.service_type,
           l.region, l.local_authority, l.postcode, a.assessment_id, a.assessment_date,
           COALESCE(k.published_date, a.published_date) AS published_date, a.era,
           k.key_question, k.rating AS key_question_rating,
           COALESCE(k.stated_score, k.computed_score) AS key_question_score,
           {extra}
           a.source, a.service_group, l.registration_status, l.icb_name{tail}
    FROM assessments a
    JOIN locations l USING (location_id)
    LEFT JOIN providers p ON p.provider_id = l.provider_id
    JOIN key_question_results k USING (assessment_id)
"""

VIEWS: dict[str, str] = {
    # One row per scored statement: the table every score page reads.
    "scores": _FLAT_SELECT.format(
        extra="s.statement_id, s.statement, s.score, s.evidence,",
        tail=", s.status AS statement_status",
    )
    + " JOIN statement_scores s ON s.assessment_id = k.assessment_id"
    " AND s.key_question = k.key_question",
    # One row per rated key question (scored or ratings-only): rating shares and percentages.
    "key_questions": _FLAT_SELECT.format(
        extra="k.stated_score, k.computed_score, k.points, k.statements_scored,",
        tail=", k.status AS statement_status, k.judgement",
    ),
}

VIEW_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "scores": [
        ("location_id", "Location id (CQC or derived)"),
        ("location_name", "Location name"),
        ("provider_id", "Provider id (CQC or derived)"),
        ("provider_name", "Provider name"),
        ("service_type", "Most specific service type of the location"),
        ("region", "CQC region (stated, or derived from the postcode area)"),
        ("local_authority", "Local authority, when a source states it"),
        ("postcode", "Postcode"),
        ("assessment_id", "Assessment id"),
        ("assessment_date", "Date of the assessment"),
        ("published_date", "Date the key question was last updated"),
        ("era", "How scores were arrived at: SAF by evidence category / by statement"),
        ("key_question", "Safe, Effective, Caring, Responsive or Well-led"),
        ("key_question_rating", "Rating of the key question"),
        ("key_question_score", "Key question percentage: stated, else computed"),
        ("statement_id", "Statement id 1-34 (null if not recognised)"),
        ("statement", "Statement name"),
        ("score", "Statement score 1-4"),
        ("evidence", "Evidence text for the score"),
        ("source", "report-text, api-json or rating-file"),
        ("service_group", "Assessment service group the rating belongs to (null: none named)"),
        ("registration_status", "'Registered' or 'Deregistered' (null: no source says)"),
        ("icb_name", "Integrated care board of the location's postcode (null: not stated)"),
        (
            "statement_status",
            "'assessed' or 'carried forward' from an earlier rating (null: not stated)",
        ),
    ],
}


_IDENTITY = (
    "location_id",
    "location_name",
    "provider_id",
    "provider_name",
    "service_type",
    "region",
    "local_authority",
    "postcode",
    "assessment_id",
    "assessment_date",
    "published_date",
    "era",
    "key_question",
    "key_question_rating",
    "key_question_score",
)
_SCORE_DESCRIPTIONS = dict(VIEW_COLUMNS["scores"])
VIEW_COLUMNS["key_questions"] = [
    *((c, _SCORE_DESCRIPTIONS[c]) for c in _IDENTITY),
    ("stated_score", "Percentage stated by the source (null: none stated)"),
    ("computed_score", "Percentage computed from the statement scores, half-up"),
    ("points", "Sum of the statement scores (null: ratings only)"),
    ("statements_scored", "Number of statements scored (null: ratings only)"),
    ("source", _SCORE_DESCRIPTIONS["source"]),
    ("service_group", _SCORE_DESCRIPTIONS["service_group"]),
    ("registration_status", _SCORE_DESCRIPTIONS["registration_status"]),
    ("icb_name", _SCORE_DESCRIPTIONS["icb_name"]),
    (
        "statement_status",
        "'assessed' or 'carried forward': whether the key question was judged in this"
        " assessment (null: not stated)",
    ),
    ("judgement", "'Regulations met' / 'Not all regulations met' where CQC does not rate"),
]


def ddl() -> list[str]:
    """CREATE statements for every table and view, in dependency order."""
    tables = [
        f"CREATE TABLE IF NOT EXISTS {name} ("
        + ", ".join(f"{col} {typ}" for col, typ, _ in cols)
        + ")"
        for name, cols in COLUMNS.items()
    ]
    sequences = ["CREATE SEQUENCE IF NOT EXISTS ingest_log_seq"]
    # A database made before a column existed gains it (new columns only ever go last).
    columns = [
        f"ALTER TABLE {name} ADD COLUMN IF NOT EXISTS {col} {typ}"
        for name, cols in COLUMNS.items()
        for col, typ, _ in cols
        if "PRIMARY KEY" not in typ and "NOT NULL" not in typ
    ]
    views = [f"CREATE OR REPLACE VIEW {name} AS {sql}" for name, sql in VIEWS.items()]
    return sequences + tables + columns + views
