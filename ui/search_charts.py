"""The Search page's charts, built as ui.charts builds every chart (one cached spec per shape,
drawn with ui.charts.show): titled axes, tooltips with the counts behind each figure, values
written as text, figures over fewer than MIN_N assessments greyed out."""

from __future__ import annotations

import altair as alt

from ui.charts import BAR_COLOUR, Columns, chart, grey_low_n, tips


@chart()
def matches_by_quarter(frame: Columns) -> alt.LayerChart:
    """Per quarter (rows of queries.search.matches_by_quarter), the share of scored statements
    whose evidence matches, as bars labelled with the number of matches."""
    tooltip = tips(
        ("quarter", "Quarter"),
        ("matches", "Matching statements"),
        ("statements", "Scored statements"),
        ("share", "Share matching", ".1%"),
        ("n", "Assessments with a match"),
    )
    base = alt.Chart(frame.data).encode(
        x=alt.X("quarter:N", title="Quarter of the assessment", sort=None),
        y=alt.Y("share:Q", title="Share of scored statements matching", axis=alt.Axis(format="%")),
        tooltip=frame.tooltips(tooltip),
    )
    bars = base.mark_bar().encode(color=grey_low_n(alt.value(BAR_COLOUR)))
    labels = base.mark_text(dy=-6, fontSize=10).encode(text=alt.Text("matches:Q", format=","))
    return (bars + labels).properties(height=260)


@chart()
def share_bars(frame: Columns, *, label: str, title: str) -> alt.LayerChart:
    """Horizontal bars in the frame's order: each group's (`label`) share of scored statements
    that match, labelled 'matches of statements'."""
    tooltip = tips(
        (label, title),
        ("matches", "Matching statements"),
        ("statements", "Scored statements"),
        ("share", "Share matching", ".1%"),
        ("locations", "Locations with a match"),
    )
    base = alt.Chart(frame.data).encode(
        y=alt.Y(f"{label}:N", title=None, sort=None, axis=alt.Axis(labelLimit=320)),
        x=alt.X("share:Q", title="Share of scored statements matching", axis=alt.Axis(format="%")),
        tooltip=frame.tooltips(tooltip),
    )
    bars = base.mark_bar().encode(color=grey_low_n(alt.value(BAR_COLOUR)))
    labels = base.mark_text(align="left", dx=4).encode(text="text:N")
    return (bars + labels).properties(height=alt.Step(22))
