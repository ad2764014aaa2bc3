"""Text from the data (names, statements) where Streamlit reads Markdown, shown as written."""

from __future__ import annotations

import re

import polars as pl

# Bidirectional controls: invisible, they reorder what follows ("U+202E" makes "gpj.exe"
# read "exe.jpg"). Shown as their code point (`<U+202E>`), never stripped: what the source
# held stays visible.
CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_CONTROL = re.compile(f"[{CONTROLS}]")

# CommonMark lets a backslash escape any ASCII punctuation; escaping all of it leaves no
# emphasis, link, image, HTML tag, heading, list, directive or maths for a name to start.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def plain(text: object) -> str:
    """`text` on one line, every Markdown character escaped: nothing in it renders or runs."""
    return _PUNCTUATION.sub(r"\\\1", visible(" ".join(str(text).split())))


def visible(text: str) -> str:
    """`text` with each bidirectional control written as `<U+XXXX>`."""
    return _CONTROL.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)


def visible_controls(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with every bidirectional control in its text columns written as `<U+XXXX>`.

    A Categorical or Enum column is checked on its distinct values (few, over millions of
    rows) and becomes String only when it holds a control; clean frames are returned as they
    are, after one scan.
    """
    labels = [c for c, t in frame.schema.items() if t in (pl.Categorical, pl.Enum)]
    text = [c for c, t in frame.schema.items() if t == pl.String]
    found = frame.select(
        *(pl.col(c).unique().cast(pl.String).str.contains(_CONTROL.pattern).any() for c in labels),
        *(pl.col(c).str.contains(_CONTROL.pattern).any() for c in text),
    )
    columns = [c for c in found.columns if found[c][0]]
    if not columns:
        return frame
    cells = [pl.col(c).cast(pl.String) for c in columns]
    for char in CONTROLS:
        cells = [cell.str.replace_all(char, f"<U+{ord(char):04X}>", literal=True) for cell in cells]
    return frame.with_columns(cell.alias(c) for c, cell in zip(columns, cells, strict=True))
