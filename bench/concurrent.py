"""Concurrent sessions against one real `streamlit run dashboard.py` server on 127.0.0.1.

N sessions, each a websocket client speaking Streamlit's own protocol (the BackMsg and
ForwardMsg protobufs of `streamlit.proto`, as the browser's frontend sends and reads them),
open the Overview, then think (uniform THINK seconds) and act, over and over: most actions
set the sidebar's Region or Service type to another value (a filter change, the target),
the rest move to another of the four Explore pages (a page change). A rerun's latency runs
from sending the BackMsg to the server's `script_finished` message. Per N (LEVELS): p50 and
p95 of filter-change and page-change reruns, errors (exceptions, error alerts, a run that
did not finish successfully, a timeout or a dropped websocket), starved sessions (no
completed rerun for STARVED_AFTER seconds within the window), reruns completed per second,
the server's CPU per rerun (and its split by thread, read from /proc, so the app is not
touched) and its peak resident memory (VmHWM: every level starts a fresh server).

What the client sends is what Chromium's frontend sent in a recording of the same actions
(bench/RESULTS.md, "Concurrent sessions"): a filter change is a `rerun_script` with the
URL's query string, the sidebar widgets' states, the page's script hash and the hashes of
the large messages the client holds (the server sends a reference instead of those); a
page change is the same with the target page's hash and no widget states. The page's own
widgets are left out of a filter change (the server keeps their values: they are never
changed here). A browser also renders; that costs the client, not the server. With
BROWSERS, a few real headless Chromium sessions do the same actions through the page, to
compare (latency from the frames on the page's websocket, and the browser's own CPU and
memory).

Also, first, one session alone on each page (`page_costs`): the server's CPU per rerun (the
service demand the capacity follows from) beside the page's script through AppTest; then
READING_LEVELS again with READING think time, and REPLICA_LEVELS on REPLICAS server
processes (sessions dealt out in turn, as sticky sessions behind a proxy).

The sharing prototype (`--shared`, a second variant of every level): the server is the
same `streamlit run`, started through `serve_shared`, which first wraps every query
function of `queries/` (those the query phase times) in one cache shared by every session:
keyed by the frame's identity (the per-version frames of ui.app_data are one object per
data version) and the other arguments, one computation at a time per key, each caller
given its own clone. Bench code only: the change it measures is in bench/RESULTS.md.

Not in the default run (`python -m bench`): at scale 1 it takes ~30 minutes. Run it with
    python -m bench.concurrent [--scale 1] [--levels 1,5,10] [--seconds 45] [--browsers 1,5]
        [--reading 10,30] [--replicas 10,30] [--shared no|yes|both] [--json FILE]
or as a phase, `python -m bench.phase concurrent ...` (bench/phase.py, EXTRA_PHASES).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench.context import Context
from bench.server import CHROMIUM, CHROMIUM_ARGS, ROOT, serve
from bench.timing import Row, say

PHASE = "concurrent"
LEVELS = (1, 5, 10, 20, 30, 50)
SECONDS = 45.0  # the measuring window of each level
THINK = (0.25, 0.75)  # seconds between a rerun's end and the next action (the 0.5 s)
PAGE_CHANGES = 0.25  # share of actions that move to another page
STARVED_AFTER = 10.0  # starved: no completed rerun for this long plus the longest think time
TIMEOUT = 60.0  # a rerun not finished by then is an error
BROWSERS = (1, 5)  # Chromium sessions, to compare (full runs only)
READING = (3.0, 7.0)  # think time of someone reading the page between changes
READING_LEVELS = (10, 30)
REPLICAS = 2  # server processes: one per core, each with its own GIL (and its own data)
REPLICA_LEVELS = (10, 30)
TINY = {"levels": (2,), "seconds": 5.0, "browsers": (), "reading": (), "replicas": (),
        "page_costs": False}  # fmt: skip
# Explore pages the sessions visit: URL path -> title (dashboard.py; '' is the Overview).
PAGES = {"": "Overview", "compare": "Compare providers", "trends": "Trends",
         "statements": "Quality statements"}  # fmt: skip
FILTERS = ("region", "service_type")  # the sidebar filters the sessions change (ui.session)
SIDEBAR_KEYS = ("date", "region", "service_type", "service_group", "provider", "key_question",
                "rating", "era", "deregistered", "carried_forward")  # fmt: skip
TARGETS = {  # issue 17, item 1: N -> target of each measurement
    10: {"filter-change rerun p95": "< 0.5"},
    30: {"filter-change rerun p95": "< 1", "errors": "< 1", "starved sessions": "< 1",
         "server peak memory": "< 3072"},
}  # fmt: skip
SERVE_SHARED = "--serve-shared"
STATS_ENV = "BENCH_SHARED_STATS"
CONTEXT_INFO = {"timezone": "UTC", "timezone_offset": 0, "locale": "en-US",
                "is_embedded": False, "color_scheme": "light"}  # fmt: skip
CLK_TCK = os.sysconf("SC_CLK_TCK")
WAIT = "run-queue wait"  # not CPU: time the server's threads waited for a core
PYTHON = "python"  # every Python thread, and native threads without a name of their own


@dataclass(frozen=True)
class Plan:
    levels: tuple[int, ...] = LEVELS
    seconds: float = SECONDS
    think: tuple[float, float] = THINK
    shared: tuple[bool, ...] = (False, True)
    browsers: tuple[int, ...] = BROWSERS
    starved_after: float = STARVED_AFTER
    reading: tuple[int, ...] = READING_LEVELS  # N run again with READING think time
    replicas: tuple[int, ...] = REPLICA_LEVELS  # N run again on REPLICAS server processes
    page_costs: bool = True  # CPU per rerun of each page at N=1, and through AppTest


# --- the server ---------------------------------------------------------------------------


@dataclass
class Server:
    pid: int
    url: str  # http://127.0.0.1:PORT/
    stats: Path | None  # the sharing prototype's counters


@contextmanager
def server(db: Path, shared: bool = False, timeout: float = 120) -> Iterator[Server]:
    """`streamlit run dashboard.py` on `db` and a free port (with the sharing prototype when
    `shared`); stopped, with its process group, on exit."""
    launcher = ["-m", "bench.concurrent", SERVE_SHARED] if shared else ["-m", "streamlit"]
    stats = Path(tempfile.mkstemp(suffix=".json")[1]) if shared else None
    env = {**os.environ, "QSD_DB": str(db), "PYTHONPATH": str(ROOT),
           "STREAMLIT_LOGGER_LEVEL": "error", STATS_ENV: str(stats or "")}  # fmt: skip
    try:
        with serve(env, launcher=launcher, timeout=timeout) as (url, process):
            yield Server(process.pid, url, stats)
    finally:
        if stats:
            stats.unlink(missing_ok=True)


def _status(pid: int, field_name: str) -> float:
    """A memory field of /proc/PID/status in MB (VmRSS, VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of `pid` by kind of thread, read from /proc (the app is not touched).

    Native threads keep their names (polars, async-executor: Polars' pools; jemalloc, ...).
    Streamlit runs each rerun in a new Python thread that is gone when it ends, so the Python
    time is the process's total (/proc/PID/stat counts ended threads) less the named native
    threads: PYTHON, every Python thread (script runs, the event loop) and unnamed native
    ones (DuckDB's). WAIT is the time live threads were ready to run but waited for a core
    (/proc/PID/task/*/schedstat): not CPU, and it misses the ended threads.
    """
    seconds: Counter[str] = Counter()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
            waited = int((task / "schedstat").read_text().split()[1]) / 1e9
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        kind = name.rstrip("0123456789-_.") or name
        if not kind.startswith("python"):
            seconds[kind] += (int(fields[11]) + int(fields[12])) / CLK_TCK
        seconds[WAIT] += waited
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    total = (int(fields[11]) + int(fields[12])) / CLK_TCK
    seconds[PYTHON] = total - sum(v for k, v in seconds.items() if k != WAIT)
    return dict(seconds)


def _tree_cpu(pids: list[int]) -> float:
    """CPU seconds of processes `pids` (utime + stime + their waited-for children)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / CLK_TCK
    return total


def machine_busy() -> float:
    """CPU seconds every core of the machine has been busy since boot (/proc/stat)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


class Sampler:
    """Largest resident memory of a process, sampled every 0.2 s in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            try:
                self.peak = max(self.peak, _status(self.pid, "VmRSS"))
            except OSError:
                return

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


# --- one session: a websocket client speaking Streamlit's protocol -----------------------


@dataclass
class Rerun:
    kind: str  # "open", "filter change", "page change"
    started: float
    ended: float
    error: str = ""
    ui_seconds: float | None = None  # Chromium: from the action to the page settled
    received: int = 0  # bytes of ForwardMsgs the rerun brought
    sent: int = 1  # rerun requests the action sent (Chromium)

    @property
    def seconds(self) -> float:
        return self.ended - self.started


@dataclass
class Choices:
    """What a session can pick: values of each filter it changes, the page paths."""

    values: dict[str, list[str]]
    pages: tuple[str, ...] = tuple(PAGES)


def choices(db: Path) -> Choices:
    """Every region and the six largest service types of `db` (each with 'all')."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        regions = [r for (r,) in con.execute(
            "SELECT region FROM locations WHERE region IS NOT NULL GROUP BY ALL ORDER BY 1"
        ).fetchall()]  # fmt: skip
        types = [t for (t,) in con.execute(
            "SELECT service_type FROM locations WHERE service_type IS NOT NULL GROUP BY ALL"
            " ORDER BY count(*) DESC, 1 LIMIT 6"
        ).fetchall()]  # fmt: skip
    finally:
        con.close()
    return Choices({"region": regions, "service_type": types})


def _summary(msg) -> tuple[str, Any]:
    """What a client needs of one ForwardMsg delta: ('widget', (key, state)) for a sidebar
    filter widget, ('error', text) for an exception or an error alert, else ('', None)."""
    from streamlit.proto.Alert_pb2 import Alert
    from streamlit.proto.WidgetStates_pb2 import WidgetState

    if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
        return "", None
    element = msg.delta.new_element
    kind = element.WhichOneof("type")
    if kind == "exception":
        return "error", f"{element.exception.type}: {element.exception.message}"[:200]
    if kind == "alert" and element.alert.format == Alert.ERROR:
        return "error", element.alert.body[:200]
    if kind not in ("multiselect", "date_input", "checkbox"):
        return "", None
    widget = getattr(element, kind)
    if widget.query_param_key not in SIDEBAR_KEYS:
        return "", None
    state = WidgetState(id=widget.id)
    if kind == "multiselect":
        values = (
            widget.raw_values if widget.set_value else [widget.options[i] for i in widget.default]
        )
        state.string_array_value.data.extend(values)
    elif kind == "date_input":
        state.string_array_value.data.extend(widget.value if widget.set_value else widget.default)
    else:
        state.bool_value = widget.value if widget.set_value else widget.default
    return "widget", (widget.query_param_key, state)


class Client:
    """One browser tab's worth of protocol: what the frontend sends, what it keeps."""

    def __init__(self, base_url: str, index: int, pick: Choices, think: tuple[float, float]):
        self.ws_url = base_url.replace("http://", "ws://") + "_stcore/stream"
        self.base_url = base_url
        self.rng = random.Random(index)
        self.pick, self.think = pick, think
        self.chosen: dict[str, list[str]] = {key: [] for key in FILTERS}
        self.page_hash = ""
        self.path = ""
        self.pages: dict[str, str] = {}  # URL path -> page script hash
        self.widgets: dict[str, Any] = {}  # sidebar widget key -> WidgetState (last run)
        self.cache: dict[str, list] = {}  # hash -> [summary, age], as the frontend's cache
        self.max_age = 2
        self.reruns: list[Rerun] = []
        self.ws = None

    async def open(self) -> Rerun:
        import websockets

        started = time.monotonic()
        try:
            self.ws = await websockets.connect(self.ws_url, subprotocols=["streamlit"],
                                               max_size=None, open_timeout=TIMEOUT)  # fmt: skip
        except Exception as err:  # a refused connection: an error row
            return self._done(Rerun("open", started, time.monotonic(), f"connect: {err!r}"))
        return await self._rerun("open", self._state(widgets=False, page=""), started)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def act(self) -> Rerun:
        """Think, then change a filter or the page (the session's own random sequence)."""
        await asyncio.sleep(self.rng.uniform(*self.think))
        if self.rng.random() < PAGE_CHANGES and self.pages:
            self.path = self.rng.choice([p for p in self.pick.pages if p != self.path])
            state = self._state(widgets=False, page=self.pages.get(self.path, ""))
            return await self._rerun("page change", state, time.monotonic())
        key = self.rng.choice(FILTERS)
        options = [[], *([v] for v in self.pick.values[key])]
        self.chosen[key] = self.rng.choice([o for o in options if o != self.chosen[key]])
        return await self._rerun(
            "filter change", self._state(True, self.page_hash), time.monotonic()
        )

    def _query_string(self) -> str:
        pairs = [(key, value) for key in FILTERS for value in self.chosen[key]]
        return urllib.parse.urlencode(pairs)

    def _state(self, widgets: bool, page: str):
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self._query_string()
        state.widget_states.SetInParent()
        if widgets:
            for key, widget in self.widgets.items():
                if key in self.chosen:
                    widget = WidgetState(id=widget.id)
                    widget.string_array_value.data.extend(self.chosen[key])
                state.widget_states.widgets.append(widget)
        if page:
            state.page_script_hash = page
        state.cached_message_hashes.extend(self.cache)
        for name, value in CONTEXT_INFO.items():
            setattr(state.context_info, name, value)
        query = f"?{state.query_string}" if state.query_string else ""
        state.context_info.url = f"{self.base_url}{self.path}{query}"
        return msg

    async def _rerun(self, kind: str, msg, started: float) -> Rerun:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        error, used, widgets, received = "", set(), {}, 0
        try:
            await self.ws.send(msg.SerializeToString())
            deadline = started + TIMEOUT
            while True:
                raw = await asyncio.wait_for(self.ws.recv(), max(0.01, deadline - time.monotonic()))
                received += len(raw)
                fwd = ForwardMsg.FromString(raw)
                kind_of = fwd.WhichOneof("type")
                if kind_of == "ref_hash":
                    entry = self.cache.get(fwd.ref_hash)
                    if entry is None:
                        error = error or "a reference to a message the client does not hold"
                        continue
                    used.add(fwd.ref_hash)
                    what, value = entry[0]
                elif kind_of == "script_finished":
                    status = fwd.script_finished
                    if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                        continue  # st.rerun(): the next run follows
                    if status not in (ForwardMsg.FINISHED_SUCCESSFULLY,
                                      ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY):  # fmt: skip
                        error = error or f"script finished with status {status}"
                    break
                else:
                    if kind_of == "new_session":
                        self.page_hash = fwd.new_session.page_script_hash
                        self.max_age = fwd.new_session.config.max_cached_message_age or 2
                        widgets = {}  # a run starts (again, after st.rerun)
                    elif kind_of == "navigation":  # the pages, and which one is running
                        self.pages = {p.url_pathname: p.page_script_hash
                                      for p in fwd.navigation.app_pages}  # fmt: skip
                        self.page_hash = fwd.navigation.page_script_hash or self.page_hash
                    what, value = _summary(fwd)
                    if fwd.metadata.cacheable and fwd.hash:
                        self.cache[fwd.hash] = [(what, value), 0]
                        used.add(fwd.hash)
                if what == "widget":
                    widgets[value[0]] = value[1]
                elif what == "error":
                    error = error or value
        except TimeoutError:
            error = f"no script_finished within {TIMEOUT:.0f} s"
        except Exception as err:  # a dropped websocket: an error row
            error = f"websocket: {err!r}"[:200]
        if widgets:
            self.widgets = widgets
        wanted = msg.rerun_script.page_script_hash
        if not error and wanted and self.page_hash != wanted:
            error = f"ran page {self.page_hash}, not the page asked for ({wanted})"
        for hash_, entry in list(self.cache.items()):
            entry[1] = 0 if hash_ in used else entry[1] + 1
            if entry[1] > self.max_age:
                del self.cache[hash_]
        return self._done(Rerun(kind, started, time.monotonic(), error, received=received))

    def _done(self, rerun: Rerun) -> Rerun:
        self.reruns.append(rerun)
        return rerun


# --- one level: N sessions on a fresh server ----------------------------------------------


@dataclass
class Level:
    sessions: int
    shared: bool
    client: str  # "websocket" or "Chromium"
    think: tuple[float, float]
    window: tuple[float, float]
    reruns: list[Rerun]  # started within the window
    per_session: list[list[Rerun]]
    server_peak_mb: float
    server_cpu: dict[str, float]  # by kind of thread, over the window
    client_cpu: float  # seconds of the driving process (and browsers) over the window
    client_peak_mb: float = 0.0
    machine_busy: float = 0.0  # CPU seconds of the whole machine over the window
    load: tuple[list[float], list[float]] = ((), ())
    shared_stats: dict = field(default_factory=dict)
    open_seconds: list[float] = field(default_factory=list)
    servers: int = 1

    def done(self, kind: str | None = None) -> list[Rerun]:
        return [r for r in self.reruns if not r.error and (kind is None or r.kind == kind)]

    def errors(self) -> list[Rerun]:
        opened = [r for s in self.per_session for r in s if r.kind == "open" and r.error]
        return opened + [r for r in self.reruns if r.error]

    def starved(self, after: float) -> tuple[int, float]:
        """(sessions with a gap over `after` s between completed reruns, the longest gap)."""
        start, end = self.window
        count, longest = 0, 0.0
        for reruns in self.per_session:
            ends = sorted(r.ended for r in reruns if not r.error and start <= r.ended <= end)
            marks = [start, *ends, end]
            gap = max(b - a for a, b in itertools.pairwise(marks))
            longest = max(longest, gap)
            count += gap > after
        return count, longest


def _p(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _cpu_of(pids: list[int]) -> Counter[str]:
    """thread_cpu of every process in `pids`, added up by kind."""
    total: Counter[str] = Counter()
    for pid in pids:
        total.update(thread_cpu(pid))
    return total


async def _warm(base_url: str, pick: Choices) -> None:
    """One session opens every page once: the data loads (cold) before the clock runs."""
    client = Client(base_url, -1, pick, (0, 0))
    first = await client.open()
    if first.error:
        raise RuntimeError(f"the warm-up session failed: {first.error}")
    for path in pick.pages[1:]:
        client.path = path
        await client._rerun("page change", client._state(False, client.pages.get(path, "")),
                            time.monotonic())  # fmt: skip
    await client.close()


async def _drive(urls: list[str], n: int, plan: Plan, pick: Choices, pids: list[int]) -> dict:
    clients = [Client(urls[i % len(urls)], i, pick, plan.think) for i in range(n)]
    stagger = min(2.0, 0.05 * n)

    async def opened(i: int) -> Rerun:
        await asyncio.sleep(stagger * i / max(1, n))
        return await clients[i].open()

    opens = await asyncio.gather(*(opened(i) for i in range(n)))
    window_start = time.monotonic()
    window_end = window_start + plan.seconds
    cpu0, client0, busy0 = _cpu_of(pids), time.process_time(), machine_busy()

    async def run(client: Client) -> None:
        if client.reruns and client.reruns[0].error:
            return
        while time.monotonic() < window_end:
            rerun = await client.act()
            if rerun.error.startswith(("websocket", "no script_finished")):
                return

    await asyncio.gather(*(run(c) for c in clients))
    cpu1, client1, busy1 = _cpu_of(pids), time.process_time(), machine_busy()
    for client in clients:
        await client.close()
    return {
        "window": (window_start, window_end),
        "per_session": [c.reruns for c in clients],
        "cpu": {k: cpu1.get(k, 0.0) - cpu0.get(k, 0.0) for k in cpu1},
        "client_cpu": client1 - client0,
        "busy": busy1 - busy0,
        "opens": [r.seconds for r in opens if not r.error],
    }


def measure_level(
    db: Path, n: int, plan: Plan, pick: Choices, shared: bool = False, servers: int = 1
) -> Level:
    """N websocket sessions on fresh servers (one, or `servers` processes on one database
    with the sessions dealt out in turn, as sticky sessions behind a proxy), after a warm-up
    session on each."""
    load_before = list(os.getloadavg())
    with ExitStack() as stack:
        apps = [stack.enter_context(server(db, shared)) for _ in range(servers)]
        samplers = [stack.enter_context(Sampler(app.pid)) for app in apps]
        for app in apps:
            asyncio.run(_warm(app.url, pick))
        got = asyncio.run(_drive([a.url for a in apps], n, plan, pick, [a.pid for a in apps]))
        peak = sum(
            max(s.peak, _status(a.pid, "VmHWM")) for s, a in zip(samplers, apps, strict=True)
        )
        stats = json.loads(apps[0].stats.read_text() or "{}") if apps[0].stats else {}
    start, end = got["window"]
    per_session = got["per_session"]
    in_window = [r for s in per_session for r in s if r.kind != "open" and start <= r.started < end]
    return Level(n, shared, "websocket", plan.think, (start, end), in_window, per_session,
                 peak, got["cpu"], got["client_cpu"], machine_busy=got["busy"],
                 load=(load_before, list(os.getloadavg())), shared_stats=stats,
                 open_seconds=got["opens"], servers=servers)  # fmt: skip


# --- Chromium sessions, to compare ---------------------------------------------------------


def chromium_available() -> bool:
    if not Path(CHROMIUM).exists():
        return False
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return True


async def _browser_session(browser, base_url: str, index: int, plan: Plan, pick: Choices,
                           clock: dict) -> list[Rerun]:  # fmt: skip
    """One Chromium page doing the client's actions through the UI; latency from its frames."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    rng = random.Random(index)
    context = await browser.new_context()
    page = await context.new_page()
    sent: list[float] = []
    finished: list[tuple[float, int]] = []
    errors: list[str] = []

    def on_ws(ws) -> None:
        def framesent(payload) -> None:
            msg = BackMsg.FromString(payload if isinstance(payload, bytes) else payload.encode())
            if msg.WhichOneof("type") == "rerun_script":
                sent.append(time.monotonic())

        def framereceived(payload) -> None:
            raw = payload if isinstance(payload, bytes) else payload.encode()
            msg = ForwardMsg.FromString(raw)
            if msg.WhichOneof("type") == "script_finished":
                finished.append((time.monotonic(), msg.script_finished))
            elif errors == [] and _summary(msg)[0] == "error":
                errors.append(_summary(msg)[1])

        ws.on("framesent", framesent)
        ws.on("framereceived", framereceived)

    page.on("websocket", on_ws)
    reruns: list[Rerun] = []

    async def settled(kind: str, action_started: float) -> None:
        deadline = time.monotonic() + TIMEOUT
        ends: list[float] = []
        while not ends and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
            ends = [t for t, status in finished if t >= action_started
                    and status != ForwardMsg.FINISHED_EARLY_FOR_RERUN]  # fmt: skip
        await page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached",
                                     timeout=TIMEOUT * 1000)  # fmt: skip
        ui = time.monotonic()
        after = [t for t in sent if t >= action_started]
        error = errors.pop() if errors else ("" if after and ends else "no rerun seen")
        start = after[0] if after else action_started
        reruns.append(Rerun(kind, start, ends[0] if ends else ui, error, ui - action_started,
                            len(after)))  # fmt: skip

    started = time.monotonic()
    await page.goto(base_url, timeout=TIMEOUT * 1000)
    await page.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=TIMEOUT * 1000)
    await settled("open", started)
    clock["opened"] += 1
    while clock["opened"] < clock["sessions"]:
        await asyncio.sleep(0.05)
    path, chosen = "", {key: "" for key in FILTERS}
    while time.monotonic() < clock["end"]:
        await asyncio.sleep(rng.uniform(*plan.think))
        action = time.monotonic()
        sidebar = page.get_by_test_id("stSidebar")
        if rng.random() < PAGE_CHANGES:
            path = rng.choice([p for p in pick.pages if p != path])
            link = sidebar.get_by_test_id("stPageLink-NavLink").filter(has_text=PAGES[path])
            await link.first.click()
            await settled("page change", action)
            continue
        key = rng.choice(FILTERS)
        label = {"region": "Region", "service_type": "Service type"}[key]
        value = rng.choice([v for v in ["", *pick.values[key]] if v != chosen[key]])
        box = sidebar.get_by_test_id("stMultiSelect").filter(has_text=label).first
        await box.locator("input").click()
        if chosen[key]:
            await page.keyboard.press("Backspace")
        if value:
            await page.keyboard.type(value)
            await page.keyboard.press("Enter")
        await page.keyboard.press("Escape")
        chosen[key] = value
        await settled("filter change", action)
    await context.close()
    return reruns


def _chromium_pids(root: int) -> list[int]:
    """Every process under `root` (this one: Playwright's driver, the browser it started)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
                )
            except OSError:
                continue
    tree, frontier = set(), [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sorted(tree)


def _chromium_rss(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += _status(pid, "VmRSS")
        except OSError:
            continue
    return total


async def _drive_browsers(base_url: str, n: int, plan: Plan, pick: Choices, pid: int) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        clock = {"opened": 0, "sessions": n, "end": float("inf")}
        tasks = [asyncio.create_task(_browser_session(browser, base_url, i, plan, pick, clock))
                 for i in range(n)]  # fmt: skip
        while clock["opened"] < n and not any(t.done() for t in tasks):
            await asyncio.sleep(0.05)
        start = time.monotonic()
        clock["end"] = start + plan.seconds
        chromium = _chromium_pids(os.getpid())
        cpu0, browser0, own0 = thread_cpu(pid), _tree_cpu(chromium), time.process_time()
        busy0 = machine_busy()
        peak = 0.0
        while not all(t.done() for t in tasks):
            peak = max(peak, _chromium_rss(_chromium_pids(os.getpid())))
            await asyncio.sleep(0.5)
        per_session = [t.result() for t in tasks]
        chromium = _chromium_pids(os.getpid())
        cpu1, browser1 = thread_cpu(pid), _tree_cpu(chromium)
        own1, busy1 = time.process_time(), machine_busy()
        await browser.close()
    return {"window": (start, clock["end"]), "per_session": per_session, "peak": peak,
            "cpu": {k: cpu1.get(k, 0.0) - cpu0.get(k, 0.0) for k in cpu1},
            "client_cpu": (browser1 - browser0) + (own1 - own0), "busy": busy1 - busy0}  # fmt: skip


def measure_browsers(db: Path, n: int, plan: Plan, pick: Choices) -> Level:
    load_before = list(os.getloadavg())
    with server(db) as app, Sampler(app.pid) as sampler:
        asyncio.run(_warm(app.url, pick))
        got = asyncio.run(_drive_browsers(app.url, n, plan, pick, app.pid))
        peak = max(sampler.peak, _status(app.pid, "VmHWM"))
    start, end = got["window"]
    in_window = [r for s in got["per_session"] for r in s
                 if r.kind != "open" and start <= r.started < end]  # fmt: skip
    return Level(n, False, "Chromium", plan.think, (start, end), in_window, got["per_session"],
                 peak, got["cpu"], got["client_cpu"], client_peak_mb=got["peak"],
                 machine_busy=got["busy"], load=(load_before, list(os.getloadavg())))  # fmt: skip


# --- the sharing prototype (runs inside the server process) --------------------------------


def _key_part(value: Any, refs: list) -> Any:
    """`value` itself when it is hashable plain data, else its identity (kept alive)."""
    import polars as pl

    if isinstance(value, pl.DataFrame | pl.LazyFrame | pl.Series | pl.Expr | dict | list | set):
        refs.append(value)
        return ("id", type(value).__name__, id(value))
    try:
        hash(value)
    except TypeError:
        refs.append(value)
        return ("id", type(value).__name__, id(value))
    return value


def _own(value: Any) -> Any:
    """A caller's own handle on a shared result: DataFrames cloned (their columns stay
    shared). Polars 2.1 deadlocks the whole process when threads call to_arrow / to_pandas /
    schema on one DataFrame object at once (pola-rs/polars#27396, #27472); every page hands
    its frames to st.dataframe and the charts, so a shared object must never reach them."""
    import polars as pl

    if isinstance(value, pl.DataFrame | pl.Series):
        return value.clone()
    if isinstance(value, tuple):
        return tuple(_own(v) for v in value)
    return value


def share_query_results(limit: int = 2048) -> dict[str, int]:
    """Wrap every query function of `queries/` in one cache shared by all sessions.

    The key is the function, its frames by identity (one object per data version, from
    ui.app_data's st.cache_resource) and its other arguments by value; one computation runs
    per key at a time, later callers wait for it. Each caller gets its own clone (`_own`).
    LazyFrame results pass through uncached. Returns the live counters.
    """
    import polars as pl

    from bench.query_times import query_functions

    lock = threading.Lock()
    cache: OrderedDict[tuple, tuple[Any, list]] = OrderedDict()
    running: dict[tuple, threading.Event] = {}
    counts = {"hits": 0, "misses": 0, "waits": 0, "entries": 0, "functions": 0}

    def wrap(name: str, fn: Callable) -> Callable:
        def shared(*args, **kwargs):
            refs: list = []
            key = (name, tuple(_key_part(a, refs) for a in args),
                   tuple(sorted((k, _key_part(v, refs)) for k, v in kwargs.items())))  # fmt: skip
            while True:
                with lock:
                    if key in cache:
                        cache.move_to_end(key)
                        counts["hits"] += 1
                        return _own(cache[key][0])
                    event = running.get(key)
                    if event is None:
                        running[key] = threading.Event()
                        counts["misses"] += 1
                        break
                    counts["waits"] += 1
                event.wait()
            try:
                result = fn(*args, **kwargs)
            finally:
                with lock:
                    running.pop(key).set()
            if not isinstance(result, pl.LazyFrame):
                with lock:
                    cache[key] = (result, refs)
                    while len(cache) > limit:
                        cache.popitem(last=False)
                    counts["entries"] = len(cache)
            return _own(result)

        shared.__wrapped__ = fn  # type: ignore[attr-defined]
        shared.__name__ = fn.__name__
        return shared

    for name, fn in list(query_functions()):
        setattr(sys.modules[fn.__module__], fn.__name__, wrap(name, fn))
        counts["functions"] += 1
    return counts


def serve_shared(argv: list[str]) -> None:
    """`streamlit ARGV` in this process, with the query functions shared (see above)."""
    counts = share_query_results()
    target = os.environ.get(STATS_ENV)
    if target:

        def write() -> None:
            while True:
                Path(target).write_text(json.dumps(counts))
                time.sleep(0.5)

        threading.Thread(target=write, daemon=True).start()
    from streamlit.web.cli import main as streamlit_main

    sys.argv = ["streamlit", *argv]
    streamlit_main(prog_name="streamlit")


# --- what one rerun of each page costs the server, at N=1 -----------------------------------

PAGE_FILES = {"": "overview", "compare": "compare", "trends": "trends", "statements": "statements"}
COST_CHANGES = 12


async def _page_costs(base_url: str, pick: Choices, pid: int) -> dict[str, tuple]:
    """Per page: (wall seconds of COST_CHANGES Region changes, server CPU per rerun by kind)."""
    client = Client(base_url, 99, pick, (0.3, 0.3))
    await client.open()
    regions = pick.values["region"]
    costs = {}
    for path in pick.pages:
        if path:
            client.path = path
            await client._rerun("page change", client._state(False, client.pages[path]),
                                time.monotonic())  # fmt: skip
        walls, before = [], {}
        for i in range(COST_CHANGES + 1):  # the first change warms the page
            await asyncio.sleep(0.3)
            if i == 1:
                before = thread_cpu(pid)
            client.chosen["region"] = [regions[i % len(regions)]]
            rerun = await client._rerun("filter change", client._state(True, client.page_hash),
                                        time.monotonic())  # fmt: skip
            if rerun.error:
                raise RuntimeError(f"page {path or 'overview'}: {rerun.error}")
            if i:
                walls.append(rerun.seconds)
        after = thread_cpu(pid)
        costs[path] = (
            walls,
            {k: (v - before.get(k, 0.0)) / COST_CHANGES for k, v in after.items()},
        )
    await client.close()
    return costs


def _apptest_costs(db: Path, pick: Choices) -> dict[str, tuple[float, float]]:
    """Per page, through AppTest in this process (the script alone, no server, no websocket):
    (median wall seconds, CPU seconds per Region change)."""
    from streamlit.testing.v1 import AppTest

    os.environ["QSD_DB"] = str(db)
    regions = pick.values["region"]
    costs = {}
    for path, name in PAGE_FILES.items():
        at = AppTest.from_file(str(ROOT / "pages" / f"{name}.py"), default_timeout=600)
        at.run()
        walls, cpu = [], 0.0
        for i in range(COST_CHANGES + 1):
            at.multiselect(key="region").set_value([regions[i % len(regions)]])
            started, cpu0 = time.perf_counter(), time.process_time()
            at.run()
            if i:
                walls.append(time.perf_counter() - started)
                cpu += time.process_time() - cpu0
        costs[path] = (statistics.median(walls), cpu / COST_CHANGES)
    return costs


def page_costs(db: Path, pick: Choices) -> list[Row]:
    """Server CPU per filter-change rerun of each page, one session alone (the service
    demand the capacity follows from), beside the same page's script through AppTest."""
    load = list(os.getloadavg())
    with server(db) as app:
        asyncio.run(_warm(app.url, pick))
        costs = asyncio.run(_page_costs(app.url, pick, app.pid))
    alone = _apptest_costs(db, pick)
    rows = []
    for path, (walls, cpu) in costs.items():
        total = sum(v for k, v in cpu.items() if k != WAIT)
        polars = sum(v for k, v in cpu.items() if k.startswith(("polars", "async-executor")))
        test_wall, test_cpu = alone[path]
        note = (f"wall p50 {statistics.median(walls) * 1000:.0f} ms; Python"
                f" {cpu.get(PYTHON, 0) * 1000:.0f} ms, Polars pools {polars * 1000:.0f} ms;"
                f" AppTest of the page alone: CPU {test_cpu * 1000:.0f} ms, wall"
                f" {test_wall * 1000:.0f} ms; load {load[0]:.1f}")  # fmt: skip
        rows.append(Row(PHASE, "server CPU per filter-change rerun, one session", PAGES[path],
                        total, runs=walls, note=note))  # fmt: skip
        COSTS_SEEN[PAGES[path]] = {"cpu": cpu, "walls": walls, "apptest": alone[path],
                                   "load": load}  # fmt: skip
        say(f"  concurrent: {PAGES[path]}: server CPU {total * 1000:.0f} ms/rerun ({note})")
    return rows


COSTS_SEEN: dict[str, dict] = {}


# --- rows ------------------------------------------------------------------------------------


def _variant(level: Level) -> str:
    client = "" if level.client == "websocket" else f" {level.client}"
    think = "" if level.think == THINK else f", think {level.think[0]:g}-{level.think[1]:g} s"
    shared = ", shared query results (bench prototype)" if level.shared else ""
    servers = f", {level.servers} server processes" if level.servers > 1 else ""
    return f"N={level.sessions}{client}{think}{servers}{shared}"


def _target(level: Level, name: str) -> str:
    if level.client != "websocket":
        return ""
    return TARGETS.get(level.sessions, {}).get(name, "")


def level_rows(level: Level, plan: Plan) -> list[Row]:
    variant = _variant(level)
    filters = [r.seconds for r in level.done("filter change")]
    pages = [r.seconds for r in level.done("page change")]
    done = level.done()
    span = level.window[1] - level.window[0]
    cpu = sum(v for k, v in level.server_cpu.items() if k != WAIT)
    per = cpu / len(done) if done else None
    ranked = sorted(level.server_cpu.items(), key=lambda kv: -kv[1])
    split = ", ".join(
        f"{k} {v / len(done) * 1000:.0f}" for k, v in ranked if v > 0.005 and done and k != WAIT
    )
    waited = level.server_cpu.get(WAIT, 0.0) / max(1, len(done))
    load = f"load {level.load[0][0]:.1f} -> {level.load[1][0]:.1f}" if level.load[0] else ""
    load += f", other work kept {others_cores(level):.1f} cores busy"
    note = (f"{len(filters)} filter changes, {len(done) / span:.1f} reruns/s; server CPU"
            f" {per * 1000 if per else 0:.0f} ms/rerun ({split}), its threads waited for a core"
            f" {waited * 1000:.0f} ms/rerun; client CPU"
            f" {level.client_cpu / max(1, len(done)) * 1000:.0f} ms/rerun; {load}")  # fmt: skip
    if level.shared_stats:
        s = level.shared_stats
        calls = s.get("hits", 0) + s.get("misses", 0) + s.get("waits", 0)
        note += (f"; shared: {s.get('hits', 0)}/{calls} calls hit,"
                 f" {s.get('waits', 0)} waited")  # fmt: skip
    starved, gap = level.starved(plan.starved_after + level.think[1])
    errors = level.errors()
    rows = [
        Row(PHASE, "filter-change rerun p50", variant, _p(filters, 50), runs=filters, note=note),
        Row(PHASE, "filter-change rerun p95", variant, _p(filters, 95),
            target=_target(level, "filter-change rerun p95")),
        Row(PHASE, "page-change rerun p95", variant, _p(pages, 95),
            note=f"p50 {(_p(pages, 50) or 0) * 1000:.0f} ms of {len(pages)}"),
        Row(PHASE, "errors", variant, len(errors), unit="errors", target=_target(level, "errors"),
            note="; ".join(sorted({e.error for e in errors}))[:300]),
        Row(PHASE, "starved sessions", variant, starved, unit="sessions",
            target=_target(level, "starved sessions"),
            note=f"longest gap between completed reruns {gap:.1f} s"),
        Row(PHASE, "server peak memory", variant, level.server_peak_mb, unit="MB",
            target=_target(level, "server peak memory")),
    ]  # fmt: skip
    if level.client != "websocket":
        ui = [r.ui_seconds or r.seconds for r in level.done("filter change")]
        rows.append(Row(PHASE, "browser: action to page settled p50", variant, _p(ui, 50),
                        note=f"p95 {(_p(ui, 95) or 0) * 1000:.0f} ms; Chromium CPU"
                        f" {level.client_cpu / max(1, len(done)) * 1000:.0f} ms/rerun, peak"
                        f" {level.client_peak_mb:,.0f} MB for {level.sessions} sessions",
                        ))  # fmt: skip
    return [row.check() for row in rows]


def others_cores(level: Level) -> float:
    """Cores other work on the machine kept busy over the window, on average (all busy CPU
    time less the server's and the driving client's)."""
    own = sum(v for k, v in level.server_cpu.items() if k != WAIT) + level.client_cpu
    return max(0.0, level.machine_busy - own) / (level.window[1] - level.window[0])


def summary(level: Level, plan: Plan) -> dict[str, Any]:
    """Every figure of a level, for the JSON of `python -m bench.concurrent --json`."""
    filters = [r.seconds for r in level.done("filter change")]
    pages = [r.seconds for r in level.done("page change")]
    done = level.done()
    starved, gap = level.starved(plan.starved_after + level.think[1])
    per = {k: v / max(1, len(done)) for k, v in level.server_cpu.items()}
    return {
        "sessions": level.sessions, "shared": level.shared, "client": level.client,
        "think": level.think, "servers": level.servers,
        "seconds": level.window[1] - level.window[0],
        "filter_p50": _p(filters, 50), "filter_p95": _p(filters, 95), "filter_n": len(filters),
        "filter_max": max(filters, default=None),
        "page_p50": _p(pages, 50), "page_p95": _p(pages, 95), "page_n": len(pages),
        "errors": [e.error for e in level.errors()], "starved": starved, "longest_gap": gap,
        "reruns_per_s": len(done) / (level.window[1] - level.window[0]),
        "server_cpu_per_rerun": sum(v for k, v in per.items() if k != WAIT),
        "server_cpu_split": per, "client_cpu_per_rerun": level.client_cpu / max(1, len(done)),
        "server_peak_mb": level.server_peak_mb, "client_peak_mb": level.client_peak_mb,
        "load": level.load, "shared_stats": level.shared_stats, "others_cores": others_cores(level),
        "open_p50": _p(level.open_seconds, 50), "open_max": max(level.open_seconds, default=None),
        "ui_p50": _p([r.ui_seconds for r in level.done("filter change") if r.ui_seconds], 50),
        "sent_per_action": _p([r.sent for r in done], 50),
        "kb_per_rerun": _p([r.received / 1024 for r in done], 50),
    }  # fmt: skip


LEVELS_SEEN: list[dict[str, Any]] = []  # summaries of the levels run in this process


def plan_for(scale: float) -> Plan:
    return Plan() if scale >= 0.5 else Plan(**TINY)


def run(ctx: Context, plan: Plan | None = None) -> list[Row]:
    plan = plan or plan_for(ctx.scale)
    pick = choices(ctx.db)
    rows: list[Row] = []
    if plan.page_costs:
        rows.extend(page_costs(ctx.db, pick))
    reading = replace(plan, think=READING)
    runs = [(plan, n) for n in plan.levels] + [(reading, n) for n in plan.reading]
    for shared in plan.shared:
        for level_plan, n in runs:
            level = measure_level(ctx.db, n, level_plan, pick, shared)
            got = level_rows(level, level_plan)
            rows.extend(got)
            LEVELS_SEEN.append(summary(level, level_plan))
            say(f"  concurrent: {_variant(level)}: " + ", ".join(
                f"{r.name} {r.value * 1000:.0f} ms" if r.unit == "s" and r.value is not None
                else f"{r.name} {r.value}" for r in got[:5]))  # fmt: skip
    for n in plan.replicas:
        level = measure_level(ctx.db, n, plan, pick, servers=REPLICAS)
        rows.extend(level_rows(level, plan))
        LEVELS_SEEN.append(summary(level, plan))
        say(f"  concurrent: {_variant(level)}: p50 {rows[-6].value}, p95 {rows[-5].value}")
    if plan.browsers and chromium_available():
        for n in plan.browsers:
            level = measure_browsers(ctx.db, n, plan, pick)
            rows.extend(level_rows(level, plan))
            LEVELS_SEEN.append(summary(level, plan))
            say(f"  concurrent: {_variant(level)}: {rows[-1].value} s ({rows[-1].note})")
    elif plan.browsers:
        rows.append(Row(PHASE, "Chromium sessions", note=f"skipped: no {CHROMIUM} or playwright"))
    rows.append(Row(PHASE, "peak memory of the driving process", value=_own_peak(), unit="MB"))
    return rows


def _own_peak() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [SERVE_SHARED]:
        serve_shared(argv[1:])
        return 0
    from bench import scale
    from bench.report import table

    parser = argparse.ArgumentParser(prog="python -m bench.concurrent", description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=scale.DEFAULT_SEED)
    parser.add_argument("--out", type=Path, default=scale.OUT)
    parser.add_argument("--db", type=Path, help="a database to use instead of the scale's")
    parser.add_argument("--levels", help="comma-separated N (default: 1,5,10,20,30,50)")
    parser.add_argument("--seconds", type=float, help="measuring window of each level")
    parser.add_argument("--think", help="min,max seconds of think time (default 0.25,0.75)")
    parser.add_argument("--shared", choices=("no", "yes", "both"), default="both")
    parser.add_argument("--browsers", help="comma-separated Chromium session counts ('' none)")
    parser.add_argument("--reading", help=f"N to run again with think time {READING} ('' none)")
    parser.add_argument("--replicas", help=f"N to run again on {REPLICAS} servers ('' none)")
    parser.add_argument("--no-page-costs", action="store_true", help="skip the N=1 page costs")
    parser.add_argument("--json", type=Path, help="write the rows here as JSON")
    args = parser.parse_args(argv)
    db = args.db or scale.database(args.scale, args.seed, args.out)
    base = plan_for(args.scale)
    plan = Plan(
        levels=tuple(int(n) for n in args.levels.split(",")) if args.levels else base.levels,
        seconds=args.seconds or base.seconds,
        think=tuple(float(x) for x in args.think.split(",")) if args.think else base.think,
        shared={"no": (False,), "yes": (True,), "both": (False, True)}[args.shared],
        browsers=tuple(int(n) for n in args.browsers.split(",") if n)
        if args.browsers is not None
        else base.browsers,
        reading=tuple(int(n) for n in args.reading.split(",") if n)
        if args.reading is not None
        else base.reading,
        replicas=tuple(int(n) for n in args.replicas.split(",") if n)
        if args.replicas is not None
        else base.replicas,
        page_costs=base.page_costs and not args.no_page_costs,
    )
    say(f"concurrent: {db.name}, {plan}, load average {list(os.getloadavg())}")
    rows = run(Context(scale=args.scale, db=db, seed=args.seed, out=args.out), plan)
    print(table(rows))
    if args.json:
        result = {"plan": plan, "database": db.name, "rows": [r.as_dict() for r in rows],
                  "levels": LEVELS_SEEN, "page_costs": COSTS_SEEN,
                  "finished": time.strftime("%H:%M:%S")}  # fmt: skip
        args.json.write_text(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
