"""Chart builders the pages share. Every chart titles its axes, has tooltips, writes its values
or ratings in text as well as colour, and greys out figures flagged `low_n`.

Building an Altair chart and checking it against the Vega-Lite schema takes tens of
milliseconds a chart, and a filter change would pay it for every chart on the page. So each
chart is one function decorated with `@chart`: written against `Columns` (a named data slot
and its column types) rather than the frame itself, it runs once per shape (its options and
its frames' column types; cached) and gives a spec whose data are named slots. Called with
frames, it returns a `Figure`: that cached spec and this run's frames. `show` fills the slots
and draws it with st.vega_lite_chart: the spec st.altair_chart would send, selections
included, without rebuilding it. A chart whose data needs reshaping first (or whose shape
depends on the data) names a `prepare` step, which runs on every call.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import altair as alt
import polars as pl
import pyarrow as pa
import streamlit as st

from ingest.reference import BAND_EDGES_PERCENT, KEY_QUESTIONS, RATINGS, STATEMENT_SCORING_START
from ui.theme import LOW_N_COLOUR, RATING_COLOURS, SCORE_COLOURS, SCORE_LABELS, rating_scale

BAR_COLOUR = "#4C78A8"
PEER_COLOUR = "#555555"
SCORE_SCALE = alt.Scale(domain=list(SCORE_LABELS.values()), range=list(SCORE_COLOURS.values()))
SPECS_KEPT = 256  # chart shapes remembered per chart

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
    """A click selection `name` of the clicked mark's `field`, and of the fields `also`
    (Streamlit reports the clicked points under `name`)."""

    name: str
    field: str
    also: tuple[str, ...] = ()

    def param(self) -> alt.Parameter:
        return alt.selection_point(name=self.name, fields=[self.field, *self.also])


@dataclass(frozen=True)
class Columns:
    """What a chart function sees of a frame it is called with: its slot and column types."""

    slot: str
    types: Types

    @property
    def data(self) -> alt.Data:
        """The named data the slot's frame fills when the chart is shown."""
        return alt.Data(name=self.slot)

    def tooltips(self, fields: Tips) -> list[alt.Tooltip]:
        """Tooltips of (field, title[, format]) triples, typed as Altair infers the columns."""
        return _tooltips(fields, self.types)


