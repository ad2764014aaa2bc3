"""Chart builders the pages share. Every chart titles its axes, has tooltips, writes its values
or ratings in text as well as colour, and greys out figures flagged `low_n`."""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import polars as pl

from ingest.reference import RATINGS, STATEMENT_SCORING_START
from ui.theme import LOW_N_COLOUR, SCORE_COLOURS, SCORE_LABELS, rating_scale

BAR_COLOUR = "#4C78A8"
PEER_COLOUR = "#555555"
SCORE_SCALE = alt.Scale(domain=list(SCORE_LABELS.values()), range=list(SCORE_COLOURS.values()))


def tips(*fields: tuple[str, str] | tuple[str, str, str]) -> list[alt.Tooltip]:
    """Tooltips from (field, title[, format]) triples; types come from the data."""
    return [
        alt.Tooltip(f[0], title=f[1], **({"format": f[2]} if len(f) > 2 else {})) for f in fields
    ]


PEER_TIPS = (
    ("locations", "Locations (one current assessment each)"),
    ("peer_median", "Peer median", ".1f"),
    ("peer_p25", "Peer 25th percentile", ".1f"),
    ("peer_p75", "Peer 75th percentile", ".1f"),
    ("percentile_rank", "Percentile rank among peers", ".0f"),
    ("peers", "Peers (n)"),
)


def largest_series(frame: pl.DataFrame, weight: str, k: int) -> tuple[pl.DataFrame, int]:
    """The rows of the `k` values of `series` with the most `weight` in all (ties: by value), for
    a chart that cannot draw them all, and how many values there are."""
    sizes = frame.group_by("series").agg(pl.col(weight).sum())
    top = sizes.sort(weight, "series", descending=[True, False])["series"].head(k)
    return frame.filter(pl.col("series").is_in(top.implode())), sizes.height


def grey_low_n(colour: alt.Color | alt.ColorValue) -> alt.Color:
    """`colour`, except grey where the row is flagged low_n."""
    return alt.when(alt.datum.low_n).then(alt.value(LOW_N_COLOUR)).otherwise(colour)


def ranked_bars(
    frame: pl.DataFrame,
    *,
    label: str,
    value: str,
    text: str,
    title: str,
    tooltip: Sequence[alt.Tooltip],
    select: alt.Parameter | None = None,
    domain: tuple[float, float] = (0, 100),
) -> alt.LayerChart:
    """Horizontal bars in the frame's order, each labelled with `text`; clickable with `select`."""
    base = alt.Chart(frame).encode(
        y=alt.Y(f"{label}:N", title=None, sort=None, axis=alt.Axis(labelLimit=320)),
        x=alt.X(f"{value}:Q", title=title, scale=alt.Scale(domain=list(domain))),
        tooltip=list(tooltip),
    )
    bars = base.mark_bar(cursor="pointer").encode(color=grey_low_n(alt.value(BAR_COLOUR)))
    if select is not None:
        bars = bars.add_params(select)
    labels = base.mark_text(align="left", dx=4).encode(text=f"{text}:N")
    return (bars + labels).properties(height=alt.Step(24))


def beside_peers(
    frame: pl.DataFrame,
    *,
    item: str,
    value: str,
    title: str,
    domain: tuple[float, float],
    tooltip: Sequence[alt.Tooltip],
    colour: alt.Color | None = None,
    width: int = 300,
) -> alt.FacetChart:
    """Per provider panel: each item's value (dot, labelled) on its peers' quartile range (bar)
    and median (tick)."""
    x_scale = alt.Scale(domain=list(domain))
    base = alt.Chart().encode(
        y=alt.Y(f"{item}:N", title=None, sort=None, axis=alt.Axis(labelLimit=280)),
        tooltip=list(tooltip),
    )
    quartiles = base.mark_rule(strokeWidth=10, opacity=0.3, color=PEER_COLOUR).encode(
        x=alt.X("peer_p25:Q", title=title, scale=x_scale), x2="peer_p75:Q"
    )
    median = base.mark_tick(color=PEER_COLOUR, thickness=2, size=18).encode(x="peer_median:Q")
    dot = base.mark_point(filled=True, size=90, opacity=1).encode(
        x=f"{value}:Q", color=grey_low_n(colour or alt.value(BAR_COLOUR))
    )
    text = base.mark_text(dy=-11, fontSize=11).encode(
        x=f"{value}:Q", text=alt.Text(f"{value}:Q", format=".3~r")
    )
    panel = alt.layer(quartiles, median, dot, text, data=frame).properties(
        width=width, height=alt.Step(30)
    )
    return panel.facet(facet=alt.Facet("provider_label:N", title=None), columns=2)


