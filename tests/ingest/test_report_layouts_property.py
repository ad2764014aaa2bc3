"""A property: a valid report in any layout users hold loads to the same records.

Hypothesis draws a report (fictional names; 1-5 key questions, each with statements scored 1-4
and its arithmetic right) and a layout: a contents list or not, the first heading folded into
it or not, one file or a file per key question page, and as web text, as the text a PDF's
text layer gives (furniture, wrapping, broken words, form feeds) or as a real PDF. Each is
loaded by ingest.load.load into a DuckDB file of its own, and the database must be that of
the plain web text: same scores, percentages, ratings, dates and evidence. Across a page
break a paragraph break cannot be told from a wrapped line, so evidence from paginated
layouts is compared with its white space closed up.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import reference as ref
from ingest.load import load
from tests.fixtures.reports.layouts import render

PLACES = [
    ("Larkspur Court", "Larkspur Homes Ltd", "LS6 2QT", "4 Orchard Way, Headingley, Leeds"),
    ("Meadowsweet House", "Bramble Care Group", "PL4 0AB", "Harbour Road, Plymouth"),
    ("The Willows", "Willowbank Healthcare LLP", "NR2 4AB", "18 Elm Row, Norwich"),
]
SERVICES = [
    ["Care home", "Care home service with nursing"],
    ["Homecare agencies", "Domiciliary care service"],
    ["Community health care services", "Community healthcare service"],
]
SENTENCES = [
    "Staff knew people well and supported them with patience.",
    "Records were kept up to date and reviewed every month by the deputy manager.",
    "Relatives told us communication had improved considerably since the spring.",
    "Some care plans did not describe how to support people when they became distressed.",
    "The provider had introduced an electronic recording system that staff found straightforward.",
    "Audits identified shortfalls, although actions were not always followed through.",
    "People said they felt listened to and their views shaped decisions about the service.",
]
ORDINALS = ("first", "second", "third")
TABLES = {
    "assessments": "SELECT * EXCLUDE (loaded_at, source_file, content_hash) FROM assessments",
    "key_question_results": "SELECT * EXCLUDE (source_file) FROM key_question_results",
    "statement_scores": "SELECT * EXCLUDE (evidence) FROM statement_scores",
    "evidence": "SELECT assessment_id, statement_id, evidence FROM statement_scores",
    "locations": "SELECT * FROM locations",
}
# Evidence closed up (paginated layouts): nor is a key question's content_hash compared, which
# is taken over its evidence as parsed, paragraph breaks and all; what it hashes is compared.
CLOSED_UP_TABLES = {
    **TABLES,
    "key_question_results": (
        "SELECT * EXCLUDE (source_file, content_hash) FROM key_question_results"
    ),
}


@st.composite
def reports(draw) -> render.Report:
    location, provider, postcode, address = draw(st.sampled_from(PLACES))
    assessed = draw(st.dates(dt.date(2024, 1, 8), dt.date(2026, 6, 30)))
    names = draw(st.lists(st.sampled_from(ref.KEY_QUESTIONS), min_size=1, max_size=5, unique=True))
    sections = []
    for kq in sorted(names, key=ref.KEY_QUESTIONS.index):
        pool = [s for s in ref.STATEMENTS if s.key_question == kq]
        chosen = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True))
        # Each paragraph its own (a report does not repeat one at every page's foot, which
        # is how page furniture is told apart): the sentence, then where it stands.
        statements = [
            render.Statement(
                s.name,
                draw(st.integers(1, 4)),
                [
                    f"{ORDINALS[n].capitalize()} finding on {s.name.lower()}: {sentence}"
                    for n, sentence in enumerate(
                        draw(st.lists(st.sampled_from(SENTENCES), min_size=1, max_size=3))
                    )
                ],
            )
            for s in chosen
        ]
        points, count = sum(s.score for s in statements), len(statements)
        sections.append(
            render.Section(
                name=kq,
                rating=ref.rating_for(points, count),
                updated=assessed + dt.timedelta(days=draw(st.integers(20, 120))),
                stated=ref.rounded_percentage(points, count),
                summary=draw(st.sampled_from(SENTENCES)),
                statements=statements,
            )
        )
    return render.Report(
        location=location,
        provider=provider,
        service_types=draw(st.sampled_from(SERVICES)),
        overall=draw(st.sampled_from(ref.RATINGS)),
        address=address,
        postcode=postcode,
        phone="(01632) 960123",
        assessed=assessed,
        sections=sections,
    )


LAYOUTS = st.fixed_dictionaries(
    {
        "contents": st.booleans(),
        "fold": st.booleans(),
        "split": st.booleans(),
        "medium": st.sampled_from(["web", "extracted", "pdf"]),
        "width": st.sampled_from([60, 75, 90]),
        "lines_per_page": st.sampled_from([16, 28, 50]),
        "gaps": st.booleans(),
        "title": st.booleans(),
        "url": st.booleans(),
        "numbers": st.sampled_from([None, "Page {n} of {m}", "{n}/{m}"]),
    }
)


def files_of(report: render.Report, layout: dict) -> list[tuple[str, bytes]]:
    """The files a user holds of `report` in `layout`."""
    if layout["split"]:
        texts = render.pages(report, contents=layout["contents"])
    else:
        texts = [render.text(report, contents=layout["contents"], fold=layout["fold"])]
    furniture = render.Furniture(
        title=f"{report.location} - Care Quality Commission" if layout["title"] else None,
        url="https://www.cqc.org.uk/location/1-000000002/reports" if layout["url"] else None,
        numbers=layout["numbers"],
    )
    shape = {"width": layout["width"], "lines_per_page": layout["lines_per_page"]}
    out = []
    for number, text in enumerate(texts):
        if layout["medium"] == "extracted":
            data = render.extracted(text, furniture, gaps=layout["gaps"], **shape).encode()
        elif layout["medium"] == "pdf":
            data = render.pdf(text, furniture, **shape)
        else:
            data = text.encode()
        suffix = "pdf" if layout["medium"] == "pdf" else "txt"
        out.append((f"page-{number}.{suffix}", data))
    return out


def database(folder: Path, files: list[tuple[str, bytes]], closed_up: bool) -> dict:
    folder.mkdir()
    paths = []
    for name, data in files:
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    db = folder / "qsd.duckdb"
    summary = load(paths, db)
    assert summary.rejected == 0, summary.results
    con = duckdb.connect(str(db), read_only=True)
    try:
        queries = CLOSED_UP_TABLES if closed_up else TABLES
        tables = {name: con.sql(sql).fetchall() for name, sql in queries.items()}
    finally:
        con.close()
    if closed_up:
        tables["evidence"] = [(a, s, " ".join(e.split())) for a, s, e in tables["evidence"]]
    return {name: sorted(rows, key=repr) for name, rows in tables.items()}


_RUNS = itertools.count()


@settings(
    max_examples=40,
    deadline=dt.timedelta(seconds=10),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(report=reports(), layout=LAYOUTS)
def test_any_layout_loads_to_the_same_records(tmp_path, report, layout):
    run = next(_RUNS)
    paginated = layout["medium"] != "web"
    expected = database(
        tmp_path / f"{run}-plain", [("plain.txt", render.text(report).encode())], paginated
    )
    assert len(expected["key_question_results"]) == len(report.sections)
    got = database(tmp_path / f"{run}-layout", files_of(report, layout), paginated)
    assert got == expected
