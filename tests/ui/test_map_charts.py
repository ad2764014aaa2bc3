"""ui.charts' map and national picture: what the specs draw, with no outside data."""

from __future__ import annotations

import math

import polars as pl
import pytest

from ingest.reference import RATINGS
from queries.frames import KEY_QUESTION
from ui import charts
from ui.theme import RATING_COLOURS


def _points(lats: list[float], lons: list[float], regions: list[str] | None = None):
    n = len(lats)
    return pl.DataFrame(
        {
            "location_id": [f"L{i}" for i in range(n)],
            "location_name": [f"Home {i}" for i in range(n)],
            "provider_name": ["P"] * n,
            "service_type": ["Care home"] * n,
            "region": regions or ["London"] * n,
            "local_authority": ["Camden"] * n,
            "icb_name": ["NHS North Central London Integrated Care Board"] * n,
            "key_question_rating": (list(RATINGS) * n)[:n],
            "key_question_score": [50] * n,
            "assessment_date": [None] * n,
            "latitude": lats,
            "longitude": lons,
        },
        schema_overrides={"assessment_date": pl.Date},
    )


def _keys(node) -> set[str]:
    if isinstance(node, dict):
        return set(node) | {k for v in node.values() for k in _keys(v)}
    if isinstance(node, list):
        return {k for v in node for k in _keys(v)}
    return set()


def test_the_map_fits_its_points_at_least_111_km_across():
    # One borough: 51.4-51.6 N, 0.2 W-0.0. Middle 51.5 N; a span of 0.2 degrees is under
    # MAP_SPAN (1), so half = 0.5 each way; east-west as far: 0.5 / cos(51.5) = 0.8032.
    corners = charts.map_extent(_points([51.4, 51.6], [-0.2, 0.0]))
    half_east = 0.5 / math.cos(math.radians(51.5))
    assert corners["latitude"].to_list() == pytest.approx([51.0, 52.0])
    assert corners["longitude"].to_list() == pytest.approx([-0.1 - half_east, -0.1 + half_east])
    assert half_east == pytest.approx(0.8032, abs=1e-4)
    # England-wide: 50-55 N padded by 6% each side: half = 5 x 0.56 = 2.8 about 52.5;
    # 5 W-1 E: half = 6 x 0.56 = 3.36 about 2 W.
    corners = charts.map_extent(_points([50.0, 55.0], [-5.0, 1.0]))
    assert corners["latitude"].to_list() == pytest.approx([49.7, 55.3])
    assert corners["longitude"].to_list() == pytest.approx([-5.36, 1.36])
    empty = charts.map_extent(_points([], []))
    assert empty.to_dicts() == [
        {"latitude": 49.9, "longitude": -5.75},
        {"latitude": 55.85, "longitude": 1.77},
    ]


def test_the_map_is_points_on_a_projection_in_the_rating_palette_with_no_outside_data():
    frame = _points([51.5, 53.8, 52.5], [-0.1, -1.55, -1.9], ["London", "North West", "London"])
    figure = charts.location_map(frame, select=charts.Pick("location", "location_id"))
    spec = figure.spec
    # No tiles, no remote data: every dataset is one of the figure's slots or written inline.
    assert not {"url", "sphere", "graticule"} & _keys(spec)
    assert spec["projection"] == {"type": "mercator"}
    corners, points, *_names = spec["layer"]
    assert corners["mark"]["opacity"] == 0
    colour, shape = points["encoding"]["color"], points["encoding"]["shape"]
    assert colour["field"] == shape["field"] == "key_question_rating"
    assert colour["scale"]["range"] == [RATING_COLOURS[r] for r in RATINGS]
    assert shape["scale"]["range"] == ["triangle-down", "diamond", "circle", "square"]
    assert {t["title"] for t in points["encoding"]["tooltip"]} >= {"Location", "Rating", "ICB"}
    # The regions the points are in are named, where REGION_LABELS puts them.
    assert figure.data["regions"].rows() == [
        ("North West", *charts.REGION_LABELS["North West"]),
        ("London", *charts.REGION_LABELS["London"]),
    ]
    # By percentage: the same palette, each colour at the middle of its band.
    by_score = charts.location_map(frame, percentage=True).spec["layer"][1]["encoding"]
    assert by_score["color"]["field"] == "key_question_score"
    assert by_score["color"]["scale"]["domain"] == [31.5, 50.5, 75, 94]
    assert by_score["color"]["scale"]["range"] == [RATING_COLOURS[r] for r in RATINGS]
    assert by_score["shape"]["field"] == "key_question_rating"


def test_the_national_picture_has_a_panel_per_key_question_naming_n():
    bins = pl.DataFrame(
        {
            "key_question": ["Safe", "Safe", "Caring"],
            "bin_start": [50, 75, 75],
            "bin_end": [54, 79, 79],
            "count": [3, 4, 2],
            "n": [7, 7, 2],
        },
        schema_overrides={"key_question": KEY_QUESTION},  # framework order, as the frames
    )
    marks = pl.DataFrame(
        {
            "key_question": ["Safe", "Safe", "Caring"],
            "location_name": ["B", "A", "A"],
            "key_question_score": [50, 50, 100],
            "percentile_rank": [28.6, 28.6, 75.0],
        },
        schema_overrides={"key_question": KEY_QUESTION},
    )
    figure = charts.national_picture(bins, marks)
    assert len(figure.spec["vconcat"]) == 2
    # Safe: two of the provider's locations at 50, in the 50-54 bin, named in its tooltip
    assert figure.data["marks"].rows() == [
        ("Safe", 50, 2, "A (50%), B (50%)", 54),
        ("Caring", 100, 1, "A (100%)", 100),
    ]
    assert figure.data["labels"]["text"].to_list() == [
        "Safe: n = 7 locations; 2 of the provider's",
        "Caring: n = 2 locations; 1 of the provider's",
    ]
    assert not {"url"} & _keys(figure.spec)
