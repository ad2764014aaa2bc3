"""The API client against a hostile server, on 127.0.0.1 only (docs/DATA_SAFETY.md, "The API
client"): the key never leaves the configured origin, paging ends, every attempt has a total
deadline, and every malformed answer is one line and a documented exit code, with what was
fetched before it still loaded.

The servers are tests/ingest/test_api_client.py's FakeApi, told to answer badly; HTTPS uses a
certificate for 127.0.0.1 made here with the openssl command.
"""

from __future__ import annotations

import functools
import json
import select
import shutil
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest import api_client, database
from ingest.__main__ import main
from ingest.files import FileResult, ReadFile
from tests.conftest import REPORTS
from tests.ingest.test_api_client import KEY, FakeApi, client

BIRCHWOOD, HARBOUR, ROWAN = "1-1000000101", "1-1000000202", "1-1000000404"
ALL = {BIRCHWOOD, HARBOUR, ROWAN}
REPORT = (REPORTS / "rowan-court-three-key-questions.txt").read_bytes()


@pytest.fixture
def api():
    server = FakeApi()
    yield server
    server.close()


@pytest.fixture
def elsewhere():
    """Another origin (the same machine, another port) that must never see a request."""
    server = FakeApi()
    yield server
    server.close()


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory) -> bytes:
    """An empty database's bytes: made once, copied for each test (making one costs more
    than most of these tests)."""
    path = tmp_path_factory.mktemp("empty") / "empty.duckdb"
    database.connect(path, read_only=False).close()
    return path.read_bytes()


@pytest.fixture
def db_path(tmp_path, empty_db) -> Path:
    path = tmp_path / "test.duckdb"
    path.write_bytes(empty_db)
    return path


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server, client) TLS contexts for a self-signed certificate of 127.0.0.1."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("no openssl command to make a certificate for the HTTPS tests")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    return server, ssl.create_default_context(cafile=str(cert))


# Answers -------------------------------------------------------------------------------------
def send(status: int, body: bytes, headers: dict | None = None, reason: str | None = None):
    """An answer of this status, body and headers (and status line reason)."""

    def respond(handler, path, query) -> None:
        handler.send_response(status, reason)
        for name, value in {"Content-Type": "application/json", **(headers or {})}.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return respond


def edited(edit):
    """The usual answer with its JSON document replaced by edit(document)."""

    def respond(handler, path, query) -> None:
        status, body, kind = handler._route(handler.server.api, path, query)
        changed = json.dumps(edit(json.loads(body))).encode()
        send(status, changed, {"Content-Type": kind})(handler, path, query)

    return respond


def raw(body: bytes):
    """The usual answer's status with this body instead."""

    def respond(handler, path, query) -> None:
        status, _, kind = handler._route(handler.server.api, path, query)
        send(status, body, {"Content-Type": kind})(handler, path, query)

    return respond


def redirect(location: str, status: int = 302):
    return send(status, b"", {"Location": location})


def trickle(headers_too: bool = False, every: float = 0.02, most: float = 10.0):
    """An answer that never ends in time: a byte every `every` seconds (of the headers, or of
    a body whose Content-Length promises far more), until the client hangs up."""

    def respond(handler, path, query) -> None:
        out = handler.wfile
        end = time.monotonic() + most
        try:
            if headers_too:
                out.write(b"HTTP/1.0 200 OK\r\nX-Slow: ")
            else:
                out.write(b"HTTP/1.0 200 OK\r\nContent-Length: 100000\r\n\r\n")
            while time.monotonic() < end:
                out.write(b"a")
                out.flush()
                time.sleep(every)
        except OSError:  # the client cut it off
            pass
        handler.close_connection = True

    return respond


# Helpers -------------------------------------------------------------------------------------
def cli(api: FakeApi, db: Path, capsys, monkeypatch, *options: str) -> tuple[int, str, str]:
    """`python -m ingest api` against the server: (exit code, stdout, stderr)."""
    monkeypatch.setenv(api_client.API_KEY_ENV, KEY)
    code = main(["api", "--db", str(db), "--base-url", api.url, "--quiet", "--rate", "0",
                 "--backoff", "0.001", "--retries", "1", "--per-page", "2", *options])  # fmt: skip
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    for line in (out + err).splitlines():  # whatever the server sent, each line is one line
        assert line.isprintable(), line
    return code, out, err


def loaded(db: Path) -> set[str]:
    """Locations with an assessment in the database."""
    con = database.connect(db, read_only=False)
    try:
        return {r[0] for r in con.sql("SELECT DISTINCT location_id FROM assessments").fetchall()}
    finally:
        con.close()