def chart(
    prepare: Callable[..., dict[str, Any]] | None = None,
) -> Callable[[Callable[..., alt.TopLevelMixin]], Callable[..., Figure]]:
    """Decorator: a chart function written against Columns becomes one called with frames.

    Every DataFrame argument becomes a data slot named after its parameter (None: no slot);
    the function runs once per shape (its other arguments, lists as tuples, and the frames'
    column types) and its spec is kept (`.cache_info()` tells). `prepare(**arguments)`, when
    given, runs first on every call and returns the arguments the chart is drawn with.
    """

    def decorate(build: Callable[..., alt.TopLevelMixin]) -> Callable[..., Figure]:
        signature = inspect.signature(build)

        @functools.lru_cache(maxsize=SPECS_KEPT)
        def spec(shape: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
            return _spec(build(**dict(shape)))

        @functools.wraps(build)
        def figure(*args: Any, **kwargs: Any) -> Figure:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments = prepare(**bound.arguments) if prepare else bound.arguments
            frames = {k: v for k, v in arguments.items() if isinstance(v, pl.DataFrame)}
            shape = tuple(
                (k, Columns(k, types(frames[k])) if k in frames else _hashable(v))
                for k, v in arguments.items()
            )
            return Figure(spec(shape), frames)

        figure.cache_info = spec.cache_info  # type: ignore[attr-defined]
        return figure

    return decorate


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


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


@chart()
def ranked_bars(
    frame: Columns,
    *,
    label: str,
    value: str,
    text: str,
    title: str,
    tooltip: Tips,
    select: Pick | None = None,
    domain: tuple[float, float] = (0, 100),
) -> alt.LayerChart:
    """Horizontal bars in the frame's order, each labelled with `text`; clickable with `select`."""
    base = alt.Chart(frame.data).encode(
        y=alt.Y(f"{label}:N", title=None, sort=None, axis=alt.Axis(labelLimit=320)),
        x=alt.X(f"{value}:Q", title=title, scale=alt.Scale(domain=list(domain))),
        tooltip=frame.tooltips(tooltip),
    )
    bars = base.mark_bar(cursor="pointer").encode(color=grey_low_n(alt.value(BAR_COLOUR)))
    if select is not None:
        bars = bars.add_params(select.param())
    labels = base.mark_text(align="left", dx=4).encode(text=f"{text}:N")
    return (bars + labels).properties(height=alt.Step(24))


RATING_COLOUR = alt.Color("band:N", title="Rating", scale=rating_scale(), sort=list(RATINGS))


@chart()
def beside_peers(
    frame: Columns,
    *,
    item: str,
    value: str,
    title: str,
    domain: tuple[float, float],
    tooltip: Tips,
    rating_colour: bool = False,
    width: int = 300,
    peer: str = "peer_median",
    quartiles: bool = True,
) -> alt.FacetChart:
    """Per provider panel: each item's value (dot, labelled) beside its peers' `peer` figure
    (tick) and, with `quartiles`, their 25th-75th percentile range (bar, peer_p25 to
    peer_p75); dots in their rating band's colour (column `band`) with `rating_colour`."""
    x_scale = alt.Scale(domain=list(domain))
    base = alt.Chart().encode(
        y=alt.Y(f"{item}:N", title=None, sort=None, axis=alt.Axis(labelLimit=280)),
        tooltip=frame.tooltips(tooltip),
    )
    x = alt.X(f"{value}:Q", title=title, scale=x_scale)
    layers = []
    if quartiles:
        layers.append(
            base.mark_rule(strokeWidth=10, opacity=0.3, color=PEER_COLOUR).encode(
                x=alt.X("peer_p25:Q", title=title, scale=x_scale), x2="peer_p75:Q"
            )
        )
    # Every layer on the one scale: a layer without it would widen the axis to its data
    tick = base.mark_tick(color=PEER_COLOUR, thickness=2, size=18).encode(
        x=alt.X(f"{peer}:Q", scale=x_scale)
    )
    colour = RATING_COLOUR if rating_colour else alt.value(BAR_COLOUR)
    dot = base.mark_point(filled=True, size=90, opacity=1).encode(x=x, color=grey_low_n(colour))
    text = base.mark_text(dy=-11, fontSize=11).encode(
        x=alt.X(f"{value}:Q", scale=x_scale), text=alt.Text(f"{value}:Q", format=".3~r")
    )
    panel = alt.layer(*layers, tick, dot, text, data=frame.data).properties(
        width=width, height=alt.Step(30)
    )
    return panel.facet(facet=alt.Facet("provider_label:N", title=None), columns=2)


ERA = pl.DataFrame({"period_start": [STATEMENT_SCORING_START], "note": ["scored by statement"]})


def era_rule(era: Columns) -> alt.LayerChart:
    """A dashed line where CQC began scoring statements directly, named in text (data: ERA)."""
    base = alt.Chart(era.data).encode(x="period_start:T")
    rule = base.mark_rule(strokeDash=[4, 4], color="#777")
    return rule + base.mark_text(align="left", dx=4, dy=-6, color="#555", y=0).encode(text="note:N")


def _trend_data(frame: pl.DataFrame, peers: pl.DataFrame | None, **options: Any) -> dict[str, Any]:
    """trend_lines' slots: peers only when it has rows, the era line when it falls in range."""
    dates = frame["period_start"]
    in_range = dates.len() and dates.min() <= STATEMENT_SCORING_START <= dates.max()
    has_peers = peers is not None and peers.height
    return {
        **options,
        "frame": frame,
        "peers": peers if has_peers else None,
        "era": ERA if in_range else None,
    }


@chart(prepare=_trend_data)
def trend_lines(
    frame: Columns,
    *,
    value: str,
    series: str,
    series_title: str,
    title: str,
    domain: tuple[float, float],
    tooltip: Tips,
    select: Pick | None = None,
    peers: Columns | None = None,
    era: Columns | None = None,
) -> alt.LayerChart:
    """One line per `series` over period_start; grey points rest on few assessments; optional
    peer median (dashed) and quartile band, and the era boundary when it falls in range (the
    `era` slot is filled by _trend_data)."""
    x = alt.X("period_start:T", title="Period starting", axis=alt.Axis(format="%b %Y"))
    y_scale = alt.Scale(domain=list(domain), zero=False)
    y = alt.Y(f"{value}:Q", title=title, scale=y_scale)
    colour = alt.Color(f"{series}:N", title=series_title, legend=alt.Legend(labelLimit=260))
    lines = alt.Chart(frame.data).mark_line().encode(x=x, y=y, color=colour)
    points = alt.Chart(frame.data).mark_point(filled=True, size=70, cursor="pointer")
    points = points.encode(x=x, y=y, color=grey_low_n(colour), tooltip=frame.tooltips(tooltip))
    if select is not None:
        points = points.add_params(select.param())
    layers: list[alt.Chart | alt.LayerChart] = []
    if peers is not None:
        band = alt.Chart(peers.data).encode(x=x, tooltip=_peer_tooltip())
        layers += [
            band.mark_area(opacity=0.15, color=PEER_COLOUR).encode(
                y=alt.Y("peer_p25:Q", scale=y_scale), y2="peer_p75:Q"
            ),
            band.mark_line(strokeDash=[6, 3], color=PEER_COLOUR).encode(
                y=alt.Y("peer_median:Q", scale=y_scale)
            ),
        ]
    layers += [lines, points]
    if era is not None:
        layers.append(era_rule(era))
    return alt.layer(*layers).properties(height=360)


def _peer_tooltip() -> list[alt.Tooltip]:
    return [
        alt.Tooltip("period_start:T", title="Period starting"),
        alt.Tooltip("peer_median:Q", title="Peer median", format=".1f"),
        alt.Tooltip("peer_p25:Q", title="Peer 25th percentile", format=".1f"),
        alt.Tooltip("peer_p75:Q", title="Peer 75th percentile", format=".1f"),
        alt.Tooltip("n:Q", title="Peer assessments (n)", format=","),
    ]


@chart()
def transition_matrix(
    frame: Columns, *, facet: str | None = None, facet_title: str | None = None
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
    matrix = alt.layer(cells, text, data=frame.data)
    if facet is None:
        return matrix.properties(height=alt.Step(44), width=alt.Step(120))
    panel = matrix.properties(height=alt.Step(34), width=alt.Step(84))  # two panels a row
    return panel.facet(facet=alt.Facet(f"{facet}:N", title=facet_title), columns=2)


def _score_stack_data(frame: pl.DataFrame, **options: Any) -> dict[str, Any]:
    """score_stack's slots: the scores, and each statement's share scoring 1-2 (`low`)."""
    low_shares = frame.filter(pl.col("score") <= 2).group_by("label").agg(low=pl.col("share").sum())
    low = frame.select("label").unique(maintain_order=True)
    low = low.join(low_shares, on="label", how="left", maintain_order="left").fill_null(0)
    return {**options, "frame": frame, "low": low}


@chart(prepare=_score_stack_data)
def score_stack(frame: Columns, order: Sequence[str], low: Columns | None = None) -> alt.LayerChart:
    """Each statement's scores 1-4 as shares of one bar, statements in `order`, with the share
    scoring 1-2 written at the end of the bar (the `low` slot, filled by _score_stack_data)."""
    y = alt.Y(
        "label:N", title=None, sort=list(order), axis=alt.Axis(labelLimit=360, labelOverlap=False)
    )
    bars = (
        alt.Chart(frame.data)
        .mark_bar()
        .encode(
            y=y,
            x=alt.X(
                "sum(share):Q",
                title="Share of statement scores",
                axis=alt.Axis(format="%", values=[0, 0.25, 0.5, 0.75, 1]),
                scale=alt.Scale(domain=[0, 1.12]),
            ),
            color=alt.Color(
                "score_label:N",
                title="Score",
                scale=SCORE_SCALE,
                legend=alt.Legend(orient="top", columns=2),
            ),
            order=alt.Order("score:Q"),
            tooltip=[
                alt.Tooltip("label:N", title="Statement"),
                alt.Tooltip("score_label:N", title="Score"),
                alt.Tooltip("count:Q", title="Scores", format=","),
                alt.Tooltip("share:Q", title="Share", format=".1%"),
                alt.Tooltip("rows:Q", title="Statement scores (n)", format=","),
            ],
        )
    )
    text = (
        alt.Chart(low.data)
        .mark_text(align="left", dx=4)
        .encode(y=y, x=alt.datum(1), text=alt.Text("low:Q", format=".0%"))
    )
    return (bars + text).properties(height=alt.Step(20))


@chart()
def heatmap(
    frame: Columns,
    *,
    column: str,
    column_title: str,
    metric: str,
    order: Sequence[str],
    select: Pick | None = None,
) -> alt.LayerChart:
    """Statements (rows, in `order`) against groups (columns), the metric written in each cell."""
    share = metric == "low_share"
    # Shares from 0 to the largest drawn (0-1 would make 20% and 55% look alike); the legend
    # in percent, as the cells are.
    scale = (
        alt.Scale(scheme="oranges", domainMin=0, nice=True)
        if share
        else alt.Scale(domain=[1, 2.5, 4], range=[SCORE_COLOURS[1], "#F7F7F7", SCORE_COLOURS[4]])
    )
    legend = alt.Legend(format=".0%") if share else alt.Legend()
    title = "Share scoring 1-2" if share else "Mean score (1-4)"
    base = alt.Chart(frame.data).encode(
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
        color=grey_low_n(alt.Color(f"{metric}:Q", title=title, scale=scale, legend=legend))
    )
    if select is not None:
        cells = cells.add_params(select.param())
    # A grey cell (too few scores) shows no figure, which would read as a result; its
    # tooltip still gives the figures and n.
    text = (
        base.transform_filter("!datum.low_n")
        .mark_text(fontSize=10)
        .encode(text=alt.Text(f"{metric}:Q", format=".0%" if share else ".1f"))
    )
    return (cells + text).properties(height=alt.Step(20), width=alt.Step(40))


DIRECTION_SCALE = alt.Scale(
    domain=["declined", "unchanged", "improved"],
    range=[SCORE_COLOURS[1], "#999999", SCORE_COLOURS[4]],
)


@chart()
def change_histogram(frame: Columns, *, step: float) -> alt.Chart:
    """Counts of changes in bins [change_from, change_to), coloured and named by direction.

    Whole-number changes (`step` 1: statement scores) get a bar per value, centred on its tick.
    """
    whole = step == 1
    tooltip = tips(
        *((("change_from", "Change"),) if whole else
          (("change_from", "Change from"), ("change_to", "to (not incl.)"))),
        ("direction", "Direction"),
        ("count", "Locations"),
    )  # fmt: skip
    title = "Change (later minus earlier)"
    x = (
        {"x": alt.X("change_from:O", title=title, axis=alt.Axis(labelAngle=0))}
        if whole
        else {
            "x": alt.X("change_from:Q", bin="binned", title=title, axis=alt.Axis(tickMinStep=step)),
            "x2": "change_to:Q",
        }
    )
    return (
        alt.Chart(frame.data)
        .mark_bar()
        .encode(
            **x,
            y=alt.Y("sum(count):Q", title="Locations re-assessed"),
            color=alt.Color("direction:N", title="Direction", scale=DIRECTION_SCALE),
            tooltip=frame.tooltips(tooltip),
        )
        .properties(height=260)
    )


DIRECTION_MARK = {"declined": "↓", "unchanged": "=", "improved": "↑"}


def _direction_data(frame: pl.DataFrame, *, series: str, **options: Any) -> dict[str, Any]:
    """direction_bars' slot: one row per series and direction, and the series in frame order."""
    directions = list(DIRECTION_MARK)
    long = frame.unpivot(
        directions,
        index=[series, "n", "mean_change", "low_n"],
        variable_name="direction",
        value_name="count",
    ).with_columns(
        share=pl.col("count") / pl.col("n"),
        rank=pl.col("direction").replace_strict({d: i for i, d in enumerate(directions)}),
        label=pl.col("direction").replace_strict(DIRECTION_MARK) + pl.col("count").cast(pl.String),
    )
    return {**options, "frame": long, "series": series, "order": tuple(frame[series])}


@chart(prepare=_direction_data)
def direction_bars(
    frame: Columns, *, series: str, series_title: str, order: Sequence[Any] = ()
) -> alt.LayerChart:
    """One bar per `series` (a changes.change_counts frame): its declined, unchanged and improved
    shares of n, each segment labelled with its arrow and count; faded where low_n. (`order`,
    the series in the frame's order, is set by _direction_data.)"""
    y = alt.Y(f"{series}:N", title=series_title, sort=list(order), axis=alt.Axis(labelLimit=260))
    x = alt.X(
        "share:Q",
        title="Share of re-assessments",
        stack="zero",
        axis=alt.Axis(format="%"),
        scale=alt.Scale(domain=[0, 1]),
    )
    base = alt.Chart(frame.data).encode(y=y, x=x, order=alt.Order("rank:Q"))
    tooltip = tips(
        (series, series_title),
        ("direction", "Direction"),
        ("count", "Pairs"),
        ("share", "Share", ".0%"),
        ("n", "Re-assessments (n)"),
        ("mean_change", "Mean change", "+.2f"),
    )
    bars = base.mark_bar().encode(
        color=alt.Color("direction:N", title="Direction", scale=DIRECTION_SCALE),
        opacity=alt.when(alt.datum.low_n).then(alt.value(0.4)).otherwise(alt.value(1.0)),
        tooltip=frame.tooltips(tooltip),
    )
    text = base.transform_filter(alt.datum.count > 0).mark_text(align="right", dx=-3)
    return (bars + text.encode(text="label:N", detail="direction:N")).properties(
        height=alt.Step(26)
    )


def band_edges() -> alt.Chart:
    """Dashed rules at the rating band edges (half a point above each of BAND_EDGES_PERCENT:
    a percentage rounds into the band above it from there)."""
    return (
        alt.Chart(alt.Data(values=[{"edge": e + 0.5} for e in BAND_EDGES_PERCENT]))
        .mark_rule(strokeDash=[4, 4], color="#444")
        .encode(x="edge:Q")
    )


@chart()
def rating_share_bars(frame: Columns) -> alt.Chart:
    """Per key question (rows of current.rating_shares), a bar split into the shares of its
    ratings, worst first, coloured and named by rating."""
    return (
        alt.Chart(frame.data)
        .mark_bar()
        .encode(
            y=alt.Y("key_question:N", title="Key question", sort=None),
            x=alt.X(
                "share:Q",
                title="Share of rated locations",
                axis=alt.Axis(format="%"),
                stack="normalize",
            ),
            color=alt.Color(
                "key_question_rating:N", title="Rating", scale=rating_scale(), sort=list(RATINGS)
            ),
            order=alt.Order("rating_order:Q"),
            tooltip=[
                alt.Tooltip("key_question:N", title="Key question"),
                alt.Tooltip("key_question_rating:N", title="Rating"),
                alt.Tooltip("count:Q", title="Locations", format=","),
                alt.Tooltip("share:Q", title="Share", format=".1%"),
                alt.Tooltip("n:Q", title="Rated locations", format=","),
            ],
        )
        .transform_calculate(rating_order=f"indexof({list(RATINGS)!r}, datum.key_question_rating)")
    )


@chart()
def percentage_histogram(frame: Columns) -> alt.LayerChart:
    """Key question results per bin of percentage, with the band edges.

    Rows of distributions.percentage_bins: one result is one location's current percentage of
    one key question, so a location counts once per key question it has scored.
    """
    bars = (
        alt.Chart(frame.data)
        .mark_bar()
        .encode(
            x=alt.X(
                "bin_start:Q",
                title="Key question percentage",
                bin="binned",
                scale=alt.Scale(domain=[25, 100]),
            ),
            x2="bin_end_excl:Q",
            y=alt.Y("sum(count):Q", title="Key question results (location × key question)"),
            tooltip=[
                alt.Tooltip("bin_start:Q", title="From %"),
                alt.Tooltip("bin_end:Q", title="To %"),
                alt.Tooltip("sum(count):Q", title="Key question results", format=","),
            ],
        )
        .transform_calculate(bin_end_excl="datum.bin_end + 1")
    )
    return bars + band_edges()


@chart()
def key_question_percentages(frame: Columns) -> alt.LayerChart:
    """One location's key question percentages as bars in their rating's colour, labelled
    (column `label`), with the band edges."""
    base = alt.Chart(frame.data).encode(
        y=alt.Y("key_question:N", title="Key question", sort=list(KEY_QUESTIONS)),
        x=alt.X(
            "key_question_score:Q",
            title="Key question percentage",
            scale=alt.Scale(domain=[0, 100]),
        ),
        tooltip=[
            alt.Tooltip("key_question:N", title="Key question"),
            alt.Tooltip("key_question_rating:N", title="Rating"),
            alt.Tooltip("key_question_score:Q", title="Percentage"),
            alt.Tooltip("assessment_date:T", title="Assessed", format="%-d %b %Y"),
        ],
    )
    bars = base.mark_bar().encode(
        color=alt.Color(
            "key_question_rating:N", title="Rating", scale=rating_scale(), sort=list(RATINGS)
        )
    )
    labels = base.mark_text(align="left", dx=4).encode(text="label:N")
    return bars + labels + band_edges()


# Where the locations are: a map without tiles ----------------------------------------------
# The map is fitted to its points, padded, and at least MAP_SPAN degrees of latitude (111 km)
# across both ways, so one local authority's locations spread out; with no points, to England
# (Land's End to Berwick, and east to Lowestoft).
ENGLAND = {"latitude": (49.9, 55.85), "longitude": (-5.75, 1.77)}
MAP_SPAN = 1.0
MAP_PADDING = 0.06  # of the points' span, each side
RATING_SHAPES = {
    "Inadequate": "triangle-down",
    "Requires improvement": "diamond",
    "Good": "circle",
    "Outstanding": "square",
}
# A percentage's colour: the rating palette, each band's colour at the middle of its band
# (25-38, 39-62, 63-87, 88-100), blended between them.
PERCENTAGE_SCALE = alt.Scale(
    domain=[31.5, 50.5, 75, 94], range=[RATING_COLOURS[r] for r in RATINGS], clamp=True
)
MAP_TIPS = tips(
    ("location_name", "Location"),
    ("provider_name", "Provider"),
    ("service_type", "Service type"),
    ("key_question_rating", "Rating"),
    ("key_question_score", "Percentage"),
    ("assessment_date", "Assessed", "%-d %b %Y"),
    ("local_authority", "Local authority"),
    ("icb_name", "ICB"),
)


# Where the map names each of CQC's regions (longitude, latitude): inside it, clear of the
# others' names. Written here, not drawn from any boundary file.
REGION_LABELS = {
    "North East": (-1.75, 55.05),
    "North West": (-2.85, 54.35),
    "Yorkshire & Humberside": (-1.2, 54.05),
    "East Midlands": (-0.85, 52.95),
    "West Midlands": (-2.45, 52.4),
    "East": (0.75, 52.45),
    "London": (-0.1, 51.6),
    "South East": (-0.6, 51.05),
    "South West": (-3.3, 50.85),
}


def map_extent(frame: pl.DataFrame) -> pl.DataFrame:
    """Two corners (longitude, latitude) the map is fitted to: the points' box, padded by
    MAP_PADDING and widened about its middle to MAP_SPAN degrees of latitude's length each way
    where narrower; England's box when there are no points."""
    if frame.is_empty():
        return pl.DataFrame({k: list(v) for k, v in ENGLAND.items()})
    lat, lon = frame["latitude"], frame["longitude"]
    middle = (lat.min() + lat.max()) / 2
    stretch = 1 / math.cos(math.radians(middle))  # a degree east is shorter than one north
    corners: dict[str, list[float]] = {}
    for name, values, least in (
        ("latitude", lat, MAP_SPAN),
        ("longitude", lon, MAP_SPAN * stretch),
    ):
        low, high = values.min(), values.max()
        half = max((high - low) * (0.5 + MAP_PADDING), least / 2)
        corners[name] = [(low + high) / 2 - half, (low + high) / 2 + half]
    return pl.DataFrame(corners)


def _map_data(frame: pl.DataFrame, **options: Any) -> dict[str, Any]:
    """location_map's slots: the points, the corners fitted to, the names of their regions."""
    present = set(frame["region"].drop_nulls().cast(pl.String))
    regions = pl.DataFrame(
        [(r, lon, lat) for r, (lon, lat) in REGION_LABELS.items() if r in present],
        schema={"region": pl.String, "longitude": pl.Float64, "latitude": pl.Float64},
        orient="row",
    )
    return {**options, "frame": frame, "extent": map_extent(frame), "regions": regions}


@chart(prepare=_map_data)
def location_map(
    frame: Columns,
    *,
    percentage: bool = False,
    select: Pick | None = None,
    extent: Columns | None = None,
    regions: Columns | None = None,
) -> alt.LayerChart:
    """Locations (rows of places.location_places with coordinates) as points on their
    longitude and latitude, a Mercator projection fitted to them (map_extent, the `extent`
    slot), no map tiles or outlines: coloured by rating, or (`percentage`) by percentage
    through the rating colours, and shaped by rating either way, so the rating never rests on
    colour alone. The regions the points are in are named where REGION_LABELS puts them (the
    `regions` slot); both slots are filled by _map_data."""
    where = {"longitude": "longitude:Q", "latitude": "latitude:Q"}
    corners = alt.Chart(extent.data).mark_point(opacity=0).encode(**where)
    name = alt.Chart(regions.data).encode(**where, text="region:N")
    text = {"fontSize": 12, "fontWeight": "bold"}
    halo = name.mark_text(**text, stroke="white", strokeWidth=4, strokeOpacity=0.9)
    names = halo + name.mark_text(**text, color="#555867")  # readable over the points
    order = list(RATINGS)
    shape = alt.Shape(
        "key_question_rating:N",
        title="Rating",
        sort=order,
        scale=alt.Scale(domain=order, range=[RATING_SHAPES[r] for r in order]),
    )
    colour = (
        alt.Color("key_question_score:Q", title="Percentage", scale=PERCENTAGE_SCALE)
        if percentage
        else alt.Color("key_question_rating:N", title="Rating", scale=rating_scale(), sort=order)
    )
    points = (
        alt.Chart(frame.data)
        .mark_point(filled=True, size=70, opacity=0.85, cursor="pointer")
        .encode(**where, color=colour, shape=shape, tooltip=frame.tooltips(MAP_TIPS))
    )
    if select is not None:
        points = points.add_params(select.param())
    return (
        alt.layer(corners, points, names).project(type="mercator").properties(width=440, height=560)
    )


# One provider on the national distribution ----------------------------------------------


def _national_data(bins: pl.DataFrame, marks: pl.DataFrame, **options: Any) -> dict[str, Any]:
    """national_picture's slots: the nation's bins; the provider's locations (`marks`) counted
    in the same bins, each named with its percentage; a line per key question naming n
    (`labels`); and the key questions shown."""
    width = 5  # as distributions.percentage_bins' default
    start = (pl.col("key_question_score") // width * width).cast(pl.Int32)
    named = pl.format("{} ({}%)", pl.col("location_name").cast(pl.String), "key_question_score")
    theirs = (
        marks.sort("key_question", "key_question_score", "location_name")
        .group_by("key_question", bin_start=start, maintain_order=True)
        .agg(locations=pl.len(), names=named.str.join(", "))
        .with_columns(bin_end=pl.min_horizontal(pl.col("bin_start") + width - 1, 100))
    )
    labels = (
        bins.group_by("key_question", maintain_order=True)
        .agg(n=pl.col("count").sum())
        .join(marks.group_by("key_question").agg(theirs=pl.len()), on="key_question", how="left")
        .with_columns(
            text=pl.format(
                "{}: n = {} locations; {} of the provider's",
                "key_question",
                "n",
                pl.col("theirs").fill_null(0),
            )
        )
    )
    shown = tuple(labels["key_question"].cast(pl.String))
    return {**options, "bins": bins, "marks": theirs, "labels": labels, "key_questions": shown}


@chart(prepare=_national_data)
def national_picture(
    bins: Columns,
    marks: Columns,
    labels: Columns | None = None,
    key_questions: Sequence[str] = (),
) -> alt.VConcatChart:
    """Per key question, the nation's current percentages in bins (distributions.
    percentage_bins, pale) with the band edges, and in the same bins the provider's locations
    (national.provider_on_national, dark, their count above), on one count axis: the dark bar
    is the provider's part of the pale one."""
    x_scale = alt.Scale(domain=[25, 100])
    x = alt.X("bin_start:Q", bin="binned", scale=x_scale, title="Key question percentage")
    panels = []
    for kq in key_questions:
        mine = alt.datum.key_question == kq
        bars = (
            alt.Chart(bins.data)
            .transform_filter(mine)
            .transform_calculate(bin_end_excl="datum.bin_end + 1")
            .mark_bar(color=BAR_COLOUR, opacity=0.35)
            .encode(
                x=x,
                x2="bin_end_excl:Q",
                y=alt.Y("count:Q", title="Locations"),
                tooltip=[
                    alt.Tooltip("bin_start:Q", title="From %"),
                    alt.Tooltip("bin_end:Q", title="To %"),
                    alt.Tooltip("count:Q", title="Locations in the nation", format=","),
                    alt.Tooltip("n:Q", title="National locations (n)", format=","),
                ],
            )
        )
        base = (
            alt.Chart(marks.data)
            .transform_filter(mine)
            .transform_calculate(bin_end_excl="datum.bin_end + 1")
            .encode(
                x=x,
                x2="bin_end_excl:Q",
                tooltip=marks.tooltips(
                    tips(
                        ("bin_start", "From %"),
                        ("bin_end", "To %"),
                        ("locations", "The provider's locations"),
                        ("names", "Locations"),
                    )
                ),
            )
        )
        theirs = base.mark_bar(color=PEER_COLOUR).encode(y="locations:Q")
        counts = (
            alt.Chart(marks.data)
            .transform_filter(mine)
            .transform_calculate(
                middle="datum.bin_start + (datum.bin_end + 1 - datum.bin_start) / 2"
            )
            .mark_text(baseline="bottom", dy=-2, fontWeight="bold")
            .encode(x=alt.X("middle:Q", scale=x_scale), y="locations:Q", text="locations:Q")
        )
        title = (
            alt.Chart(labels.data)
            .transform_filter(mine)
            .mark_text(align="left", baseline="bottom", x=0, y=-16, fontWeight="bold")
            .encode(text="text:N")
        )
        panel = alt.layer(bars, band_edges(), theirs, counts, title).properties(
            width=560, height=110
        )
        panels.append(panel)
    return alt.vconcat(*panels, spacing=40)
