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

The client does not trust its server (docs/DATA_SAFETY.md, "The API client", states each rule
and its bound):
- the key (`Ocp-Apim-Subscription-Key`) goes only to the configured origin, over HTTPS (plain
  HTTP only to this machine); a redirect or a link to another origin is refused, never
  followed;
- requests are paced to a maximum rate over one kept-alive connection, and retried with
  exponential backoff and jitter on 429 (honouring Retry-After), 5xx and dropped connections;
- every attempt has a total deadline, however slowly the server trickles its answer, and an
  answer has a size limit;
- paging stops at a cycle or past a page limit;
- an answer that is not what was asked for is one line: a location, provider or report is
  rejected (the sync goes on; exit code 1), a listing page stops the sync (exit code 3); what
  was fetched before stays loaded.

Only the standard library is used.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import functools
import hashlib
import http.client
import io
import ipaddress
import json
import math
import random
import select
import socket
import ssl
import sys
import time
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

MAX_PAGES = 10_000  # listing pages one sync reads at most (5 million locations at 500 a page)
MAX_REDIRECTS = 5  # same-origin redirects one attempt follows at most
MAX_BYTES = 20 * 2**20  # the largest answer read (report text over 5 MB is rejected anyway)
MAX_LINK = 2048  # characters of a link from the API (nextPageUri, reportUri, Location)
MAX_ID = 100  # characters of a location, provider or report id
REDIRECTS = (301, 302, 303, 307, 308)
# An error on a kept-alive connection before any byte of the answer: the server had closed it
# while it was idle. The request goes again at once on a new connection, once.
_STALE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class ApiError(Exception):
    """The API could not be reached, refused a request, or answered so that the sync cannot
    go on; str() is one line whatever the server sent."""

    def __init__(self, message: str) -> None:
        super().__init__(_one_line(message))


class NotFound(ApiError):
    """HTTP 404: the item is gone (e.g. a location deregistered since it was listed)."""


