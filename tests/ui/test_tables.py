"""ui.tables.column_config: how a "Numbers behind" table heads and formats its columns."""

from __future__ import annotations

import datetime as dt

import polars as pl

from ui import tables


def test_numbers_tables_are_headed_in_words_and_formatted_one_way():
    frame = pl.DataFrame(
        {
            "key_question": ["Safe"],
            "low_share": [0.4375],
            "mean_score": [2.6667],
            "mean": [67.25],
            "n": [1234],
            "low_n": [False],
            "assessment_date": [dt.date(2025, 3, 7)],
            "loaded_at": [dt.datetime(2025, 3, 7, 9, 30, 12)],
        }
    )
    config = tables.column_config(frame)
    shown = {n: (c["label"], c.get("type_config", {}).get("format")) for n, c in config.items()}
    assert shown == {
        "key_question": ("Key question", None),
        "low_share": ("Share scoring 1-2", "percent"),  # 43.8%, not 0.4375
        "mean_score": ("Mean score (1-4)", "%.2f"),
        "mean": ("Mean", "%.1f"),
        "n": ("n", "localized"),
        "low_n": ("Fewer than 5 (grey)", None),
        "assessment_date": ("Assessment date", "D MMM YYYY"),  # 7 Mar 2025 everywhere
        "loaded_at": ("Loaded at", "D MMM YYYY, HH:mm"),  # no seconds or microseconds
    }