def meta(db: Path, key: str) -> str | None:
    con = database.connect(db, read_only=False)
    try:
        return database.get_meta(con, key)
    finally:
        con.close()


def logged_rejections(db: Path) -> list[tuple[str, str]]:
    con = database.connect(db, read_only=False)
    try:
        return con.sql(
            "SELECT file, message FROM ingest_log WHERE action = 'rejected' ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()


def location_edit(api: FakeApi, loc: str, edit) -> None:
    doc = json.loads(api.locations[loc])
    edit(doc)
    api.locations[loc] = json.dumps(doc).encode()


def report_entry(doc: dict, link_id: str) -> dict:
    return next(r for r in doc["reports"] if r["linkId"] == link_id)


# The key goes only to the configured origin, over HTTPS -------------------------------------
@pytest.mark.parametrize(
    ("base_url", "why"),
    [("http://api.example.org/public/v1", "is not https://: the key is sent only over HTTPS"),
     ("http://10.1.2.3/public/v1", "is not https://"),
     ("ftp://127.0.0.1/public/v1", "is not an http(s) URL"),
     ("https://me:secret@api.example.org/public/v1", "must not carry a user"),
     ("https://api.example.org:99999/public/v1", "has a bad port"),
     ("https://api.example.org/public/v1?key=1", "must not carry a user, query or fragment")],
)  # fmt: skip
def test_a_base_url_that_would_expose_the_key_is_refused_before_any_request(
    base_url, why, tmp_path, capsys, monkeypatch
):
    db_path = tmp_path / "never.duckdb"
    with pytest.raises(api_client.ApiError, match=why.replace("(", r"\(").replace(")", r"\)")):
        api_client.Client(KEY, base_url=base_url).get("/locations")
    monkeypatch.setenv(api_client.API_KEY_ENV, KEY)
    assert main(["api", "--db", str(db_path), "--base-url", base_url, "--quiet"]) == 3
    first = capsys.readouterr().err.splitlines()[0]
    assert first.startswith(f"sync stopped: the base URL {json.dumps(base_url)} ")
    assert why in first
    assert not db_path.exists()  # refused before the database, let alone the network


def test_a_key_that_would_break_its_header_is_never_sent(api):
    for key in ("test-key\r\nX-Injected: 1", "tést-key", "test key", ""):
        with pytest.raises(api_client.ApiError, match="characters a header cannot carry"):
            api_client.Client(key, base_url=api.url, rate=0).get("/locations")
    assert api.log == []


def test_a_redirect_to_another_origin_is_refused_and_never_receives_the_key(
    api, elsewhere, db_path, capsys, monkeypatch
):
    # Refused, not followed without the key: the other origin gets no request at all.
    away = f"{elsewhere.url}/locations/{HARBOUR}"
    api.faults[f"/locations/{HARBOUR}"] = [redirect(away)]
    code, _, err = cli(api, db_path, capsys, monkeypatch)
    assert code == 3
    port = elsewhere.server.server_address[1]
    assert err.splitlines()[0] == (
        f"sync stopped: /locations/{HARBOUR}: refused a redirect to http://127.0.0.1:{port}:"
        f" the key is sent only to http://127.0.0.1:{api.server.server_address[1]}"
    )
    assert elsewhere.log == []
    assert api.paths().count(f"/locations/{HARBOUR}") == 1  # a refusal is not retried
    # What was fetched of the batch before the refusal is loaded; the sync is not complete,
    # and running it again (the server mended) finishes it.
    assert loaded(db_path) == {BIRCHWOOD}
    assert meta(db_path, api_client.LAST_SYNC_KEY) is None
    code, out, _ = cli(api, db_path, capsys, monkeypatch)
    assert code == 0 and out.startswith("sync (full, resumed): ")
    assert loaded(db_path) == ALL


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_on_the_same_origin_is_followed_with_the_key(api, status):
    target = f"/public/v1/providers/1-2000000101?moved={status}"
    api.faults["/providers/1-2000000101"] = [redirect(target, status)]
    body = client(api, []).get("/providers/1-2000000101")
    assert body == api.providers["1-2000000101"]
    assert [p for p, _ in api.log] == ["/public/v1/providers/1-2000000101", target]
    assert all(headers[api_client.KEY_HEADER] == KEY for _, headers in api.log)


def test_redirects_on_the_origin_are_followed_five_times_at_most(api):
    api.faults["/providers/1-2000000101"] = [redirect("/public/v1/providers/1-2000000101")] * 9
    with pytest.raises(api_client.ApiError, match=r"more than 5 redirects"):
        client(api, []).get("/providers/1-2000000101")
    assert len(api.log) == 6  # the request and five redirects


def test_an_https_api_never_follows_a_redirect_to_http(tls, elsewhere):
    server_tls, client_tls = tls
    api = FakeApi(tls=server_tls)
    try:
        secure = client(api, [], ssl_context=client_tls)
        assert secure.get("/providers/1-2000000101") == api.providers["1-2000000101"]
        port = api.server.server_address[1]
        # To plain HTTP on the same host and port, and to another port's plain HTTP server.
        for target in (f"http://127.0.0.1:{port}/public/v1/providers/1-2000000101",
                       f"{elsewhere.url}/providers/1-2000000101"):  # fmt: skip
            api.faults["/providers/1-2000000101"] = [redirect(target)]
            with pytest.raises(api_client.ApiError) as err:
                secure.get("/providers/1-2000000101")
            shown = target.split("/public")[0]
            assert str(err.value) == (
                f"/providers/1-2000000101: refused a redirect to {shown}:"
                f" the key is sent only to https://127.0.0.1:{port}"
            )
        assert elsewhere.log == []
        # An https redirect on the origin is followed.
        api.faults["/providers/1-2000000101"] = [redirect("/public/v1/providers/1-2000000101")]
        assert secure.get("/providers/1-2000000101") == api.providers["1-2000000101"]
        assert all(headers[api_client.KEY_HEADER] == KEY for _, headers in api.log)
    finally:
        api.close()


def test_https_is_verified(tls):
    server_tls, _ = tls
    api = FakeApi(tls=server_tls)
    try:  # the system's trust store does not know the test's certificate
        with pytest.raises(api_client.ApiError, match="CERTIFICATE_VERIFY_FAILED"):
            client(api, [], retries=0).get("/providers/1-2000000101")
        assert api.log == []
    finally:
        api.close()


def test_links_in_answers_that_lead_away_are_not_followed(
    api, elsewhere, db_path, empty_db, capsys, monkeypatch
):
    # A report on another origin: that report is a rejection; the rest of the sync goes on.
    away = f"{elsewhere.url}/reports/rowan-2025"
    location_edit(api, ROWAN, lambda doc: report_entry(doc, "rowan-2025").update(reportUri=away))
    code, _, err = cli(api, db_path, capsys, monkeypatch)
    assert code == 1
    origin = f"http://127.0.0.1:{api.server.server_address[1]}"
    line = (
        f"{api.url}/locations/{ROWAN} reports[1]: reportUri {json.dumps(away)}:"
        f" the link leads away from {origin}"
    )
    assert err.splitlines() == [line]
    assert logged_rejections(db_path) == [(f"{api.url}/locations/{ROWAN} reports[1]", line[
        len(f"{api.url}/locations/{ROWAN} reports[1]: ") :])]  # fmt: skip
    assert loaded(db_path) == ALL

    # A next page on another origin: the sync stops there, the first page loaded.
    db = db_path.with_name("next.duckdb")
    db.write_bytes(empty_db)
    next_away = f"{elsewhere.url}/locations?page=2&perPage=2"
    api.faults["/locations"] = [edited(lambda page: {**page, "nextPageUri": next_away})]
    code, _, err = cli(api, db, capsys, monkeypatch)
    assert code == 3
    assert err.splitlines()[0] == (
        f"sync stopped: {json.dumps(next_away)}: the link leads away from {origin}"
    )
    assert loaded(db) == {BIRCHWOOD, HARBOUR}
    assert elsewhere.log == []


def _connect_proxy(seen: list[bytes]) -> tuple[socket.socket, threading.Thread]:
    """A CONNECT proxy on 127.0.0.1 that relays bytes and keeps a copy of all it relays."""
    listener = socket.create_server(("127.0.0.1", 0))

    def relay(a: socket.socket, b: socket.socket) -> None:
        with a, b:
            while True:
                ready, _, _ = select.select([a, b], [], [], 5)
                if not ready:
                    return
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    seen.append(data)
                    (b if sock is a else a).sendall(data)

    def serve() -> None:
        with listener:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                head = b""
                while b"\r\n\r\n" not in head:
                    head += conn.recv(1)
                seen.append(head)
                host, port = head.split()[1].decode().rsplit(":", 1)
                upstream = socket.create_connection((host, int(port)))
                conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                threading.Thread(target=relay, args=(conn, upstream), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


def test_through_a_proxy_the_key_travels_only_inside_tls(tls):
    server_tls, client_tls = tls
    api = FakeApi(tls=server_tls, keep_alive=True)
    seen: list[bytes] = []
    listener, _ = _connect_proxy(seen)
    try:
        port = listener.getsockname()[1]
        proxied = client(api, [], ssl_context=client_tls, proxy=f"http://u:p@127.0.0.1:{port}")
        for _ in range(3):
            assert proxied.get("/providers/1-2000000101") == api.providers["1-2000000101"]
        assert proxied.connections == api.connections == 1  # one tunnel, kept alive
        api_port = api.server.server_address[1]
        assert seen[0].startswith(f"CONNECT 127.0.0.1:{api_port} HTTP/1.".encode())
        assert b"Proxy-Authorization: Basic dTpw\r\n" in seen[0]  # base64 of "u:p"
        assert all(headers[api_client.KEY_HEADER] == KEY for _, headers in api.log)
        assert len(api.log) == 3
        assert not any(KEY.encode() in data for data in seen)  # the proxy saw only TLS
    finally:
        listener.close()
        api.close()


# Paging ends ---------------------------------------------------------------------------------
def test_a_listing_that_links_back_to_a_page_already_read_stops(api, db_path, capsys, monkeypatch):
    # Page 2 links back to page 1, its parameters in another order: the same page.
    back = "/locations?perPage=2&page=1"
    api.faults["/locations"] = [None, edited(lambda page: {**page, "nextPageUri": back})]
    code, _, err = cli(api, db_path, capsys, monkeypatch)
    assert code == 3
    assert err.splitlines()[0] == (
        "sync stopped: the listing goes round in a circle: /locations?page=2&perPage=2"
        f" links back to {back}, read already; stopped after 2 pages"
    )
    assert api.paths().count("/locations") == 2
    assert loaded(db_path) == ALL  # both pages were read before the link back
    assert meta(db_path, api_client.LAST_SYNC_KEY) is None  # not complete


def test_a_listing_without_end_stops_at_the_page_limit(api, db_path):
    def endless(handler, path, query) -> None:  # each page names a page after it
        number = int(query["page"])
        page = {"page": number, "perPage": 1, "locations": [{"locationId": f"1-9{number}"}],
                "nextPageUri": f"/locations?page={number + 1}&perPage=1"}  # fmt: skip
        send(200, json.dumps(page).encode())(handler, path, query)

    api.faults["/locations"] = [endless] * 50
    with pytest.raises(api_client.ApiError, match=r"^the listing has more than 5 pages; stopped$"):
        api_client.sync(client(api, []), db_path, per_page=1, max_pages=5, quiet=True)
    assert api.paths().count("/locations") == 5
    assert [p for p in api.paths() if p != "/locations"] == [
        f"/locations/1-9{n}" for n in range(1, 6)
    ]
    assert api_client.MAX_PAGES == 10_000  # the default, as docs/DATA_SAFETY.md states


# Every attempt has a total deadline -----------------------------------------------------------
@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "headers"])
def test_an_answer_trickled_a_byte_at_a_time_is_cut_off_at_the_deadline(api, headers_too):
    api.faults["/providers/1-2000000101"] = [trickle(headers_too)] * 2
    waits: list[float] = []
    slow = client(api, waits, retries=1, timeout=5, deadline=0.4)
    start = time.monotonic()
    with pytest.raises(api_client.ApiError) as err:
        slow.get("/providers/1-2000000101")
    took = time.monotonic() - start
    assert str(err.value) == (
        "gave up on /providers/1-2000000101 after 2 attempts:"
        " no whole answer within the deadline of 0.4 s"
    )
    # Two attempts of 0.4 s, though a byte came every 0.02 s (well inside the 5 s timeout).
    assert 0.8 <= took < 0.8 + 1.0
    assert len(api.log) == 2 and len(waits) == 1