class Malformed(ApiError):
    """An answer that came whole but is not what was asked for (not JSON, not an object, too
    large, a link that leads away from the API); `reason` is the message without the path."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.reason = _one_line(reason)


class _Retry(Exception):
    """An attempt that failed in a way worth trying again (`problem` says how)."""

    def __init__(self, problem: str, wait: float | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.wait = wait


@dataclass
class Client:
    """GET requests to the API over one kept-alive connection, paced, with bounded retries.

    Not thread-safe: one sync uses it at a time.
    """

    key: str
    base_url: str = DEFAULT_BASE_URL
    rate: float = 10.0  # requests per second at most; 0 for no cap
    retries: int = 5  # further attempts after the first
    backoff: float = 1.0  # seconds before the first retry, doubled on each further one
    jitter: float = 0.5  # each backoff wait is shortened by a random fraction up to this
    seed: int | None = None  # of the jitter's random numbers (tests fix it)
    max_wait: float = 120.0  # cap on any one wait, Retry-After included
    timeout: float = 60.0  # seconds a connect or any one read may wait
    deadline: float = 120.0  # seconds one attempt may take in all, redirects included
    max_bytes: int = MAX_BYTES  # the largest answer read
    ssl_context: ssl.SSLContext | None = None  # default: the system's, verifying certificates
    proxy: str | None = None  # http://[user:pass@]host:port; None: $https_proxy, $no_proxy
    sleep: Callable[[float], None] = time.sleep
    requests: int = 0  # requests sent
    connections: int = 0  # connections opened
    _last: float = field(default=-1e9, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        parts = urllib.parse.urlsplit(self.base_url)
        self._base_path = parts.path
        self._random = random.Random(self.seed)
        self._conn: _Connection | None = None
        self._clock = _Clock(self.timeout)
        self._problem = _base_problem(self.base_url, self.key)
        self._origin = _origin(self.base_url) if self._problem is None else None
        if not 0 <= self.jitter <= 1:
            self._problem = f"jitter must be between 0 and 1, not {self.jitter}"
        self._tunnel = None if self._problem else self._proxy_route()

    @property
    def origin(self) -> str:
        """'https://host:port': the one place the key is sent."""
        if self._origin is None:
            raise ApiError(self._problem or "no origin")
        scheme, host, port = self._origin
        return f"{scheme}://{_host_text(host)}:{port}"

    def check(self) -> None:
        """ApiError when the base URL, key or options are unusable (before any request)."""
        if self._problem:
            raise ApiError(self._problem)

    def url(self, link: str) -> str:
        """Absolute URL of an API path, or of a link the API gave ('/locations?page=2', or a
        URL on the API's own origin); Malformed for anything else."""
        if not _is_link(link):
            raise Malformed(_shown(link), "not a link to an API path")
        parts = urllib.parse.urlsplit(link)
        if parts.scheme or parts.netloc:
            if _safe_origin(link) != self._origin:
                raise Malformed(_shown(link), f"the link leads away from {self.origin}")
            link = parts.path + (f"?{parts.query}" if parts.query else "")
            if link.startswith(self._base_path + "/"):
                link = link[len(self._base_path) :]
        return self.base_url + ("" if link.startswith("/") else "/") + link

    def get(self, path: str, accept: str = "application/json") -> bytes:
        """The body of a successful GET; ApiError (NotFound for 404, Malformed for an answer
        over max_bytes or a bad link) once retries are spent or at a refusal."""
        self.check()
        url = self.url(path)
        problem = ""
        for attempt in range(self.retries + 1):
            try:
                return self._attempt(url, path, accept)
            except _Retry as err:
                problem, wait = err.problem, err.wait
            if attempt < self.retries:
                self.sleep(self._backoff(attempt) if wait is None else min(self.max_wait, wait))
        raise ApiError(f"gave up on {path} after {self.retries + 1} attempts: {problem}")

    def get_json(self, path: str) -> dict:
        """A JSON object from the API; Malformed when the answer is anything else."""
        return _json_object(path, self.get(path))

    def close(self) -> None:
        """Close the kept-alive connection (a later request opens a new one)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _backoff(self, attempt: int) -> float:
        """backoff * 2**attempt (capped at max_wait), less up to `jitter` of it at random."""
        base = min(self.max_wait, self.backoff * 2 ** min(attempt, 64))
        return base * (1 - self.jitter * self._random.random())

    def _pace(self) -> None:
        if self.rate > 0:
            wait = self._last + 1 / self.rate - time.monotonic()
            if wait > 0:
                self.sleep(wait)
        self._last = time.monotonic()

    def _attempt(self, url: str, path: str, accept: str) -> bytes:
        """One attempt, redirects on the same origin followed, within one deadline."""
        self._pace()
        deadline = time.monotonic() + self.deadline
        for hop in range(MAX_REDIRECTS + 1):
            if hop:
                self._pace()
            status, reason, headers, body = self._exchange(url, path, accept, deadline)
            if 200 <= status < 300:
                return body
            if status in REDIRECTS:
                url = self._redirect(path, url, headers.get("Location"), status)
                continue
            if status == 404:
                raise NotFound(f"{path}: not found (HTTP 404)")
            if status in (401, 403):
                raise ApiError(f"the API refused the key (HTTP {status}); check ${API_KEY_ENV}")
            if status == 429:
                raise _Retry("HTTP 429", _retry_after(headers.get("Retry-After")))
            if status >= 500:
                raise _Retry(f"HTTP {status}")
            raise ApiError(f"{path}: HTTP {status} {reason[:100]}")
        raise ApiError(f"{path}: more than {MAX_REDIRECTS} redirects")

    def _redirect(self, path: str, url: str, location: str | None, status: int) -> str:
        """Where a redirect leads, if on the configured origin; ApiError (refused) if not."""
        if not location:
            raise ApiError(f"{path}: HTTP {status} without a Location")
        target = urllib.parse.urljoin(url, location.strip())
        if not _is_link(target) or _safe_origin(target) != self._origin:
            where = _safe_origin(target)
            shown = f"{where[0]}://{_host_text(where[1])}:{where[2]}" if where else _shown(target)
            raise ApiError(
                f"{path}: refused a redirect to {shown}: the key is sent only to {self.origin}"
            )
        return target

    def _exchange(
        self, url: str, path: str, accept: str, deadline: float
    ) -> tuple[int, str, http.client.HTTPMessage, bytes]:
        """Send one GET and read its whole answer by the deadline; _Retry on a failure."""
        parts = urllib.parse.urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {
            KEY_HEADER: self.key,
            "Accept": accept,
            "User-Agent": "quality-statement-dashboard",
        }
        self._clock.deadline = deadline
        stale_retry = True
        while True:
            conn, reused, answered = None, False, False
            try:
                conn, reused = self._connection()
                if conn.sock is None:
                    conn.connect()
                conn.sock.settimeout(self._clock.left())
                self.requests += 1
                conn.request("GET", target, headers=headers)
                response = conn.getresponse()
                answered = True
                limit = self.max_bytes if 200 <= response.status < 300 else 65536
                body = _body(response, limit, path)
            except BaseException as err:
                if conn is not None:
                    conn.close()
                if not isinstance(err, OSError | http.client.HTTPException):
                    raise
                if time.monotonic() >= deadline:
                    raise _Retry(
                        f"no whole answer within the deadline of {self.deadline:g} s"
                    ) from None
                if reused and not answered and stale_retry and isinstance(err, _STALE):
                    stale_retry = False
                    continue
                raise _Retry(_describe(err)) from None
            status = response.status
            keep = 200 <= status < 400 or status == 404  # not after a refusal or failure
            if keep and response.isclosed() and not response.will_close:
                self._conn = conn
            else:
                conn.close()
            return status, response.reason or "", response.headers, body

    def _connection(self) -> tuple[_Connection, bool]:
        """The kept-alive connection if it is still good (reused: True), else a new one."""
        conn, self._conn = self._conn, None
        if conn is not None:
            if not _dropped(conn.sock):
                return conn, True
            conn.close()
        scheme, host, port = self._origin
        if scheme == "http":
            conn = _Connection(host, port, self._clock)
        else:
            if self.ssl_context is None:  # made once, on the first connection
                self.ssl_context = ssl.create_default_context()
            context = self.ssl_context
            if self._tunnel is None:
                conn = _Connection(host, port, self._clock, tls=context, server_name=host)
            else:  # through the proxy: CONNECT, then TLS to the API inside the tunnel
                proxy_host, proxy_port, proxy_headers = self._tunnel
                conn = _Connection(
                    proxy_host, proxy_port, self._clock, tls=context, server_name=host
                )
                conn.set_tunnel(host, port, headers=proxy_headers)
        self.connections += 1
        return conn, False

    def _proxy_route(self) -> tuple[str, int, dict[str, str]] | None:
        """(host, port, headers) of the proxy for HTTPS requests, or None for none."""
        scheme, host, _ = self._origin
        proxy = self.proxy
        if proxy is None:  # from the environment, as urllib does; never for this machine
            if scheme != "https" or _is_loopback(host) or urllib.request.proxy_bypass(host):
                return None
            proxy = urllib.request.getproxies().get("https")
        if not proxy or scheme != "https":
            return None
        parts = urllib.parse.urlsplit(proxy if "://" in proxy else f"http://{proxy}")
        try:
            port = parts.port or 8080
        except ValueError:
            port = None
        if not parts.hostname or port is None:
            self._problem = f"the proxy {_shown(proxy)} is not host:port"
            return None
        headers = {}
        if parts.username:
            user = urllib.parse.unquote(parts.username)
            password = urllib.parse.unquote(parts.password or "")
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            headers["Proxy-Authorization"] = f"Basic {token}"
        return parts.hostname, port, headers


class _Clock:
    """The deadline of the attempt under way; `left()` is how long the next wait may be."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.deadline = math.inf

    def left(self) -> float:
        """Seconds the next connect, handshake step or read may wait: the time left (at most
        the timeout of any one wait); TimeoutError when the deadline has passed."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the deadline has passed")
        return min(self.timeout, remaining)


class _Connection(http.client.HTTPConnection):
    """HTTP, or HTTPS with `tls`, in which every wait keeps the clock's deadline: the
    connect, each step of the TLS handshake, and each read of the answer (so a server that
    trickles its headers or body a byte at a time cannot hold a request past it)."""

    def __init__(
        self,
        host: str,
        port: int,
        clock: _Clock,
        *,
        tls: ssl.SSLContext | None = None,
        server_name: str | None = None,
    ) -> None:
        super().__init__(host, port, timeout=clock.left())
        self.clock = clock
        self.tls = tls
        self.server_name = server_name
        if tls is not None:
            self.default_port = 443  # the Host header leaves the default port out
        self.response_class = functools.partial(_Response, clock=clock)

    def connect(self) -> None:
        self.timeout = self.clock.left()
        super().connect()  # TCP, and the CONNECT through a proxy's tunnel
        if self.tls is not None:
            sock = self.tls.wrap_socket(
                self.sock, server_hostname=self.server_name, do_handshake_on_connect=False
            )
            self.sock = sock
            _handshake(sock, self.clock)


def _handshake(sock: ssl.SSLSocket, clock: _Clock) -> None:
    """The TLS handshake, a step at a time, within the clock's deadline."""
    sock.settimeout(0)
    while True:
        try:
            sock.do_handshake()
            break
        except ssl.SSLWantReadError:
            ready = select.select([sock], [], [], clock.left())[0]
        except ssl.SSLWantWriteError:
            ready = select.select([], [sock], [], clock.left())[1]
        if not ready:
            raise TimeoutError("the TLS handshake timed out")
    sock.settimeout(clock.left())


class _Response(http.client.HTTPResponse):
    """An answer read through _TimedReads: no read waits past the clock's deadline."""

    def __init__(self, sock: socket.socket, *args, clock: _Clock, **kwargs) -> None:
        super().__init__(_TimedSocket(sock, clock), *args, **kwargs)


class _TimedSocket:
    """What HTTPResponse reads its socket through (it only asks for makefile)."""

    def __init__(self, sock: socket.socket, clock: _Clock) -> None:
        self._sock = sock
        self._clock = clock

    def makefile(self, mode: str) -> io.BufferedReader:
        return io.BufferedReader(_TimedReads(self._sock, self._clock))


class _TimedReads(io.RawIOBase):
    """The socket's reads, each waiting at most the time left before the deadline."""

    def __init__(self, sock: socket.socket, clock: _Clock) -> None:
        self._sock = sock
        self._raw = sock.makefile("rb", buffering=0)  # counted: the socket stays open for it
        self._clock = clock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int | None:
        self._sock.settimeout(self._clock.left())
        return self._raw.readinto(buffer)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


def _body(response: http.client.HTTPResponse, limit: int, path: str) -> bytes:
    """The whole body, at most `limit` bytes: Malformed past it for a success (the connection
    is closed unread for an error's body); IncompleteRead when the connection ends early."""
    strict = 200 <= response.status < 300
    too_large = f"the answer is larger than {limit:,} bytes"
    if strict and response.length is not None and response.length > limit:
        raise Malformed(path, too_large)
    chunks, size = [], 0
    while chunk := response.read(min(65536, limit + 1 - size)):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            if strict:
                raise Malformed(path, too_large)
            break  # an error's text: enough read; the connection is not kept
    body = b"".join(chunks)
    if response.length:  # the server promised more than it sent
        raise http.client.IncompleteRead(body, response.length)
    return body


def _dropped(sock: socket.socket | None) -> bool:
    """Whether an idle kept-alive connection has been closed (or sent something unasked)."""
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _json_object(path: str, body: bytes) -> dict:
    """The JSON object an answer holds; Malformed (saying what it is instead) otherwise."""
    try:
        document = json.loads(body)
    except json.JSONDecodeError as err:
        raise Malformed(path, f"the answer is not JSON ({err.msg}: byte {err.pos})") from None
    except UnicodeDecodeError:
        raise Malformed(path, "the answer is not JSON (not UTF-8)") from None
    except RecursionError:
        raise Malformed(path, "the answer is JSON nested too deeply to read") from None
    except ValueError as err:  # e.g. an integer of more than 4,300 digits
        raise Malformed(path, f"the answer is not JSON that can be read ({err})") from None
    if not isinstance(document, dict):
        raise Malformed(path, f"the answer is {_json_kind(document)}, not a JSON object")
    return document


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "a JSON list"
    if isinstance(value, str):
        return "a JSON string"
    if isinstance(value, bool) or value is None:
        return f"JSON {json.dumps(value)}"
    return "a JSON number"


def _origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a URL, host lower-case; ValueError for a bad port."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or {"https": 443, "http": 80}.get(scheme, 0)
    return scheme, (parts.hostname or "").lower(), port


def _safe_origin(url: str) -> tuple[str, str, int] | None:
    try:
        return _origin(url)
    except ValueError:
        return None


def _host_text(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _base_problem(base_url: str, key: str) -> str | None:
    """Why the base URL or key cannot be used, or None: the key goes only over HTTPS, or
    plain HTTP to this machine, and only in a header it can travel in unchanged."""
    where = _shown(base_url)
    try:
        scheme, host, _ = _origin(base_url)
    except ValueError:
        return f"the base URL {where} has a bad port"
    parts = urllib.parse.urlsplit(base_url)
    if not _is_link(base_url) or scheme not in ("http", "https") or not host:
        return f"the base URL {where} is not an http(s) URL"
    if parts.username or parts.password or parts.query or parts.fragment:
        return f"the base URL {where} must not carry a user, query or fragment"
    if scheme == "http" and not _is_loopback(host):
        return f"the base URL {where} is not https://: the key is sent only over HTTPS"
    if not key or not key.isascii() or not key.isprintable() or " " in key:
        return f"the key in ${API_KEY_ENV} has characters a header cannot carry"
    return None


def _is_link(link: object) -> bool:
    """A string that can go into a request line as it is: ASCII, no spaces or controls."""
    return (
        isinstance(link, str)
        and 0 < len(link) <= MAX_LINK
        and link.isascii()
        and all(" " < c < "\x7f" for c in link)
    )


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date (one
    without a time zone is read as GMT, as HTTP dates are); None when it is neither."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return None if math.isnan(seconds) else max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


def _describe(err: BaseException) -> str:
    text = str(err).strip()
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _one_line(text: str) -> str:
    """Text with line breaks, controls and invisible format characters (bidi overrides)
    escaped, so that what a server sends never breaks or disguises a line."""
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )


def _shown(value: object, most: int = 100) -> str:
    """A value from an answer as JSON on one line, cut to `most` characters."""
    try:
        text = json.dumps(value, ensure_ascii=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= most else text[: most - 1] + "…"


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
    max_pages: int = MAX_PAGES,
    quiet: bool = False,
) -> SyncResult:
    """Sync the database with the API (see module doc); ApiError when it has to stop.

    With `location_ids`, fetch just those locations: no paging, and no sync state is kept.
    `max_pages`: listing pages read at most in this run (ApiError past it).
    """
    client.check()  # before anything is written: a key never goes where it should not
    syncer = _Syncer(client, db, reports=reports, batch=batch, quiet=quiet)
    try:
        if location_ids:
            return syncer.fetch(list(location_ids))
        return syncer.run(full=full, per_page=per_page, max_pages=max_pages)
    finally:
        client.close()


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

    def run(self, *, full: bool, per_page: int, max_pages: int) -> SyncResult:
        state, resumed = self._start(full, per_page)
        self.result = SyncResult(state["mode"], resumed=resumed)
        read = {self._page_key(state["page"])}  # pages read in this run: a cycle is an error
        try:
            while True:
                url = self.client.url(state["page"])
                page = self.client.get_json(state["page"])
                ids, items, rejected = _listing(page, state["mode"], state["page"], url)
                total = page.get("total")
                if self.bar.total is None and isinstance(total, int) and total <= 10**9:
                    number, size = page.get("page") or 1, page.get("perPage") or 0
                    self.bar.reset(total=total)
                    self.bar.update(max(0, (number - 1) * size) + len(state["done"]))
                if rejected:
                    self._write(rejected, {})
                done = set(state["done"])
                self.locations([i for i in ids if i not in done], state)
                next_page = page.get("nextPageUri")
                if not next_page or not items:
                    break
                key = self._page_key(next_page)  # Malformed for a link that is not the API's
                if key in read:
                    raise ApiError(
                        f"the listing goes round in a circle: {state['page']} links back to"
                        f" {next_page}, read already; stopped after {len(read)} pages"
                    )
                if len(read) >= max_pages:
                    raise ApiError(f"the listing has more than {max_pages:,} pages; stopped")
                read.add(key)
                state = {**state, "page": next_page, "done": []}
                self._write([], {STATE_KEY: json.dumps(state)})
            self._write([], {LAST_SYNC_KEY: state["until"], STATE_KEY: None})
            self.result.synced_to = state["until"]
        finally:
            self.bar.close()
        return self.result

    def _page_key(self, link: str) -> str:
        """A listing page's URL with its parameters in order: the same page, however linked."""
        parts = urllib.parse.urlsplit(self.client.url(link))
        query = sorted(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        return f"{parts.path}?{urllib.parse.urlencode(query)}"

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
        """Fetch and load locations in batches, recording each batch in the sync state.

        When the API stops answering part-way through a batch, what was fetched of it is
        loaded before the error goes on (its locations are not marked done: a resumed sync
        fetches them again, and they load as unchanged).
        """
        for start in range(0, len(ids), self.batch):
            chunk = ids[start : start + self.batch]
            files: list[ReadFile | FileResult] = []
            try:
                for loc in chunk:
                    files.extend(self._location(loc))
                files.extend(self._providers(files))
            except ApiError:
                if files:
                    self._write(files, {})
                raise
            meta = {}
            if state is not None:
                state["done"] = state["done"] + chunk
                meta[STATE_KEY] = json.dumps(state)
            self._write(files, meta)
            self.result.locations += len(chunk)
            self.bar.update(len(chunk))

    def _location(self, loc: str) -> list[ReadFile | FileResult]:
        """The location's record and its reports' text, read; a rejection for an answer that
        is not the record asked for; nothing when the location is gone."""
        path = f"/locations/{urllib.parse.quote(loc, safe='')}"
        url = self.client.url(path)
        try:
            body = self.client.get(path)
            doc = _json_object(path, body)
        except NotFound:
            self.result.missing += 1
            return []
        except Malformed as err:
            return [FileResult(url, message=f"not a location record: {err.reason}")]
        if doc.get("locationId") != loc:
            shown = _shown(doc.get("locationId"))
            return [FileResult(url, message=f"not the record of {loc}: its locationId is {shown}")]
        read = read_file(url, body)
        if not self.reports or not isinstance(read, ReadFile):
            return [read]
        reports = list(self._reports(doc, read.records, url))
        # The API's ratings-only record of a report is that report's assessment, which its
        # text gives with scores: keep one, or the ratings would show twice.
        covered = {date for date, f in reports if not isinstance(f, FileResult)}
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

    def _reports(
        self, doc: dict, records: list[Record], where: str
    ) -> Iterator[tuple[str, ReadFile | FileResult | None]]:
        """(report date, file) of the location's SAF-era reports that have scores.

        Report text gets the location's CQC ids. Reports dated before the SAF hold no scores
        and are not fetched; a report whose assessment the API record already scores is
        dropped (the structured record wins), and so is one without scores or not in CQC's
        report format (the API's ratings cover it). A report loaded before is not fetched
        again (file None). A report entry without a usable link, or an answer that cannot be
        read, is a rejection (FileResult) named after the location and the entry.
        """
        scored = {
            r["assessment_date"]
            for r in records
            if any(kq["statements"] for kq in r.get("key_questions", []))
        }
        entries = doc.get("reports") or []
        if not isinstance(entries, list):
            yield "", FileResult(f"{where} reports", message="'reports' is not a list")
            return
        seen = set()
        for number, report in enumerate(entries):
            name = f"{where} reports[{number}]"
            if not isinstance(report, dict):
                yield "", FileResult(name, message=f"not a report entry: {_shown(report)}")
                continue
            date = str(report.get("reportDate") or "")[:10]
            if date < ref.SAF_START.isoformat():
                continue
            link, problem = _report_link(report)
            if problem:
                yield "", FileResult(name, message=problem)
                continue
            if not link or link in seen:
                continue
            seen.add(link)
            try:
                url = self.client.url(link)
            except Malformed as err:
                yield "", FileResult(name, message=f"reportUri {_shown(link)}: {err.reason}")
                continue
            if url in self.known_reports:
                self.result.reports += 1
                yield date, None
                continue
            try:
                body = self.client.get(link, accept="text/plain")
            except NotFound:
                continue
            except Malformed as err:
                yield "", FileResult(url, "report-text", message=err.reason)
                continue
            try:
                text, warnings = report_text.decode(body, url)
            except RejectedFile as err:  # empty, binary, undecodable: not text at all
                yield "", FileResult(url, "report-text", message=str(err))
                continue
            try:
                record = report_text.parse_report(text, url, warnings)
            except RejectedFile:
                continue  # text, but no SAF report with scores (e.g. an older report)
            except Exception as err:  # a value the parser did not anticipate
                message = f"cannot be read: {type(err).__name__}: {err}"
                yield "", FileResult(url, "report-text", message=message)
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
                if isinstance(r.get("provider_cqc_id"), str)
                and 0 < len(r["provider_cqc_id"]) <= MAX_ID
                and not r.get("provider_name")
            }
            - named
            - self.named_providers
            - self.providers_asked
        )
        self.providers_asked |= wanted
        out = []
        for provider in sorted(wanted):
            path = f"/providers/{urllib.parse.quote(provider, safe='')}"
            url = self.client.url(path)
            try:
                body = self.client.get(path)
                doc = _json_object(path, body)
            except NotFound:
                continue
            except Malformed as err:
                out.append(FileResult(url, message=f"not a provider record: {err.reason}"))
                continue
            if doc.get("providerId") != provider:
                shown = _shown(doc.get("providerId"))
                message = f"not the record of {provider}: its providerId is {shown}"
                out.append(FileResult(url, message=message))
                continue
            out.append(read_file(url, body))
        return out

    def _write(self, files: list, meta: dict[str, str | None]) -> None:
        with Writer(self.db, hold_seconds=0) as writer:  # the network is slower than the app
            results = writer.store(files, meta)
        for file, result in zip(files, results, strict=True):
            self.result.actions[result.action] += 1
            self.result.warnings += len(result.warnings)
            if result.action == "rejected":
                line = _one_line(result.line)
                self.result.rejections.append(line)
                tqdm.write(line, file=sys.stderr)
            elif isinstance(file, ReadFile):
                if file.format == "report-text":
                    self.known_reports.add(file.file)
                self.named_providers |= {
                    r["provider_cqc_id"]
                    for r in file.records
                    if r.get("provider_cqc_id") and r.get("provider_name")
                }


