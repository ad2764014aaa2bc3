"""Reader for CQC Syndication API records saved as JSON: locations and providers.

A location record (`GET /locations/{id}`) gives one record per SAF assessment service group
(`assessment[].ratings.asgRatings[]`, with statement scores) and one ratings-only record per
legacy report (`currentRatings` / `historicRatings`, grouped by report date). A provider
record (`GET /providers/{id}`) gives the provider's name. A file may hold one record, a list
of them, or a page ({"locations": [...]}) of full records.

Each assessment record carries `report_url`, the address of its report on CQC's website
where the record names it: a SAF assessment's plan (`assessmentPlanId`, at CQC's
/location/{id}/reports/{plan}/overall), a legacy report's link (`reportLinkId` of its
ratings, else `reports[].linkId` / `reportUri` of its date, at api.cqc.org.uk's /reports/,
where CQC's own pages link them). Ids of any other form give no address.

Only the fields named here are copied, so nothing else in a response can reach the
database: contacts, nominated individuals, registered managers and any person's name are
never read. The source is loose about ratings ("Requires Improvement"), scores ("3" or
"3 - Good standard"), the key question percentage (`percentageScore`, or the schema's
misspelt `percengtageScore`) and missing blocks; all are normalised here.

Bounded (ingest.limits): a file is at most MAX_JSON_BYTES; an integer of more digits than
Python converts, or nesting deeper than its recursion limit, rejects the file; numbers are
read from ASCII digits only; duplicate checks are set lookups, so the reader is linear in
the number of statements and records.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from typing import Any

from ingest import limits
from ingest import reference as ref
from ingest.records import LOCATION_KIND, Record, RejectedFile, check_scores

FORMAT = "api-json"

# A score or percentage: ASCII digits (not any Unicode digit), few enough to be one.
_LEADING_INT = re.compile(r"^\s*([0-9]{1,9})(?:\s*(?:-|\u2013|:|%).*)?\s*$", re.DOTALL)
_SURROGATE = re.compile("[\ud800-\udfff]")
# Report addresses (module docstring): built only from ids of a plain form.
SAF_REPORT = "https://www.cqc.org.uk/location/{location}/reports/{plan}/overall"
LEGACY_REPORTS = "https://api.cqc.org.uk/public/v1"
_LINK_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
_REPORT_URI = re.compile(r"^/reports/[A-Za-z0-9-]{1,64}(?:\?[0-9]{1,20})?$")


def sniff(head: bytes) -> bool:
    """JSON: the first byte that is not a byte order mark or white space opens an object or list."""
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"[")


def read(name: str, data: bytes, progress: object = None) -> list[Record]:
    """Records of a JSON file of API location or provider records; RejectedFile otherwise."""
    if len(data) > limits.MAX_JSON_BYTES:
        raise RejectedFile(
            f"JSON file is {len(data) / limits.MIB:,.1f} MB; a file of API records is at most"
            f" {limits.MAX_JSON_BYTES // limits.MIB} MB (save fewer records a file)"
        )
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as err:
        raise RejectedFile(f"JSON file is not UTF-8 (byte {err.start})") from None
    except json.JSONDecodeError as err:
        raise RejectedFile(
            f"not valid JSON: {err.msg} (line {err.lineno}, column {err.colno})"
        ) from None
    except RecursionError:
        raise RejectedFile("JSON is nested too deeply to read") from None
    except ValueError:  # CPython's limit on the digits of an integer it converts
        raise RejectedFile(
            f"JSON holds a number of more than {limits.MAX_INT_DIGITS:,} digits, which is"
            " no CQC value"
        ) from None
    return records_from_document(document, name)


def records_from_document(document: Any, source: str) -> list[Record]:
    """Records of a parsed API document: a record, a list of records, or a page of them."""
    items = _items(document)
    if not items:
        raise RejectedFile("JSON holds no location or provider records")
    by_item: dict[str, list[Record]] = {}
    for item in items:
        if "locationId" in item:
            key, records = f"location {item['locationId']}", location_records(item, source)
        else:
            key, records = f"provider {item['providerId']}", [provider_record(item, source)]
        if key in by_item and records:  # the later copy wins, as it would from a later file
            records[0]["warnings"].append(f"{key} appears more than once; the last is kept")
        by_item[key] = records
    return [r for records in by_item.values() for r in records]


def _items(document: Any) -> list[dict]:
    if isinstance(document, dict):
        for listing in ("locations", "providers"):
            if isinstance(document.get(listing), list) and not (
                "locationId" in document or "providerId" in document
            ):
                items = document[listing]
                if items and not any(_is_full_record(i) for i in items if isinstance(i, dict)):
                    raise RejectedFile(
                        f"a /{listing} list page: it holds ids and names only, no ratings;"
                        " sync with 'python -m ingest api' instead"
                    )
                return _checked(items)
        if "changes" in document:
            raise RejectedFile("a /changes list: it holds location ids only, no ratings")
        return _checked([document])
    if isinstance(document, list):
        return _checked(document)
    raise RejectedFile("JSON but not a CQC location or provider record")


def _unwrapped(item: Any) -> Any:
    """A record saved inside a wrapper of a caller's ({"req": ..., "loc": <record>}): the record."""
    if isinstance(item, dict) and not ("locationId" in item or "providerId" in item):
        inner = [v for k, v in item.items() if k in ("loc", "location", "provider", "data")]
        if len(inner) == 1 and isinstance(inner[0], dict):
            return inner[0]
    return item