def test_a_tls_handshake_trickled_a_byte_at_a_time_is_cut_off_at_the_deadline(tls):
    # A server that starts a TLS record of 16 KiB and sends it a byte every 0.02 s.
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            try:
                conn.sendall(b"\x16\x03\x03\x40\x00")
                while not stop.wait(0.02):
                    conn.sendall(b"\x00")
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    slow = api_client.Client(
        KEY, base_url=f"https://127.0.0.1:{port}/public/v1", rate=0, retries=0, timeout=5,
        deadline=0.4, ssl_context=tls[1],
    )  # fmt: skip
    start = time.monotonic()
    try:
        with pytest.raises(api_client.ApiError, match="no whole answer within the deadline of"):
            slow.get("/providers/1-2000000101")
        assert time.monotonic() - start < 0.4 + 1.0
    finally:
        stop.set()
        listener.close()
        thread.join(5)


def test_a_sync_cut_off_at_the_deadline_keeps_what_it_fetched(api, db_path, capsys, monkeypatch):
    api.faults[f"/locations/{HARBOUR}"] = [trickle()] * 2
    monkeypatch.setattr(api_client, "Client", functools.partial(api_client.Client, deadline=0.4))
    code, _, err = cli(api, db_path, capsys, monkeypatch)
    assert code == 3
    assert err.splitlines()[0] == (
        f"sync stopped: gave up on /locations/{HARBOUR} after 2 attempts:"
        " no whole answer within the deadline of 0.4 s"
    )
    assert loaded(db_path) == {BIRCHWOOD}


