"""Every bound the readers keep on a file, in one place; docs/DATA_SAFETY.md states each one.

A reader's work and memory grow with its input and never with what the input asks for: a run
of repeated rows, a count of spaces, a member that inflates, a number of many digits. A file
that passes a bound is rejected with one line saying which; every bound is far above what CQC
publishes (its ratings file: about 320,000 rows of some 25 columns, 700 MB of sheet XML at
about 50 times its compressed size; a location record: a few kilobytes).
"""

from __future__ import annotations

MIB = 2**20

# Report text ------------------------------------------------------------------------------
# A report page is tens of kilobytes (ingest.readers.report_text keeps the same figure).
MAX_REPORT_BYTES = 5 * MIB

# JSON (API records) ------------------------------------------------------------------------
# A saved page of 500 full location records is about 4 MB; parsed, JSON takes about ten times
# its size in memory, so this bounds a file at well under 1 GB.
MAX_JSON_BYTES = 64 * MIB
# Digits of an integer that Python converts (CPython's own default limit; more raise). JSON
# nesting is bounded by Python's recursion limit (1,000 by default).
MAX_INT_DIGITS = 4300

# Spreadsheets (the ratings file as ODS, or its table as CSV) -------------------------------
# The sheet limits of ODS (LibreOffice since 7.4) and of Excel: rows and columns of a sheet.
# Padding beyond them (empty rows or cells repeated to the sheet's edge) is skipped unread;
# a cell with content beyond them rejects the file. A CSV has the same bounds.
MAX_SHEET_ROWS = 1_048_576
MAX_SHEET_COLUMNS = 16_384
# Cells of the sheet up to each row's last cell with content, every repeat counted: 6 times
# the real file, and a bound on the rows and cells a run of repeats can expand to.
MAX_SHEET_CELLS = 50_000_000
# Characters of one cell's text once expanded (<text:s text:c="N"/> spaces included): the
# limit of Python's csv module on a field, which the CSV reader keeps too.
MAX_CELL_CHARS = 131_072
# Bytes of one row (its XML in an ODS sheet, its line in a CSV file): a real row is about
# 3 KB. Also bounds anything the ODS reader must hold before it can cut it (a tag never
# closed, a row that never ends).
MAX_ROW_BYTES = 8 * MIB
# An ODS file's content.xml, inflated: at most this many bytes, and at most MAX_ODS_RATIO
# times its compressed size (the real file's ratio is about 50; deflate allows 1,032). Both
# are checked against the zip's declared size before reading and against what is actually
# inflated while streaming. The `mimetype` member is read only as far as the ODS type.
MAX_ODS_INFLATED_BYTES = 2 * 2**30
MAX_ODS_RATIO = 250

# What a file reports ------------------------------------------------------------------------
# Warnings kept for one file; the rest are counted in one last warning.
MAX_WARNINGS = 200
