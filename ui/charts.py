"""Chart builders the pages share. Every chart titles its axes, has tooltips, writes its values
or ratings in text as well as colour, and greys out figures flagged `low_n`.

Building an Altair chart and checking it against the Vega-Lite schema takes tens of
milliseconds a chart, and a filter change would pay it for every chart on the page. So each
builder makes its chart's spec once per shape (fields, titles, column types; cached) with
named placeholders for its data, and returns a `Figure`: that spec and this run's frames.
`show` fills the placeholders and draws it with st.vega_lite_chart: the spec st.altair_chart
would send, selections included, without rebuilding it.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt
import polars as pl
import pyarrow as pa
import streamlit as st

from ingest.reference import RATINGS, STATEMENT_SCORING_START
from ui.theme import LOW_N_COLOUR, SCORE_COLOURS, SCORE_LABELS, rating_scale

BAR_COLOUR = "#4C78A8"
PEER_COLOUR = "#555555"
SCORE_SCALE = alt.Scale(domain=list(SCORE_LABELS.values()), range=list(SCORE_COLOURS.values()))
SPECS_KEPT = 256  # chart shapes remembered per builder

# (field, title[, format]) per tooltip; the type comes from the field's column.
Tips = tuple[tuple[str, ...], ...]
# (column, Vega-Lite type) of a frame, as Altair would infer them.
Types = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Figure:
    """A chart to `show`: a cached Vega-Lite spec whose data are named slots, and the frames
    that fill them. The spec is shared between reruns: never change it."""

    spec: Mapping[str, Any]
    data: Mapping[str, pl.DataFrame]


@dataclass(frozen=True)
class Pick:
    """A click selection `name` of the clicked mark's `field` (Streamlit reports the clicked
    points under `name`)."""

    name: str
    field: str

    def param(self) -> alt.Parameter:
        return alt.selection_point(name=self.name, fields=[self.field])


def show(figure: Figure, **options: Any) -> Any:
    """Draw `figure` (options as for st.altair_chart: width, key, on_select, selection_mode).

    Each frame is named by its content, as st.altair_chart names it, so a chart whose data
    did not change sends the same message.
    """
    tables = {slot: frame.to_arrow() for slot, frame in figure.data.items()}
    names = {slot: _content_name(table) for slot, table in tables.items()}
    spec = _with_names(figure.spec, names)
    spec["datasets"] = {names[slot]: table for slot, table in tables.items()}
    return st.vega_lite_chart(spec=spec, **options)


def _content_name(table: pa.Table) -> str:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.blake2b(sink.getvalue(), digest_size=16).hexdigest()


def _with_names(node: Any, names: Mapping[str, str]) -> Any:
    """A copy of spec `node` with each `{"data": {"name": slot}}` naming its frame instead."""
    if isinstance(node, Mapping):
        return {
            key: {"name": names[value["name"]]}
            if key == "data" and isinstance(value, Mapping) and value.get("name") in names
            else _with_names(value, names)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_with_names(value, names) for value in node]
    return node


def _spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart's spec, checked against the schema, as st.altair_chart makes it: without a
    theme's config (Streamlit applies its own theme)."""
    spec = chart.to_dict(context={"top_level": False})  # top level adds the active theme
    return {**spec, "$schema": alt.SCHEMA_URL}


def types(frame: pl.DataFrame) -> Types:
    """The Vega-Lite type of each column of `frame`, as Altair infers it from the dtype."""
    return tuple((name, _vega_type(dtype)) for name, dtype in frame.schema.items())


def _vega_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.Enum):  # ordered: Altair infers ordinal
        return "ordinal"
    if dtype.is_numeric():
        return "quantitative"
    if isinstance(dtype, (pl.Date, pl.Datetime)):
        return "temporal"
    return "nominal"


def tips(*fields: tuple[str, str] | tuple[str, str, str]) -> Tips:
    """Tooltips from (field, title[, format]) triples; types come from the data."""
    return tuple(fields)


def _tooltips(fields: Tips, columns: Types) -> list[alt.Tooltip]:
    kinds = dict(columns)
    for field, *_ in fields:
        if field not in kinds:
            raise ValueError(f"tooltip field {field!r} is not a column of the chart's data")
    return [
        alt.Tooltip(f[0], type=kinds[f[0]], title=f[1], **({"format": f[2]} if len(f) > 2 else {}))
        for f in fields
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
    tooltip: Tips,
    select: Pick | None = None,
    domain: tuple[float, float] = (0, 100),
) -> Figure:
    """Horizontal bars in the frame's order, each labelled with `text`; clickable with `select`."""
    spec = _ranked_bars(label, value, text, title, tooltip, select, domain, types(frame))
    return Figure(spec, {"data": frame})


