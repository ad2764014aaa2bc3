"""The results as a table for the terminal and as a block of bench/RESULTS.md."""

from __future__ import annotations

import re
from pathlib import Path

from bench.machine import one_line
from bench.timing import Row

HEADER = ("phase", "measurement", "variant", "value", "target", "met")


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


def markdown(result: dict) -> str:
    """The run as Markdown: when, the machine, the data, the table, the misses."""
    rows = [Row(**r) for r in result["rows"]]
    counts = ", ".join(f"{v:,} {k}" for k, v in result["counts"].items())
    applied = result.get("proposals") or []
    lines = [
        *(
            [f"**With proposed fixes applied as patches: {', '.join(applied)}.**", ""]
            if applied
            else []
        ),
        f"Run {result['finished']}, {result['total_seconds']:.0f} s in all, median of"
        f" {result['runs']} runs after a warm-up.",
        f"Machine: {one_line(result['machine'])}; load average after:"
        f" {result['machine'].get('load_after')}.",
        f"Data: `{result['database']}`: {counts}.",
        f"Phases: {', '.join(result['phases'])}." if result.get("phases") else "",
        _code_line(result["machine"].get("code")),
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "---|" * len(HEADER),
    ]
    for row in rows:
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells(row)) + " |")
    return "\n".join(lines)


def _code_line(code: dict | None) -> str:
    if not code:
        return "Code: unknown."
    changed = code.get("changed") or []
    dirty = f", with uncommitted changes to {', '.join(changed)}" if changed else ""
    return f"Code: commit {code['commit']}{dirty}."


def record(path: Path, result: dict) -> None:
    """Replace (or add) this scale's block in `path` between its begin and end markers."""
    scale = f"{result['scale']:g}"
    name = f"scale={scale}" + "".join(f" +{p}" for p in result.get("proposals", []))
    begin, end = f"<!-- bench {name} begin -->", f"<!-- bench {name} end -->"
    block = f"{begin}\n{markdown(result)}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        applied = result.get("proposals") or []
        title = f"Latest run at scale {scale}" + (
            f", with proposals {', '.join(applied)}" if applied else ""
        )
        text = text.rstrip("\n") + f"\n\n## {title}\n\n{block}\n"
    path.write_text(text, encoding="utf-8")
