"""Parser for CQC assessment report text (the format of a published report page).

Layout, top to bottom: service type bullets; location name; "Overall: <rating>"; address
with postcode and phone; "Provided and run by:" and the provider; "Report from <date>
assessment"; then per key question its name, rating, "Updated <date>", a summary, "This
service scored N (out of 100)", and per quality statement its name, "Score: N" and evidence.
"""

from __future__ import annotations

import datetime as dt
import re

from ingest import reference as ref
from ingest.records import Record, RejectedFile, check_scores

FORMAT = "report-text"

MAX_REPORT_BYTES = 5 * 1024 * 1024

_SCORE = re.compile(r"^Score:\s*(.*)$", re.IGNORECASE)
_STATED = re.compile(r"This service scored\s+(\S+)\s*\(out of 100\)", re.IGNORECASE)
_UPDATED = re.compile(r"^Updated\s+(.+)$", re.IGNORECASE)
_REPORT_FROM = re.compile(r"^Report from\s+(.+?)\s+assessment\b", re.IGNORECASE)
_OVERALL = re.compile(r"^Overall:\s*(.+?)(?:\s+read more about inspection ratings.*)?$", re.I)
_BULLET = re.compile(r"^(\s*)[\u2022\u25cf\u25aa\u2023*-]\s+(.+)$")
_PROVIDED = re.compile(r"^Provided and run by:?\s*(.*)$", re.IGNORECASE)
# Control characters a text file does not hold (tab, line feed, form feed, carriage return do).
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, *range(0x0E, 0x20)])
_LEADING_INT = re.compile(r"^(\d+)(?:\s*(?:-|\u2013|:).*)?$")


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
_LONG_DATE = re.compile(r"(\d{1,2}) ([A-Za-z]+) (\d{4})")


def parse_date(text: str) -> dt.date:
    """'17 June 2024' -> date; ValueError when malformed or impossible."""
    # The published form first, without strptime (a tenth of the parser's time otherwise).
    if (match := _LONG_DATE.fullmatch(text.strip())) and match[2].lower() in _MONTHS:
        return dt.date(int(match[3]), _MONTHS[match[2].lower()], int(match[1]))
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text.strip().rstrip("."))
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
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    # (line number, stripped text) of non-blank lines; line numbers are 1-based for messages.
    rows = [(i, line) for i, raw in enumerate(lines, 1) if (line := raw.strip())]
    record = _header(lines, rows, source, list(warnings or []))
    record["key_questions"] = _key_questions(rows, record["warnings"])
    _check(record)
    return record


def _header(
    lines: list[str], rows: list[tuple[int, str]], source: str, warnings: list[str]
) -> Record:
    service_types: list[tuple[int, str]] = []
    name = overall = address = postcode = phone = provider = None
    assessment_date = None
    for idx, (lineno, stripped) in enumerate(rows):
        line = lines[lineno - 1].rstrip()  # bullets' indents tell service types apart
        if _SCORE.match(stripped) or (ref.canonical_key_question(line) and idx > 2):
            break
        if bullet := _BULLET.match(line):
            if name is None:
                service_types.append((len(bullet[1].expandtabs(4)), bullet[2].strip()))
            continue
        if match := _OVERALL.match(stripped):
            overall = ref.canonical_rating(match[1]) or match[1]
        elif match := _PROVIDED.match(stripped):
            provider = match[1] or (rows[idx + 1][1] if idx + 1 < len(rows) else None)
        elif match := _REPORT_FROM.match(stripped):
            try:
                assessment_date = parse_date(match[1])
            except ValueError:
                raise RejectedFile(
                    f"line {lineno}: assessment date '{match[1]}' is not a valid date"
                ) from None
        elif name is None and overall is None:
            name = stripped
        elif overall is not None and postcode is None and provider is None:
            if found := ref.normalise_postcode(stripped):
                postcode = found
                pos = _postcode_span(stripped)
                address = stripped[: pos[0]].strip().rstrip(",").strip() or None
                phone = stripped[pos[1] :].strip() or None
    if assessment_date is None:
        raise RejectedFile("not a CQC assessment report: no 'Report from <date> assessment' line")
    if assessment_date > dt.date.today():
        warnings.append(f"assessment date {assessment_date} is in the future")
    if name is None:
        raise RejectedFile("not a CQC assessment report: no location name before 'Overall:'")
    if postcode is None:
        warnings.append("no postcode found; region unknown")
    if overall is not None and ref.canonical_rating(overall) is None:
        warnings.append(f"overall rating '{overall}' is not a known rating")
    deepest = max((depth for depth, _ in service_types), default=0)
    return {
        "source": source,
        "format": "report-text",
        "location_cqc_id": None,
        "provider_cqc_id": None,
        "location_name": name,
        "provider_name": provider,
        "service_types": [t for _, t in service_types],
        "service_type": next((t for d, t in reversed(service_types) if d == deepest), None),
        "overall_rating": overall,
        "address": address,
        "postcode": postcode,
        "phone": phone,
        "region": None,
        "local_authority": None,
        "assessment_date": assessment_date.isoformat(),
        "published_date": None,
        "era": ref.era_for(assessment_date),
        "service_group": None,
        "key_questions": [],
        "warnings": warnings,
    }


