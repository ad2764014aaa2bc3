"""The app's exported files: the Export page's filtered `scores` rows as CSV or Parquet, and
(through ui.tables) every table's CSV, each saying what it holds.

CSV: UTF-8 with a byte order mark (so Excel reads it as UTF-8), CRLF line ends, then a
provenance block of lines whose first cell starts with '#' (a name cell and a value cell:
what the file is, filters, data as of, demo or not, rows, columns, app version, when made),
then the table with its header row. `pl.read_csv(path, comment_prefix="#")` and
`pandas.read_csv(path, comment="#")` skip the block. Text cells a spreadsheet would run as a
formula (starting with = + - @, tab or carriage return; Categorical and Enum cells too) get
a leading single quote, as OWASP advises against CSV injection; numbers and dates are
written as they are.
Parquet: the same provenance in the file's key-value metadata (keys `qsd.<name>`); typed
values, unchanged (no spreadsheet evaluates Parquet).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ingest.schema import VIEW_COLUMNS
from queries.current import selected
from queries.data import SCORES_ORDER
from queries.filters import Filters

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
WHAT = "scores: one row per scored quality statement"
EVIDENCE = "evidence"
# Every column of the `scores` view but the evidence text, which is a separate choice.
COLUMNS: tuple[str, ...] = tuple(c for c, _ in VIEW_COLUMNS["scores"] if c != EVIDENCE)
DESCRIPTIONS: dict[str, str] = dict(VIEW_COLUMNS["scores"])
# The loaded scores frame comes in this order (queries.data) and filters keep it.
ROW_ORDER = SCORES_ORDER
EVIDENCE_KEYS = ("assessment_id", "key_question", "statement")
FORMULA_START = r"^[=+\-@\t\r]"

_LABELS = (pl.Categorical, pl.Enum)

EvidenceFetch = Callable[[pl.Series], pl.DataFrame]


def app_version() -> str:
    """The version in pyproject.toml."""
    try:
        return tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


@dataclass(frozen=True)
class Provenance:
    """What an exported file holds; written into the file itself."""

    filters: str
    data_as_of: str
    demo: bool
    rows: int
    columns: tuple[str, ...]
    app_version: str
    generated_at: str
    what: str = WHAT

    def items(self) -> list[tuple[str, str]]:
        return [
            ("Quality Statement Dashboard export", self.what),
            ("Filters", self.filters),
            ("Data as of", self.data_as_of),
            ("Demo data", "yes: every service and score is fictional" if self.demo else "no"),
            ("Rows", str(self.rows)),
            ("Columns", ", ".join(self.columns)),
            ("App version", self.app_version),
            ("Generated", self.generated_at),
        ]


def provenance(
    frame: pl.DataFrame, filters: Filters, data_as_of: str, demo: bool, *, what: str = WHAT
) -> Provenance:
    """The provenance of `frame` (which holds `what`), exported now."""
    return Provenance(
        what=what,
        filters=filters.describe(),
        data_as_of=data_as_of,
        demo=demo,
        rows=frame.height,
        columns=tuple(frame.columns),
        app_version=app_version(),
        generated_at=dt.datetime.now().isoformat(timespec="seconds"),
    )


def selected_rows(scores: pl.LazyFrame, filters: Filters) -> pl.LazyFrame:
    """The `scores` rows the filters select, in ROW_ORDER (the loaded frame's, which filters keep)."""  # noqa: E501
    return selected(scores, filters)


def _rows(
    scores: pl.LazyFrame,
    filters: Filters,
    columns: Sequence[str],
    evidence: EvidenceFetch | None,
    limit: int | None,
) -> pl.DataFrame:
    """export_frame with Categorical and Enum columns as they are loaded."""
    chosen = [c for c in COLUMNS if c in columns]
    rows = selected_rows(scores, filters)
    if limit is not None:
        rows = rows.head(limit)
    keep = list(dict.fromkeys(chosen + (list(EVIDENCE_KEYS) if evidence else [])))
    frame = rows.select(keep).collect()
    if evidence is not None:
        texts = evidence(frame["assessment_id"])
        texts = texts.with_columns(pl.col(k).cast(frame.schema[k]) for k in EVIDENCE_KEYS)
        frame = frame.join(texts, on=list(EVIDENCE_KEYS), how="left", maintain_order="left")
        chosen.append(EVIDENCE)
    return frame.select(chosen)


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with its Categorical and Enum columns as String."""
    return frame.with_columns(
        pl.col(c).cast(pl.String) for c, t in frame.schema.items() if isinstance(t, _LABELS)
    )


def export_frame(
    scores: pl.LazyFrame,
    filters: Filters,
    columns: Sequence[str] = COLUMNS,
    *,
    evidence: EvidenceFetch | None = None,
    limit: int | None = None,
) -> pl.DataFrame:
    """The selected rows with `columns` (schema order), plus `evidence` fetched when given."""
    return _as_text(_rows(scores, filters, columns, evidence, limit))


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with a single quote before every text cell that starts like a formula (a Categorical or Enum column with such a cell becomes String)."""  # noqa: E501
    # A label column is checked on its few distinct values, a String column row by row; only
    # columns holding a formula-like cell are rewritten, so an export of millions of clean
    # rows costs a scan, not a copy.
    schema = frame.schema
    found = frame.select(
        *(pl.col(c).unique().cast(pl.String).str.contains(FORMULA_START).any()
          for c, t in schema.items() if isinstance(t, _LABELS)),
        *(pl.col(c).str.contains(FORMULA_START).any() for c, t in schema.items() if t == pl.String),
    )  # fmt: skip
    cells = {c: pl.col(c).cast(pl.String) for c in found.columns if found[c][0]}
    return frame.with_columns(
        pl.when(cell.str.contains(FORMULA_START)).then(pl.lit("'") + cell).otherwise(cell).alias(c)
        for c, cell in cells.items()
    )


def _guard(value: str) -> str:
    return "'" + value if re.match(FORMULA_START, value) else value


def csv_bytes(frame: pl.DataFrame, about: Provenance) -> bytes:
    """The CSV file: BOM, '#' provenance lines, then the table (see the module docstring)."""
    block = io.StringIO()
    writer = csv.writer(block, lineterminator="\r\n")
    writer.writerows((f"# {name}", _guard(value)) for name, value in about.items())
    out = io.BytesIO()
    out.write(("\ufeff" + block.getvalue()).encode())
    neutralise_formulas(frame).write_csv(out, line_terminator="\r\n")
    return out.getvalue()


def parquet_bytes(frame: pl.DataFrame, about: Provenance) -> bytes:
    """The Parquet file, with the provenance as `qsd.<name>` key-value metadata."""
    metadata = {"qsd." + _slug(name): value for name, value in about.items()}
    metadata["qsd.what"] = metadata.pop("qsd.quality_statement_dashboard_export")
    out = io.BytesIO()
    frame.write_parquet(out, metadata=metadata)
    return out.getvalue()


def _slug(name: str) -> str:
    return re.sub(r"\W+", "_", name.lower()).strip("_")


def builder(
    kind: str,
    scores: pl.LazyFrame,
    filters: Filters,
    columns: Sequence[str],
    *,
    evidence: EvidenceFetch | None,
    data_as_of: str,
    demo: bool,
) -> Callable[[], bytes]:
    """A function that builds the whole file ('csv' or 'parquet') when called: on download."""

    def build() -> bytes:
        # The CSV writes Categorical and Enum cells as text itself: no cast of millions of rows.
        frame = _rows(scores, filters, columns, evidence, None)
        about = provenance(frame, filters, data_as_of, demo)
        if kind == "csv":
            return csv_bytes(frame, about)
        return parquet_bytes(_as_text(frame), about)

    return build