def era_rule() -> alt.LayerChart:
    """A dashed line where CQC began scoring statements directly, named in text."""
    at = pl.DataFrame({"period_start": [STATEMENT_SCORING_START], "note": ["scored by statement"]})
    base = alt.Chart(at).encode(x="period_start:T")
    rule = base.mark_rule(strokeDash=[4, 4], color="#777")
    return rule + base.mark_text(align="left", dx=4, dy=-6, color="#555", y=0).encode(text="note:N")


def trend_lines(
    frame: pl.DataFrame,
    *,
    value: str,
    series: str,
    series_title: str,
    title: str,
    domain: tuple[float, float],
    tooltip: Sequence[alt.Tooltip],
    select: alt.Parameter | None = None,
    peers: pl.DataFrame | None = None,
) -> alt.LayerChart:
    """One line per `series` over period_start; grey points rest on few assessments; optional
    peer median (dashed) and quartile band, and the era boundary when it falls in range."""
    x = alt.X("period_start:T", title="Period starting", axis=alt.Axis(format="%b %Y"))
    y_scale = alt.Scale(domain=list(domain), zero=False)
    y = alt.Y(f"{value}:Q", title=title, scale=y_scale)
    colour = alt.Color(f"{series}:N", title=series_title, legend=alt.Legend(labelLimit=260))
    lines = alt.Chart(frame).mark_line().encode(x=x, y=y, color=colour)
    points = alt.Chart(frame).mark_point(filled=True, size=70, cursor="pointer")
    points = points.encode(x=x, y=y, color=grey_low_n(colour), tooltip=list(tooltip))
    if select is not None:
        points = points.add_params(select)
    layers: list[alt.Chart | alt.LayerChart] = []
    if peers is not None and peers.height:
        band = alt.Chart(peers).encode(x=x, tooltip=_peer_tooltip())
        layers += [
            band.mark_area(opacity=0.15, color=PEER_COLOUR).encode(
                y=alt.Y("peer_p25:Q", scale=y_scale), y2="peer_p75:Q"
            ),
            band.mark_line(strokeDash=[6, 3], color=PEER_COLOUR).encode(
                y=alt.Y("peer_median:Q", scale=y_scale)
            ),
        ]
    layers += [lines, points]
    dates = frame["period_start"]
    if dates.len() and dates.min() <= STATEMENT_SCORING_START <= dates.max():
        layers.append(era_rule())
    return alt.layer(*layers).properties(height=360)


def _peer_tooltip() -> list[alt.Tooltip]:
    return [
        alt.Tooltip("period_start:T", title="Period starting"),
        alt.Tooltip("peer_median:Q", title="Peer median", format=".1f"),
        alt.Tooltip("peer_p25:Q", title="Peer 25th percentile", format=".1f"),
        alt.Tooltip("peer_p75:Q", title="Peer 75th percentile", format=".1f"),
        alt.Tooltip("n:Q", title="Peer assessments (n)", format=","),
    ]


