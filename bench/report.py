"""The results as a table for the terminal and as a block of bench/RESULTS.md."""

from __future__ import annotations

import re
from pathlib import Path

from bench.machine import one_line
from bench.phase import PHASES
from bench.timing import Row

HEADER = ("phase", "measurement", "variant", "value", "target", "met")
ORDER = [*PHASES, "memory"]


def value_text(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value * 1000:,.1f} ms" if value < 1 else f"{value:,.2f} s"
    if unit == "reports/s":
        return f"{value:,.0f}/s"
    if unit == "x":
        return f"{value:,.2f}x"
    if unit == "MB":
        return f"{value:,.0f} MB"
    if unit == "%":
        return f"{value:+,.1f}%"
    return f"{value:g} {unit}"


def target_text(row: Row) -> str:
    if not row.target:
        return ""
    op, limit = row.target.split()
    return f"{op} {value_text(float(limit), row.unit)}"


def met_text(row: Row) -> str:
    if row.met is None:
        return row.note.splitlines()[0][:60] if row.note else ""
    return "met" if row.met else "MISSED"


def cells(row: Row) -> tuple[str, ...]:
    return (row.phase, row.name, row.variant, value_text(row.value, row.unit),
            target_text(row), met_text(row))  # fmt: skip


def table(rows: list[Row]) -> str:
    """A fixed-width table, one line per row."""
    lines = [HEADER, *(cells(r) for r in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(HEADER))]
    out = [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    ]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)


# The pages phase also gives the app's memory rows (bench/__main__.py).
DERIVED = {"pages": ("memory",)}
RUN_LINE = re.compile(r"^- \*\*(?P<phases>[^*]+)\*\*: (?P<about>.*)$")
TABLE_HEAD = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]


def _phases(result: dict) -> list[str]:
    """The phases whose rows this run gives, in the bench's order."""
    ran = result.get("phases") or list(PHASES)
    return [p for p in ORDER if p in ran or any(p in DERIVED.get(r, ()) for r in ran)]


def _about(result: dict) -> str:
    """One paragraph on the run: when, the machine, the data, the code."""
    counts = ", ".join(f"{v:,} {k}" for k, v in result["counts"].items())
    parts = [
        f"Run {result['finished']}, {result['total_seconds']:.0f} s in all, median of"
        f" {result['runs']} runs after a warm-up.",
        f"Machine: {one_line(result['machine'])}; load average after:"
        f" {result['machine'].get('load_after')}.",
        f"Data: `{result['database']}`: {counts}.",
        _code_line(result["machine"].get("code")),
    ]
    return " ".join(parts)


def _row_line(row: Row) -> str:
    return "| " + " | ".join(c.replace("|", "/") for c in cells(row)) + " |"


def _block(runs: list[tuple[list[str], str]], lines: list[str]) -> str:
    """The block: which run each phase's rows come from (newest first), then the table."""
    return "\n".join(
        [
            "Each phase's rows come from the run named with it (newest first):",
            "",
            *(f"- **{', '.join(phases)}**: {about}" for phases, about in runs),
            "",
            *TABLE_HEAD,
            *lines,
        ]
    )


def markdown(result: dict) -> str:
    """The run as Markdown: when, the machine, the data, the code, the table."""
    rows = [_row_line(Row(**r)) for r in result["rows"]]
    return _block([(_phases(result), _about(result))], rows)


def merge(block: str, result: dict) -> str:
    """`block` (a scale's table in RESULTS.md) with the rows of the phases `result` ran
    replaced by its rows; the other phases keep theirs and say which run they came from."""
    ran = _phases(result)
    lines = block.splitlines()
    kept = [line for line in lines[lines.index(TABLE_HEAD[1]) + 1 :] if line.startswith("| ")]
    kept = [line for line in kept if _phase(line) not in ran]
    header = lines[: lines.index(TABLE_HEAD[0])]
    runs = [(m["phases"].split(", "), m["about"]) for line in header if (m := RUN_LINE.match(line))]
    runs = [([p for p in phases if p not in ran], about) for phases, about in runs]
    rows = kept + [_row_line(Row(**r)) for r in result["rows"]]
    rows.sort(key=lambda line: _rank(_phase(line)))  # stable: each phase keeps its order
    return _block([(ran, _about(result)), *((p, a) for p, a in runs if p)], rows)


def _phase(line: str) -> str:
    return line.split("|")[1].strip()


def _rank(phase: str) -> int:
    return ORDER.index(phase) if phase in ORDER else len(ORDER)


def _code_line(code: dict | None) -> str:
    if not code:
        return "Code: unknown."
    changed = code.get("changed") or []
    dirty = f", with uncommitted changes to {', '.join(changed)}" if changed else ""
    return f"Code: commit {code['commit']}{dirty}."


def record(path: Path, result: dict) -> None:
    """Put the run into this scale's block of `path`, between its begin and end markers: the
    whole block for a run of every phase, else only the rows of the phases it ran."""
    scale = f"{result['scale']:g}"
    begin, end = f"<!-- bench scale={scale} begin -->", f"<!-- bench scale={scale} end -->"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    pattern = re.compile(re.escape(begin) + r"\n(.*?)\n" + re.escape(end), re.DOTALL)
    if found := pattern.search(text):
        every = set(result.get("phases") or PHASES) >= set(PHASES)
        body = markdown(result) if every else merge(found[1], result)
        text = text[: found.start()] + f"{begin}\n{body}\n{end}" + text[found.end() :]
    else:
        title = f"Latest run at scale {scale}"
        text = text.rstrip("\n") + f"\n\n## {title}\n\n{begin}\n{markdown(result)}\n{end}\n"
    path.write_text(text, encoding="utf-8")
