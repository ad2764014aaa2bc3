"""Medians of repeated runs, peak memory, and the result rows every phase returns."""

from __future__ import annotations

import operator
import resource
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

RUNS = 5
WARMUP = 1
# A measurement whose warm-up takes longer than this gets only MIN_RUNS timed runs.
SLOW_SECONDS = 5.0
MIN_RUNS = 3
# A target's comparison: "< 0.05", "<= 50", ">= 2000".
_COMPARE = {"<": operator.lt, "<=": operator.le, ">=": operator.ge}


@dataclass
class Row:
    """One number of the benchmark: a median time, a rate, a ratio or a peak memory."""

    phase: str
    name: str
    variant: str = ""
    value: float | None = None
    unit: str = "s"  # s, reports/s, x (ratio), MB, % (an addition, as a percentage)
    runs: list[float] = field(default_factory=list)
    target: str = ""  # e.g. "< 0.05", "<= 50" or ">= 2000"; empty: no target
    met: bool | None = None
    note: str = ""

    def check(self) -> Row:
        """Set `met` from `target` and `value`."""
        if self.target and self.value is not None:
            op, limit = self.target.split()
            self.met = _COMPARE[op](self.value, float(limit))
        return self

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def median_time(
    fn: Callable[[], Any], runs: int = RUNS, warmup: int = WARMUP
) -> tuple[float, list[float], Any]:
    """(median seconds, every timed run, last result) of `fn` after `warmup` untimed runs."""
    result = None
    for _ in range(warmup):
        started = time.perf_counter()
        result = fn()
        if time.perf_counter() - started > SLOW_SECONDS:
            runs = min(runs, MIN_RUNS)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times, result


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def memory_target(scale_value: float) -> str:
    """Peak memory of the app: under 2 GB up to scale 1 and under 12 GB at scale 10."""
    return "< 12288" if scale_value >= 10 else "< 2048"


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def say(text: str) -> None:
    """Progress on stderr, so stdout keeps only the table."""
    print(text, file=sys.stderr, flush=True)