def transition_matrix(
    frame: pl.DataFrame, *, facet: str | None = None, facet_title: str | None = None
) -> alt.LayerChart | alt.FacetChart:
    """Ratings before (rows) against after (columns): count and share written in each cell;
    one panel per value of `facet` when given."""
    order = list(RATINGS)
    base = alt.Chart().encode(
        x=alt.X(
            "to_rating:N",
            title="Rating at the later assessment",
            sort=order,
            scale=alt.Scale(domain=order),
            axis=alt.Axis(
                labelAngle=0,
                labelOverlap=False,
                labelFlush=False,
                labelExpr=f"datum.label == '{RATINGS[1]}' ? split(datum.label, ' ') : datum.label",
            ),
        ),
        y=alt.Y(
            "from_rating:N",
            title="Earlier rating" if facet else "Rating at the earlier assessment",
            sort=order,
            scale=alt.Scale(domain=order),
            axis=alt.Axis(labelLimit=200),
        ),
        tooltip=[
            alt.Tooltip("from_rating:N", title="From"),
            alt.Tooltip("to_rating:N", title="To"),
            alt.Tooltip("count:Q", title="Locations", format=","),
            alt.Tooltip("share:Q", title="Share of rated pairs", format=".1%"),
            alt.Tooltip("n:Q", title="Rated pairs (n)", format=","),
        ],
    )
    cells = base.mark_rect().encode(
        color=grey_low_n(alt.Color("count:Q", title="Locations", scale=alt.Scale(scheme="blues")))
    )
    text = (
        base.transform_calculate(label="datum.count + ' (' + format(datum.share, '.0%') + ')'")
        .mark_text(fontSize=12)
        .encode(
            text="label:N",
            color=alt.when(alt.datum.share > 0.3)
            .then(alt.value("white"))
            .otherwise(alt.value("black")),
        )
    )
    matrix = alt.layer(cells, text, data=frame)
    if facet is None:
        return matrix.properties(height=alt.Step(44), width=alt.Step(120))
    panel = matrix.properties(height=alt.Step(34), width=alt.Step(84))  # two panels a row
    return panel.facet(facet=alt.Facet(f"{facet}:N", title=facet_title), columns=2)


def score_stack(frame: pl.DataFrame, order: Sequence[str]) -> alt.LayerChart:
    """Each statement's scores 1-4 as shares of one bar, statements in `order`, with the share
    scoring 1-2 written at the end of the bar."""
    y = alt.Y("label:N", title=None, sort=list(order),
              axis=alt.Axis(labelLimit=360, labelOverlap=False))  # fmt: skip
    bars = (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            y=y,
            x=alt.X("sum(share):Q", title="Share of statement scores",
                    axis=alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75, 1]),
                    scale=alt.Scale(domain=[0, 1.12])),
            color=alt.Color("score_label:N", title="Score", scale=SCORE_SCALE,
                            legend=alt.Legend(orient="top", columns=2)),
            order=alt.Order("score:Q"),
            tooltip=[
                alt.Tooltip("label:N", title="Statement"),
                alt.Tooltip("score_label:N", title="Score"),
                alt.Tooltip("count:Q", title="Scores", format=","),
                alt.Tooltip("share:Q", title="Share", format=".1%"),
                alt.Tooltip("rows:Q", title="Statement scores (n)", format=","),
            ],
        )
    )  # fmt: skip
    low = frame.filter(pl.col("score") <= 2).group_by("label").agg(low=pl.col("share").sum())
    low = frame.select("label").unique().join(low, on="label", how="left").fill_null(0)
    text = (
        alt.Chart(low)
        .mark_text(align="left", dx=4)
        .encode(y=y, x=alt.datum(1), text=alt.Text("low:Q", format=".0%"))
    )
    return (bars + text).properties(height=alt.Step(20))


