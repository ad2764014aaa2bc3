"""The live sync client against a real HTTP server on 127.0.0.1 that serves the fixtures.

The server pages, checks the key, and on request answers 429 (with Retry-After), 500, drops
a connection mid-response, stops answering altogether, or answers as a function given it
decides (tests/ingest/test_api_hostile.py). It speaks HTTP/1.0 (a connection per request)
or, with keep_alive, HTTP/1.1, and can make each new connection cost time. No test reaches
another address.
"""

from __future__ import annotations

import json
import random
import socket
import ssl
import threading
import time
import urllib.parse
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ingest import api_client, database
from ingest.__main__ import main
from tests.conftest import FIXTURES, REPORTS

API = FIXTURES / "api"
KEY = "test-key"
LEGACY_REPORT = (
    b"Overall rating for this service Good Is the service safe? Good Is the service effective?"
    b" Good Is the service caring? Good Is the service responsive? Good Is the service"
    b" well-led? Requires Improvement Ratings"
)
DATA_TABLES = {
    "providers": "*",
    "locations": "*",
    "assessments": "* EXCLUDE (loaded_at)",
    "key_question_results": "*",
    "statement_scores": "*",
    "location_aliases": "* EXCLUDE (linked_at)",
}


class FakeApi:
    """The CQC API's paths over fixture files, with faults to order."""

    def __init__(
        self,
        *,
        keep_alive: bool = False,
        connect_delay: float = 0.0,
        idle_timeout: float | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.locations = {
            json.loads(p.read_bytes())["locationId"]: p.read_bytes()
            for p in (API / "birchwood-two-service-groups.json",
                      API / "harbour-lights-legacy-only.json", API / "rowan-court.json")
        }  # fmt: skip
        self.providers = {"1-2000000101": (API / "birchwood-provider.json").read_bytes()}
        self.reports = {
            "rowan-2025": (REPORTS / "rowan-court-three-key-questions.txt").read_bytes(),
            "birchwood-2025": LEGACY_REPORT,
        }
        self.changes: list[str] = []
        # path -> faults, in turn: a name below, None (answer as usual), or a function of the
        # handler, the path and the query that answers instead.
        self.faults: dict[str, list] = defaultdict(list)
        self.down_after: int | None = None  # requests answered before it stops answering
        self.log: list[tuple[str, dict[str, str]]] = []
        self.lock = threading.Lock()
        self.connections = 0  # connections accepted
        self.connect_delay = connect_delay  # seconds each new connection costs
        handler = type(
            "Handler",
            (_Handler,),
            {"protocol_version": "HTTP/1.1" if keep_alive else "HTTP/1.0", "timeout": idle_timeout},
        )
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.scheme = "http"
        if tls is not None:  # the handshake happens on accept, in the serving thread
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
            self.scheme = "https"
        self.server.api = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}/public/v1"

    def paths(self) -> list[str]:
        return [urllib.parse.urlsplit(p).path.removeprefix("/public/v1") for p, _ in self.log]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # quiet
        pass

    def setup(self) -> None:
        api: FakeApi = self.server.api  # type: ignore[attr-defined]
        with api.lock:
            api.connections += 1
        time.sleep(api.connect_delay)  # the handshakes' round trips, as the client sees them
        super().setup()
        # Headers and body leave in two writes: without this, Nagle's algorithm holds the
        # second for the client's delayed ACK (40 ms) on a kept-alive connection.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:
        api: FakeApi = self.server.api  # type: ignore[attr-defined]
        parts = urllib.parse.urlsplit(self.path)
        path = parts.path.removeprefix("/public/v1")
        query = {k: v[0] for k, v in urllib.parse.parse_qs(parts.query).items()}
        with api.lock:
            api.log.append((self.path, dict(self.headers)))
            answered = len(api.log)
            fault = api.faults[path].pop(0) if api.faults.get(path) else None
        if api.down_after is not None and answered > api.down_after:
            self.connection.shutdown(socket.SHUT_RDWR)  # no response at all
            self.close_connection = True
            return
        if self.headers.get(api_client.KEY_HEADER) != KEY:
            return self._send(401, b'{"message": "Access denied due to invalid subscription key"}')
        if callable(fault):
            return fault(self, path, query)
        if fault == "429":
            return self._send(429, b'{"message": "Rate limit is exceeded"}', {"Retry-After": "7"})
        if fault == "500":
            return self._send(500, b"Internal Server Error")
        status, body, kind = self._route(api, path, query)
        if fault == "drop":  # promise the whole body, send half, hang up
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        self._send(status, body, {"Content-Type": kind})

    def _route(self, api: FakeApi, path: str, query: dict) -> tuple[int, bytes, str]:
        kind = "application/json"
        if path == "/locations":
            return 200, _page("/locations", sorted(api.locations), query, "locations"), kind
        if path == "/changes/location":
            return 200, _page("/changes/location", api.changes, query, "changes"), kind
        section, _, item = path.strip("/").partition("/")
        found = {"locations": api.locations, "providers": api.providers, "reports": api.reports}
        body = found.get(section, {}).get(item)
        if body is None:
            return 404, b'{"message": "Not found"}', kind
        if section == "reports":
            assert self.headers.get("Accept") == "text/plain"
            kind = "text/plain; charset=utf-8"
        return 200, body, kind

    def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _page(uri: str, ids: list[str], query: dict, key: str) -> bytes:
    page, per_page = int(query.get("page", 1)), int(query.get("perPage", 10))
    chunk = ids[(page - 1) * per_page : page * per_page]
    more = page * per_page < len(ids)
    extra = {k: v for k, v in query.items() if k not in ("page", "perPage")}

    def link(number: int) -> str:
        return f"{uri}?" + urllib.parse.urlencode({"page": number, "perPage": per_page, **extra})

    items = chunk if key == "changes" else [{"locationId": i, "locationName": "x"} for i in chunk]
    return json.dumps({
        "total": len(ids), "page": page, "perPage": per_page,
        "totalPages": max(1, -(-len(ids) // per_page)),
        "nextPageUri": link(page + 1) if more else None, "previousPageUri": None,
        key: items, "uri": uri,
    }).encode()  # fmt: skip


@pytest.fixture
def api():
    server = FakeApi()
    yield server
    server.close()


def client(api: FakeApi, waits: list[float], **options) -> api_client.Client:
    # No jitter: these tests check the backoff schedule itself (jitter has its own tests).
    options = {"rate": 0, "retries": 3, "backoff": 0.001, "jitter": 0, "timeout": 10, **options}
    return api_client.Client(KEY, base_url=api.url, sleep=waits.append, **options)


def snapshot(db: Path) -> dict[str, set[str]]:
    con = database.connect(db, read_only=False)
    try:
        return {
            t: {repr(r) for r in con.sql(f"SELECT {cols} FROM {t}").fetchall()}
            for t, cols in DATA_TABLES.items()
        }
    finally:
        con.close()


def test_full_sync_pages_retries_and_loads_every_source(api, db_path):
    api.faults["/locations/1-1000000202"] = ["429"]
    api.faults["/providers/1-2000000101"] = ["500"]
    api.faults["/reports/rowan-2025"] = ["drop"]
    waits: list[float] = []
    result = api_client.sync(client(api, waits), db_path, per_page=2, quiet=True)

    assert (result.mode, result.locations, result.reports) == ("full", 3, 1)
    assert result.actions["rejected"] == 0
    paths = api.paths()
    # Two listing pages, following nextPageUri; the retried requests appear twice.
    assert [p for p in paths if p == "/locations"] == ["/locations"] * 2
    assert paths.count("/locations/1-1000000202") == 2
    assert paths.count("/providers/1-2000000101") == 2
    assert paths.count("/reports/rowan-2025") == 2
    # Reports from before the SAF are never fetched; a legacy one is fetched and skipped.
    assert not {"/reports/rowan-2022", "/reports/birchwood-2019", "/reports/harbour-2022"} & set(
        paths
    )
    assert "/reports/birchwood-2025" in paths
    # The 429's Retry-After is honoured; the 500 and the dropped connection back off.
    assert waits == [7.0, 0.001, 0.001]
    assert all(headers[api_client.KEY_HEADER] == KEY for _, headers in api.log)

    con = database.connect(db_path, read_only=False)
    try:
        by_source = con.sql(
            "SELECT source, location_id, count(*) FROM assessments GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        providers = con.sql(
            "SELECT provider_id, provider_name FROM providers ORDER BY 1"
        ).fetchall()
        assert database.get_meta(con, api_client.LAST_SYNC_KEY) == result.synced_to
        assert database.get_meta(con, api_client.STATE_KEY) is None
        scored = con.sql("SELECT DISTINCT location_id, source FROM scores ORDER BY 1").fetchall()
    finally:
        con.close()
    # Rowan Court: the report text (with scores, under the CQC id) stands for the API's
    # ratings-only record of the same report (2025-05-20); its 2022 ratings stay.
    assert by_source == [
        ("api-json", "1-1000000101", 3),
        ("api-json", "1-1000000202", 1),
        ("api-json", "1-1000000404", 1),
        ("report-text", "1-1000000404", 1),
    ]
    assert scored == [("1-1000000101", "api-json"), ("1-1000000404", "report-text")]
    assert providers == [
        ("1-2000000101", "Birchwood Care Group Ltd"),
        ("1-2000000404", "Meadowfield Care Partnership Ltd"),
    ]

    # Run again with nothing changed: only the changes listing is asked for.
    before = snapshot(db_path)
    api.log.clear()
    again = api_client.sync(client(api, waits), db_path, per_page=2, quiet=True)
    assert again.mode.startswith("changes since ")
    assert api.paths() == ["/changes/location"]
    assert snapshot(db_path) == before


def test_incremental_sync_fetches_changes_since_the_last_sync(api, db_path):
    first = api_client.sync(client(api, []), db_path, per_page=2, quiet=True)
    harbour = json.loads(api.locations["1-1000000202"])
    harbour["currentRatings"]["overall"]["keyQuestionRatings"][0]["rating"] = "Good"
    api.locations["1-1000000202"] = json.dumps(harbour).encode()
    api.changes = ["1-1000000202"]
    api.log.clear()

    result = api_client.sync(client(api, []), db_path, per_page=2, quiet=True)

    assert result.mode == f"changes since {first.synced_to}"
    listing = api.log[0][0]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(listing).query)
    assert query["startTimestamp"] == [first.synced_to]
    assert query["endTimestamp"] == [result.synced_to]
    assert [p for p in api.paths() if p.startswith("/locations")] == ["/locations/1-1000000202"]
    assert result.actions["replaced"] == 1
    con = database.connect(db_path, read_only=False)
    try:
        assert con.sql(
            "SELECT key_question_rating FROM key_questions WHERE location_id = '1-1000000202'"
            " AND key_question = 'Safe'"
        ).fetchall() == [("Good",)]
    finally:
        con.close()


def test_interrupted_sync_resumes_without_duplicates(api, tmp_path):
    whole, broken = tmp_path / "whole.duckdb", tmp_path / "broken.duckdb"
    api_client.sync(client(api, []), whole, per_page=2, batch=1, quiet=True)
    requests_whole = len(api.log)

    api.log.clear()
    api.down_after = 5  # page 1, Birchwood, its report, its provider, page... then silence
    with pytest.raises(api_client.ApiError, match=r"gave up on \S+ after 4 attempts"):
        api_client.sync(client(api, []), broken, per_page=2, batch=1, quiet=True)
    con = database.connect(broken, read_only=False)
    try:
        state = json.loads(database.get_meta(con, api_client.STATE_KEY))
        assert state["done"] == ["1-1000000101"]
        assert database.get_meta(con, api_client.LAST_SYNC_KEY) is None
    finally:
        con.close()

    api.down_after = None
    api.log.clear()
    result = api_client.sync(client(api, []), broken, per_page=2, batch=1, quiet=True)
    assert result.resumed and result.mode == "full"
    assert "/locations/1-1000000101" not in api.paths()  # done before the interruption
    assert len(api.log) < requests_whole
    assert snapshot(broken) == snapshot(whole)


def test_retries_are_bounded_with_doubling_backoff(api, db_path):
    api.faults["/locations/1-1000000101"] = ["500"] * 10
    waits: list[float] = []
    with pytest.raises(api_client.ApiError) as err:
        api_client.sync(
            client(api, waits, retries=3), db_path, location_ids=["1-1000000101"], quiet=True
        )
    assert str(err.value) == "gave up on /locations/1-1000000101 after 4 attempts: HTTP 500"
    assert waits == [0.001, 0.002, 0.004]
    assert len(api.log) == 4


def test_a_refused_key_stops_at_once(api, db_path):
    bad = api_client.Client("wrong", base_url=api.url, rate=0, sleep=lambda s: None)
    with pytest.raises(api_client.ApiError, match=r"refused the key \(HTTP 401\); check \$CQC"):
        api_client.sync(bad, db_path, quiet=True)
    assert len(api.log) == 1


def test_requests_are_paced_to_the_rate_cap(api):
    paced = api_client.Client(KEY, base_url=api.url, rate=20)
    start = time.monotonic()
    for _ in range(6):
        paced.get("/providers/1-2000000101")
    assert time.monotonic() - start >= 5 / 20  # six requests, five gaps of 1/20 s


def test_command_line_sync(api, db_path, monkeypatch, capsys):
    options = ["--db", str(db_path), "--base-url", api.url, "--quiet", "--rate", "0",
               "--backoff", "0.001", "--retries", "1", "--per-page", "2"]  # fmt: skip
    monkeypatch.delenv(api_client.API_KEY_ENV, raising=False)
    assert main(["api", *options]) == 2
    assert "set CQC_API_KEY" in capsys.readouterr().err
    assert api.log == []

    monkeypatch.setenv(api_client.API_KEY_ENV, KEY)
    api.down_after = 2  # the first page and Birchwood's record, then silence
    assert main(["api", *options]) == 3
    err = capsys.readouterr().err
    assert "sync stopped: gave up on /reports/birchwood-2025 after 2 attempts: Remote" in err
    assert "run the same command again to resume" in err

    api.down_after = None
    assert main(["api", *options]) == 0
    out = capsys.readouterr().out
    assert out.startswith("sync (full, resumed): 3 locations, 1 reports with scores;")
    assert "complete to " in out


def test_report_text_of_an_assessment_the_api_scores_is_not_loaded_twice(api, db_path):
    text = (REPORTS / "rowan-court-three-key-questions.txt").read_bytes()
    # Birchwood's API record scores its assessment of 10 February 2025 (Care Homes).
    api.reports["birchwood-2025"] = text.replace(
        b"Report from 3 March 2025 assessment", b"Report from 10 February 2025 assessment"
    )
    result = api_client.sync(client(api, []), db_path, location_ids=["1-1000000101"], quiet=True)
    assert "/reports/birchwood-2025" in api.paths()
    assert result.reports == 0
    con = database.connect(db_path, read_only=False)
    try:
        assert con.sql("SELECT DISTINCT source FROM assessments").fetchall() == [("api-json",)]
        assert database.get_meta(con, api_client.LAST_SYNC_KEY) is None  # not a sync of all
    finally:
        con.close()


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("7", 7.0), ("0.5", 0.5), ("-3", 0.0), (None, None), ("soon", None),
     ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)],
)  # fmt: skip
def test_retry_after_in_seconds_or_as_a_date(header, seconds):
    assert api_client._retry_after(header) == seconds


