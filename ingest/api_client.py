"""Live sync from the CQC Syndication API into the store.

`sync()` pages through `/locations` (a full sync) or `/changes/location` since the last
successful sync (incremental), fetches each location's record, its SAF-era reports as text
(`/reports/{id}`, `Accept: text/plain`, read by the report parser) and the names of
providers not yet known, and loads them in batches through the one loading loop's writer
(ingest.load.Writer), letting go of the database after every batch.

Each batch commits its data together with the sync's progress (`meta.sync_state`: the page
being read and the locations done on it), so an interrupted sync resumes where it stopped
and loading is idempotent anyway: nothing is counted twice. A finished sync records
`meta.last_sync`, the time it is complete to; the next sync asks for changes since then.

Requests carry the key in the `Ocp-Apim-Subscription-Key` header, are paced to a maximum
rate, and are retried with exponential backoff on 429 (honouring Retry-After), 5xx and
dropped connections. Only the standard library is used.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import http.client
import ipaddress
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from ingest import database
from ingest import reference as ref
from ingest.files import FileResult, ReadFile, read_file
from ingest.load import Writer
from ingest.readers import report_text
from ingest.records import Record, RejectedFile

API_KEY_ENV = "CQC_API_KEY"
KEY_HEADER = "Ocp-Apim-Subscription-Key"
DEFAULT_BASE_URL = "https://api.service.cqc.org.uk/public/v1"
STATE_KEY = "sync_state"
LAST_SYNC_KEY = "last_sync"


class ApiError(Exception):
    """The API could not be reached, or refused a request; str() is one line."""


class NotFound(ApiError):
    """HTTP 404: the item is gone (e.g. a location deregistered since it was listed)."""


@dataclass
class Client:
    """GET requests to the API with pacing and bounded retries."""

    key: str
    base_url: str = DEFAULT_BASE_URL
    rate: float = 10.0  # requests per second at most; 0 for no cap
    retries: int = 5  # further attempts after the first
    backoff: float = 1.0  # seconds before the first retry, doubled on each further one
    max_wait: float = 120.0  # cap on any one wait, Retry-After included
    timeout: float = 60.0
    sleep: Callable[[float], None] = time.sleep
    requests: int = 0
    _last: float = field(default=-1e9, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        parts = urllib.parse.urlsplit(self.base_url)
        self._base_path = parts.path
        handlers = []
        try:  # a server on this machine is never reached through a proxy
            if ipaddress.ip_address(parts.hostname or "").is_loopback:
                handlers.append(urllib.request.ProxyHandler({}))
        except ValueError:
            if parts.hostname == "localhost":
                handlers.append(urllib.request.ProxyHandler({}))
        self._opener = urllib.request.build_opener(*handlers)

    def url(self, path: str) -> str:
        """Absolute URL of an API path, or of a page link the API gave ('/locations?page=2')."""
        if path.startswith(("http://", "https://")):
            parts = urllib.parse.urlsplit(path)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if path.startswith(self._base_path + "/"):
                path = path[len(self._base_path) :]
        return self.base_url + ("" if path.startswith("/") else "/") + path

    def get(self, path: str, accept: str = "application/json") -> bytes:
        """The body of a successful GET; ApiError (NotFound for 404) once retries are spent."""
        url = self.url(path)
        request = urllib.request.Request(
            url,
            headers={
                KEY_HEADER: self.key,
                "Accept": accept,
                "User-Agent": "quality-statement-dashboard",
            },
        )
        problem = ""
        for attempt in range(self.retries + 1):
            self._pace()
            try:
                with self._opener.open(request, timeout=self.timeout) as response:
                    return response.read()
            except urllib.error.HTTPError as err:
                err.close()
                if err.code == 404:
                    raise NotFound(f"{path}: not found (HTTP 404)") from None
                if err.code in (401, 403):
                    raise ApiError(
                        f"the API refused the key (HTTP {err.code}); check ${API_KEY_ENV}"
                    ) from None
                if err.code != 429 and err.code < 500:
                    raise ApiError(f"{path}: HTTP {err.code} {err.reason}") from None
                problem = f"HTTP {err.code}"
                wait = _retry_after(err.headers.get("Retry-After")) if err.code == 429 else None
            except (OSError, http.client.HTTPException) as err:  # refused, reset, cut short
                problem = _describe(err)
                wait = None
            if attempt < self.retries:
                self.sleep(min(self.max_wait, wait if wait is not None else self._backoff(attempt)))
        raise ApiError(f"gave up on {path} after {self.retries + 1} attempts: {problem}")

    def get_json(self, path: str) -> dict:
        body = self.get(path)
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            raise ApiError(f"{path}: the response is not JSON") from None
        if not isinstance(document, dict):
            raise ApiError(f"{path}: the response is not a JSON object")
        return document

    def _backoff(self, attempt: int) -> float:
        return self.backoff * 2**attempt

    def _pace(self) -> None:
        if self.rate > 0:
            wait = self._last + 1 / self.rate - time.monotonic()
            if wait > 0:
                self.sleep(wait)
        self._last = time.monotonic()
        self.requests += 1


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _describe(err: BaseException) -> str:
    reason = getattr(err, "reason", None) or err
    text = str(reason).strip()
    return f"{type(reason).__name__}: {text}" if text else type(reason).__name__


# Sync ----------------------------------------------------------------------------------------
@dataclass
class SyncResult:
    """What a sync did; `line` is the summary the CLI prints."""

    mode: str
    resumed: bool = False
    locations: int = 0
    actions: dict[str, int] = field(
        default_factory=lambda: {"loaded": 0, "unchanged": 0, "replaced": 0, "rejected": 0}
    )
    reports: int = 0  # report texts with scores loaded (or already loaded)
    missing: int = 0  # locations listed but gone (404)
    warnings: int = 0
    rejections: list[str] = field(default_factory=list)
    synced_to: str | None = None

    @property
    def line(self) -> str:
        counts = ", ".join(f"{n} {action}" for action, n in self.actions.items())
        text = (
            f"sync ({self.mode}{', resumed' if self.resumed else ''}): {self.locations} locations"
        )
        text += f", {self.reports} reports with scores; files: {counts}; {self.warnings} warnings"
        if self.missing:
            text += f"; {self.missing} listed locations not found"
        if self.synced_to:
            text += f"; complete to {self.synced_to}"
        return text


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sync(
    client: Client,
    db: str | Path | None = None,
    *,
    full: bool = False,
    location_ids: list[str] | None = None,
    reports: bool = True,
    per_page: int = 500,
    batch: int = 25,
    quiet: bool = False,
) -> SyncResult:
    """Sync the database with the API (see module doc); ApiError when it has to stop.

    With `location_ids`, fetch just those locations: no paging, and no sync state is kept.
    """
    syncer = _Syncer(client, db, reports=reports, batch=batch, quiet=quiet)
    if location_ids:
        return syncer.fetch(list(location_ids))
    return syncer.run(full=full, per_page=per_page)


class _Syncer:
    def __init__(
        self, client: Client, db: str | Path | None, *, reports: bool, batch: int, quiet: bool
    ) -> None:
        self.client = client
        self.db = db
        self.reports = reports
        self.batch = batch
        self.result = SyncResult("full")
        self.providers_asked: set[str] = set()
        self.bar = tqdm(unit="location", file=sys.stderr, disable=quiet or None)
        # What the store holds, read once: reports loaded from the API, providers named.
        self.known_reports: set[str] = set()
        self.named_providers: set[str] = set()

    def _db(self):
        return database.connect(self.db, read_only=False)

    def prepare(self, con) -> None:
        self.named_providers = {
            p for (p,) in con.sql("SELECT provider_id FROM providers").fetchall()
        }
        rows = con.sql(
            "SELECT DISTINCT source_file FROM assessments WHERE source = 'report-text'"
            " AND starts_with(source_file, $prefix)",
            params={"prefix": self.client.url("/reports/")},
        ).fetchall()
        self.known_reports = {r[0] for r in rows}

    def run(self, *, full: bool, per_page: int) -> SyncResult:
        state, resumed = self._start(full, per_page)
        self.result = SyncResult(state["mode"], resumed=resumed)
        try:
            while True:
                page = self.client.get_json(state["page"])
                ids = _page_ids(page, state["mode"])
                if self.bar.total is None and isinstance(page.get("total"), int):
                    done_before = (int(page.get("page") or 1) - 1) * int(page.get("perPage") or 0)
                    self.bar.reset(total=page["total"])
                    self.bar.update(done_before + len(state["done"]))
                done = set(state["done"])
                self.locations([i for i in ids if i not in done], state)
                next_page = page.get("nextPageUri")
                if not next_page or not ids:
                    break
                state = {**state, "page": next_page, "done": []}
                self._write([], {STATE_KEY: json.dumps(state)})
            self._write([], {LAST_SYNC_KEY: state["until"], STATE_KEY: None})
            self.result.synced_to = state["until"]
        finally:
            self.bar.close()
        return self.result

    def fetch(self, ids: list[str]) -> SyncResult:
        """Just these locations: no listing, no sync state, no change to last_sync."""
        self.result = SyncResult("locations")
        con = self._db()
        try:
            self.prepare(con)
        finally:
            con.close()
        self.bar.reset(total=len(ids))
        try:
            self.locations(ids, state=None)
        finally:
            self.bar.close()
        return self.result

    def _start(self, full: bool, per_page: int) -> tuple[dict, bool]:
        """The sync to run: an unfinished one resumed, else incremental, else full."""
        con = self._db()
        try:
            saved = database.get_meta(con, STATE_KEY)
            last = database.get_meta(con, LAST_SYNC_KEY)
            self.prepare(con)
        finally:
            con.close()
        if saved:
            state = json.loads(saved)
            if not full or state["mode"] == "full":
                return state, True
        until = _now()
        if full or not last:
            query = urllib.parse.urlencode({"page": 1, "perPage": per_page})
            state = {"mode": "full", "until": until, "page": f"/locations?{query}", "done": []}
        else:
            query = urllib.parse.urlencode(
                {"page": 1, "perPage": per_page, "startTimestamp": last, "endTimestamp": until}
            )
            state = {
                "mode": f"changes since {last}",
                "until": until,
                "page": f"/changes/location?{query}",
                "done": [],
            }
        self._write([], {STATE_KEY: json.dumps(state)})
        return state, False

    def locations(self, ids: list[str], state: dict | None) -> None:
        """Fetch and load locations in batches, recording each batch in the sync state."""
        for start in range(0, len(ids), self.batch):
            chunk = ids[start : start + self.batch]
            files: list[ReadFile | FileResult] = []
            for loc in chunk:
                files.extend(self._location(loc))
            files.extend(self._providers(files))
            meta = {}
            if state is not None:
                state["done"] = state["done"] + chunk
                meta[STATE_KEY] = json.dumps(state)
            self._write(files, meta)
            self.result.locations += len(chunk)
            self.bar.update(len(chunk))

    def _location(self, loc: str) -> list:
        path = f"/locations/{urllib.parse.quote(loc, safe='')}"
        try:
            body = self.client.get(path)
        except NotFound:
            self.result.missing += 1
            return []
        read = read_file(self.client.url(path), body)
        if not self.reports or not isinstance(read, ReadFile):
            return [read]
        reports = list(self._reports(json.loads(body), read.records))
        # The API's ratings-only record of a report is that report's assessment, which its
        # text gives with scores: keep one, or the ratings would show twice.
        covered = {date for date, _ in reports}
        read.records = [
            r
            for r in read.records
            if r["assessment_date"] not in covered
            or r["service_group"] is not None
            or any(kq["statements"] for kq in r["key_questions"])
        ]
        # They were the unfiltered records'; the store works them out.
        read.digests = read.key_question_digests = None
        return [read, *(f for _, f in reports if f is not None)]

    def _reports(self, doc: dict, records: list[Record]) -> Iterator[tuple[str, ReadFile | None]]:
        """(report date, file) of the location's SAF-era reports that have scores.

        Report text gets the location's CQC ids. Reports dated before the SAF hold no scores
        and are not fetched; a report whose assessment the API record already scores is
        dropped (the structured record wins), and so is one without scores (the API's
        ratings cover it). A report loaded before is not fetched again (file None).
        """
        scored = {
            r["assessment_date"]
            for r in records
            if any(kq["statements"] for kq in r.get("key_questions", []))
        }
        seen = set()
        for report in doc.get("reports") or []:
            if not isinstance(report, dict):
                continue
            date = str(report.get("reportDate") or "")[:10]
            link = report.get("reportUri") or (
                f"/reports/{report['linkId']}" if report.get("linkId") else None
            )
            if not link or date < ref.SAF_START.isoformat() or link in seen:
                continue
            seen.add(link)
            url = self.client.url(link)
            if url in self.known_reports:
                self.result.reports += 1
                yield date, None
                continue
            try:
                body = self.client.get(link, accept="text/plain")
            except NotFound:
                continue
            try:
                text, warnings = report_text.decode(body, url)
                record = report_text.parse_report(text, url, warnings)
            except RejectedFile:
                continue
            if record["assessment_date"] in scored or not any(
                kq["statements"] for kq in record["key_questions"]
            ):
                continue
            record["location_cqc_id"] = doc.get("locationId")
            record["provider_cqc_id"] = doc.get("providerId") or None
            self.result.reports += 1
            yield (
                date,
                ReadFile(url, "report-text", hashlib.sha256(body).hexdigest(), [record]),
            )

    def _providers(self, files: list) -> list:
        """Provider records for the providers these files name but the store cannot name."""
        records = [r for f in files if isinstance(f, ReadFile) for r in f.records]
        named = {r["provider_cqc_id"] for r in records if r.get("provider_name")}
        wanted = (
            {
                r["provider_cqc_id"]
                for r in records
                if r.get("provider_cqc_id") and not r.get("provider_name")
            }
            - named
            - self.named_providers
            - self.providers_asked
        )
        self.providers_asked |= wanted
        out = []
        for provider in sorted(wanted):
            path = f"/providers/{urllib.parse.quote(provider, safe='')}"
            try:
                body = self.client.get(path)
            except NotFound:
                continue
            out.append(read_file(self.client.url(path), body))
        return out

    def _write(self, files: list, meta: dict[str, str | None]) -> None:
        with Writer(self.db, hold_seconds=0) as writer:  # the network is slower than the app
            results = writer.store(files, meta)
        for file, result in zip(files, results, strict=True):
            self.result.actions[result.action] += 1
            self.result.warnings += len(result.warnings)
            if result.action == "rejected":
                self.result.rejections.append(result.line)
                tqdm.write(result.line, file=sys.stderr)
            elif isinstance(file, ReadFile):
                if file.format == "report-text":
                    self.known_reports.add(file.file)
                self.named_providers |= {
                    r["provider_cqc_id"]
                    for r in file.records
                    if r.get("provider_cqc_id") and r.get("provider_name")
                }


def _page_ids(page: dict, mode: str) -> list[str]:
    if mode == "full":
        items = page.get("locations") or []
        return [str(i["locationId"]) for i in items if isinstance(i, dict) and i.get("locationId")]
    return [str(i) for i in page.get("changes") or [] if i]
