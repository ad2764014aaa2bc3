"""The app as a user runs it: `streamlit run dashboard.py` on a free port of 127.0.0.1.

One way to start it, wait until it answers and stop it, for the benchmark's phases
(first-start, concurrent) and the browser tests (tests/browser/app_server.py); and the
Chromium they drive it with (Debian's package, with the flags it needs here).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# What follows `streamlit` on the command line (the port is added per server): the README's
# `streamlit run dashboard.py`, without a browser of its own, on 127.0.0.1 only.
USER_FLAGS = ("run", "dashboard.py", "--server.headless", "true", "--server.address", "127.0.0.1")
# The same without watching the source files (tests and measurements change no code).
RUN_FLAGS = (*USER_FLAGS, "--server.fileWatcherType", "none")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(
    env: Mapping[str, str],
    *,
    cwd: Path = ROOT,
    launcher: Sequence[str] = ("-m", "streamlit"),
    flags: Sequence[str] = RUN_FLAGS,
    timeout: float = 60,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Start the app in `cwd` with the environment `env`; yields (base URL, the process).

    `launcher`: what runs Streamlit's command line (python's arguments before `flags`). The
    server gets a process group of its own, stopped whole on exit (SIGTERM, then SIGKILL).
    """
    port = free_port()
    command = [sys.executable, *launcher, *flags, "--server.port", str(port)]
    with tempfile.TemporaryFile(mode="w+") as log:
        process = subprocess.Popen(command, cwd=cwd, env=dict(env), stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        try:
            _wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", process, log, timeout)
            yield f"http://127.0.0.1:{port}/", process
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _wait_healthy(url: str, process: subprocess.Popen, log, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"streamlit exited with {process.returncode}: {log.read()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"streamlit did not answer {url} within {timeout:.0f} s")
