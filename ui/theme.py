"""One rating palette and chart defaults, used by every chart in the app."""

from __future__ import annotations

import altair as alt

from ingest.reference import RATINGS

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies. Charts also
# write the rating in text (labels, legends, tooltips): colour is never the only cue.
RATING_COLOURS: dict[str, str] = {
    "Inadequate": "#D55E00",
    "Requires improvement": "#E69F00",
    "Good": "#009E73",
    "Outstanding": "#0072B2",
}
LOW_N_COLOUR = "#BBBBBB"
SCORE_COLOURS: dict[int, str] = {1: "#D55E00", 2: "#E69F00", 3: "#009E73", 4: "#0072B2"}
SCORE_LABELS: dict[int, str] = {
    1: "1 significant shortfalls",
    2: "2 some shortfalls",
    3: "3 good standard",
    4: "4 exceptional standard",
}


def rating_scale() -> alt.Scale:
    return alt.Scale(domain=list(RATINGS), range=[RATING_COLOURS[r] for r in RATINGS])


def score_scale() -> alt.Scale:
    return alt.Scale(domain=[1, 2, 3, 4], range=list(SCORE_COLOURS.values()))
