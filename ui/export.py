"""The app's exported files: the Export page's filtered `scores` rows as CSV or Parquet, and
(through ui.tables) every table's CSV, each saying what it holds.

CSV: UTF-8 with a byte order mark (so Excel reads it as UTF-8), CRLF line ends, then a
provenance block of lines whose first cell starts with '#' (a name cell and a value cell:
what the file is, filters, data as of, demo or not, rows, columns, app version, when made),
then the table with its header row. `pl.read_csv(path, comment_prefix="#")` and
`pandas.read_csv(path, comment="#")` skip the block. Text cells a spreadsheet would run as a
formula (starting with = + - @, tab or carriage return; Categorical and Enum cells too) get
a leading single quote, as OWASP advises against CSV injection, and invisible bidirectional
controls (U+202E and its kin, which can make a name read backwards) are written visibly as
`<U+202E>` (ui.text.visible_controls); numbers and dates are written as they are.
Parquet: the same provenance in the file's key-value metadata (keys `qsd.<name>`); typed
values, unchanged (no spreadsheet evaluates Parquet).

Size. Streamlit keeps a download's whole file in the server's memory (as bytes, whatever
the callable returns; each click builds it anew) until two more script runs have finished or
the session ends, so the Export page builds a file only up to `download_limit()` (1 GB
unless $QSD_DOWNLOAD_LIMIT_MB says otherwise).
A selection whose CSV would be larger comes as the same CSV gzip-compressed ('csv.gz',
10-30 times smaller); one too large even so is not built (`estimated_sizes`, `csv_kind`).
A file is written in chunks of CHUNK_ROWS rows, each with its evidence text, so building it
costs the file itself plus a few chunks, not the selection again in another form.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import itertools
import os
import re
import tomllib
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import polars as pl
from polars.io.plugins import register_io_source

from ingest.schema import VIEW_COLUMNS
from queries.current import selected
from queries.filters import Filters
from queries.frames import SCORES_ORDER
from ui.text import visible_controls

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
WHAT = "scores: one row per scored quality statement"
CURRENT = " (current picture: each location's latest scored assessment of each key question)"
EVIDENCE = "evidence"
# Every column of the `scores` view but the evidence text, which is a separate choice.
COLUMNS: tuple[str, ...] = tuple(c for c, _ in VIEW_COLUMNS["scores"] if c != EVIDENCE)
DESCRIPTIONS: dict[str, str] = dict(VIEW_COLUMNS["scores"])
# The loaded scores frame comes in this order (queries.frames) and filters keep it.
ROW_ORDER = SCORES_ORDER
EVIDENCE_KEYS = ("assessment_id", "key_question", "statement")
FORMULA_START = r"^[=+\-@\t\r]"
# Export kinds: the file name's extension.
CSV, CSV_GZ, PARQUET = "csv", "csv.gz", "parquet"
MIME = {CSV: "text/csv", CSV_GZ: "application/gzip", PARQUET: "application/vnd.apache.parquet"}
LIMIT_ENV = "QSD_DOWNLOAD_LIMIT_MB"
DEFAULT_LIMIT_MB = 1000
# Rows per chunk: per evidence query (each scans the whole statement table) and CSV write.
CHUNK_ROWS = 500_000
# Polars' Parquet writer holds a few of its input chunks, as text: it gets smaller ones.
PARQUET_CHUNK_ROWS = 100_000

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
    return _provenance(frame.height, frame.columns, filters, data_as_of, demo, what)


def _provenance(
    rows: int, columns: Sequence[str], filters: Filters, data_as_of: str, demo: bool, what: str
) -> Provenance:
    return Provenance(
        what=what,
        filters=filters.describe(),
        data_as_of=data_as_of,
        demo=demo,
        rows=rows,
        columns=tuple(columns),
        app_version=app_version(),
        generated_at=dt.datetime.now().isoformat(timespec="seconds"),
    )


def selected_rows(scores: pl.LazyFrame, filters: Filters, latest: bool = False) -> pl.LazyFrame:
    """The `scores` rows the filters select (`latest`: of the current picture), in ROW_ORDER.

    ROW_ORDER is the loaded frame's, which filters keep.
    """
    return selected(scores, filters, latest=latest, scored=True)


def file_stem(filters: Filters, latest: bool = False, *, today: dt.date | None = None) -> str:
    """A download's name without extension: what it holds, its filters and the date.

    'qsd-scores-current-regions_london-20261202'; at most about 100 characters.
    """
    described = "" if filters.describe() == "everything" else _slug(filters.describe())[:60]
    parts = ["qsd-scores", "current" * latest, described, f"{today or dt.date.today():%Y%m%d}"]
    return "-".join(p for p in parts if p)


def _chosen(columns: Sequence[str], evidence: EvidenceFetch | None) -> list[str]:
    """The export's columns: `columns` in schema order, then the evidence when fetched."""
    return [c for c in COLUMNS if c in columns] + ([EVIDENCE] if evidence else [])