def _stated(line: str) -> re.Match[str] | None:
    """_STATED's match in `line`; a case-insensitive regex search is slow, "100)" is not."""
    return _STATED.search(line) if "100)" in line else None


def _postcode_span(line: str) -> tuple[int, int]:
    match = re.search(r"\b[A-Z]{1,2}[0-9][0-9A-Z]?\s*[0-9][A-Z]{2}\b", line.upper())
    assert match is not None
    return match.span()


def _key_questions(rows: list[tuple[int, str]], warnings: list[str]) -> list[dict]:
    """Key question sections from the (line number, stripped text) of every non-blank line."""
    sections: list[dict] = []
    current: dict | None = None
    statement: dict | None = None
    # What each line is, looked up once (two blank entries past the end for the look-ahead).
    texts = [line for _, line in rows] + ["", ""]
    kqs = ref.key_questions_of(texts)
    ratings = ref.ratings_of(texts)
    scores = [_SCORE.match(line) for line in texts]
    idx = 0
    while idx < len(rows):
        lineno, stripped = rows[idx]
        kq = kqs[idx]
        if not kq and ratings[idx + 1] and _UPDATED.match(texts[idx + 2]):
            raise RejectedFile(f"line {lineno}: unknown key question '{stripped[:80]}'")
        if kq and ratings[idx + 1] and not scores[idx + 1]:
            if any(s["name"] == kq for s in sections):
                raise RejectedFile(f"line {lineno}: key question {kq} appears twice")
            current = {
                "name": kq,
                "rating": ratings[idx + 1],
                "score": None,
                "computed_score": None,
                "published_date": None,
                "statements": [],
            }
            sections.append(current)
            statement = None
            idx += 2
            continue
        if scores[idx + 1] and not scores[idx]:
            statement = _statement(rows, idx, scores[idx + 1], current, warnings)
            idx += 2
            continue
        if scores[idx]:
            raise RejectedFile(f"line {lineno}: '{stripped}' has no statement name above it")
        if statement is not None:
            if _stated(stripped) or _UPDATED.match(stripped):
                statement = None
            else:
                statement["evidence"].append(stripped)
        elif current is not None:
            _section_line(current, lineno, stripped, warnings)
        idx += 1
    for section in sections:
        for st in section["statements"]:
            st["evidence"] = "\n\n".join(st["evidence"]) or None
            st["status"] = carried_forward_status(st["evidence"])
    return sections


# How a report says a statement's score was not judged in this assessment.
_CARRIED_FORWARD = re.compile(r"based on the previous rating", re.IGNORECASE)


def carried_forward_status(evidence: str | None) -> str | None:
    """CARRIED_FORWARD when the evidence says the score is based on the previous rating, else
    None: report text does not say that a score was judged in this assessment."""
    return ref.CARRIED_FORWARD if evidence and _CARRIED_FORWARD.search(evidence) else None


def _section_line(section: dict, lineno: int, line: str, warnings: list[str]) -> None:
    if (match := _UPDATED.match(line)) and section["published_date"] is None:
        try:
            section["published_date"] = parse_date(match[1]).isoformat()
        except ValueError:
            warnings.append(
                f"line {lineno}: {section['name']} 'Updated' date '{match[1]}' is not a valid date"
            )
    elif match := _stated(line):
        if match[1].isdigit() and 0 <= int(match[1]) <= 100:
            section["score"] = int(match[1])
        else:
            warnings.append(
                f"line {lineno}: {section['name']} stated score '{match[1]}' is not 0-100"
            )
    elif ref.statement_id(line) is not None:
        warnings.append(f"line {lineno}: statement '{line}' has no score; not loaded")


def _statement(
    rows: list[tuple[int, str]],
    idx: int,
    score_match: re.Match[str],
    current: dict | None,
    warnings: list[str],
) -> dict:
    """The statement named on row `idx`, scored by `score_match` (the match of the next row)."""
    lineno, name = rows[idx]
    score_line = rows[idx + 1][0]
    raw = score_match[1].strip()
    value = _LEADING_INT.match(raw)
    if value is None:
        raise RejectedFile(f"line {score_line}: score '{raw}' for '{name}' is not a number 1-4")
    score = int(value[1])
    if not 1 <= score <= 4:
        raise RejectedFile(f"line {score_line}: score {score} for '{name}' is outside 1-4")
    sid = ref.statement_id(name)
    if sid is None:
        warnings.append(
            f"line {lineno}: statement '{name}' is not one of the 34; kept without an id"
        )
    expected_kq = ref.STATEMENTS_BY_ID[sid].key_question if sid else None
    if current is None:
        if expected_kq is None:
            raise RejectedFile(
                f"line {lineno}: score for '{name}' is outside any key question section"
            )
        raise RejectedFile(f"line {lineno}: '{name}' is scored before any key question heading")
    if expected_kq and expected_kq != current["name"]:
        warnings.append(
            f"line {lineno}: '{name}' belongs to {expected_kq} but sits under {current['name']}"
        )
    canonical = ref.STATEMENTS_BY_ID[sid].name if sid else name
    if canonical in [s["name"] for s in current["statements"]]:
        raise RejectedFile(
            f"line {lineno}: statement '{canonical}' is scored twice under {current['name']}"
        )
    entry = {"id": sid, "name": canonical, "score": score, "evidence": []}
    current["statements"].append(entry)
    return entry


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