@functools.lru_cache(maxsize=SPECS_KEPT)
def _ranked_bars(
    label: str,
    value: str,
    text: str,
    title: str,
    tooltip: Tips,
    select: Pick | None,
    domain: tuple[float, float],
    columns: Types,
) -> dict[str, Any]:
    base = alt.Chart(alt.Data(name="data")).encode(
        y=alt.Y(f"{label}:N", title=None, sort=None, axis=alt.Axis(labelLimit=320)),
        x=alt.X(f"{value}:Q", title=title, scale=alt.Scale(domain=list(domain))),
        tooltip=_tooltips(tooltip, columns),
    )
    bars = base.mark_bar(cursor="pointer").encode(color=grey_low_n(alt.value(BAR_COLOUR)))
    if select is not None:
        bars = bars.add_params(select.param())
    labels = base.mark_text(align="left", dx=4).encode(text=f"{text}:N")
    return _spec((bars + labels).properties(height=alt.Step(24)))


RATING_COLOUR = alt.Color("band:N", title="Rating", scale=rating_scale(), sort=list(RATINGS))


def beside_peers(
    frame: pl.DataFrame,
    *,
    item: str,
    value: str,
    title: str,
    domain: tuple[float, float],
    tooltip: Tips,
    rating_colour: bool = False,
    width: int = 300,
) -> Figure:
    """Per provider panel: each item's value (dot, labelled) on its peers' quartile range (bar)
    and median (tick); dots in their rating band's colour (column `band`) with
    `rating_colour`."""
    spec = _beside_peers(item, value, title, domain, tooltip, rating_colour, width, types(frame))
    return Figure(spec, {"data": frame})


@functools.lru_cache(maxsize=SPECS_KEPT)
def _beside_peers(
    item: str,
    value: str,
    title: str,
    domain: tuple[float, float],
    tooltip: Tips,
    rating_colour: bool,
    width: int,
    columns: Types,
) -> dict[str, Any]:
    x_scale = alt.Scale(domain=list(domain))
    base = alt.Chart().encode(
        y=alt.Y(f"{item}:N", title=None, sort=None, axis=alt.Axis(labelLimit=280)),
        tooltip=_tooltips(tooltip, columns),
    )
    quartiles = base.mark_rule(strokeWidth=10, opacity=0.3, color=PEER_COLOUR).encode(
        x=alt.X("peer_p25:Q", title=title, scale=x_scale), x2="peer_p75:Q"
    )
    median = base.mark_tick(color=PEER_COLOUR, thickness=2, size=18).encode(x="peer_median:Q")
    colour = RATING_COLOUR if rating_colour else alt.value(BAR_COLOUR)
    dot = base.mark_point(filled=True, size=90, opacity=1).encode(
        x=f"{value}:Q", color=grey_low_n(colour)
    )
    text = base.mark_text(dy=-11, fontSize=11).encode(
        x=f"{value}:Q", text=alt.Text(f"{value}:Q", format=".3~r")
    )
    panel = alt.layer(quartiles, median, dot, text, data=alt.Data(name="data")).properties(
        width=width, height=alt.Step(30)
    )
    return _spec(panel.facet(facet=alt.Facet("provider_label:N", title=None), columns=2))


ERA = pl.DataFrame({"period_start": [STATEMENT_SCORING_START], "note": ["scored by statement"]})


def era_rule() -> alt.LayerChart:
    """A dashed line where CQC began scoring statements directly, named in text (data: the
    slot `era`, filled with ERA)."""
    base = alt.Chart(alt.Data(name="era")).encode(x="period_start:T")
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
    tooltip: Tips,
    select: Pick | None = None,
    peers: pl.DataFrame | None = None,
) -> Figure:
    """One line per `series` over period_start; grey points rest on few assessments; optional
    peer median (dashed) and quartile band, and the era boundary when it falls in range."""
    data = {"data": frame}
    if peers is not None and peers.height:
        data["peers"] = peers
    dates = frame["period_start"]
    if dates.len() and dates.min() <= STATEMENT_SCORING_START <= dates.max():
        data["era"] = ERA
    spec = _trend_lines(value, series, series_title, title, domain, tooltip, select,
                        "peers" in data, "era" in data, types(frame))  # fmt: skip
    return Figure(spec, data)


