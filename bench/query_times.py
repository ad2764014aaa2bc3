"""Every public query function, on the loaded scale data, with no filter and a typical one.

A query function is any public function of a `queries` module (and of `ui.pending_queries`,
queries the pages use until they move into `queries/`) whose first parameter is a LazyFrame.
Its first argument is picked by name: `scores` or `key_questions`; a `frame` parameter takes
either, so it runs on both. Functions with a `latest` switch also run with `latest=True`.
`queries.frames` (the load itself) is timed by the load phase instead.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import polars as pl

import queries
from bench.context import Context
from bench.timing import Row, median_time, say, timed
from queries.filters import ALL, Filters
from queries.frames import Frames, load_frames

TARGET = "< 0.05"
SKIP_MODULES = {"queries.frames", "queries.filters", "queries.groups"}
EXTRA_MODULES = ("ui.pending_queries",)
FRAME_PARAMETERS = {"scores": ("scores",), "key_questions": ("key_questions",)}
ANY_FRAME = ("key_questions", "scores")


def query_functions() -> Iterator[tuple[str, Callable]]:
    """(module.function, function) of every query function, in module order."""
    names = [f"queries.{m.name}" for m in pkgutil.iter_modules(queries.__path__)]
    for module_name in sorted(set(names) - SKIP_MODULES) + list(EXTRA_MODULES):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:
            continue
        for name, fn in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(fn):
                continue
            if fn.__module__ != module.__name__:
                continue
            params = list(inspect.signature(fn).parameters.values())
            if params and "LazyFrame" in str(params[0].annotation):
                yield f"{module_name.removeprefix('queries.')}.{name}", fn


def typical_filters(ctx: Context) -> Filters:
    typical = ctx.typical()
    return Filters(regions=(typical["region"],), service_types=(typical["service_type"],))


def calls(
    fn: Callable, frames: Frames, filters: dict[str, Filters], typical: dict[str, str]
) -> Iterator[tuple[str, Callable[[], Any]] | tuple[str, str]]:
    """(variant, call) for every way the benchmark runs `fn`; (variant, reason) if it cannot."""
    params = inspect.signature(fn).parameters
    first, *rest = params
    frame_names = FRAME_PARAMETERS.get(first, ANY_FRAME)
    kwargs: dict[str, Any] = {}
    # Values for parameters without a default; `providers` is always given (peers need one).
    known = {
        "providers": (typical["provider"],),
        "peers_by": ("service_type",),
        "column": "source",
        "by": "service_type",
        "location_id": typical["location"],
        "assessment_id": typical["assessment"],
        "key_question": "Safe",
        "texts": None,
    }
    for name in rest:
        required = params[name].default is inspect.Parameter.empty
        if name in ("filters", "latest") or not (required or name == "providers"):
            continue
        if name not in known:
            yield first, f"skipped: no benchmark value for required parameter {name!r}"
            return
        kwargs[name] = known[name]
    if "filters" not in params:
        filters = {"no filter parameter": ALL}
    latest_options = [False, True] if "latest" in params else [None]
    for frame_name in frame_names:
        frame = getattr(frames, frame_name)
        for label, chosen in filters.items():
            for latest in latest_options:
                variant = ", ".join(
                    part
                    for part in (
                        frame_name if len(frame_names) > 1 else "",
                        label,
                        "latest" if latest else "",
                    )
                    if part
                )
                args = dict(kwargs)
                if "filters" in params:
                    args["filters"] = chosen
                if latest is not None:
                    args["latest"] = latest
                yield variant, _collecting(fn, frame, args)


def _collecting(fn: Callable, frame: pl.LazyFrame, args: dict[str, Any]) -> Callable[[], Any]:
    def call() -> Any:
        result = fn(frame, **args)
        return result.collect() if isinstance(result, pl.LazyFrame) else result

    return call


def _rows_of(result: Any) -> int | None:
    if isinstance(result, pl.DataFrame):
        return result.height
    if isinstance(result, tuple):
        frames = [r for r in result if isinstance(r, pl.DataFrame)]
        return frames[0].height if frames else None
    return None


def run(ctx: Context) -> list[Row]:
    con = duckdb.connect(str(ctx.db), read_only=True)
    try:
        seconds, frames = timed(lambda: load_frames(con))
    finally:
        con.close()
    say(f"  queries: data loaded in {seconds:.1f} s")
    typical = ctx.typical()
    filters = {"no filter": ALL, "typical filter": typical_filters(ctx)}
    rows = []
    for name, fn in query_functions():
        for variant, call in calls(fn, frames, filters, typical):
            if isinstance(call, str):
                rows.append(Row("queries", name, variant, note=call))
                continue
            try:
                median, runs, result = median_time(call, ctx.runs)
            except Exception as err:  # a query in progress elsewhere: report, keep going
                rows.append(Row("queries", name, variant, note=f"error: {err!r}"[:200]))
                continue
            row = Row("queries", name, variant, median, runs=runs, target=TARGET)
            row.note = f"{_rows_of(result):,} rows out" if _rows_of(result) is not None else ""
            rows.append(row.check())
            say(f"  queries: {name} [{variant}] {median * 1000:.1f} ms")
    return rows
