"""Location page: each assessment links to its report on CQC's website where its source named
one (ingest.readers.api_records), and none of the demo's fictional services does."""

from __future__ import annotations

from ingest import database
from ingest.__main__ import main
from tests.conftest import FIXTURES
from tests.helpers import page, sql
from ui import session

BIRCHWOOD = FIXTURES / "api" / "birchwood-two-service-groups.json"
SITE = "https://www.cqc.org.uk/location/"
REPORTS_API = "https://api.cqc.org.uk/public/v1/reports/"


def history(at) -> dict[str, str | None]:
    """The Every assessment table: assessment date -> its CQC report link."""
    shown = next(d.value for d in at.dataframe if "report" in d.value.columns)
    links = [None if isinstance(r, float) else r for r in shown["report"]]  # NaN: none
    return dict(zip(shown["assessment_date"].astype(str), links, strict=True))


def test_the_location_page_links_each_assessment_to_its_report(tmp_path, monkeypatch):
    db = tmp_path / "links.duckdb"
    assert main(["load", "--quiet", "--db", str(db), str(BIRCHWOOD)]) == 0
    monkeypatch.setenv(database.DB_ENV, str(db))
    at = page("location")
    at.query_params[session.LOCATION_ID] = "1-1000000101"
    at.run()
    assert not at.exception
    by_date = history(at)
    assert by_date == {
        "2025-02-12": f"{SITE}1-1000000101/reports/plan-0101-2/overall",
        "2025-02-10": f"{SITE}1-1000000101/reports/plan-0101-1/overall",
        "2019-08-01": f"{REPORTS_API}birchwood-2019",
    }
    # The assessment shown first (the latest) links to its report
    link = ":material/open_in_new: This assessment's report on CQC's website"
    assert f"[{link}]({by_date['2025-02-12']})" in [m.value for m in at.markdown]


def test_the_demo_links_to_no_report(use_demo_db):
    [(location,)] = sql(use_demo_db, """
        SELECT location_id FROM assessments WHERE report_url IS NOT NULL
        ORDER BY location_id LIMIT 1
    """)  # fmt: skip
    at = page("location")
    at.query_params[session.LOCATION_ID] = location
    at.run()
    assert not at.exception
    assert set(history(at).values()) == {None}  # stored, but the services are fictional
    assert any("Demo data: none" in c.value for c in at.caption)
