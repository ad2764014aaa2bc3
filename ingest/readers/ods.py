"""A streaming reader of one sheet of an ODS spreadsheet, straight from the zip.

An XML parser builds objects for ~18 million elements in CQC's real ratings file (320,000
rows), which takes a minute and several GB; the sheet's XML is regular enough to cut with
byte searches instead, one row at a time, in about an eighth of the memory of a full reader
(python-calamine, the tests' oracle). Used by ingest.readers.rating_files.

Linear in the file and bounded whatever it asks for (ingest.limits): content.xml is inflated
in chunks and at most MAX_ODS_INFLATED_BYTES (and MAX_ODS_RATIO times its compressed size)
of it is read; the reader holds one row at a time, of at most MAX_ROW_BYTES; a repeat count
expands to at most the sheet's MAX_SHEET_ROWS rows and MAX_SHEET_COLUMNS columns and the
sheet to MAX_SHEET_CELLS cells with content; a cell's text (its `<text:s text:c="N"/>`
spaces included) is at most MAX_CELL_CHARS characters. Padding (empty rows or cells repeated
to the sheet's edge, as spreadsheets write) costs nothing. Past a bound the file is rejected.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from html import unescape

from ingest import limits
from ingest.records import RejectedFile

# What a damaged or unusual zip raises while it is opened or inflated.
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    KeyError,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,  # a compression method zipfile lacks
)


class MissingSheet(RejectedFile):
    """The spreadsheet has no sheet of the name asked for; `sheets` are the ones it has."""

    def __init__(self, sheet: str, sheets: list[str]) -> None:
        listed = ", ".join(f"'{s[:60]}'" for s in sheets[:10]) or "none"
        super().__init__(f"ODS file has no '{sheet}' sheet (its sheets: {listed})")
        self.sheets = sheets


ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_NS_TABLE = b"urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_NS_OFFICE = b"urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_NS_TEXT = b"urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_COUNT = re.compile(rb"[0-9]{1,12}")  # a repeat or space count; 12 digits pass any bound


def _damaged(what: str) -> RejectedFile:
    return RejectedFile(f"damaged ODS file: {what}")


def _too_big(what: str) -> RejectedFile:
    return RejectedFile(f"ODS file too large to read: {what}")


class OdsRows:
    """The rows of one sheet of an ODS file, read from the zip as a stream.

    An XML parser builds objects for ~18 million elements in the real file, which takes a
    minute; the sheet's XML is regular enough to cut with byte searches instead. Each row is
    a list of cell texts, or, once `wanted` is set, a {column: text} dict of those columns.
    Cells give their text, date cells their ISO date; repeated cells and rows are expanded.
    """

    def __init__(self, data: bytes, sheet: str, progress: Callable[[int], object]) -> None:
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            names = archive.namelist()
            mimetype = b""
            if "mimetype" in names:
                with archive.open("mimetype") as member:  # its type only, however big it is
                    mimetype = member.read(len(ODS_MIME) + 64)
            if mimetype.strip() != ODS_MIME:
                kind = "an Excel workbook" if "xl/workbook.xml" in names else "a zip archive"
                raise RejectedFile(
                    f"{kind}, not an ODS spreadsheet; save the ratings file as ODS or CSV"
                )
            info = archive.getinfo("content.xml")
            # What zipfile will read of the member is its compressed size, and no more than
            # the file holds; a small member may inflate to a mebibyte whatever its ratio.
            compressed = min(info.compress_size, len(data))
            self._budget = min(
                limits.MAX_ODS_INFLATED_BYTES, max(limits.MAX_ODS_RATIO * compressed, limits.MIB)
            )
            if info.file_size > self._budget:
                raise _too_big(self._inflation(info.file_size, "says it inflates to"))
            self._stream = archive.open("content.xml")
        except _ZIP_ERRORS as err:
            raise _damaged(str(err)) from None
        except RuntimeError as err:  # zipfile: an encrypted member
            raise RejectedFile(
                f"ODS file cannot be read: {err}; save it without a password"
            ) from None
        self.sheet = sheet
        self.sheets: list[str] = []  # the names of the sheets met so far
        self.wanted: set[int] | None = None
        self._progress = progress
        self._scale = len(data) / max(info.file_size, 1)
        self._inflated = 0
        self._rows_seen = 0  # rows of the sheet so far, repeats and padding counted
        self._cells_seen = 0  # cells with content so far, repeats counted

    def _inflation(self, size: int, verb: str) -> str:
        return (
            f"its content.xml {verb} {_size(size)}; at most {_size(self._budget)} is read"
            f" ({_size(limits.MAX_ODS_INFLATED_BYTES)}, and {limits.MAX_ODS_RATIO} times its"
            " compressed size)"
        )

    def __iter__(self) -> Iterator[Row]:
        try:
            yield from self._rows()
        except _ZIP_ERRORS as err:
            raise _damaged(str(err)) from None

    def _read(self, size: int = 1 << 20) -> bytes:
        chunk = self._stream.read(size)
        self._inflated += len(chunk)
        if self._inflated > self._budget:  # the declared size is only what the zip says
            raise _too_big(self._inflation(self._inflated, "inflates to more than"))
        self._progress(int(len(chunk) * self._scale))
        return chunk

    def _rows(self) -> Iterator[Row]:
        buf = self._read(1 << 16)
        root = re.search(rb"<(?:[\w.-]+:)?document-content\b[^>]{0,65536}>", buf)
        if root is None:
            raise _damaged("content.xml has no document")
        prefixes = {uri: p for p, uri in re.findall(rb'xmlns:([\w.-]+)="([^"]*)"', root[0])}
        t, o = prefixes.get(_NS_TABLE, b"table"), prefixes.get(_NS_OFFICE, b"office")
        x = prefixes.get(_NS_TEXT, b"text")
        self._cell = b"<" + t + b":table-cell"
        self._covered = b"<" + t + b":covered-table-cell"
        self._repeat = re.compile(rb"\b" + t + rb':number-columns-repeated="([^"]*)"')
        self._date = re.compile(rb"\b" + o + rb':date-value="([^"]*)"')
        self._p = (b"<" + x + b":p>", b"</" + x + b":p>")
        self._tags = re.compile(rb"<[^>]*>")
        self._space = re.compile(rb"<" + x + rb":s(?:\s+" + x + rb':c="([^"]*)")?\s*/>')
        table_open = b"<" + t + b":table "
        row_open, row_close = b"<" + t + b":table-row", b"</" + t + b":table-row>"
        row_repeat = re.compile(rb"\b" + t + rb':number-rows-repeated="([^"]*)"')
        name = re.compile(rb"\b" + t + rb':name="([^"]*)"')
        # Bytes kept at the end of a chunk that holds no tag: the start of a tag cut in two.
        keep = max(len(table_open), len(row_open)) - 1
        found = False  # in the sheet, or past it
        current = None
        pos = root.end()
        while True:
            next_table = buf.find(table_open, pos)
            while True:
                if next_table != -1 and next_table < pos:
                    next_table = buf.find(table_open, pos)
                row = buf.find(row_open, pos)
                if next_table != -1 and (row == -1 or next_table < row):
                    end = buf.find(b">", next_table)
                    if end == -1:
                        pos = next_table
                        break
                    if found:
                        return  # the next sheet: no need to inflate the rest of the file
                    match = name.search(buf, next_table, end)
                    current = unescape(match[1].decode("utf-8", "replace")) if match else None
                    found = current == self.sheet
                    self.sheets.append(current or "")
                    pos = end + 1
                    continue
                if row == -1:
                    pos = max(pos, len(buf) - keep)  # nothing to cut here: let it go
                    break
                pos = row
                head_end = buf.find(b">", row)
                if head_end == -1:
                    break
                if buf[head_end - 1 : head_end] == b"/":  # <table:table-row/>, an empty row
                    if current == self.sheet:
                        match = row_repeat.search(buf, row, head_end)
                        self._rows_seen += self._count(match[1], "rows") if match else 1
                    pos = head_end + 1
                    continue
                end = buf.find(row_close, head_end)
                if end == -1:
                    break
                text = buf[row:end]
                pos = end + len(row_close)
                if current != self.sheet:
                    continue
                match = row_repeat.search(text, 0, head_end - row)
                repeat = self._count(match[1], "rows") if match else 1
                first = self._rows_seen
                self._rows_seen += repeat
                cells, width = self._cells(text)
                if not cells:
                    continue
                if first + repeat > limits.MAX_SHEET_ROWS:
                    raise _too_big(
                        f"the {self.sheet} sheet has rows with content past row"
                        f" {limits.MAX_SHEET_ROWS:,}, the last a sheet holds"
                    )
                self._cells_seen += repeat * width
                if self._cells_seen > limits.MAX_SHEET_CELLS:
                    raise _too_big(
                        f"the {self.sheet} sheet expands to more than"
                        f" {limits.MAX_SHEET_CELLS:,} cells"
                    )
                for _ in range(repeat):
                    yield cells
            if len(buf) - pos > limits.MAX_ROW_BYTES:
                what = "a row" if buf.startswith(row_open, pos) else "a tag"
                raise _too_big(f"{what} of its XML is longer than {limits.MAX_ROW_BYTES:,} bytes")
            buf = buf[pos:]
            pos = 0
            chunk = self._read()
            if not chunk:
                break
            buf += chunk
        if not found:
            raise MissingSheet(self.sheet, self.sheets)
        if current == self.sheet and row_open in buf:
            raise _damaged(f"a row of the {self.sheet} sheet is never closed")

    def _count(self, text: bytes, what: str) -> int:
        """A count of repeated rows or columns, or of spaces: a whole number above 0, else
        the file is damaged."""
        if _COUNT.fullmatch(text) is None or int(text) < 1:
            shown = text[:20].decode("utf-8", "replace")
            raise _damaged(f"a count of {what} '{shown}' is not a whole number above 0")
        return int(text)

    def _cells(self, row: bytes) -> tuple[Row, int]:
        """(the row's cells, its width up to its last cell with content)."""
        if self._covered in row:
            row = row.replace(self._covered, self._cell)
        pieces = row.split(self._cell)[1:]
        wanted = self.wanted
        if wanted is None:
            cells: list[str] = []
            column = empty = 0  # empty: cells without content since the last with some
            for piece in pieces:
                end = piece.find(b">")
                repeat = self._repeat.search(piece, 0, end)
                span = self._count(repeat[1], "columns") if repeat else 1
                value = self._value(piece)
                if value:
                    self._check_width(column + span)
                    cells.extend([""] * empty)
                    cells.extend([value] * span)
                    empty = 0
                else:
                    empty += span
                column += span
            return cells, len(cells)
        if b"repeated" not in row:  # the common case: one piece per column
            if len(pieces) > limits.MAX_SHEET_COLUMNS:
                for piece in pieces[limits.MAX_SHEET_COLUMNS :]:
                    if not _is_empty(piece):
                        self._check_width(len(pieces))
            lazy = LazyRow(self._value, {c: pieces[c] for c in wanted if c < len(pieces)})
            return lazy, min(len(pieces), limits.MAX_SHEET_COLUMNS)
        picked: dict[int, bytes] = {}
        column = width = 0
        for piece in pieces:
            end = piece.find(b">")
            span = 1
            if b"repeated" in piece[:end] and (repeat := self._repeat.search(piece, 0, end)):
                span = self._count(repeat[1], "columns")
            if not _is_empty(piece):
                self._check_width(column + span)
                width = column + span
            picked.update(dict.fromkeys((c for c in wanted if column <= c < column + span), piece))
            column += span
        return LazyRow(self._value, picked), width

    def _check_width(self, columns: int) -> None:
        if columns > limits.MAX_SHEET_COLUMNS:
            raise _too_big(
                f"a row of the {self.sheet} sheet has cells with content past column"
                f" {limits.MAX_SHEET_COLUMNS:,}, the last a sheet holds"
            )

    def _value(self, piece: bytes) -> str:
        """The text of one cell: '<table:table-cell attrs>content</...' cut at its start."""
        end = piece.find(b">")
        if piece[end - 1 : end] == b"/":
            return ""
        attrs = piece[:end]
        if b"date-value" in attrs and (match := self._date.search(attrs)):
            return self._checked(match[1].decode("utf-8", "replace"))
        inner = piece[end + 1 : piece.rfind(b"</")]
        p_open, p_close = self._p
        if inner.startswith(p_open) and inner.count(b"<") == 2:
            text = inner[len(p_open) : -len(p_close)]
        else:
            inner = self._space.sub(self._spaces(), inner)
            text = self._tags.sub(b"", inner.replace(p_close + p_open, b"\n"))
        value = self._checked(text.decode("utf-8", errors="replace"))
        return unescape(value).strip() if "&" in value else value.strip()

    def _spaces(self) -> Callable[[re.Match[bytes]], bytes]:
        """What replaces each <text:s/> of one cell: its spaces, at most MAX_CELL_CHARS in all."""
        room = limits.MAX_CELL_CHARS

        def spaces(match: re.Match[bytes]) -> bytes:
            nonlocal room
            count = self._count(match[1], "spaces") if match[1] is not None else 1
            room -= count
            if room < 0:
                raise self._long_cell()
            return b" " * count

        return spaces

    def _checked(self, text: str) -> str:
        if len(text) > limits.MAX_CELL_CHARS:
            raise self._long_cell()
        return text

    def _long_cell(self) -> RejectedFile:
        return _too_big(
            f"a cell of the {self.sheet} sheet holds more than {limits.MAX_CELL_CHARS:,} characters"
        )


def _size(n: int) -> str:
    """Bytes as a reader says them: '640 KB', '12.5 MB', '2.0 GB'."""
    if n < limits.MIB:
        return f"{n / 1024:,.0f} KB"
    if n < 2**30:
        return f"{n / limits.MIB:,.1f} MB"
    return f"{n / 2**30:,.1f} GB"


def _is_empty(piece: bytes) -> bool:
    """Whether a cell is an empty element (<table:table-cell .../>)."""
    end = piece.find(b">")
    return piece[end - 1 : end] == b"/"


class LazyRow:
    """The wanted cells of an ODS row, decoded when first asked for (once: a repeated row is
    the same LazyRow each time)."""

    __slots__ = ("_decode", "_pieces", "_values")

    def __init__(self, decode: Callable[[bytes], str], pieces: dict[int, bytes]) -> None:
        self._decode = decode
        self._pieces = pieces
        self._values: dict[int, str] = {}

    def __bool__(self) -> bool:  # False when every wanted cell is empty
        return any(self.get(column) for column in self._pieces)

    def get(self, column: int) -> str:
        value = self._values.get(column)
        if value is None:
            piece = self._pieces.get(column)
            value = self._values[column] = "" if piece is None else self._decode(piece)
        return value


Row = list[str] | LazyRow


def is_zip(data: bytes) -> bool:
    """Whether the bytes are a zip archive (an ODS file is one)."""
    return data.startswith(b"PK\x03\x04")