# Every malformed answer is one line and a documented exit code --------------------------------
def _location_as(body: bytes):
    return lambda api: api.locations.__setitem__(HARBOUR, body)


def _rowan_report(**entry):
    return lambda api: location_edit(
        api, ROWAN, lambda doc: report_entry(doc, "rowan-2025").update(entry)
    )


def _page_two(respond):
    return lambda api: api.faults.__setitem__("/locations", [None, respond])


def _first_page(edit):
    return lambda api: api.faults.__setitem__("/locations", [edited(edit)])


def _answer(path: str, respond):
    return lambda api: api.faults.__setitem__(path, [respond])


HARBOUR_RECORD = Path(__file__).parent.parent / "fixtures/api/harbour-lights-legacy-only.json"
ROWAN_REPORT = f"{{api}}/locations/{ROWAN} reports[1]"
PAGE_TWO = "/locations?page=2&perPage=2"
NOT_JSON = "the answer is not JSON (Expecting value: byte 0)"

# An answer for one location, report or provider is that answer's rejection, in one line:
# (case, how the server misbehaves, the location whose answers are read, how the line starts,
# with {api} for the API's URL).
ITEM_ANSWERS = [
    ("location-as-report-text", _location_as(REPORT), HARBOUR,
     f"{{api}}/locations/{HARBOUR}: not a location record: {NOT_JSON}"),
    ("location-as-json-list", _location_as(b"[" + HARBOUR_RECORD.read_bytes() + b"]"), HARBOUR,
     f"{{api}}/locations/{HARBOUR}: not a location record: the answer is a JSON list, not a"
     " JSON object"),
    ("location-truncated", _location_as(HARBOUR_RECORD.read_bytes()[:300]), HARBOUR,
     f"{{api}}/locations/{HARBOUR}: not a location record: the answer is not JSON ("),
    ("location-as-a-string", _location_as(b'"1-1000000202"'), HARBOUR,
     f"{{api}}/locations/{HARBOUR}: not a location record: the answer is a JSON string, not a"
     " JSON object"),
    ("location-of-another", lambda api: api.locations.__setitem__(
        HARBOUR, api.locations[BIRCHWOOD]), HARBOUR,
     f'{{api}}/locations/{HARBOUR}: not the record of {HARBOUR}: its locationId is'
     f' "{BIRCHWOOD}"'),
    ("location-not-utf8", _location_as(b'{"locationId": "\xff"}'), HARBOUR,
     f"{{api}}/locations/{HARBOUR}: not a location record: the answer is not JSON (not UTF-8)"),
    ("location-nested-deeply", _location_as(b"[" * 50_000), HARBOUR,
     f"{{api}}/locations/{HARBOUR}: not a location record: the answer is JSON nested too"
     " deeply to read"),
    ("numeric-report-uri", _rowan_report(reportUri=2025), ROWAN,
     f"{ROWAN_REPORT}: reportUri is not a link: 2025"),
    ("report-uri-with-a-newline", _rowan_report(reportUri="/reports/a\nb"), ROWAN,
     f'{ROWAN_REPORT}: reportUri "/reports/a\\nb": not a link to an API path'),
    ("report-uri-with-a-bidi-override", _rowan_report(reportUri="/reports/\u202eevil"), ROWAN,
     f'{ROWAN_REPORT}: reportUri "/reports/\\u202eevil": not a link to an API path'),
    ("numeric-link-id", _rowan_report(reportUri=None, linkId=7), ROWAN,
     f"{ROWAN_REPORT}: linkId is not a report id: 7"),
    ("report-entry-a-string", lambda api: location_edit(
        api, ROWAN, lambda doc: doc["reports"].__setitem__(1, "rowan-2025")), ROWAN,
     f'{ROWAN_REPORT}: not a report entry: "rowan-2025"'),
    ("reports-not-a-list", lambda api: location_edit(
        api, ROWAN, lambda doc: doc.__setitem__("reports", "none")), ROWAN,
     f"{{api}}/locations/{ROWAN} reports: 'reports' is not a list"),
    ("report-as-binary", lambda api: api.reports.__setitem__("rowan-2025", b"\x00\x01\x02" * 9),
     ROWAN, "{api}/reports/rowan-2025: binary file, not report text"),
    ("report-over-the-size-limit", _answer("/reports/rowan-2025", send(
        200, b"a" * 70_000, {"Content-Type": "text/plain"})), ROWAN,
     "{api}/reports/rowan-2025: the answer is larger than 65,536 bytes"),
    ("provider-as-report-text", lambda api: api.providers.__setitem__("1-2000000101", REPORT),
     BIRCHWOOD, f"{{api}}/providers/1-2000000101: not a provider record: {NOT_JSON}"),
    ("provider-of-another", lambda api: api.providers.__setitem__(
        "1-2000000101", b'{"providerId": "1-2", "name": "Elsewhere Ltd"}'), BIRCHWOOD,
     '{api}/providers/1-2000000101: not the record of 1-2000000101: its providerId is "1-2"'),
]  # fmt: skip


