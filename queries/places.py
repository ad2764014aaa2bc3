"""Where the selected locations are: their current key question with the coordinates of their
postcode, for the map.

A location's coordinates are those its sources gave (the CQC API's `onspdLatitude` and
`onspdLongitude`, ONSPD's for its postcode, in the `locations` table); null where none did
(report text and the rating file give none). The rows are the current picture of one key
question: the rated one (its latest rating, from any source) or, `scored`, the scored one (its
latest percentage), with the sidebar's filters applied as every current picture applies them.
A location CQC rated in two assessment service groups has a row for each.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from queries.current import selected
from queries.filters import ALL, Filters

PLACE_COLUMNS = (
    "location_id",
    "location_name",
    "provider_name",
    "service_type",
    "region",
    "local_authority",
    "icb_name",
    "service_group",
    "assessment_date",
    "key_question",
    "key_question_rating",
    "key_question_score",
)


def location_places(
    key_questions: pl.LazyFrame,
    locations: pl.LazyFrame,
    *,
    key_question: str,
    filters: Filters = ALL,
    scored: bool = False,
) -> pl.DataFrame:
    """Each selected location's current `key_question` (`scored`: its percentage), where it is.

    Columns: location_id, location_name, provider_name, service_type, region,
    local_authority, icb_name, service_group, assessment_date, key_question,
    key_question_rating, key_question_score, latitude, longitude (null: not known).
    Rows with a rating (`scored`: a percentage), by location name and id, then service group.
    """
    value = "key_question_score" if scored else "key_question_rating"
    where = locations.select(pl.col("location_id").cast(pl.Categorical), "latitude", "longitude")
    return (
        selected(
            key_questions,
            replace(filters, key_questions=(key_question,)),
            latest=True,
            scored=scored,
        )
        .filter(pl.col(value).is_not_null())
        .select(*PLACE_COLUMNS)
        .join(where, on="location_id", how="left")
        .sort("location_name", "location_id", "service_group", nulls_last=True)
        .collect()
    )