@functools.lru_cache(maxsize=SPECS_KEPT)
def _trend_lines(
    value: str,
    series: str,
    series_title: str,
    title: str,
    domain: tuple[float, float],
    tooltip: Tips,
    select: Pick | None,
    peers: bool,
    era: bool,
    columns: Types,
) -> dict[str, Any]:
    x = alt.X("period_start:T", title="Period starting", axis=alt.Axis(format="%b %Y"))
    y_scale = alt.Scale(domain=list(domain), zero=False)
    y = alt.Y(f"{value}:Q", title=title, scale=y_scale)
    colour = alt.Color(f"{series}:N", title=series_title, legend=alt.Legend(labelLimit=260))
    data = alt.Data(name="data")
    lines = alt.Chart(data).mark_line().encode(x=x, y=y, color=colour)
    points = alt.Chart(data).mark_point(filled=True, size=70, cursor="pointer")
    points = points.encode(x=x, y=y, color=grey_low_n(colour), tooltip=_tooltips(tooltip, columns))
    if select is not None:
        points = points.add_params(select.param())
    layers: list[alt.Chart | alt.LayerChart] = []
    if peers:
        band = alt.Chart(alt.Data(name="peers")).encode(x=x, tooltip=_peer_tooltip())
        layers += [
            band.mark_area(opacity=0.15, color=PEER_COLOUR).encode(
                y=alt.Y("peer_p25:Q", scale=y_scale), y2="peer_p75:Q"
            ),
            band.mark_line(strokeDash=[6, 3], color=PEER_COLOUR).encode(
                y=alt.Y("peer_median:Q", scale=y_scale)
            ),
        ]
    layers += [lines, points]
    if era:
        layers.append(era_rule())
    return _spec(alt.layer(*layers).properties(height=360))


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
) -> Figure:
    """Ratings before (rows) against after (columns): count and share written in each cell;
    one panel per value of `facet` when given."""
    return Figure(_transition_matrix(facet, facet_title), {"data": frame})


@functools.lru_cache(maxsize=SPECS_KEPT)
def _transition_matrix(facet: str | None, facet_title: str | None) -> dict[str, Any]:
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
    matrix = alt.layer(cells, text, data=alt.Data(name="data"))
    if facet is None:
        return _spec(matrix.properties(height=alt.Step(44), width=alt.Step(120)))
    panel = matrix.properties(height=alt.Step(34), width=alt.Step(84))  # two panels a row
    return _spec(panel.facet(facet=alt.Facet(f"{facet}:N", title=facet_title), columns=2))


def score_stack(frame: pl.DataFrame, order: Sequence[str]) -> Figure:
    """Each statement's scores 1-4 as shares of one bar, statements in `order`, with the share
    scoring 1-2 written at the end of the bar."""
    low_shares = frame.filter(pl.col("score") <= 2).group_by("label").agg(low=pl.col("share").sum())
    low = frame.select("label").unique(maintain_order=True)
    low = low.join(low_shares, on="label", how="left", maintain_order="left").fill_null(0)
    return Figure(_score_stack(tuple(order)), {"data": frame, "low": low})