def heatmap(
    frame: pl.DataFrame,
    *,
    column: str,
    column_title: str,
    metric: str,
    order: Sequence[str],
    select: alt.Parameter | None = None,
) -> alt.LayerChart:
    """Statements (rows, in `order`) against groups (columns), the metric written in each cell."""
    share = metric == "low_share"
    scale = (
        alt.Scale(scheme="oranges", domain=[0, 1])
        if share
        else alt.Scale(domain=[1, 2.5, 4], range=[SCORE_COLOURS[1], "#F7F7F7", SCORE_COLOURS[4]])
    )
    title = "Share scoring 1-2" if share else "Mean score (1-4)"
    base = alt.Chart(frame).encode(
        x=alt.X(
            f"{column}:N",
            title=column_title,
            axis=alt.Axis(labelAngle=-45, labelLimit=180, labelOverlap=False),
        ),
        y=alt.Y(
            "label:N",
            title=None,
            sort=list(order),
            axis=alt.Axis(labelLimit=360, labelOverlap=False),
        ),
        tooltip=[
            alt.Tooltip(f"{column}:N", title=column_title),
            alt.Tooltip("label:N", title="Statement"),
            alt.Tooltip("low_share:Q", title="Share scoring 1-2", format=".0%"),
            alt.Tooltip("mean_score:Q", title="Mean score", format=".2f"),
            alt.Tooltip("n:Q", title="Assessments scoring it (n)", format=","),
        ],
    )
    cells = base.mark_rect(cursor="pointer").encode(
        color=grey_low_n(alt.Color(f"{metric}:Q", title=title, scale=scale))
    )
    if select is not None:
        cells = cells.add_params(select)
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text(f"{metric}:Q", format=".0%" if share else ".1f")
    )
    return (cells + text).properties(height=alt.Step(20), width=alt.Step(40))


RATING_COLOUR = alt.Color("band:N", title="Rating", scale=rating_scale(), sort=list(RATINGS))


DIRECTION_SCALE = alt.Scale(
    domain=["declined", "unchanged", "improved"],
    range=[SCORE_COLOURS[1], "#999999", SCORE_COLOURS[4]],
)


def change_histogram(frame: pl.DataFrame, *, step: float) -> alt.Chart:
    """Counts of changes in bins [change_from, change_to), coloured and named by direction."""
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X("change_from:Q", bin="binned", title="Change (later minus earlier)",
                    axis=alt.Axis(tickMinStep=step)),
            x2="change_to:Q",
            y=alt.Y("sum(count):Q", title="Locations re-assessed"),
            color=alt.Color("direction:N", title="Direction", scale=DIRECTION_SCALE),
            tooltip=tips(("change_from", "Change from"), ("change_to", "to (not incl.)"),
                         ("direction", "Direction"), ("count", "Locations")),
        )
        .properties(height=260)
    )  # fmt: skip


DIRECTION_MARK = {"declined": "↓", "unchanged": "=", "improved": "↑"}


def direction_bars(frame: pl.DataFrame, *, series: str, series_title: str) -> alt.LayerChart:
    """One bar per `series` (a changes.change_counts frame): its declined, unchanged and improved
    shares of n, each segment labelled with its arrow and count; faded where low_n."""
    directions = list(DIRECTION_MARK)
    long = frame.unpivot(directions, index=[series, "n", "mean_change", "low_n"],
                         variable_name="direction", value_name="count").with_columns(
        share=pl.col("count") / pl.col("n"),
        rank=pl.col("direction").replace_strict({d: i for i, d in enumerate(directions)}),
        label=pl.col("direction").replace_strict(DIRECTION_MARK) + pl.col("count").cast(pl.String),
    )  # fmt: skip
    y = alt.Y(f"{series}:N", title=series_title, sort=list(frame[series]),
              axis=alt.Axis(labelLimit=260))  # fmt: skip
    x = alt.X("share:Q", title="Share of re-assessments", stack="zero",
              axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1]))  # fmt: skip
    base = alt.Chart(long).encode(y=y, x=x, order=alt.Order("rank:Q"))
    bars = base.mark_bar().encode(
        color=alt.Color("direction:N", title="Direction", scale=DIRECTION_SCALE),
        opacity=alt.when(alt.datum.low_n).then(alt.value(0.4)).otherwise(alt.value(1.0)),
        tooltip=tips((series, series_title), ("direction", "Direction"), ("count", "Pairs"),
                     ("share", "Share", ".0%"), ("n", "Re-assessments (n)"),
                     ("mean_change", "Mean change", "+.2f")),
    )  # fmt: skip
    text = base.transform_filter(alt.datum.count > 0).mark_text(align="right", dx=-3)
    return (bars + text.encode(text="label:N", detail="direction:N")).properties(
        height=alt.Step(26)
    )