def _report_link(report: dict) -> tuple[str | None, str | None]:
    """(link, None) of a report entry ((None, None) without one), or (None, why not)."""
    uri, link_id = report.get("reportUri"), report.get("linkId")
    if uri is not None and uri != "":
        if not isinstance(uri, str):
            return None, f"reportUri is not a link: {_shown(uri)}"
        return uri, None
    if link_id is None or link_id == "":
        return None, None
    if not isinstance(link_id, str) or len(link_id) > MAX_ID:
        return None, f"linkId is not a report id: {_shown(link_id)}"
    return f"/reports/{urllib.parse.quote(link_id, safe='')}", None


def _listing(
    page: dict, mode: str, path: str, url: str
) -> tuple[list[str], list, list[FileResult]]:
    """(location ids, items, rejections) of the listing page at `path` (`url` in full);
    Malformed when it is no listing.

    The page must hold its list (`locations` for a full sync, `changes` for changes), and
    `page`, `perPage`, `total` and `totalPages` where given are whole numbers and
    `nextPageUri` a string or null: a page that breaks this stops the sync. An item that is
    not a location id is a rejection of its own (the others are read).
    """
    for name in ("page", "perPage", "total", "totalPages"):
        value = page.get(name)
        if value is not None and (type(value) is not int or value < 0):
            raise Malformed(path, f"'{name}' is not a whole number: {_shown(value)}")
    next_page = page.get("nextPageUri")
    if next_page is not None and not isinstance(next_page, str):
        raise Malformed(path, f"'nextPageUri' is not a link: {_shown(next_page)}")
    key = "locations" if mode == "full" else "changes"
    if key not in page:
        raise Malformed(path, f"not a listing page: it has no '{key}'")
    items = page[key] if page[key] is not None else []
    if not isinstance(items, list):
        raise Malformed(path, f"'{key}' is not a list: {_shown(items)}")
    ids, rejected = [], []
    for number, item in enumerate(items):
        if key == "locations":  # summaries, each naming its location
            loc = item.get("locationId") if isinstance(item, dict) else None
        else:  # ids
            loc = item
        if isinstance(loc, str) and 0 < len(loc) <= MAX_ID:
            ids.append(loc)
        else:
            message = f"not a location id: {_shown(item)}"
            rejected.append(FileResult(f"{url} {key}[{number}]", message=message))
    return ids, items, rejected