def _is_full_record(item: dict) -> bool:
    return any(
        k in item
        for k in ("currentRatings", "historicRatings", "assessment", "registrationStatus", "type")
    )


def _checked(items: list) -> list[dict]:
    items = [_unwrapped(item) for item in items]
    for position, item in enumerate(items, start=1):
        if not isinstance(item, dict) or not ("locationId" in item or "providerId" in item):
            where = f"item {position}" if len(items) > 1 else "the JSON object"
            raise RejectedFile(
                f"JSON but not a CQC location or provider record: {where} has no locationId"
                " or providerId"
            )
    return items


# Small typed accessors: the API leaves fields out, sends "" for none, and nests loosely.
def _text(value: Any) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    cleaned = html.unescape(value).strip()
    if not cleaned.isascii():
        try:
            cleaned.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate ("\\ud800" in the JSON): not text
            cleaned = _SURROGATE.sub("\ufffd", cleaned)
    return cleaned or None


def _dict(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _date(value: Any) -> str | None:
    """'2024-06-17' or '2024-06-17T10:00:00Z' -> '2024-06-17'; None when absent or invalid."""
    text = _text(value)
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        return None


def _coordinate(value: Any, low: float, high: float) -> float | None:
    """A latitude or longitude within the UK's range, else None."""
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if low <= number <= high else None


def _rating(value: Any, warnings: list[str], where: str) -> str | None:
    text = _text(value)
    if text is None:
        return None
    rating = ref.canonical_rating(text)
    if rating is None and not (ref.is_not_rated(text) or ref.canonical_judgement(text)):
        warnings.append(f"{where}: rating '{text[:60]}' is not a known rating; left empty")
    return rating


def _location_identity(doc: dict, source: str) -> Record:
    address = ", ".join(
        part
        for part in (
            _text(doc.get(k))
            for k in (
                "postalAddressLine1",
                "postalAddressLine2",
                "postalAddressTownCity",
                "postalAddressCounty",
            )
        )
        if part
    )
    # The registered type is the description; the short name maps onto it where a record
    # gives no description (reference.service_type_of_label).
    listed = _list(doc.get("gacServiceTypes"))
    labels = [_text(s.get("name")) for s in listed]
    service_types = [
        t
        for t in (
            _text(s.get("description")) or ref.service_type_of_label(label) or label
            for s, label in zip(listed, labels, strict=True)
        )
        if t
    ]
    categories = _list(doc.get("inspectionCategories"))
    primary = [c for c in categories if _text(c.get("primary")) in ("Y", "y", "true")] or categories
    category = _text(primary[0].get("name")) if primary else None
    # The API lists registered service types in no documented order: the location's service
    # type is the one its primary inspection category names (a dental practice also
    # registered for a hospital service is a dental service), else the first listed.
    named = ref.service_type_of_category(category)
    main = next(
        (t for t in service_types if t == named), service_types[0] if service_types else None
    )
    return {
        "source": source,
        "format": FORMAT,
        "location_cqc_id": _text(doc.get("locationId")),
        "provider_cqc_id": _text(doc.get("providerId")),
        "location_name": _text(doc.get("name")) or _text(doc.get("locationName")),
        "provider_name": None,  # a location record does not name its provider
        "service_types": service_types,
        "service_type": main,
        "service_type_label": next((label for label in labels if label), None),
        "overall_rating": None,
        "address": address or None,
        "postcode": _text(doc.get("postalCode")),
        "phone": _text(doc.get("mainPhoneNumber")),
        "region": _text(doc.get("region")),
        "local_authority": _text(doc.get("localAuthority")),
        "location_type": _text(doc.get("type")),
        "inspection_category": category,
        "registration_status": _text(doc.get("registrationStatus")),
        "registration_date": _date(doc.get("registrationDate")),
        "deregistration_date": _date(doc.get("deregistrationDate")),
        "icb_code": _text(doc.get("onspdIcbCode")),
        "icb_name": _text(doc.get("onspdIcbName")),
        "latitude": _coordinate(doc.get("onspdLatitude"), 49.0, 61.0),
        "longitude": _coordinate(doc.get("onspdLongitude"), -9.0, 2.5),
        "assessment_date": None,
        "published_date": None,
        "era": None,
        "service_group": None,
        "key_questions": [],
        "warnings": [],
    }


def location_records(doc: dict, source: str) -> list[Record]:
    """One record per SAF service group assessment and per legacy report of a location."""
    identity = _location_identity(doc, source)
    loc = identity["location_cqc_id"]
    warnings: list[str] = []
    if loc is None:
        raise RejectedFile("a location record with an empty locationId")
    if not ref.is_location_id(loc):
        warnings.append(f"location id '{loc[:40]}' is not of the form 1-<digits> or an ODS code")
    if identity["location_name"] is None:
        raise RejectedFile(f"location {loc} has no name")
    saf = _saf_records(doc, identity, warnings)
    published = {r["published_date"] for r in saf if r["published_date"]}
    unique: dict[tuple, Record] = {}
    for record in saf + _legacy_records(doc, identity, warnings, published):
        key = (record["assessment_date"], record["service_group"])
        if not (record["key_questions"] or record["overall_rating"]):
            continue
        if key in unique:
            warnings.append(
                f"location {loc}: two assessments dated {key[0]}"
                + (f" for {key[1]}" if key[1] else "")
                + "; the first is kept"
            )
            continue
        unique[key] = record
    records = sorted(
        unique.values(), key=lambda r: (r["assessment_date"], r["service_group"] or "")
    )
    if not records:  # no ratings at all: the location is still a location (LOCATION_KIND)
        return [{**identity, "kind": LOCATION_KIND, "warnings": warnings}]
    # problems of the location as a whole go with its first record
    records[0]["warnings"] = warnings + records[0]["warnings"]
    return records


def _new_record(identity: Record, date: str, group: str | None, scored: bool = True) -> Record:
    record = {
        **identity,
        "service_types": list(identity["service_types"]),
        "key_questions": [],
        "warnings": [],
    }
    record["assessment_date"] = date
    record["era"] = ref.era_for(dt.date.fromisoformat(date), scored=scored)
    record["service_group"] = group
    return record


def _saf_records(doc: dict, identity: Record, warnings: list[str]) -> list[Record]:
    records = []
    loc = identity["location_cqc_id"]
    for assessment in _list(doc.get("assessment")):
        published = _date(assessment.get("assessmentPlanPublishedDateTime"))
        for asg in _list(_dict(assessment.get("ratings")).get("asgRatings")):
            group = _text(asg.get("name")) or _text(asg.get("title"))
            where = f"location {loc}" + (f", {group}" if group else "")
            date = _date(asg.get("assessmentDate")) or _date(assessment.get("assessmentDate"))
            if date is None:
                warnings.append(f"{where}: assessment has no valid assessment date; not loaded")
                continue
            record = _new_record(identity, date, group)
            record["report_url"] = _saf_report(loc, _text(asg.get("assessmentPlanId")))
            record["overall_rating"] = _rating(asg.get("rating"), record["warnings"], where)
            for kq in _list(asg.get("keyQuestionRatings")):
                section = _saf_key_question(kq, where, record)
                if section is not None:
                    record["key_questions"].append(section)
            scored = any(k["statements"] for k in record["key_questions"])
            record["era"] = ref.era_for(dt.date.fromisoformat(date), scored=scored)
            dates = [k["published_date"] for k in record["key_questions"] if k["published_date"]]
            record["published_date"] = published or (max(dates) if dates else None)
            records.append(record)
    return records


def _saf_report(location: str, plan: str | None) -> str | None:
    """The address of a SAF assessment's report on CQC's website, from its plan id."""
    if plan and _LINK_ID.match(plan) and ref.is_location_id(location):
        return SAF_REPORT.format(location=location, plan=plan)
    return None


def _report_links(doc: dict) -> dict[str, str]:
    """Report date -> the address of that legacy report: the link its ratings give (the
    current overall's or a historic report's, else a key question's), else the record's
    `reports[]` entry of the date."""
    current = _dict(_dict(doc.get("currentRatings")).get("overall"))
    reports = [current, *_list(doc.get("historicRatings"))]
    rated = [(r, _date(r.get("reportDate"))) for r in reports]
    rated += [
        (kq, _date(kq.get("reportDate")) or date)
        for report, date in rated
        for kq in _list(_dict(report.get("overall", report)).get("keyQuestionRatings"))
    ]
    found = [(date, _link_address(item.get("reportLinkId"), None)) for item, date in rated]
    found += [
        (_date(r.get("reportDate")), _link_address(r.get("linkId"), r.get("reportUri")))
        for r in _list(doc.get("reports"))
    ]
    links: dict[str, str] = {}
    for date, address in found:
        if date and address:
            links.setdefault(date, address)
    return links


def _link_address(link_id: object, uri: object) -> str | None:
    """A legacy report's address from its `reportUri` (preferred) or its link id, when of a
    plain form."""
    uri, link_id = _text(uri), _text(link_id)
    if uri and _REPORT_URI.match(uri):
        return LEGACY_REPORTS + uri
    if link_id and _LINK_ID.match(link_id):
        return f"{LEGACY_REPORTS}/reports/{link_id}"
    return None


def _saf_key_question(kq: dict, where: str, record: Record) -> dict | None:
    warnings = record["warnings"]
    raw_name = _text(kq.get("name"))
    name = ref.canonical_key_question(raw_name or "")
    if name is None:
        warnings.append(f"{where}: key question '{(raw_name or '')[:60]}' is not one of the five")
        return None
    if any(k["name"] == name for k in record["key_questions"]):
        raise RejectedFile(f"{where}: key question {name} appears twice in one assessment")
    where = f"{where}, {name}"
    judgement = ref.canonical_judgement(_text(kq.get("rating")))
    section = {
        "name": name,
        "rating": _rating(kq.get("rating"), warnings, where),
        "score": _percentage(kq, where, warnings),
        "computed_score": None,
        "published_date": _date(kq.get("commentaryDate")),
        "status": ref.statement_status(_text(kq.get("status"))),
        "judgement": judgement,
        "statements": [],
    }
    names: set[str] = set()  # of the statements so far: a set, not a scan of the list
    for topic in _list(kq.get("topicareas")):
        statement = _statement(topic, where, section, warnings)
        if statement is not None:
            if statement["name"] in names:
                raise RejectedFile(f"{where}: statement '{statement['name'][:80]}' is scored twice")
            names.add(statement["name"])
            section["statements"].append(statement)
    if section["score"] == 0:
        # "0" is how the API says "no percentage" (the floor of a real one is 25): a service
        # CQC does not rate, or a key question not scored.
        if section["statements"]:
            warnings.append(f"{where}: percentage 0 beside statement scores; left empty")
        section["score"] = None
    check_scores(section, warnings)
    return section


def _percentage(kq: dict, where: str, warnings: list[str]) -> int | None:
    text = _text(kq.get("percentageScore")) or _text(kq.get("percengtageScore"))
    if text is None:
        return None
    match = _LEADING_INT.match(text)
    if match and 0 <= int(match[1]) <= 100:
        return int(match[1])
    warnings.append(f"{where}: percentage '{text[:40]}' is not 0-100; left empty")
    return None


def _statement(topic: dict, where: str, section: dict, warnings: list[str]) -> dict | None:
    name = _text(topic.get("name"))
    label = name or f"quality statement {_text(topic.get('qualityStatementId')) or '?'}"
    text = _text(topic.get("qualityStatementscore")) or _text(topic.get("qualityStatementScore"))
    if text is None:
        warnings.append(f"{where}: statement '{label[:80]}' has no score; not loaded")
        return None
    if judgement := ref.canonical_judgement(text):  # a service CQC does not rate: no score
        if judgement == ref.JUDGEMENTS[1] or section["judgement"] is None:
            section["judgement"] = judgement  # "not all met" anywhere speaks for the whole
        return None
    match = _LEADING_INT.match(text)
    if match is None:
        raise RejectedFile(f"{where}: score '{text[:40]}' for '{label[:80]}' is not a number 1-4")
    score = int(match[1])
    if not 1 <= score <= 4:
        raise RejectedFile(f"{where}: score {score} for '{label[:80]}' is outside 1-4")
    # The API's own qualityStatementId numbering is not published; match on the name.
    sid = ref.statement_id(name) if name else None
    if sid is None:
        warnings.append(
            f"{where}: statement '{label[:80]}' is not one of the 34; kept without an id"
        )
    elif ref.STATEMENTS_BY_ID[sid].key_question != section["name"]:
        warnings.append(
            f"{where}: '{name}' belongs to {ref.STATEMENTS_BY_ID[sid].key_question}"
            f" but sits under {section['name']}"
        )
    canonical = ref.STATEMENTS_BY_ID[sid].name if sid else label
    evidence = [
        text
        for text in (_text(c.get("commentary")) for c in _list(topic.get("evidenceCategory")))
        if text
    ]
    return {
        "id": sid,
        "name": canonical,
        "score": score,
        "evidence": "\n\n".join(evidence) or None,
        "status": ref.statement_status(_text(topic.get("status"))),
    }


def _legacy_records(
    doc: dict, identity: Record, warnings: list[str], saf_published: set[str]
) -> list[Record]:
    """Ratings-only records, one per report date, from currentRatings and historicRatings.

    Each key question carries the date of the report that rated it, so a current picture
    made of several reports becomes several records. Ratings of parts of a location
    (`serviceRatings`) are not read. A report published on the day a SAF assessment was
    published is that assessment, already read with its scores, so it is skipped.
    """
    loc = identity["location_cqc_id"]
    reports: dict[str, dict] = {}
    current = _dict(_dict(doc.get("currentRatings")).get("overall"))
    entries = [(current, _date(current.get("reportDate")))] if current else []
    for historic in _list(doc.get("historicRatings")):
        entries.append((_dict(historic.get("overall")), _date(historic.get("reportDate"))))
    for overall, date in entries:
        where = f"location {loc}, report of {date or 'no date'}"
        if date is not None:
            report = reports.setdefault(date, {"overall": None, "kqs": {}})
            report["overall"] = report["overall"] or _rating(overall.get("rating"), warnings, where)
        for kq in _list(overall.get("keyQuestionRatings")):
            kq_date = _date(kq.get("reportDate")) or date
            name = ref.canonical_key_question(_text(kq.get("name")) or "")
            rating = _rating(kq.get("rating"), warnings, where)
            if kq_date is None or name is None or rating is None:
                continue
            report = reports.setdefault(kq_date, {"overall": None, "kqs": {}})
            report["kqs"].setdefault(name, rating)  # current ratings come first and win
    records = []
    links = _report_links(doc)
    for date, report in sorted(reports.items()):
        if date in saf_published or not (report["overall"] or report["kqs"]):
            continue
        record = _new_record(identity, date, None, scored=False)
        record["report_url"] = links.get(date)
        record["overall_rating"] = report["overall"]
        record["published_date"] = date
        record["key_questions"] = [
            {
                "name": kq,
                "rating": report["kqs"][kq],
                "score": None,
                "computed_score": None,
                "published_date": date,
                "statements": [],
            }
            for kq in ref.KEY_QUESTIONS
            if kq in report["kqs"]
        ]
        records.append(record)
    return records


def provider_record(doc: dict, source: str) -> Record:
    """A provider's id and name; a provider's own ratings are not read."""
    provider = _text(doc.get("providerId"))
    if provider is None:
        raise RejectedFile("a provider record with an empty providerId")
    return {
        "kind": "provider",
        "source": source,
        "format": FORMAT,
        "provider_cqc_id": provider,
        "provider_name": _text(doc.get("name")),
        "warnings": [] if _text(doc.get("name")) else [f"provider {provider} has no name"],
    }
