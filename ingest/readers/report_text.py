"""Parser for CQC assessment report text, in every layout users hold it in.

A SAF report, top to bottom: service type bullets; location name; "Overall: <rating>";
address with postcode and phone; "Provided and run by:" and the provider; "Report from <date>
assessment"; then per key question a section, identified by its heading (name, rating,
"Updated <date>") and its "<KEY QUESTION> Key question summary:" label, holding a summary,
"This service scored N (out of 100)", and per quality statement its name, "Score: N" and the
evidence. The layouts read (docs/REPORT_LAYOUTS.md says what each gets):

- the web page text of one key question page (the seed's own form) or of the whole report;
- an "On this page" contents list of key questions and ratings before the sections, read as a
  contents list and cross-checked against the sections, including a copy whose first section
  heading is folded into the list (the first section starts at its "Updated" line);
- several pages of one report pasted into one file (a second report header);
- text a PDF's text layer gives (page furniture: titles, "Page N of M", URLs, lines repeated
  at every page top or foot, form feeds; hyphenated and wrapped lines);
- "Not rated" key questions and statements shown with evidence and no score;
- legacy (pre-SAF) inspection reports ("Is the service safe? Good", "Date of inspection
  visit"), read as ratings only.

Evidence is what follows a statement's score up to the next structure: it never takes in a
heading, another key question, a page header or a second report header; a line that looks
like structure and fits nowhere ends the statement with a warning. Everything is linear in the
input, and digits are ASCII only ("²" is not a score).
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import re

from ingest import reference as ref
from ingest.records import Record, RejectedFile, check_scores

FORMAT = "report-text"

MAX_REPORT_BYTES = 5 * 1024 * 1024

_SCORE = re.compile(r"^Score:\s*(.*)$", re.IGNORECASE)
_STATED = re.compile(r"This service scored\s+(\S+)\s*\(\s*out\s+of\s+100\s*\)", re.IGNORECASE)
_STATED_VALUE = re.compile(r"[0-9]{1,3}")
_UPDATED = re.compile(r"^Updated\s+(.+)$", re.IGNORECASE)
_REPORT_FROM = re.compile(r"^Report from\s+(.+?)\s+assessment\b", re.IGNORECASE)
# The rating, then the web page's link text, which a PDF's text may cut after "read".
_OVERALL = re.compile(r"^Overall:\s*(.+?)(?:\s+read(?:\s+more\b.*)?)?$", re.I)
_READ_MORE = "read more about inspection ratings".split()
_BULLET = re.compile(r"^(\s*)[\u2022\u25cf\u25aa\u2023*-]\s+(.+)$")
_PROVIDED = re.compile(r"^Provided and run by:?\s*(.*)$", re.IGNORECASE)
_LABEL = re.compile(
    r"^(SAFE|EFFECTIVE|CARING|RESPONSIVE|WELL[- ]?LED)\s+Key question summary\b", re.IGNORECASE
)
# A key question and its rating on one line ("Safe Requires improvement", "Caring: Good").
_PAIR = re.compile(
    r"^(Safe|Effective|Caring|Responsive|Well[- ]?led)\s*[:\u2013-]?\s+(.+)$", re.IGNORECASE
)
# Control characters a text file does not hold (tab, line feed, form feed, carriage return do).
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20)])
# At most 3 digits: a score is 1-4 (checked after), and int() of thousands of digits raises.
_LEADING_INT = re.compile(r"^([0-9]{1,3})(?:\s*(?:-|\u2013|:).*)?$")
_SCORES = {str(n): n for n in range(1, 5)}


def decode(data: bytes, name: str) -> tuple[str, list[str]]:
    """Text of a file's bytes, with warnings; RejectedFile when it is empty, binary or garbled."""
    warnings: list[str] = []
    if not data.strip():
        raise RejectedFile("file is empty")
    if len(data) > MAX_REPORT_BYTES:
        raise RejectedFile(
            f"file is {len(data) / 2**20:.1f} MB;"
            f" a report is at most {MAX_REPORT_BYTES // 2**20} MB"
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), ["decoded as UTF-16"]
        except UnicodeDecodeError:
            raise RejectedFile("cannot be decoded: invalid UTF-16") from None
    if b"\x00" in data[:65536]:
        raise RejectedFile("binary file, not report text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise RejectedFile(f"cannot be decoded as text (byte {err.start})") from None
        warnings.append("not UTF-8; decoded as Windows-1252")
    # Counted in the UTF-8 bytes of the first 8,192 characters: each control character is
    # one byte there and no other character has a byte below 0x80 (8x faster than a regex).
    head = text[:8192].encode("utf-8", "surrogatepass")
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    if controls > max(8, len(text[:8192]) // 100):
        raise RejectedFile("binary file, not report text")
    return text, warnings


_MONTHS = {m: i for i, m in enumerate(
    ("january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"), start=1)}  # fmt: skip
_LONG_DATE = re.compile(r"([0-9]{1,2}) ([A-Za-z]+) ([0-9]{4})")


def parse_date(text: str) -> dt.date:
    """'17 June 2024' -> date; ValueError when malformed or impossible (ASCII digits only)."""
    # The published form first, without strptime (a tenth of the parser's time otherwise).
    if (match := _LONG_DATE.fullmatch(text.strip())) and match[2].lower() in _MONTHS:
        return dt.date(int(match[3]), _MONTHS[match[2].lower()], int(match[1]))
    cleaned = re.sub(r"([0-9])(st|nd|rd|th)\b", r"\1", text.strip().rstrip("."))
    if not cleaned.isascii():  # strptime takes any Unicode digit
        raise ValueError(text)
    for fmt in ("%d %B %Y", "%d %b %Y", "%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def sniff(head: bytes) -> bool:
    """Report text is what every other format is not: it is tried last and takes any file."""
    return True


def read(name: str, data: bytes, progress: object = None) -> list[Record]:
    """The one record of a report text file's bytes; RejectedFile with the reason otherwise."""
    text, warnings = decode(data, name)
    return [parse_report(text, name, warnings)]


def parse_report(text: str, source: str, warnings: list[str] | None = None) -> Record:
    """One report's text -> record (see ingest.records); RejectedFile with the reason."""
    warnings = list(warnings or [])
    lines = _Lines(text, warnings)
    kinds = _kinds(lines.texts)
    header = _Header(lines, kinds, 0, len(lines.texts))
    if header.assessment_date is None and header.date_text is None:
        if _looks_legacy(lines.texts):
            return _legacy(lines, header, source, warnings)
    record = header.record(source, warnings)
    _Body(lines, kinds, record, header.end).read()
    _check(record)
    return record


# Lines: the text's non-blank lines, page furniture removed, broken words joined ------------

# Words a line-end hyphen is kept after ("well-" + "led" is "well-led"); elsewhere a word
# broken at a line end is joined without it, unless the report spells it with a hyphen.
COMPOUND_PREFIXES = frozenset(
    "well self non person evidence day long short follow face multi cross decision risk"
    " record end one part full high low co".split()
)
_PAGE_FURNITURE = re.compile(
    r"(?:page\s*)?[0-9]{1,4}(?:\s*(?:of|/)\s*[0-9]{1,4})?"  # "Page 3 of 12", "3/12", "3"
    r"|-\s*[0-9]{1,4}\s*-"  # "- 3 -"
    r"|[0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4},?\s+[0-9]{1,2}:[0-9]{2}(?:\s*[ap]m)?",  # print time
    re.IGNORECASE,
)
_TITLE_SUFFIXES = (" - Care Quality Commission", " \u2013 Care Quality Commission", " | CQC")
_COMPOUND = re.compile(r"[a-z]+-[a-z]+")
_DIGITS = re.compile(r"[0-9]+")
_PAGE_EDGE = 3  # lines at the top and the foot of a page where furniture is looked for


def is_furniture(line: str) -> bool:
    """Whether a stripped line is page furniture wherever it stands: a page's title as a
    browser prints it, its number, a print time, or a URL alone on its line."""
    if line.startswith(("http://", "https://", "www.")):
        return " " not in line
    if line.endswith(_TITLE_SUFFIXES) or line == "Care Quality Commission":
        return len(line) <= 200
    return (
        len(line) <= 24
        and (line[0] in "0123456789-" or line[:4].lower() == "page")
        and _PAGE_FURNITURE.fullmatch(line) is not None
    )


class _Lines:
    """The non-blank lines of a text: 1-based line numbers, stripped text and whether a blank
    line comes before each; `raw(idx)`, the line as it was (indents tell service types apart)."""

    def __init__(self, text: str, warnings: list[str]) -> None:
        raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        edges: set[int] = set()
        page_starts: set[int] = set()
        if "\f" in text:
            raw_lines, edges, page_starts = _repeated_edges(raw_lines)
        self.raw_lines = raw_lines
        linenos: list[int] = []
        texts: list[str] = []
        gaps: list[bool] = []
        self.furniture = 0
        compounds: set[str] | None = None
        gap = True
        number = 0
        for raw in raw_lines:
            number += 1
            line = raw.strip()
            if not line:
                gap = True
                continue
            # is_furniture's cases start or end with these characters: most lines skip it.
            if (line[0] in _FURNITURE_FIRST or line[-1] in "nC" or edges) and (
                number in edges or is_furniture(line)
            ):
                self.furniture += 1
                continue  # no gap either: a page break is not a paragraph break
            if page_starts and number in page_starts and texts:
                # A page break between paragraphs looks like one inside a paragraph: a
                # sentence ended above and one begins here is taken for a paragraph break.
                # Blank lines at a page's foot or top say nothing: a PDF's text layer gives
                # the margins around its header and footer as blank lines.
                gap = texts[-1][-1] in _SENTENCE_ENDS and line[0].isupper()
            if not gap and (line[0].islower() and texts and _broken(texts[-1])):
                if compounds is None:
                    compounds = set(_COMPOUND.findall(text.lower()))
                texts[-1] = _joined(texts[-1], line, compounds)
                continue
            linenos.append(number)
            texts.append(line)
            gaps.append(gap)
            gap = False
        self.linenos, self.texts, self.gaps = linenos, texts, gaps

    def raw(self, idx: int) -> str:
        return self.raw_lines[self.linenos[idx] - 1]


_FURNITURE_FIRST = frozenset("hwHWpP0123456789-")
_SENTENCE_ENDS = frozenset('.!?:"\u201d')


def _broken(previous: str) -> bool:
    """Whether `previous` ends in a word broken across the line end ("organ-" + "isation")."""
    end = previous[-1]
    return (end == "-" or end == "\u00ad") and len(previous) > 1 and previous[-2].isalpha()


def _joined(previous: str, line: str, compounds: set[str]) -> str:
    if previous[-1] == "\u00ad":  # a soft hyphen: only ever a break
        return previous[:-1] + line
    head = previous[:-1].rsplit(" ", 1)[-1].lower()
    tail = re.match(r"[a-z]*", line)[0]  # type: ignore[index]
    if head in COMPOUND_PREFIXES or f"{head}-{tail}" in compounds:
        return previous + line
    return previous[:-1] + line


def _repeated_edges(raw_lines: list[str]) -> tuple[list[str], set[int], set[int]]:
    """Lines split at form feeds, the numbers of lines repeated at page tops and feet, and
    the numbers of the first lines of the pages' bodies (furniture aside).

    A line (its digits aside, so "Page 3" is "Page 4") standing within the first or last
    _PAGE_EDGE lines of at least half the pages, and of two at least, is page furniture
    there; a line the report's structure needs (a heading, a score) never is.
    """
    lines: list[str] = []
    pages: list[list[int]] = [[]]  # numbers (1-based) of the non-blank lines of each page
    for number, raw in enumerate(raw_lines, 1):
        if "\f" in raw:  # the line starts a page (line numbers stay the file's own)
            pages.append([])
            raw = raw.replace("\f", " ")
        lines.append(raw)
        if raw.strip():
            pages[-1].append(number)
    pages = [page for page in pages if page]
    if len(pages) < 2:
        return lines, set(), set()
    # (side, line less its digits) -> pages where it stands on that side; lines elsewhere
    seen: dict[tuple[str, str], int] = {}
    places: list[tuple[tuple[str, str], int]] = []
    inside: set[str] = set()
    for page in pages:
        keys = set()
        for position, number in enumerate(page):
            key = _DIGITS.sub("#", lines[number - 1].strip())
            if position < _PAGE_EDGE:
                side = "top"
            elif position >= len(page) - _PAGE_EDGE:
                side = "foot"
            else:
                inside.add(key)  # a line also found inside a page is the report's own
                continue
            keys.add((side, key))
            places.append(((side, key), number))
        for key in keys:
            seen[key] = seen.get(key, 0) + 1
    needed = max(2, (len(pages) + 1) // 2)
    # Furniture is no sentence's end and no sentence's middle ("patience." ending a paragraph
    # at two page feet is the report's).
    repeated = {
        key
        for key, count in seen.items()
        if count >= needed
        and key[1] not in inside
        and key[1][-1] not in ".!?,;"
        and not key[1][0].islower()
    }
    candidates = [
        (key, number)
        for key, number in places
        if key in repeated and not _structural(lines[number - 1].strip(), lines, number)
    ]
    edges = {number for _, number in candidates}
    if candidates:
        # A line of the report repeated (a sentence that opens two paragraphs, wrapped the
        # same) can stand at page edges by chance, but its neighbours in the text repeat
        # with it; furniture's neighbours are other pages' text. A line the same text follows
        # (or precedes), furniture and page breaks aside, at each of its places is the
        # report's own.
        order = [n for page in pages for n in page if n not in edges]
        text_at = {n: lines[n - 1].strip() for n in order if not is_furniture(lines[n - 1].strip())}
        body = [n for n in order if n in text_at]
        after: dict[tuple[str, str], set[str]] = {}
        before: dict[tuple[str, str], set[str]] = {}
        for key, number in candidates:
            at = bisect.bisect(body, number)
            after.setdefault(key, set()).add(text_at[body[at]] if at < len(body) else "")
            before.setdefault(key, set()).add(text_at[body[at - 1]] if at else "")
        own = {key for key in after if len(after[key]) == 1 or len(before[key]) == 1}
        edges = {number for key, number in candidates if key not in own}
    starts = set()
    for page in pages[1:]:
        body = [n for n in page if n not in edges and not is_furniture(lines[n - 1].strip())]
        if body:
            starts.add(body[0])
    return lines, edges, starts


def _structural(line: str, lines: list[str], number: int) -> bool:
    """Whether a line is one the report's structure needs (never taken for furniture)."""
    if _kind(line) != PLAIN or _BULLET.match(line):
        return True
    following = next((n.strip() for n in lines[number:] if n.strip()), "")
    return following[:8].lower() == "overall:"  # the location's name


# Kinds of line ------------------------------------------------------------------------------

(PLAIN, KQ, RATING, NOT_RATED, PAIR, UPDATED, LABEL, SCORE, STATED, CONTENTS, OVERALL,
 REPORT_FROM, PROVIDED, STATEMENT) = range(14)  # fmt: skip
_END = -1  # past the last line
_STRUCTURE_NAMES = {KQ: "key question", RATING: "rating", NOT_RATED: "rating", UPDATED: "date"}


def _kind(line: str) -> int:
    """What one stripped, non-blank line is (PLAIN when nothing in particular)."""
    if len(line) <= 60:
        return _short_kind(line)
    return _long_kind(line)


@functools.lru_cache(maxsize=16384)  # names, ratings and "Score: 3" recur in every report
def _short_kind(line: str) -> int:
    return _long_kind(line)


def _long_kind(line: str) -> int:
    head = line[:8].lower()
    if head[:6] == "score:":
        return SCORE
    if head == "updated ":
        return UPDATED
    if head == "overall:":
        return OVERALL if _overall_rating(line) else PLAIN
    first = line[0]
    # Names and ratings stand alone, capitalised, without a full stop: "safe." or "good"
    # ending a wrapped sentence is evidence.
    if len(line) <= 60 and first.isupper() and line[-1] not in ".,;":
        if ref.canonical_key_question(line):
            return KQ
        if ref.canonical_rating(line):
            return RATING
        if ref.is_not_rated(line):
            return NOT_RATED
        if ref.statement_id(line) is not None:
            return STATEMENT
        if first in "SECRW" and _pair(line):
            return PAIR
        if head == "on this " and line.lower().rstrip(" :") == "on this page":
            return CONTENTS
    if head == "this ser" and line[:19].lower() == "this service scored":
        return STATED
    if head == "report f" and _REPORT_FROM.match(line):
        return REPORT_FROM
    if head == "provided" and _PROVIDED.match(line):
        return PROVIDED
    if first in "SECRWsecrw" and "uestion summary" in line[:40] and _LABEL.match(line):
        return LABEL
    return PLAIN


def _overall_rating(line: str) -> str | None:
    """The rating an "Overall: <rating>" line gives, when it gives one (or "Not rated")."""
    value = _OVERALL.match(line)[1]  # type: ignore[index]
    if ref.is_not_rated(value):
        return "Not rated"
    return ref.canonical_rating(value)


def _kinds(texts: list[str]) -> list[int]:
    """_kind of each line, and two _END entries past the last for the look-ahead."""
    short, long = _short_kind, _long_kind
    return [*(short(t) if len(t) <= 60 else long(t) for t in texts), _END, _END]


def _pair(line: str) -> tuple[str, str | None] | None:
    """(key question, rating or None for not rated) of a one-line pair, else None."""
    match = _PAIR.match(line)
    if match is None or not (kq := ref.canonical_key_question(match[1])):
        return None
    if rating := ref.canonical_rating(match[2]):
        return kq, rating
    return (kq, None) if ref.is_not_rated(match[2]) else None


def _label_key_question(line: str) -> str:
    return ref.canonical_key_question(_LABEL.match(line)[1])  # type: ignore[index,return-value]


# The header ---------------------------------------------------------------------------------


class _Header:
    """What a report header between lines `start` and `stop` says; `end`: the line after it."""

    def __init__(self, lines: _Lines, kinds: list[int], start: int, stop: int) -> None:
        texts = lines.texts
        self.service_types: list[tuple[int, str]] = []
        name: list[str] = []
        self.overall = self.address = self.postcode = self.phone = self.provider = None
        self.assessment_date: dt.date | None = None
        self.date_text: str | None = None  # an assessment date that is not a date
        self.service: str | None = None  # the hospital service the report is on, if one
        self.lineno = lines.linenos[start] if start < len(texts) else 0
        self.end = stop
        address: list[list[str]] = []
        provider_line = -1
        link_end = -1  # the last line of the "read more about inspection ratings" link
        for idx in range(start, stop):
            stripped, kind = texts[idx], kinds[idx]
            if idx <= link_end:
                continue
            if kind == SCORE or (kind == KQ and idx > start + 2):
                self.end = idx
                break
            if bullet := _BULLET.match(lines.raw(idx)):
                if not name:
                    self.service_types.append((len(bullet[1].expandtabs(4)), bullet[2].strip()))
                continue
            if stripped[:8].lower() == "overall:":
                overall = _OVERALL.match(stripped)[1]  # type: ignore[index]
                self.overall = (
                    None if ref.is_not_rated(overall) else ref.canonical_rating(overall) or overall
                )
                link_end = _link_end(lines, idx, stop)
            elif kind == PROVIDED:
                given = _PROVIDED.match(stripped)[1]  # type: ignore[index]
                if not given and idx + 1 < stop:
                    given, provider_line = texts[idx + 1], idx + 1
                self.provider = given or None
            elif kind == REPORT_FROM:
                self.date_text = _REPORT_FROM.match(stripped)[1]  # type: ignore[index]
                self.date_lineno = lines.linenos[idx]
                try:
                    self.assessment_date = parse_date(self.date_text)
                except ValueError:
                    pass
                self.end = idx + 1
                # A report on one service of a hospital names it next (ref.hospital_service)
                if idx + 1 < stop and (service := ref.hospital_service(texts[idx + 1])):
                    self.service, self.end = service, idx + 2
                break
            elif idx == provider_line:
                continue
            elif self.overall is None and self.provider is None:
                if not name or (not lines.gaps[idx] and len(name) < 3):
                    name.append(stripped)  # a long name wraps in a PDF's text
            elif self.provider is None and not self.postcode:
                if lines.gaps[idx] or not address:
                    address.append([])
                address[-1].append(stripped)
        self.name = " ".join(name) if name else None
        for paragraph in address:
            joined = " ".join(paragraph)
            if found := ref.normalise_postcode(joined):
                self.postcode = found
                pos = _postcode_span(joined)
                self.address = joined[: pos[0]].strip().rstrip(",").strip() or None
                self.phone = joined[pos[1] :].strip() or None
                break

    def record(self, source: str, warnings: list[str]) -> Record:
        """The record this header starts; RejectedFile when it is not a report's header."""
        if self.date_text is None:
            raise RejectedFile(
                "not a CQC assessment report: no 'Report from <date> assessment' line"
            )
        if self.assessment_date is None:
            raise RejectedFile(
                f"line {self.date_lineno}: assessment date '{self.date_text}' is not a valid date"
            )
        if self.assessment_date > dt.date.today():
            warnings.append(f"assessment date {self.assessment_date} is in the future")
        if self.name is None:
            raise RejectedFile("not a CQC assessment report: no location name before 'Overall:'")
        if self.postcode is None:
            warnings.append("no postcode found; region unknown")
        if self.overall is not None and ref.canonical_rating(self.overall) is None:
            warnings.append(f"overall rating '{self.overall}' is not a known rating")
        types = self.service_types
        deepest = max((depth for depth, _ in types), default=0)
        return {
            "source": source,
            "format": FORMAT,
            "location_cqc_id": None,
            "provider_cqc_id": None,
            "location_name": self.name,
            "provider_name": self.provider,
            "service_types": [t for _, t in types],
            "service_type": next((t for d, t in reversed(types) if d == deepest), None),
            "overall_rating": self.overall,
            "address": self.address,
            "postcode": self.postcode,
            "phone": self.phone,
            "region": None,
            "local_authority": None,
            "assessment_date": self.assessment_date.isoformat(),
            "published_date": None,
            "era": ref.era_for(self.assessment_date),
            "service_group": self.service,
            "key_questions": [],
            "warnings": warnings,
        }


def _link_end(lines: _Lines, idx: int, stop: int) -> int:
    """The last line of the "read more about inspection ratings" link after the "Overall:"
    line `idx`: a PDF's text wraps it onto the lines below (with no gap), where it would be
    read as the address's first words. `idx` when the link ends on its own line."""
    texts, gaps = lines.texts, lines.gaps
    words = texts[idx].lower().split()
    done = next((n for n in range(len(_READ_MORE), 0, -1) if words[-n:] == _READ_MORE[:n]), 0)
    end = idx
    while done < len(_READ_MORE) and end + 1 < stop and not gaps[end + 1]:
        following = texts[end + 1].lower().split()
        if following != _READ_MORE[done : done + len(following)]:
            break
        done += len(following)
        end += 1
    return end


def _postcode_span(line: str) -> tuple[int, int]:
    match = re.search(r"\b[A-Z]{1,2}[0-9][0-9A-Z]?\s*[0-9][A-Z]{2}\b", line.upper())
    assert match is not None
    return match.span()


def _later_headers(lines: _Lines, kinds: list[int], start: int) -> dict[int, int]:
    """{first line: last line} of each report header after the first (pages pasted into one
    file): from the service type bullets and the location name above "Overall:" down to
    "Report from <date> assessment"."""
    blocks: dict[int, int] = {}
    floor = start
    texts = lines.texts
    for idx in range(start, len(texts)):
        if kinds[idx] != REPORT_FROM:
            continue
        first = idx
        for back in range(idx - 1, max(floor, idx - 12) - 1, -1):
            if kinds[back] == OVERALL:
                first = back - 1 if back - 1 >= floor else back
                while first - 1 >= floor and _BULLET.match(lines.raw(first - 1)):
                    first -= 1
                break
            if kinds[back] == PROVIDED and first == idx:
                first = back
        blocks[first] = idx
        floor = idx + 1
    return blocks


# The body: key question sections ------------------------------------------------------------


class _Section:
    """A key question section being read."""

    def __init__(self, name: str, rating: str | None, lineno: int, not_rated: bool) -> None:
        self.data: dict = {
            "name": name,
            "rating": rating,
            "score": None,
            "computed_score": None,
            "published_date": None,
            "statements": [],
        }
        self.lineno = lineno
        self.not_rated = not_rated
        self.labelled = False
        self.paragraphs: list[list[str]] = []  # the summary, where the stated score is
        self.names: set[str] = set()  # statements scored, for the duplicate check

    @property
    def fresh(self) -> bool:
        """Whether no statement has been read yet (its summary is still being read)."""
        return not self.data["statements"]

    def name_is(self, kq: str) -> bool:
        return self.data["name"] == kq


class _Body:
    """Reads the key question sections after the header into record['key_questions']."""

    def __init__(self, lines: _Lines, kinds: list[int], record: Record, start: int) -> None:
        self.lines = lines
        self.kinds = kinds
        self.record = record
        self.warnings: list[str] = record["warnings"]
        self.start = start
        self.sections: list[_Section] = []
        self.current: _Section | None = None
        self.statement: dict | None = None
        self.evidence: list[list[str]] = []
        # Where plain lines go: the open statement's evidence, the section's summary, or
        # nowhere (None: after a statement without a score, say); `para`, the paragraph open.
        self.target: list[list[str]] | None = None
        self.para: list[str] | None = None
        self.contents: dict[str, tuple[str | None, int]] = {}
        self.in_contents = False

    def read(self) -> None:
        lines, kinds = self.lines, self.kinds
        texts, gaps = lines.texts, lines.gaps
        headers = _later_headers(lines, kinds, self.start)
        idx, count = self.start, len(texts)
        while idx < count:
            kind = kinds[idx]
            if headers and idx in headers:
                idx = self._later_header(idx, headers[idx])
                continue
            if kinds[idx + 1] == SCORE and kind != SCORE:
                self._statement(idx)
                idx += 2
                continue
            if kind == PLAIN or kind == STATED or kind == STATEMENT:
                if kind == STATEMENT:
                    self._scoreless(idx)
                elif (
                    kind == PLAIN
                    and kinds[idx + 1] == RATING
                    and kinds[idx + 2] == UPDATED
                    and len(texts[idx]) <= 48
                ):
                    raise RejectedFile(
                        f"line {lines.linenos[idx]}: unknown key question '{texts[idx][:80]}'"
                    )
                else:
                    if kind == STATED:  # the section's stated score, wherever it stands
                        self._close_statement()
                        self.target = self.current.paragraphs if self.current else None
                    self.in_contents = False
                    if (target := self.target) is not None:
                        if self.para is None or gaps[idx] or kind == STATED:
                            self.para = [texts[idx]]
                            target.append(self.para)
                        else:
                            self.para.append(texts[idx])
                idx += 1
                continue
            self.para = None
            if kind == SCORE:
                raise RejectedFile(
                    f"line {lines.linenos[idx]}: '{texts[idx]}' has no statement name above it"
                )
            if kind == KQ or kind == PAIR:
                idx = self._key_question(idx)
            elif kind == UPDATED:
                idx = self._updated(idx)
            elif kind == LABEL:
                self._label(idx)
                idx += 1
            elif kind == CONTENTS:
                self._close_statement()
                self.target = None
                self.in_contents = True
                idx += 1
            else:
                self._nowhere(idx)
                idx += 1
        self._close_section()
        self._finish()

    # Sections -----------------------------------------------------------------------------

    def _key_question(self, idx: int) -> int:
        """A key question name with its rating: a section heading or a contents entry."""
        texts, kinds = self.lines.texts, self.kinds
        if kinds[idx] == PAIR:
            kq, rating = _pair(texts[idx])  # type: ignore[misc]
            not_rated, after = rating is None, idx + 1
        elif kinds[idx + 1] in (RATING, NOT_RATED):
            kq = ref.canonical_key_question(texts[idx])
            rating = ref.canonical_rating(texts[idx + 1])
            not_rated, after = kinds[idx + 1] == NOT_RATED, idx + 2
        else:  # a key question's name without a rating
            kq, rating, not_rated, after = (
                ref.canonical_key_question(texts[idx]),
                None,
                False,
                idx + 1,
            )
            if kinds[idx + 1] not in (UPDATED, LABEL):
                self._nowhere(idx)
                return idx + 1
            self.warnings.append(f"line {self.lines.linenos[idx]}: {kq} has no rating")
        nxt = kinds[after]
        label = after + 1 if nxt == UPDATED else after
        label_kq = _label_key_question(texts[label]) if kinds[label] == LABEL else None
        if nxt in (UPDATED, LABEL) and (label_kq in (None, kq) or not self.in_contents):
            self._start(kq, rating, idx, not_rated)  # type: ignore[arg-type]
            if label_kq is not None and label_kq != kq:
                self.warnings.append(
                    f"line {self.lines.linenos[label]}: the {kq} section's summary is"
                    f" labelled {label_kq}"
                )
                self.current.labelled = True  # type: ignore[union-attr]
            if nxt == UPDATED:
                self._published(after)
                return after + 1
            return after
        if self.in_contents:  # an entry (folded: the next section's heading is not its own)
            self._close_statement()
            self.target = None
            if kq in self.contents and self.contents[kq][0] != rating:
                self.warnings.append(
                    f"line {self.lines.linenos[idx]}: the contents lists {kq} twice, as"
                    f" {self.contents[kq][0] or 'not rated'} and {rating or 'not rated'}"
                )
            self.contents.setdefault(kq, (rating, idx))  # type: ignore[arg-type]
            return after
        self._start(kq, rating, idx, not_rated)  # type: ignore[arg-type]
        return after

    def _updated(self, idx: int) -> int:
        """An "Updated <date>" line not under a heading: a folded section, or nowhere."""
        current = self.current
        if self.kinds[idx + 1] == LABEL:
            label_kq = _label_key_question(self.lines.texts[idx + 1])
            if not (current and current.fresh and current.name_is(label_kq)):
                self._start_from_label(label_kq, idx)
            self._published(idx)
            return idx + 1
        if current and current.fresh and current.data["published_date"] is None:
            self._published(idx)
            return idx + 1
        self._nowhere(idx)
        return idx + 1

    def _label(self, idx: int) -> None:
        """A "<KEY QUESTION> Key question summary:" label: its section's summary begins."""
        label_kq = _label_key_question(self.lines.texts[idx])
        current = self.current
        if current and current.fresh and not current.labelled:
            if not current.name_is(label_kq):
                self.warnings.append(
                    f"line {self.lines.linenos[idx]}: the {current.data['name']} section's"
                    f" summary is labelled {label_kq}"
                )
        else:
            self._start_from_label(label_kq, idx)
        self.current.labelled = True  # type: ignore[union-attr]
        self.para = [self.lines.texts[idx]]
        self.current.paragraphs.append(self.para)  # type: ignore[union-attr]

    def _start_from_label(self, kq: str, idx: int) -> None:
        """A section whose heading is not there (folded into the contents list above)."""
        rating, not_rated = None, False
        if kq in self.contents:
            rating = self.contents[kq][0]
            not_rated = rating is None
        else:
            self.warnings.append(
                f"line {self.lines.linenos[idx]}: the {kq} section has no heading and no"
                " contents entry: its rating is unknown"
            )
        self._start(kq, rating, idx, not_rated)

    def _start(self, kq: str, rating: str | None, idx: int, not_rated: bool) -> None:
        self._close_section()
        self.in_contents = False
        self.current = _Section(kq, rating, self.lines.linenos[idx], not_rated)
        self.sections.append(self.current)
        self.target = self.current.paragraphs
        self.para = None

    def _published(self, idx: int) -> None:
        section = self.current
        date = _UPDATED.match(self.lines.texts[idx])[1]  # type: ignore[index]
        try:
            section.data["published_date"] = parse_date(date).isoformat()  # type: ignore[union-attr]
        except ValueError:
            self.warnings.append(
                f"line {self.lines.linenos[idx]}: {section.data['name']} 'Updated' date"  # type: ignore[union-attr]
                f" '{date}' is not a valid date"
            )

    def _close_section(self) -> None:
        self._close_statement()
        section = self.current
        if section is None:
            return
        self.current = None
        for paragraph in section.paragraphs:
            joined = " ".join(paragraph)
            # "scored" in any usual case first: the case-insensitive search is the slow part
            found = [i for i in (joined.find("cored"), joined.find("CORED")) if i >= 0]
            at = min(found, default=-1)  # the first, whichever its case
            if at >= 0 and "100" in joined and (match := _STATED.search(joined, max(0, at - 20))):
                value = match[1]
                if _STATED_VALUE.fullmatch(value) and int(value) <= 100:
                    section.data["score"] = int(value)
                else:
                    self.warnings.append(
                        f"line {section.lineno}: {section.data['name']} stated score"
                        f" '{value}' is not 0-100"
                    )
                break
        section.paragraphs = []

    # Statements ---------------------------------------------------------------------------

    def _statement(self, idx: int) -> None:
        """The statement named on line `idx` (and maybe the lines above it: a name wrapped in
        a PDF's text), scored on the next line."""
        lines = self.lines
        lineno, name = lines.linenos[idx], lines.texts[idx]
        score_line = lines.linenos[idx + 1]
        raw = lines.texts[idx + 1][6:].strip()  # after "Score:"
        sid = ref.statement_id(name)
        if sid is None and self.para and not lines.gaps[idx]:
            for take in (1, 2):
                if len(self.para) >= take:
                    wrapped = " ".join([*self.para[-take:], name])
                    if (found := ref.statement_id(wrapped)) is not None:
                        sid, name = found, wrapped
                        lineno = lines.linenos[idx - take]
                        del self.para[-take:]
                        if not self.para and self.target and self.target[-1] is self.para:
                            self.target.pop()
                        break
        self._close_statement()
        self.in_contents = False
        self.para = None
        if raw in _SCORES:
            score = _SCORES[raw]
        elif (value := _LEADING_INT.match(raw)) is not None:
            score = int(value[1])
        else:
            raise RejectedFile(f"line {score_line}: score '{raw}' for '{name}' is not a number 1-4")
        if not 1 <= score <= 4:
            raise RejectedFile(f"line {score_line}: score {score} for '{name}' is outside 1-4")
        if sid is None:
            self.warnings.append(
                f"line {lineno}: statement '{name}' is not one of the 34; kept without an id"
            )
        expected_kq = ref.STATEMENTS_BY_ID[sid].key_question if sid else None
        current = self.current
        if current is None:
            if expected_kq is None:
                raise RejectedFile(
                    f"line {lineno}: score for '{name}' is outside any key question section"
                )
            raise RejectedFile(f"line {lineno}: '{name}' is scored before any key question heading")
        kq = current.data["name"]
        if expected_kq and expected_kq != kq:
            self.warnings.append(
                f"line {lineno}: '{name}' belongs to {expected_kq} but sits under {kq}"
            )
        canonical = ref.STATEMENTS_BY_ID[sid].name if sid else name
        if canonical in current.names:
            raise RejectedFile(f"line {lineno}: statement '{canonical}' is scored twice under {kq}")
        current.names.add(canonical)
        self.statement = {"id": sid, "name": canonical, "score": score, "evidence": None}
        current.data["statements"].append(self.statement)
        self.evidence = []
        self.target = self.evidence

    def _close_statement(self) -> None:
        statement = self.statement
        if statement is None:
            return
        evidence = "\n\n".join(" ".join(p) for p in self.evidence) or None
        statement["evidence"] = evidence
        statement["status"] = carried_forward_status(evidence)
        self.statement = None
        self.evidence = []
        self.target = None
        self.para = None

    def _scoreless(self, idx: int) -> None:
        """A statement's name and evidence without a score: warned of, and not loaded."""
        self._close_statement()
        self.in_contents = False
        self.warnings.append(
            f"line {self.lines.linenos[idx]}: statement '{self.lines.texts[idx]}' has no score;"
            " not loaded"
        )
        self.target = None
        self.para = None

    def _nowhere(self, idx: int) -> None:
        """A line that looks like structure where none fits: it ends the open statement."""
        text = self.lines.texts[idx]
        where = f"line {self.lines.linenos[idx]}: '{text[:80]}' fits nowhere"
        if self.statement is not None:
            self.warnings.append(
                f"{where}; the evidence of '{self.statement['name']}' ends above it"
            )
        else:
            self.warnings.append(f"{where}; ignored")
        self._close_statement()
        self.in_contents = False
        self.target = None
        self.para = None

    def _later_header(self, first: int, last: int) -> int:
        """A second report header (pages pasted into one file): it must be the same report's."""
        self._close_statement()
        self.target = None
        self.para = None
        self.in_contents = False
        header = _Header(self.lines, self.kinds, first, last + 1)
        record = self.record
        lineno = self.lines.linenos[first]
        date = header.assessment_date.isoformat() if header.assessment_date else header.date_text
        same_place = ref.normalise(header.name or "") == ref.normalise(record["location_name"]) or (
            header.postcode is not None and header.postcode == record["postcode"]
        )
        if header.service != record["service_group"]:
            raise RejectedFile(
                f"line {lineno}: a second report, on {header.service or 'the whole location'},"
                f" follows the report on {record['service_group'] or 'the whole location'}:"
                " save each report in a file of its own"
            )
        if date != record["assessment_date"] or not same_place:
            raise RejectedFile(
                f"line {lineno}: a second report, of {header.name or 'an unnamed location'}'s"
                f" assessment of {date}, follows {record['location_name']}'s of"
                f" {record['assessment_date']}: save each report in a file of its own"
            )
        if header.overall and header.overall != record["overall_rating"]:
            self.warnings.append(
                f"line {lineno}: this page gives the overall rating as {header.overall},"
                f" an earlier one as {record['overall_rating']}"
            )
        return last + 1

    # The whole ---------------------------------------------------------------------------

    def _finish(self) -> None:
        """Sections into the record: duplicates, unrated ones, the contents cross-check."""
        kept: dict[str, _Section] = {}
        for section in self.sections:
            data = section.data
            name = data["name"]
            where = f"line {section.lineno}"
            if name in kept:
                if kept[name].data == data:
                    self.warnings.append(f"{where}: {name} appears twice, the same; read once")
                    continue
                raise RejectedFile(f"{where}: key question {name} appears twice")
            if section.not_rated:
                if not data["statements"]:
                    self.warnings.append(f"{where}: {name} is not rated; nothing to load")
                    kept[name] = section
                    continue
                self.warnings.append(f"{where}: {name} is not rated but has statement scores")
            kept[name] = section
        for name, (rating, idx) in self.contents.items():
            section = kept.get(name)
            if (
                section is not None
                and section.data["rating"] != rating
                and not (section.not_rated and rating is None)
            ):
                self.warnings.append(
                    f"line {self.lines.linenos[idx]}: the contents list rates {name}"
                    f" {rating or 'not rated'}, its section"
                    f" {section.data['rating'] or 'not rated'}"
                )
        self.record["key_questions"] = [
            s.data for s in kept.values() if not (s.not_rated and not s.data["statements"])
        ]


# How a report says a statement's score was not judged in this assessment.
_CARRIED_FORWARD = re.compile(r"based on the previous rating", re.IGNORECASE)


def carried_forward_status(evidence: str | None) -> str | None:
    """CARRIED_FORWARD when the evidence says the score is based on the previous rating, else
    None: report text does not say that a score was judged in this assessment."""
    if evidence and ("revious" in evidence or "REVIOUS" in evidence):
        return ref.CARRIED_FORWARD if _CARRIED_FORWARD.search(evidence) else None
    return None


def _check(record: Record) -> None:
    """Fill computed scores and record what does not add up; reject what is not a report."""
    sections = record["key_questions"]
    warnings = record["warnings"]
    if not any(s["statements"] for s in sections):
        if not sections:
            raise RejectedFile("not a CQC assessment report: no key question with 'Score: N' found")
        warnings.append("no statement scores: loaded as ratings only")
    for section in sections:
        check_scores(section, warnings)
    if record["era"] == "pre-SAF" and any(s["statements"] for s in sections):
        warnings.append(
            f"statement scores dated {record['assessment_date']}, before the framework scored them"
        )
    dates = [s["published_date"] for s in sections if s["published_date"]]
    record["published_date"] = max(dates) if dates else None


# Legacy (pre-SAF) inspection reports ------------------------------------------------------

_LEGACY_KQ = re.compile(
    r"^(?:Is the (?:service|practice|location|provider|trust)|Are (?:the )?services"
    r"(?: at this \w+)?)\s+(safe|effective|caring|responsive|well[- ]?led)\s*\??\s*[:\u2013-]?"
    r"\s*(.*)$",
    re.IGNORECASE,
)
_LEGACY_OVERALL = re.compile(
    r"^Overall rating for (?:this|the) (?:service|location|practice|provider|trust|hospital)"
    r"\s*[:\u2013-]?\s*(.*)$",
    re.IGNORECASE,
)
_INSPECTED = re.compile(
    r"^(?:Dates? of (?:the )?inspection(?: visits?| visit\(s\))?|Inspection carried out on)"
    r"\s*:?\s*(.*)$",
    re.IGNORECASE,
)
_PUBLISHED = re.compile(
    r"^(?:Date of publication|Publication date|Report published|Date published)\s*:?\s*(.*)$",
    re.IGNORECASE,
)
_REPORT_TITLE = re.compile(r"^(?:Inspection|Quality|Inspection summary) report$", re.IGNORECASE)
_PHONE = re.compile(r"^(?:Tel|Telephone|Phone)\s*[:.]?\s*(.+)$", re.IGNORECASE)
# A day, then (after other days: "5 and 6 March 2019", "28 February and 1 March 2019") its
# month and year; or a day/month/year.
_MONTH_NAMES = "|".join([*_MONTHS, *(m[:3] for m in _MONTHS), "sept"])
_DAY_MONTH_YEAR = re.compile(
    rf"\b([0-9]{{1,2}})(?:st|nd|rd|th)?(?:\s+({_MONTH_NAMES})\b\.?)?(?:,?\s+([0-9]{{4}}))?\b"
    r"|\b([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})\b",
    re.IGNORECASE,
)
_LEGACY_STARTS = ("is the", "are ser", "are the", "overall", "date of", "dates of", "inspecti")


def _looks_legacy(texts: list[str]) -> bool:
    """Whether a text without 'Report from <date> assessment' is a pre-SAF inspection report."""
    for line in texts:
        head = line[:8].lower()
        if head.startswith(_LEGACY_STARTS) and (
            _LEGACY_KQ.match(line) or _LEGACY_OVERALL.match(line) or _INSPECTED.match(line)
        ):
            return True
    return False


def _dates_in(text: str) -> list[dt.date]:
    """Every date a phrase names, in order: '5 and 6 March 2019' gives 5 and 6 March 2019."""
    found: list[dt.date] = []
    pending: list[list[int]] = []  # [day, month (0: not given yet)] waiting for a year
    for match in _DAY_MONTH_YEAR.finditer(text):
        if match[4]:  # 05/03/2019
            parts = (int(match[6]), int(match[5]), int(match[4]))
            pending = []
        else:
            pending.append([int(match[1]), 0])
            if match[2]:
                month = _MONTHS.get(match[2].lower()) or next(
                    i for m, i in _MONTHS.items() if m.startswith(match[2].lower()[:3])
                )
                for waiting in pending:
                    waiting[1] = waiting[1] or month
            if not match[3]:
                continue
            year = int(match[3])
            dates, pending = [(year, m, d) for d, m in pending if m], []
            for parts in dates:
                try:
                    found.append(dt.date(*parts))
                except ValueError:
                    pass
            continue
        try:
            found.append(dt.date(*parts))
        except ValueError:
            pass
    return found


def _legacy_value(texts: list[str], idx: int, given: str) -> str:
    """A label's value: on its line, or on the next line when the label stands alone."""
    if given.strip():
        return given.strip()
    return texts[idx + 1] if idx + 1 < len(texts) else ""


def _legacy_rating(text: str) -> str | None:
    """The canonical rating of a legacy rating cell ("Requires Improvement" and a symbol)."""
    return ref.canonical_rating(re.sub(r"[^A-Za-z ]+$", "", text).strip())


def _legacy(lines: _Lines, header: _Header, source: str, warnings: list[str]) -> Record:
    """A pre-SAF inspection report: ratings only, dated by its publication (as the API and the
    rating file date the same report), in the pre-SAF era. The header of a report page (name,
    "Overall:", address, provider) is read as a SAF report's; a PDF's cover ("<provider>",
    "<location>", "Inspection report", the address) otherwise."""
    texts = lines.texts
    overall: str | None = None
    ratings: dict[str, str] = {}
    inspected: list[dt.date] = []
    published: dt.date | None = None
    name = provider = phone = None
    title = next((i for i, t in enumerate(texts[:12]) if _REPORT_TITLE.match(t)), None)
    if title is not None and title >= 1:
        name = texts[title - 1]
        provider = texts[title - 2] if title >= 2 else None
    elif texts:
        name = texts[0]
    address: list[str] = []
    postcode = None
    start = title + 1 if title is not None else 1
    for idx, line in enumerate(texts):
        where = f"line {lines.linenos[idx]}"
        if (match := _LEGACY_KQ.match(line)) is not None:
            kq = ref.canonical_key_question(match[1])
            value = match[2] or (texts[idx + 1] if idx + 1 < len(texts) else "")
            rating = _legacy_rating(value)
            if rating and kq:
                if kq in ratings and ratings[kq] != rating:
                    warnings.append(
                        f"{where}: {kq} rated {rating} here, {ratings[kq]} earlier; the first kept"
                    )
                ratings.setdefault(kq, rating)
            continue
        if (match := _LEGACY_OVERALL.match(line)) is not None:
            rating = _legacy_rating(_legacy_value(texts, idx, match[1]))
            if rating and overall and rating != overall:
                warnings.append(f"{where}: overall rated {rating} here, {overall} earlier")
            overall = overall or rating
            continue
        if (match := _INSPECTED.match(line)) is not None:
            value = _legacy_value(texts, idx, match[1])
            if not inspected:
                inspected = _dates_in(value)
                if not inspected:
                    warnings.append(f"{where}: inspection date '{value[:60]}' is not a date")
            continue
        if (match := _PUBLISHED.match(line)) is not None:
            value = _legacy_value(texts, idx, match[1])
            if published is None:
                dates = _dates_in(value)
                if dates:
                    published = dates[0]
                else:
                    warnings.append(f"{where}: publication date '{value[:60]}' is not a date")
            continue
        if (match := _PROVIDED.match(line)) or line.lower().startswith("provided by"):
            given = line.split(":", 1)[1].strip() if ":" in line else ""
            provider = given or (texts[idx + 1] if idx + 1 < len(texts) else provider)
            continue
        if phone is None and (match := _PHONE.match(line)):
            phone = match[1].strip()
            continue
        if postcode is None and start <= idx < start + 8 and not inspected:
            address.append(line)
            if found := ref.normalise_postcode(line):
                postcode = found
    if header.overall is not None and header.name:  # a report page's header
        name, provider, phone = header.name, header.provider or provider, header.phone or phone
        postcode, address = header.postcode, [header.address or ""]
        overall = overall or (header.overall if ref.canonical_rating(header.overall) else None)
    if not (overall or ratings):
        raise RejectedFile("a pre-SAF inspection report with no ratings found")
    date = published or (inspected[-1] if inspected else None)
    if date is None:
        raise RejectedFile("a pre-SAF inspection report with no date of publication or inspection")
    if published is None:
        warnings.append("no date of publication: dated by the last day of the inspection visit")
    if date > dt.date.today():
        warnings.append(f"publication date {date} is in the future")
    joined = ", ".join(address) if postcode else None
    if joined and header.overall is not None and header.name:
        joined = header.address
    elif joined:
        pos = _postcode_span(joined)
        joined = joined[: pos[0]].strip().rstrip(",").strip() or None
    else:
        warnings.append("no postcode found; region unknown")
    era_date = inspected[0] if inspected else date
    return {
        "source": source,
        "format": FORMAT,
        "location_cqc_id": None,
        "provider_cqc_id": None,
        "location_name": name,
        "provider_name": provider,
        "service_types": [t for _, t in header.service_types],
        "service_type": header.service_types[-1][1] if header.service_types else None,
        "overall_rating": overall,
        "address": joined,
        "postcode": postcode,
        "phone": phone,
        "region": None,
        "local_authority": None,
        "assessment_date": date.isoformat(),
        "published_date": published.isoformat() if published else None,
        "era": ref.era_for(era_date, scored=False),
        "service_group": None,
        "inspection_date": inspected[0].isoformat() if inspected else None,
        "key_questions": [
            {
                "name": kq,
                "rating": ratings[kq],
                "score": None,
                "computed_score": None,
                "published_date": published.isoformat() if published else None,
                "statements": [],
            }
            for kq in ref.KEY_QUESTIONS
            if kq in ratings
        ],
        "warnings": warnings,
    }