def test_requests_share_one_kept_alive_connection(db_path):
    # Each new connection costs 60 ms (TCP and TLS handshakes to a distant API): one
    # connection for the whole sync, not one per request.
    api = FakeApi(keep_alive=True, connect_delay=0.06)
    try:
        sync_client = client(api, [])
        result = api_client.sync(sync_client, db_path, per_page=2, quiet=True)
        assert (result.locations, result.reports) == (3, 1)
        # 2 listing pages, 3 locations, 3 SAF-era reports (one loaded), 1 provider.
        assert len(api.log) == sync_client.requests == 9
        assert api.connections == sync_client.connections == 1
        assert all(headers.get("Connection") != "close" for _, headers in api.log)
    finally:
        api.close()


def test_a_connection_the_server_closed_while_idle_is_replaced_without_a_retry():
    api = FakeApi(keep_alive=True, idle_timeout=0.1)  # the server hangs up after 0.1 s idle
    try:
        waits: list[float] = []
        idle = client(api, waits)
        first = idle.get("/providers/1-2000000101")
        time.sleep(0.3)
        assert idle.get("/providers/1-2000000101") == first
        assert waits == []  # seen closed before the request went: no failure, no backoff
        assert (api.connections, idle.connections, len(api.log)) == (2, 2, 2)
    finally:
        api.close()


