"""A streaming reader of one sheet of an ODS spreadsheet, straight from the zip.

An XML parser builds objects for ~18 million elements in CQC's real ratings file (320,000
rows), which takes a minute and several GB; the sheet's XML is regular enough to cut with
byte searches instead, one row at a time, in about an eighth of the memory of a full reader
(python-calamine, the tests' oracle). Used by ingest.readers.rating_files.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from html import unescape

from ingest.records import RejectedFile


class MissingSheet(RejectedFile):
    """The spreadsheet has no sheet of the name asked for; `sheets` are the ones it has."""

    def __init__(self, sheet: str, sheets: list[str]) -> None:
        listed = ", ".join(f"'{s}'" for s in sheets[:10]) or "none"
        super().__init__(f"ODS file has no '{sheet}' sheet (its sheets: {listed})")
        self.sheets = sheets


ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_NS_TABLE = b"urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_NS_OFFICE = b"urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_NS_TEXT = b"urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_MAX_REPEAT = 4096  # a run of repeated empty columns or rows pads the sheet to its edge


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
            mimetype = archive.read("mimetype") if "mimetype" in archive.namelist() else b""
            if mimetype.strip() != ODS_MIME:
                names = archive.namelist()
                kind = "an Excel workbook" if "xl/workbook.xml" in names else "a zip archive"
                raise RejectedFile(
                    f"{kind}, not an ODS spreadsheet; save the ratings file as ODS or CSV"
                )
            self._stream = archive.open("content.xml")
        except (zipfile.BadZipFile, KeyError, OSError, EOFError) as err:
            raise RejectedFile(f"damaged ODS file: {err}") from None
        self.sheet = sheet
        self.sheets: list[str] = []  # the names of the sheets met so far
        self.wanted: set[int] | None = None
        self._progress = progress
        self._scale = len(data) / max(archive.getinfo("content.xml").file_size, 1)

    def __iter__(self) -> Iterator[Row]:
        try:
            yield from self._rows()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as err:
            raise RejectedFile(f"damaged ODS file: {err}") from None

    def _read(self, size: int = 1 << 20) -> bytes:
        chunk = self._stream.read(size)
        self._progress(int(len(chunk) * self._scale))
        return chunk

    def _rows(self) -> Iterator[Row]:
        buf = self._read(1 << 16)
        root = re.search(rb"<(?:[\w.-]+:)?document-content\b[^>]*>", buf)
        if root is None:
            raise RejectedFile("damaged ODS file: content.xml has no document")
        prefixes = {uri: p for p, uri in re.findall(rb'xmlns:([\w.-]+)="([^"]*)"', root[0])}
        t, o = prefixes.get(_NS_TABLE, b"table"), prefixes.get(_NS_OFFICE, b"office")
        x = prefixes.get(_NS_TEXT, b"text")
        self._cell = b"<" + t + b":table-cell"
        self._covered = b"<" + t + b":covered-table-cell"
        self._repeat = re.compile(rb"\b" + t + rb':number-columns-repeated="(\d+)"')
        self._date = re.compile(rb"\b" + o + rb':date-value="([^"]*)"')
        self._p = (b"<" + x + b":p>", b"</" + x + b":p>")
        self._tags = re.compile(rb"<[^>]*>")
        self._space = re.compile(rb"<" + x + rb":s(?:\s+" + x + rb':c="(\d+)")?\s*/>')
        table_open = b"<" + t + b":table "
        row_open, row_close = b"<" + t + b":table-row", b"</" + t + b":table-row>"
        row_repeat = re.compile(rb"\b" + t + rb':number-rows-repeated="(\d+)"')
        name = re.compile(rb"\b" + t + rb':name="([^"]*)"')
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
                        break
                    if found:
                        return  # the next sheet: no need to inflate the rest of the file
                    match = name.search(buf, next_table, end)
                    current = unescape(match[1].decode()) if match else None
                    found = current == self.sheet
                    self.sheets.append(current or "")
                    pos = end + 1
                    continue
                if row == -1:
                    break
                head_end = buf.find(b">", row)
                if head_end == -1:
                    break
                if buf[head_end - 1 : head_end] == b"/":  # <table:table-row/>, an empty row
                    pos = head_end + 1
                    continue
                end = buf.find(row_close, head_end)
                if end == -1:
                    break
                text = buf[row:end]
                pos = end + len(row_close)
                if current != self.sheet:
                    continue
                cells = self._cells(text)
                if not cells:
                    continue
                match = row_repeat.search(text, 0, head_end - row)
                for _ in range(min(int(match[1]), _MAX_REPEAT) if match else 1):
                    yield cells
            buf = buf[pos:]
            pos = 0
            chunk = self._read()
            if not chunk:
                break
            buf += chunk
        if not found:
            raise MissingSheet(self.sheet, self.sheets)

    def _cells(self, row: bytes) -> Row:
        if self._covered in row:
            row = row.replace(self._covered, self._cell)
        pieces = row.split(self._cell)[1:]
        wanted = self.wanted
        if wanted is None:
            cells: list[str] = []
            for piece in pieces:
                end = piece.find(b">")
                repeat = self._repeat.search(piece, 0, end)
                value = self._value(piece)
                cells.extend([value] * (min(int(repeat[1]), _MAX_REPEAT) if repeat else 1))
            while cells and not cells[-1]:
                cells.pop()
            return cells
        if b"repeated" not in row:  # the common case: one piece per column
            return LazyRow(self._value, {c: pieces[c] for c in wanted if c < len(pieces)})
        picked: dict[int, bytes] = {}
        column = 0
        for piece in pieces:
            end = piece.find(b">")
            span = 1
            if b"repeated" in piece[:end]:
                span = int(self._repeat.search(piece, 0, end)[1])
            picked.update(dict.fromkeys((c for c in wanted if column <= c < column + span), piece))
            column += span
        return LazyRow(self._value, picked)

    def _value(self, piece: bytes) -> str:
        """The text of one cell: '<table:table-cell attrs>content</...' cut at its start."""
        end = piece.find(b">")
        if piece[end - 1 : end] == b"/":
            return ""
        attrs = piece[:end]
        if b"date-value" in attrs and (match := self._date.search(attrs)):
            return match[1].decode()
        inner = piece[end + 1 : piece.rfind(b"</")]
        p_open, p_close = self._p
        if inner.startswith(p_open) and inner.count(b"<") == 2:
            text = inner[len(p_open) : -len(p_close)]
        else:
            inner = self._space.sub(lambda m: b" " * int(m[1] or 1), inner)
            text = self._tags.sub(b"", inner.replace(p_close + p_open, b"\n"))
        value = text.decode("utf-8", errors="replace")
        return unescape(value).strip() if "&" in value else value.strip()


class LazyRow:
    """The wanted cells of an ODS row, decoded when first asked for."""

    __slots__ = ("_decode", "_pieces")

    def __init__(self, decode: Callable[[bytes], str], pieces: dict[int, bytes]) -> None:
        self._decode = decode
        self._pieces = pieces

    def __bool__(self) -> bool:  # False when every wanted cell is an empty element
        return any(p[p.find(b">") - 1 : p.find(b">")] != b"/" for p in self._pieces.values())

    def get(self, column: int) -> str:
        piece = self._pieces.get(column)
        return "" if piece is None else self._decode(piece)


Row = list[str] | LazyRow


def is_zip(data: bytes) -> bool:
    """Whether the bytes are a zip archive (an ODS file is one)."""
    return data.startswith(b"PK\x03\x04")
