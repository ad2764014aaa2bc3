"""The Location page's pieces: the picker's labels, how each rating follows, and the evidence.

The rows come from queries.locations (search, key questions with their bands, history).

The arithmetic of a key question, with n statements scored and p points (their sum):
    exact percentage = 100 x p / (4 x n), banded on the exact fraction (reference.rating_for)
    published percentage = the source's figure, else p / 4n rounded half-up
    distance to the next band = queries.bands.band_table (points_to_next_band, points_to_spare)
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from ingest.database import DatabaseBusy
from ingest.reference import RATINGS, STATEMENTS_BY_ID, percentage
from ui import db, session
from ui.app_data import AppData
from ui.links import report_page

# The picker offers this many matches: enough to choose from, never the whole country.
SEARCH_LIMIT = 50
# Brings the focused statement (its expander, keyed session.LOCATION_FOCUS) into view. It
# tries for two seconds, as charts above it take their height, and stops at once when the
# reader scrolls, types or clicks. A constant: no text of the data is ever in it.
_SCROLL_SCRIPT = """<script>
(() => {
  let tries = 0, stopped = false;
  const stop = () => { stopped = true; };
  for (const event of ["wheel", "touchmove", "keydown", "mousedown"]) {
    document.addEventListener(event, stop, { once: true, passive: true });
  }
  const scroll = () => {
    if (stopped) return;
    const target = document.querySelector(".st-key-FOCUS_KEY");
    if (target) target.scrollIntoView({ block: "center" });
    if (++tries < 20) setTimeout(scroll, 100);
  };
  scroll();
})();
</script>""".replace("FOCUS_KEY", session.LOCATION_FOCUS)


def label(locations: pl.DataFrame) -> dict[str, str]:
    """Location id -> 'Name · postcode · id' for the picker."""
    return {
        lid: " · ".join(str(v) for v in (name, postcode, lid) if v)
        for lid, name, postcode in locations.select(
            "location_id", "location_name", "postcode"
        ).iter_rows()
    }


def working(row: dict) -> list[str]:
    """How a key question's rating follows from its scores, one Markdown sentence a line.

    `row` is a row of queries.locations.location_key_questions.
    """
    rating, n, p = row["key_question_rating"], row["statements_scored"], row["points"]
    if not n or p is None:
        if rating is None and (judgement := row.get("judgement")):
            return [f"Not rated: CQC does not rate this service. Its judgement: {judgement}."]
        return [f"Rated {rating or 'not rated'}; no statement scores (ratings only)."]
    band = row["band"]
    lines = [
        f"Score: {p} points of {4 * n} ({n} statements × 4) = {percentage(p, n):.1f}% → "
        f"band **{band}**."
    ]
    stated, computed = row["stated_score"], row["computed_score"]
    if stated is None:
        lines.append(f"Published percentage: none stated; computed {computed}% (half-up).")
    elif stated == computed:
        lines.append(f"Published {stated}%, the same as computed from the scores.")
    else:
        lines.append(f"Published {stated}%, but the scores give {computed}%: the report differs.")
    if row.get("by_judgement"):
        lines.append(
            f"Rated **{rating}**, not the band of its scores ({band}): the rating was set by "
            "judgement, so no distance to another band applies."
        )
        return lines
    if row["next_band"] is not None:
        up = row["points_to_next_band"]
        lines.append(f"Next band: {row['next_band']} with {up} more point{'s' * (up != 1)}.")
    else:
        lines.append(
            "Top band: Outstanding." if band == RATINGS[-1] else "No higher band within reach."
        )
    spare, below = row["points_to_spare"], RATINGS.index(band) - 1
    if below >= 0 and p - spare - 1 >= n:
        lines.append(
            f"Drops to {RATINGS[below]} after losing {spare + 1} point{'s' * (spare != 0)}."
        )
    return lines


def evidence(data: AppData, location_id: str) -> pl.DataFrame | None:
    """The location's statement evidence (see db.location_evidence), once per data version.

    None while a writer holds the database.
    """
    try:
        return data.read(db.location_evidence, location_id)
    except DatabaseBusy:
        return None


def report_links(data: AppData, location_id: str) -> dict[str, str]:
    """Assessment id -> the address of its report on CQC's website, where its source named
    one (db.assessment_reports). Empty for demo data (its services are fictional) and while a
    writer holds the database."""
    if data.demo:
        return {}
    try:
        stored = data.read(db.assessment_reports, location_id)
    except DatabaseBusy:
        return {}
    pages = ((aid, report_page(url)) for aid, url in stored.iter_rows())
    return {aid: url for aid, url in pages if url}


def focused_statement(param: str | None) -> str | None:
    """The name of the statement a LOCATION_STATEMENT URL parameter names (an id 1-34, or a
    name as stored for a statement without one); None for none."""
    if not param:
        return None
    if param.isdigit() and int(param) in STATEMENTS_BY_ID:
        return STATEMENTS_BY_ID[int(param)].name
    return param


def scroll_to_focus() -> None:
    """Scroll the page to the focused statement's expander once it is drawn."""
    st.html(_SCROLL_SCRIPT, unsafe_allow_javascript=True)
