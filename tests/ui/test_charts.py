"""ui.charts: specs built once per chart shape, filled with each run's frames, and drawn as
st.altair_chart would draw the same chart (data, tooltips, selections)."""

from __future__ import annotations

import datetime as dt
import json

import altair as alt
import polars as pl
import pyarrow as pa
from streamlit.testing.v1 import AppTest

from ui import charts


def ranked(providers: list[str], medians: list[float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "provider_id": providers,
            "provider_label": [f"Provider {p}" for p in providers],
            "median": medians,
            "text": [f"{m}%" for m in medians],
            "low_n": [False] * len(providers),
        }
    )


def drawn(at: AppTest) -> list[dict]:
    """Each chart the run drew: its spec with every dataset name replaced by the dataset's
    rows, so charts compare by content whatever names their data got."""
    shown = []
    for element in at.get("vega_lite_chart"):
        rows = {
            d.name: pa.ipc.open_stream(d.data.data).read_all().to_pylist()
            for d in element.proto.datasets
        }
        spec = json.loads(element.proto.spec)
        shown.append({"spec": _named(spec, rows), "selection_mode": element.proto.selection_mode})
    return shown


def _named(node, rows):
    if isinstance(node, dict):
        if set(node) == {"name"} and node["name"] in rows:
            return {"rows": rows[node["name"]]}
        return {k: _named(v, rows) for k, v in node.items()}
    if isinstance(node, list):
        return [_named(v, rows) for v in node]
    return node


def test_a_figure_draws_what_st_altair_chart_draws():
    def script():
        import altair as alt
        import streamlit as st

        from tests.ui.test_charts import ranked
        from ui import charts
        from ui.theme import LOW_N_COLOUR

        frame = ranked(["P1", "P2"], [40.5, 61.0])
        tooltip = (("provider_label", "Provider"), ("median", "Median %", ".1f"))
        charts.show(
            charts.ranked_bars(frame, label="provider_label", value="median", text="text",
                               title="Median", tooltip=tooltip,
                               select=charts.Pick("provider", "provider_id")),
            width="stretch", key="ours", on_select="rerun", selection_mode="provider",
        )  # fmt: skip
        # The same chart written with Altair on the frame, as the builder was before.
        base = alt.Chart(frame).encode(
            y=alt.Y("provider_label:N", title=None, sort=None, axis=alt.Axis(labelLimit=320)),
            x=alt.X("median:Q", title="Median", scale=alt.Scale(domain=[0, 100])),
            tooltip=[alt.Tooltip("provider_label", title="Provider"),
                     alt.Tooltip("median", title="Median %", format=".1f")],
        )  # fmt: skip
        colour = alt.when(alt.datum.low_n).then(alt.value(LOW_N_COLOUR))
        bars = base.mark_bar(cursor="pointer").encode(
            color=colour.otherwise(alt.value(charts.BAR_COLOUR))
        )
        bars = bars.add_params(alt.selection_point(name="provider", fields=["provider_id"]))
        labels = base.mark_text(align="left", dx=4).encode(text="text:N")
        chart = (bars + labels).properties(height=alt.Step(24))
        st.altair_chart(chart, width="stretch", key="theirs", on_select="rerun",
                        selection_mode="provider")  # fmt: skip

    at = AppTest.from_function(script).run()
    assert not at.exception
    ours, theirs = drawn(at)
    assert ours == theirs
    assert ours["spec"]["data"]["rows"][0]["provider_id"] == "P1"
    assert list(ours["selection_mode"]) == ["provider"]


def test_a_chart_shape_is_built_once_and_refilled_with_new_data():
    tooltip = charts.tips(("provider_label", "Provider"), ("median", "Median %", ".1f"))
    shape = dict(label="provider_label", value="median", text="text", title="Median % (test)",
                 tooltip=tooltip)  # fmt: skip
    before = charts.ranked_bars.cache_info()
    first = charts.ranked_bars(ranked(["P1"], [40.0]), **shape)
    second = charts.ranked_bars(ranked(["P2", "P3"], [55.0, 70.0]), **shape)
    after = charts.ranked_bars.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 1)
    assert first.spec is second.spec  # one spec, two frames
    assert second.data["frame"]["provider_id"].to_list() == ["P2", "P3"]


def test_tooltip_types_are_the_ones_altair_infers_from_the_columns():
    frame = pl.DataFrame(
        {
            "text": ["a"],
            "category": pl.Series(["a"], dtype=pl.Categorical),
            "ordered": pl.Series(["Safe"], dtype=pl.Enum(["Safe", "Effective"])),
            "flag": [True],
            "count": pl.Series([1], dtype=pl.UInt32),
            "share": [0.5],
            "day": [dt.date(2025, 1, 1)],
            "moment": [dt.datetime(2025, 1, 1, 12)],
        }
    )
    inferred = alt.Chart(frame).mark_point().encode(tooltip=[alt.Tooltip(c) for c in frame.columns])
    expected = [(t["field"], t["type"]) for t in inferred.to_dict()["encoding"]["tooltip"]]
    assert list(charts.types(frame)) == expected
    assert dict(expected)["ordered"] == "ordinal"  # an Enum is ordered: Safe before Effective


def heatmap_frame(low_n: list[bool]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "group": ["A", "B"],
            "label": ["Safe · Learning culture"] * 2,
            "low_share": [0.0, 0.35],
            "mean_score": [3.0, 2.6],
            "n": [2, 40],
            "low_n": low_n,
        }
    )


def test_heatmap_grey_cells_show_no_figure_and_the_share_scale_fits_the_data():
    figure = charts.heatmap(heatmap_frame([True, False]), column="group", column_title="Group",
                            metric="low_share", order=["Safe · Learning culture"])  # fmt: skip
    cells, text = figure.spec["layer"]
    colour = cells["encoding"]["color"]
    assert colour["scale"]["domainMin"] == 0 and "domain" not in colour["scale"]  # not 0-1
    assert colour["legend"]["format"] == ".0%"  # as the cells: percent, not fractions
    assert text["transform"] == [{"filter": "!datum.low_n"}]  # the grey 2-score cell: no "0%"
    mean = charts.heatmap(heatmap_frame([True, False]), column="group", column_title="Group",
                          metric="mean_score", order=["Safe · Learning culture"])  # fmt: skip
    assert mean.spec["layer"][0]["encoding"]["color"]["scale"]["domain"] == [1, 2.5, 4]
    assert mean.spec["layer"][1]["transform"] == [{"filter": "!datum.low_n"}]


def test_whole_number_changes_get_a_bar_per_value_centred_on_its_tick():
    frame = pl.DataFrame(
        {"change_from": [-1.0, 0.0, 1.0], "change_to": [0.0, 1.0, 2.0],
         "direction": ["declined", "unchanged", "improved"], "count": [3, 5, 2]}
    )  # fmt: skip
    whole = charts.change_histogram(frame, step=1).spec["encoding"]
    assert whole["x"]["type"] == "ordinal" and "bin" not in whole["x"] and "x2" not in whole
    binned = charts.change_histogram(frame, step=5).spec["encoding"]
    assert binned["x"]["bin"] == "binned" and binned["x2"]["field"] == "change_to"
