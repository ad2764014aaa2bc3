"""Reader of report PDFs: the text layer, through the same parser as report text.

CQC publishes each report as a PDF too (and users print the report page to one). The text
is taken with pypdf (BSD-3-Clause, pure Python; docs/REPORT_LAYOUTS.md has the measurements
it was chosen by) in its layout mode, which keeps a blank line where the page leaves a gap, so
paragraphs stay apart, and the indent of a sub-bullet. Each line's inner runs of spaces are
closed up, the pages are joined by form feeds, and the report text parser does the rest:
page furniture (titles, "Page N of M", URLs, lines repeated at page tops and feet), broken
words and wrapped lines (ingest.readers.report_text).

A PDF without a text layer (a scan) is refused, saying so; so are encrypted and damaged ones.
"""

from __future__ import annotations

import io
import logging
import re

from ingest.readers import report_text
from ingest.records import Record, RejectedFile

FORMAT = "report-pdf"  # the file's format; its record is report text ("report-text")

MAX_PDF_BYTES = 50 * 1024 * 1024
MAX_PAGES = 400  # CQC's longest reports run to a few dozen pages
_SPACES = re.compile(r"(?<=\S) {2,}(?=\S)")
# Letters a page must give for the PDF to count as having a text layer.
MIN_TEXT = 40


def sniff(head: bytes) -> bool:
    """A PDF starts with '%PDF-' (some writers put a few bytes before it)."""
    return b"%PDF-" in head[:1024]


def read(name: str, data: bytes, progress: object = None) -> list[Record]:
    """The record of a report PDF's text; RejectedFile with a one-line reason otherwise."""
    text = extract_text(data)
    return [report_text.parse_report(text, name)]


def extract_text(data: bytes) -> str:
    """The text layer of a PDF, a page per form feed; RejectedFile when it has none."""
    if len(data) > MAX_PDF_BYTES:
        raise RejectedFile(
            f"PDF is {len(data) / 2**20:.1f} MB; a report PDF is at most"
            f" {MAX_PDF_BYTES // 2**20} MB"
        )
    import pypdf  # only a PDF needs it

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings are not the user's
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise RejectedFile("PDF is password-protected; save it without a password")
        if len(reader.pages) > MAX_PAGES:
            raise RejectedFile(
                f"PDF has {len(reader.pages)} pages; a report has at most {MAX_PAGES}"
            )
        pages = [page.extract_text(extraction_mode="layout") for page in reader.pages]
    except RejectedFile:
        raise
    except NotImplementedError as err:  # an encryption or a filter pypdf does not read
        raise RejectedFile(f"PDF cannot be read: {_one_line(err)}") from None
    except Exception as err:  # pypdf raises many kinds on a damaged file: each is a rejection
        raise RejectedFile(f"damaged PDF: {type(err).__name__}: {_one_line(err)}") from None
    text = "\n\f".join(_tidy(page) for page in pages)
    if sum(c.isalpha() for c in text[: 100 * MIN_TEXT]) < MIN_TEXT:
        raise RejectedFile(
            "PDF has no text layer (a scanned image?): run it through OCR, or save the report"
            " page as text"
        )
    if len(text) > report_text.MAX_REPORT_BYTES:
        raise RejectedFile("PDF holds more text than a report; not read")
    return text


def _tidy(page: str) -> str:
    """A page's lines with their inner runs of spaces closed up (layout mode lines text up
    in columns), their indents kept."""
    return "\n".join(_SPACES.sub(" ", line.rstrip()) for line in page.split("\n"))


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())[:120]