@functools.lru_cache(maxsize=SPECS_KEPT)
def _score_stack(order: tuple[str, ...]) -> dict[str, Any]:
    y = alt.Y("label:N", title=None, sort=list(order),
              axis=alt.Axis(labelLimit=360, labelOverlap=False))  # fmt: skip
    bars = (
        alt.Chart(alt.Data(name="data"))
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
    text = (
        alt.Chart(alt.Data(name="low"))
        .mark_text(align="left", dx=4)
        .encode(y=y, x=alt.datum(1), text=alt.Text("low:Q", format=".0%"))
    )
    return _spec((bars + text).properties(height=alt.Step(20)))


def heatmap(
    frame: pl.DataFrame,
    *,
    column: str,
    column_title: str,
    metric: str,
    order: Sequence[str],
    select: Pick | None = None,
) -> Figure:
    """Statements (rows, in `order`) against groups (columns), the metric written in each cell."""
    spec = _heatmap(column, column_title, metric, tuple(order), select)
    return Figure(spec, {"data": frame})


@functools.lru_cache(maxsize=SPECS_KEPT)
def _heatmap(
    column: str, column_title: str, metric: str, order: tuple[str, ...], select: Pick | None
) -> dict[str, Any]:
    share = metric == "low_share"
    scale = (
        alt.Scale(scheme="oranges", domain=[0, 1])
        if share
        else alt.Scale(domain=[1, 2.5, 4], range=[SCORE_COLOURS[1], "#F7F7F7", SCORE_COLOURS[4]])
    )
    title = "Share scoring 1-2" if share else "Mean score (1-4)"
    base = alt.Chart(alt.Data(name="data")).encode(
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
        cells = cells.add_params(select.param())
    text = base.mark_text(fontSize=10).encode(
        text=alt.Text(f"{metric}:Q", format=".0%" if share else ".1f")
    )
    return _spec((cells + text).properties(height=alt.Step(20), width=alt.Step(40)))


DIRECTION_SCALE = alt.Scale(
    domain=["declined", "unchanged", "improved"],
    range=[SCORE_COLOURS[1], "#999999", SCORE_COLOURS[4]],
)


def change_histogram(frame: pl.DataFrame, *, step: float) -> Figure:
    """Counts of changes in bins [change_from, change_to), coloured and named by direction."""
    return Figure(_change_histogram(step, types(frame)), {"data": frame})


@functools.lru_cache(maxsize=SPECS_KEPT)
def _change_histogram(step: float, columns: Types) -> dict[str, Any]:
    tooltip = tips(("change_from", "Change from"), ("change_to", "to (not incl.)"),
                   ("direction", "Direction"), ("count", "Locations"))  # fmt: skip
    return _spec(
        alt.Chart(alt.Data(name="data"))
        .mark_bar()
        .encode(
            x=alt.X("change_from:Q", bin="binned", title="Change (later minus earlier)",
                    axis=alt.Axis(tickMinStep=step)),
            x2="change_to:Q",
            y=alt.Y("sum(count):Q", title="Locations re-assessed"),
            color=alt.Color("direction:N", title="Direction", scale=DIRECTION_SCALE),
            tooltip=_tooltips(tooltip, columns),
        )
        .properties(height=260)
    )  # fmt: skip


DIRECTION_MARK = {"declined": "↓", "unchanged": "=", "improved": "↑"}


def direction_bars(frame: pl.DataFrame, *, series: str, series_title: str) -> Figure:
    """One bar per `series` (a changes.change_counts frame): its declined, unchanged and improved
    shares of n, each segment labelled with its arrow and count; faded where low_n."""
    directions = list(DIRECTION_MARK)
    long = frame.unpivot(directions, index=[series, "n", "mean_change", "low_n"],
                         variable_name="direction", value_name="count").with_columns(
        share=pl.col("count") / pl.col("n"),
        rank=pl.col("direction").replace_strict({d: i for i, d in enumerate(directions)}),
        label=pl.col("direction").replace_strict(DIRECTION_MARK) + pl.col("count").cast(pl.String),
    )  # fmt: skip
    spec = _direction_bars(series, series_title, tuple(frame[series]), types(long))
    return Figure(spec, {"data": long})


@functools.lru_cache(maxsize=SPECS_KEPT)
def _direction_bars(
    series: str, series_title: str, order: tuple[Any, ...], columns: Types
) -> dict[str, Any]:
    y = alt.Y(f"{series}:N", title=series_title, sort=list(order),
              axis=alt.Axis(labelLimit=260))  # fmt: skip
    x = alt.X("share:Q", title="Share of re-assessments", stack="zero",
              axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1]))  # fmt: skip
    base = alt.Chart(alt.Data(name="data")).encode(y=y, x=x, order=alt.Order("rank:Q"))
    tooltip = tips((series, series_title), ("direction", "Direction"), ("count", "Pairs"),
                   ("share", "Share", ".0%"), ("n", "Re-assessments (n)"),
                   ("mean_change", "Mean change", "+.2f"))  # fmt: skip
    bars = base.mark_bar().encode(
        color=alt.Color("direction:N", title="Direction", scale=DIRECTION_SCALE),
        opacity=alt.when(alt.datum.low_n).then(alt.value(0.4)).otherwise(alt.value(1.0)),
        tooltip=_tooltips(tooltip, columns),
    )
    text = base.transform_filter(alt.datum.count > 0).mark_text(align="right", dx=-3)
    return _spec(
        (bars + text.encode(text="label:N", detail="direction:N")).properties(height=alt.Step(26))
    )