def _chunks(
    scores: pl.LazyFrame,
    filters: Filters,
    columns: Sequence[str],
    evidence: EvidenceFetch | None,
    limit: int | None = None,
    latest: bool = False,
) -> Iterator[pl.DataFrame]:
    """The selected rows' export columns with their evidence, CHUNK_ROWS at a time.

    At least one chunk; Categorical and Enum columns as loaded.
    """
    chosen = _chosen(columns, evidence)
    keys = list(EVIDENCE_KEYS) if evidence else []
    keep = list(dict.fromkeys([c for c in chosen if c != EVIDENCE] + keys))
    rows = selected_rows(scores, filters, latest).select(keep)
    if limit is not None:
        rows = rows.head(limit)
    # The streaming engine hands the rows over in order without collecting the selection.
    empty = True
    for chunk in rows.collect_batches(chunk_size=CHUNK_ROWS):
        empty = False
        yield _with_evidence(chunk, evidence).select(chosen)
    if empty:  # the CSV's header and the Parquet schema come from the first chunk
        yield _with_evidence(rows.head(0).collect(), evidence).select(chosen)


def _with_evidence(rows: pl.DataFrame, evidence: EvidenceFetch | None) -> pl.DataFrame:
    if evidence is None:
        return rows
    texts = evidence(rows["assessment_id"])
    texts = texts.with_columns(pl.col(k).cast(rows.schema[k]) for k in EVIDENCE_KEYS)
    return rows.join(texts, on=list(EVIDENCE_KEYS), how="left", maintain_order="left")


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
    latest: bool = False,
) -> pl.DataFrame:
    """The selected rows with `columns` (schema order), plus `evidence` fetched when given."""
    return _as_text(pl.concat(_chunks(scores, filters, columns, evidence, limit, latest)))


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with a single quote before every text cell that starts like a formula.

    A Categorical or Enum column with such a cell becomes String.
    """
    # A label column is checked on its few distinct values, a String column row by row; only
    # columns holding a formula-like cell are rewritten, so an export of millions of clean
    # rows costs a scan, not a copy.
    schema = frame.schema
    found = frame.select(
        *(
            pl.col(c).unique().cast(pl.String).str.contains(FORMULA_START).any()
            for c, t in schema.items()
            if isinstance(t, _LABELS)
        ),
        *(pl.col(c).str.contains(FORMULA_START).any() for c, t in schema.items() if t == pl.String),
    )
    cells = {c: pl.col(c).cast(pl.String) for c in found.columns if found[c][0]}
    return frame.with_columns(
        pl.when(cell.str.contains(FORMULA_START)).then(pl.lit("'") + cell).otherwise(cell).alias(c)
        for c, cell in cells.items()
    )


def _guard(value: str) -> str:
    return "'" + value if re.match(FORMULA_START, value) else value


def _write_csv(
    chunks: Iterable[pl.DataFrame], about: Provenance, out: IO[bytes], *, compress: bool
) -> None:
    """The CSV file (BOM, '#' provenance lines, the table) into `out`; gzip-compressed when
    asked (one gzip member per chunk: gunzip and every CSV reader join them)."""
    block = io.StringIO()
    writer = csv.writer(block, lineterminator="\r\n")
    writer.writerows((f"# {name}", _guard(value)) for name, value in about.items())
    head = ("\ufeff" + block.getvalue()).encode()
    out.write(gzip.compress(head, mtime=0) if compress else head)
    # Categorical and Enum cells are written as text by the CSV writer: no cast of the rows.
    for i, chunk in enumerate(chunks):
        neutralise_formulas(visible_controls(chunk)).write_csv(
            out,
            include_header=i == 0,
            line_terminator="\r\n",
            compression="gzip" if compress else "uncompressed",
        )


def csv_bytes(frame: pl.DataFrame, about: Provenance) -> bytes:
    """The CSV file: BOM, '#' provenance lines, then the table (see the module docstring)."""
    out = io.BytesIO()
    _write_csv([frame], about, out, compress=False)
    return out.getvalue()


def _write_parquet(chunks: Iterator[pl.DataFrame], about: Provenance, out: IO[bytes]) -> None:
    """The Parquet file into `out`, the provenance as `qsd.<name>` key-value metadata."""
    metadata = {"qsd." + _slug(name): value for name, value in about.items()}
    metadata["qsd.what"] = metadata.pop("qsd.quality_statement_dashboard_export")
    size = PARQUET_CHUNK_ROWS
    parts = (c.slice(i, size) for c in chunks for i in range(0, max(c.height, 1), size))
    texts = (_as_text(part) for part in parts)
    first = next(texts)  # the schema: an empty selection still gives one (empty) chunk
    # Polars' own writer, fed the chunks as a lazy source: it compresses in parallel.
    source = register_io_source(lambda *_: itertools.chain([first], texts), schema=first.schema)
    source.sink_parquet(out, metadata=metadata)


def _slug(name: str) -> str:
    return re.sub(r"\W+", "_", name.lower()).strip("_")


def download_limit() -> int:
    """Bytes of the largest file the app builds for a download.

    $QSD_DOWNLOAD_LIMIT_MB MB (default 1,000).
    """
    return int(float(os.environ.get(LIMIT_ENV) or DEFAULT_LIMIT_MB) * 1_000_000)


# Rows of the sample a download's size is estimated from: the first hundred of a selection
# can differ from the rest (one provider's long names, say); a thousand were within 5%.
SIZE_SAMPLE_ROWS = 1_000
GZIP_MARGIN = 1.25  # the gzip estimate's allowance for a sample compressing better than all


def estimated_sizes(sample: pl.DataFrame, rows: int) -> dict[str, int]:
    """Estimated bytes of the CSV and of the CSV_GZ file of `rows` rows like `sample` (the
    export_frame of their first rows)."""
    # gzip looks back 32 KB, so a sample that size compresses about as well as the whole
    # file: worse on the scale data (twice the size), a little better on a small demo (1%
    # under the whole without evidence), so the estimate adds GZIP_MARGIN to err on the safe
    # side.
    written = neutralise_formulas(sample).write_csv(line_terminator="\r\n").encode()
    packed = len(gzip.compress(written, mtime=0)) * GZIP_MARGIN
    per_row = {CSV: len(written), CSV_GZ: packed}
    return {kind: round(size / max(sample.height, 1) * rows) for kind, size in per_row.items()}


def size_text(n: int) -> str:
    """Bytes to three significant figures: '0.52 MB', '794 MB', '8.04 GB'."""
    return f"{n / 1e9:.3g} GB" if n >= 1e9 else f"{n / 1e6:.3g} MB"


def csv_kind(sizes: dict[str, int], limit: int) -> str | None:
    """CSV if its file fits the limit, else CSV_GZ if that fits, else None (too large)."""
    return next((kind for kind in (CSV, CSV_GZ) if sizes[kind] <= limit), None)


def write_export(
    kind: str,
    out: IO[bytes],
    scores: pl.LazyFrame,
    filters: Filters,
    columns: Sequence[str],
    *,
    evidence: EvidenceFetch | None,
    data_as_of: str,
    demo: bool,
    latest: bool = False,
) -> None:
    """The export file of `kind` (CSV, CSV_GZ or PARQUET) written into `out`, a chunk at a time.

    `latest`: the current picture's rows only (and the file says so).
    """
    rows = selected_rows(scores, filters, latest).select(pl.len()).collect().item()
    what = WHAT + CURRENT * latest
    about = _provenance(rows, _chosen(columns, evidence), filters, data_as_of, demo, what)
    chunks = _chunks(scores, filters, columns, evidence, latest=latest)
    if kind == PARQUET:
        _write_parquet(chunks, about, out)
    else:
        _write_csv(chunks, about, out, compress=kind == CSV_GZ)


def builder(
    kind: str,
    scores: pl.LazyFrame,
    filters: Filters,
    columns: Sequence[str],
    *,
    evidence: EvidenceFetch | None,
    data_as_of: str,
    demo: bool,
    latest: bool = False,
) -> Callable[[], bytes]:
    """A function that builds the whole file (CSV, CSV_GZ or PARQUET) when called: on download."""

    def build() -> bytes:
        # Streamlit keeps the bytes it is given as they are (no copy), so the file is held
        # once; getvalue() hands over the buffer without copying it either.
        out = io.BytesIO()
        write_export(
            kind,
            out,
            scores,
            filters,
            columns,
            evidence=evidence,
            data_as_of=data_as_of,
            demo=demo,
            latest=latest,
        )
        return out.getvalue()

    return build
