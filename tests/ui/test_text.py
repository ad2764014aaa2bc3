"""Text from the sources, shown and exported as written: bidirectional controls made visible."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from queries.filters import ALL
from ui.export import csv_bytes, provenance
from ui.text import plain, visible, visible_controls


def test_each_bidirectional_control_is_written_as_its_code_point():
    assert visible("exe.\u202egpj") == "exe.<U+202E>gpj"
    assert visible("a\u2066b\u2069c\u200f") == "a<U+2066>b<U+2069>c<U+200F>"
    assert visible("plain text") == "plain text"
    assert plain("A\u202eB") == "A\\<U\\+202E\\>B"  # escaped for Markdown as well


def test_frames_keep_clean_columns_and_types_and_fix_dirty_ones():
    frame = pl.DataFrame(
        {
            "name": ["ok", "x\u202ey"],
            "label": pl.Series(["a", "b\u2067"], dtype=pl.Categorical),
            "clean": pl.Series(["c", "d"], dtype=pl.Categorical),
            "n": [1, 2],
        }
    )
    shown = visible_controls(frame)
    assert shown["name"].to_list() == ["ok", "x<U+202E>y"]
    assert shown["label"].to_list() == ["a", "b<U+2067>"]
    assert shown.schema["clean"] == pl.Categorical  # untouched
    assert shown["n"].to_list() == [1, 2]
    clean = frame.select("clean", "n")
    assert visible_controls(clean) is clean  # nothing to do: the same frame


def test_the_csv_writes_controls_visibly():
    frame = pl.DataFrame({"location_name": ["Court\u202egnp.exe"]})
    text = csv_bytes(frame, provenance(frame, ALL, "2026-01-01", True)).decode("utf-8-sig")
    assert "Court<U+202E>gnp.exe" in text and "\u202e" not in text


def test_dates_are_written_one_way_without_a_leading_zero():
    """'7 Mar 2025' everywhere, never '07 Mar' beside '7 Mar' (strftime's %d pads, %-d not)."""
    root = Path(__file__).resolve().parents[2]
    padded = [
        f"{path.relative_to(root)}:{n}"
        for folder in ("ui", "pages", "queries")
        for path in sorted((root / folder).rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if re.search(r"(?<!-)%d %[bB]", line)
    ]
    assert padded == []