def test_a_request_the_kept_alive_connection_lost_goes_again_at_once():
    # The server takes the second request on a connection, then hangs up without answering,
    # as one does that closes an idle connection just as the request arrives.
    api = FakeApi(keep_alive=True)

    def hang_up(handler, path, query) -> None:
        handler.connection.shutdown(socket.SHUT_RDWR)
        handler.close_connection = True

    try:
        waits: list[float] = []
        kept = client(api, waits)
        kept.get("/providers/1-2000000101")
        api.faults["/providers/1-2000000101"] = [hang_up]
        assert kept.get("/providers/1-2000000101") == api.providers["1-2000000101"]
        assert waits == []  # not counted as a failed attempt: no backoff
        assert (len(api.log), api.connections) == (3, 2)
        # On a new connection the same failure is a failure: retried with backoff.
        api.faults["/providers/1-2000000101"] = [hang_up]
        kept.close()
        assert kept.get("/providers/1-2000000101") == api.providers["1-2000000101"]
        assert waits == [0.001]
    finally:
        api.close()


def test_backoff_has_bounded_jitter_repeatable_under_a_seed(api):
    api.faults["/providers/1-2000000101"] = ["500"] * 4
    waits: list[float] = []
    jittered = client(api, waits, retries=4, backoff=1.0, jitter=0.5, max_wait=3.0, seed=7)
    jittered.get("/providers/1-2000000101")
    # base wait = min(max_wait, backoff * 2**n): 1, 2, 3 (capped), 3; each is cut by
    # jitter * U, U uniform in [0, 1) from random.Random(seed), so lies in (base/2, base].
    draws = random.Random(7)
    bases = [1.0, 2.0, 3.0, 3.0]
    assert waits == [base * (1 - 0.5 * draws.random()) for base in bases]
    assert all(base / 2 < wait <= base for wait, base in zip(waits, bases, strict=True))
    assert len(set(waits)) == 4  # 3 and 3 jittered apart

    # The same seed, the same waits; another seed, others.
    again, other = [], []
    for seed, seen in ((7, again), (8, other)):
        api.faults["/providers/1-2000000101"] = ["500"] * 4
        options = {"retries": 4, "backoff": 1.0, "jitter": 0.5, "max_wait": 3.0, "seed": seed}
        client(api, seen, **options).get("/providers/1-2000000101")
    assert again == waits
    assert other != waits and all(b / 2 < w <= b for w, b in zip(other, bases, strict=True))


def test_the_command_line_client_jitters_its_backoff(api):
    # What the CLI builds: the defaults, jitter on (half the wait at most), no fixed seed.
    waits: list[float] = []
    api.faults["/providers/1-2000000101"] = ["500"] * 3
    default = api_client.Client(KEY, base_url=api.url, rate=0, retries=3, sleep=waits.append)
    assert (default.backoff, default.jitter, default.seed) == (1.0, 0.5, None)
    default.get("/providers/1-2000000101")
    assert len(waits) == 3
    assert all(b / 2 < w <= b for w, b in zip(waits, [1.0, 2.0, 4.0], strict=True))
    assert waits != [1.0, 2.0, 4.0]