@pytest.mark.parametrize(
    ("misbehave", "loc", "start"), [c[1:] for c in ITEM_ANSWERS], ids=[c[0] for c in ITEM_ANSWERS]
)
def test_a_malformed_answer_for_one_item_is_its_rejection_in_one_line(api, misbehave, loc, start):
    misbehave(api)
    fetch = client(api, [], max_bytes=65_536)
    syncer = api_client._Syncer(fetch, None, reports=True, batch=5, quiet=True)
    files = syncer._location(loc)
    files += syncer._providers(files)
    lines = [f.line for f in files if isinstance(f, FileResult)]
    assert len(lines) == 1 and lines[0].startswith(start.replace("{api}", api.url)), lines
    assert lines[0].isprintable()
    # The location's own record still loads when only a report entry is bad.
    assert any(isinstance(f, ReadFile) for f in files) == (
        "/locations/" not in start or " reports" in start
    )


# A listing page the sync cannot read stops it: (case, how page 2 misbehaves, the message).
LISTING_ANSWERS = [
    ("page-not-a-number", edited(lambda page: {**page, "page": "two"}),
     f"{PAGE_TWO}: 'page' is not a whole number: \"two\""),
    ("page-a-boolean", edited(lambda page: {**page, "page": True}),
     f"{PAGE_TWO}: 'page' is not a whole number: true"),
    ("total-negative", edited(lambda page: {**page, "total": -1}),
     f"{PAGE_TWO}: 'total' is not a whole number: -1"),
    ("next-page-a-number", edited(lambda page: {**page, "nextPageUri": 3}),
     f"{PAGE_TWO}: 'nextPageUri' is not a link: 3"),
    ("locations-not-a-list", edited(lambda page: {**page, "locations": {"a": 1}}),
     f"{PAGE_TWO}: 'locations' is not a list: {{\"a\": 1}}"),
    ("page-as-html", raw(b"<html><body>Service unavailable</body></html>"),
     f"{PAGE_TWO}: {NOT_JSON}"),
    ("page-truncated", raw(b'{"total": 3, "page": 2, "locations": [{"locationId'),
     f"{PAGE_TWO}: the answer is not JSON (Unterminated string starting at: byte 39)"),
    ("page-as-json-list", raw(b'[{"locationId": "1-1000000404"}]'),
     f"{PAGE_TWO}: the answer is a JSON list, not a JSON object"),
    ("page-as-a-location", raw(HARBOUR_RECORD.read_bytes()),
     f"{PAGE_TWO}: not a listing page: it has no 'locations'"),
    ("page-with-a-huge-number", raw(b'{"page": ' + b"9" * 5000 + b"}"),
     f"{PAGE_TWO}: the answer is not JSON that can be read (Exceeds the limit (4300 digits)"),
    ("page-empty", raw(b""), f"{PAGE_TWO}: {NOT_JSON}"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("respond", "message"), [c[1:] for c in LISTING_ANSWERS], ids=[c[0] for c in LISTING_ANSWERS]
)
def test_a_malformed_listing_page_is_one_line(api, respond, message):
    api.faults["/locations"] = [respond]
    fetch = client(api, [])
    with pytest.raises(api_client.Malformed) as err:
        api_client._listing(fetch.get_json(PAGE_TWO), "full", PAGE_TWO, fetch.url(PAGE_TWO))
    assert str(err.value).startswith(message) and str(err.value).isprintable()


def test_items_of_a_listing_that_are_not_location_ids_are_rejections_of_their_own(api):
    items = [{"locationId": 101}, {"locationId": HARBOUR}, "1-1000000404", None,
             {"locationId": "x" * 101}]  # fmt: skip
    api.faults["/locations"] = [edited(lambda page: {**page, "locations": items})]
    fetch = client(api, [])
    path = "/locations?page=1&perPage=2"
    ids, _, rejected = api_client._listing(fetch.get_json(path), "full", path, fetch.url(path))
    assert ids == [HARBOUR]
    assert [r.line for r in rejected] == [
        f'{api.url}{path} locations[0]: not a location id: {{"locationId": 101}}',
        f'{api.url}{path} locations[2]: not a location id: "1-1000000404"',
        f"{api.url}{path} locations[3]: not a location id: null",
        f'{api.url}{path} locations[4]: not a location id: {{"locationId": "{"x" * 83}…',
    ]


# From the command line: (case, how the server misbehaves, exit code, how the line on stderr
# starts ({api}: the API's URL), the locations loaded). Exit 1: that answer is rejected and
# the sync goes on; exit 3: the sync stops, what it fetched before stays loaded.
COMMAND_LINE = [
    ("location-as-report-text", _location_as(REPORT), 1,
     f"{{api}}/locations/{HARBOUR}: not a location record: {NOT_JSON}", {BIRCHWOOD, ROWAN}),
    ("numeric-report-uri", _rowan_report(reportUri=2025), 1,
     f"{ROWAN_REPORT}: reportUri is not a link: 2025", ALL),
    ("item-not-an-id", _first_page(
        lambda page: {**page, "locations": [{"locationId": 101}, *page["locations"][1:]]}), 1,
     '{api}/locations?page=1&perPage=2 locations[0]: not a location id: {"locationId": 101}',
     {HARBOUR, ROWAN}),
    ("page-not-a-number", _page_two(edited(lambda page: {**page, "page": "two"})), 3,
     f"{PAGE_TWO}: 'page' is not a whole number: \"two\"", {BIRCHWOOD, HARBOUR}),
    ("page-truncated", _page_two(raw(b'{"total": 3, "page": 2, "locations": [{"locationId')), 3,
     f"{PAGE_TWO}: the answer is not JSON (Unterminated string", {BIRCHWOOD, HARBOUR}),
    ("status-line-with-controls", _answer(f"/locations/{HARBOUR}", send(
        418, b"", reason="I'm a \x1b[2J teapot")), 3,
     f"/locations/{HARBOUR}: HTTP 418 I'm a \\x1b[2J teapot", {BIRCHWOOD}),
    ("retry-after-a-date-without-a-time-zone", _answer(f"/locations/{HARBOUR}", send(
        429, b"{}", {"Retry-After": "Wed, 21 Oct 2015 07:28:00"})), 0, None, ALL),
]  # fmt: skip


@pytest.mark.parametrize(
    ("misbehave", "code", "start", "expected"),
    [c[1:] for c in COMMAND_LINE],
    ids=[c[0] for c in COMMAND_LINE],
)
def test_a_malformed_answer_is_one_line_and_a_documented_exit_code(
    api, db_path, capsys, monkeypatch, misbehave, code, start, expected
):
    misbehave(api)
    got, out, err = cli(api, db_path, capsys, monkeypatch)
    assert got == code
    lines = err.splitlines()
    start = start and start.replace("{api}", api.url)
    if code == 3:
        assert lines[0].startswith(f"sync stopped: {start}")
        assert lines[1:] == ["what was fetched is loaded; run the same command again to resume"]
        assert meta(db_path, api_client.LAST_SYNC_KEY) is None
    elif code == 1:  # printed and logged, one line each
        assert len(lines) == 1 and lines[0].startswith(start)
        assert [f"{file}: {message}" for file, message in logged_rejections(db_path)] == lines
        assert out.startswith("sync (full): ") and "; complete to " in out
    else:
        assert err == "" and "; complete to " in out
    assert loaded(db_path) == expected
    if misbehave is COMMAND_LINE[0][1]:  # and report text in place of a record is not loaded
        con = database.connect(db_path, read_only=False)
        try:
            files = {f for (f,) in con.sql("SELECT source_file FROM assessments").fetchall()}
        finally:
            con.close()
        assert f"{api.url}/locations/{HARBOUR}" not in files


def test_an_answer_over_the_size_limit_is_not_read(api, db_path):
    big = json.loads(api.locations[HARBOUR])
    big["name"] = "x" * 100_000
    api.locations[HARBOUR] = json.dumps(big).encode()
    assert max(len(api.locations[BIRCHWOOD]), len(api.locations[ROWAN])) < 50_000
    result = api_client.sync(client(api, [], max_bytes=50_000), db_path, per_page=2, quiet=True)
    assert result.rejections == [
        f"{api.url}/locations/{HARBOUR}: not a location record: the answer is larger than"
        " 50,000 bytes"
    ]
    assert loaded(db_path) == {BIRCHWOOD, ROWAN}


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("Wed, 21 Oct 2015 07:28:00", 0.0),  # no time zone: GMT, as HTTP dates are
     ("Wed, 21 Oct 2015 07:28:00 -0000", 0.0), ("nan", None), ("inf", float("inf")),
     ("Wed, 32 Foo 2015 99:99:99", None), ("Mon, 01 Jan 99999 00:00:00 GMT", None),
     ("1e400", float("inf")), ("\x00", None), ("", None)],
)  # fmt: skip
def test_retry_after_in_any_form_is_a_wait_or_none(header, seconds):
    assert api_client._retry_after(header) == seconds


