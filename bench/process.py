"""Running a phase process with its progress shown live and its memory kept under a limit.

A phase at a large scale can want more memory than the machine has; other work shares the
machine, so the phase is stopped (its own process group, nothing else) before the kernel's
out-of-memory killer would pick a victim.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from bench.timing import say

POLL_SECONDS = 0.25
PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 2**20


@dataclass
class Outcome:
    returncode: int
    tail: list[str]
    peak_mb: float  # largest resident memory of the process and its children, as sampled
    stopped: bool  # stopped for going over the memory limit


def total_memory_mb() -> float:
    return os.sysconf("SC_PHYS_PAGES") * PAGE_MB


def _tree_rss_mb(root: int) -> float:
    """Resident memory of `root` and every process under it, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        rss[pid] = int(fields[21]) * PAGE_MB
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    return sum(rss.get(pid, 0.0) for pid in tree)


def run_watched(command: list[str], cwd: Path, env: dict, limit_mb: float) -> Outcome:
    """Run `command`, echoing its indented stderr lines; stop it if it passes `limit_mb`."""
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    tail: deque[str] = deque(maxlen=20)

    def echo() -> None:
        for line in process.stderr:
            line = line.rstrip("\n")
            tail.append(line)
            if line.startswith("  "):  # the phase's own progress lines
                say(line)

    reader = threading.Thread(target=echo, daemon=True)
    reader.start()
    peak, stopped = 0.0, False
    while process.poll() is None:
        used = _tree_rss_mb(process.pid)
        peak = max(peak, used)
        if used > limit_mb:
            stopped = True
            say(f"  stopping the phase: {used:,.0f} MB is over the limit of {limit_mb:,.0f} MB")
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            break
        time.sleep(POLL_SECONDS)
    reader.join(timeout=5)
    return Outcome(process.returncode, list(tail), peak, stopped)