def test_retry_after_a_date_without_a_time_zone_is_read_as_gmt():
    when = time.time() + 30
    header = time.strftime("%a, %d %b %Y %H:%M:%S", time.gmtime(when))
    assert 28 <= api_client._retry_after(header) <= 30


def test_an_infinite_retry_after_waits_at_most_max_wait(api):
    api.faults["/providers/1-2000000101"] = [send(429, b"{}", {"Retry-After": "inf"})]
    waits: list[float] = []
    client(api, waits, max_wait=3.0).get("/providers/1-2000000101")
    assert waits == [3.0]


# Hostile answers drawn at random ------------------------------------------------------------
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=4),
    max_leaves=12,
)  # fmt: skip
LINKS = st.one_of(
    JSON,
    st.sampled_from(["/reports/rowan-2025", "//evil.example/x", "http://127.0.0.1:1/reports/x",
                     "/reports/\u202e", "javascript:alert(1)", "/reports/" + "a" * 3000]),
)  # fmt: skip
LISTING = st.fixed_dictionaries(
    {"locations": JSON | st.lists(st.fixed_dictionaries({"locationId": JSON}), max_size=3)},
    optional={"page": JSON, "perPage": JSON, "total": JSON, "nextPageUri": LINKS},
)
RECORD = st.fixed_dictionaries(
    {"locationId": st.just(HARBOUR)},
    optional={
        "reports": JSON | st.lists(st.fixed_dictionaries(
            {"reportDate": st.sampled_from(["2025-01-01", "2019-01-01"]) | JSON},
            optional={"reportUri": LINKS, "linkId": JSON}), max_size=3),
        "providerId": JSON, "name": JSON, "currentRatings": JSON, "assessment": JSON,
    },
)  # fmt: skip
BODIES = st.one_of(
    st.binary(max_size=60), JSON.map(lambda v: json.dumps(v).encode()),
    LISTING.map(lambda v: json.dumps(v).encode()), RECORD.map(lambda v: json.dumps(v).encode()),
)  # fmt: skip


@pytest.fixture(scope="module")
def hostile():
    """One server for every drawn example (its faults and data reset by each)."""
    server = FakeApi()
    yield server
    server.close()


@settings(max_examples=60, deadline=None)
@given(body=BODIES)
def test_any_listing_answer_is_read_or_one_malformed_line(hostile, body):
    hostile.faults["/locations"] = [raw(body)]
    fetch = client(hostile, [], retries=0)
    url = f"{hostile.url}/locations"
    try:
        page = fetch.get_json("/locations")
        ids, _, rejected = api_client._listing(page, "full", "/locations", url)
    except api_client.Malformed as err:
        assert str(err).isprintable() and str(err).startswith(("/locations: ", f"{url}: "))
        return
    assert all(isinstance(i, str) and i for i in ids)
    assert all(r.line.isprintable() for r in rejected)
    if page.get("nextPageUri") is not None:  # a link the sync may follow: the API's, or refused
        try:
            assert fetch.url(page["nextPageUri"]).startswith(f"{hostile.url}/")
        except api_client.Malformed as err:
            assert str(err).isprintable()


@settings(max_examples=60, deadline=None)
@given(body=BODIES)
def test_any_location_answer_is_read_or_one_rejection_line(hostile, body):
    hostile.locations[HARBOUR] = body
    hostile.log.clear()
    fetch = client(hostile, [], retries=0)
    syncer = api_client._Syncer(fetch, None, reports=True, batch=5, quiet=True)
    for f in syncer._location(HARBOUR):
        assert isinstance(f, ReadFile | FileResult)
        if isinstance(f, FileResult):
            assert f.action == "rejected" and f.line.isprintable()
    # Every request went to the API (reports included), with the key: nowhere else.
    assert fetch.requests == len(hostile.log) <= 1 + 3  # the record, at most three reports
    assert all(headers[api_client.KEY_HEADER] == KEY for _, headers in hostile.log)
