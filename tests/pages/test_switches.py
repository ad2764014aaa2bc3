"""The sidebar's service group filter and its two switches, on API records of two locations.

Birchwood (this project's fixture: two service groups, statement scores) as it is, and a copy
of it as a second location, deregistered on 1 June 2025, whose Safeguarding score CQC
carried forward ("Not Assessed").
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from ingest.load import load
from tests.conftest import FIXTURES
from tests.helpers import page
from ui import session

BIRCHWOOD = FIXTURES / "api" / "birchwood-two-service-groups.json"
COPY_ID = "1-1000000909"


@pytest.fixture
def two_locations(db_path: Path) -> Path:
    record = json.loads(BIRCHWOOD.read_text(encoding="utf-8"))
    other = copy.deepcopy(record)
    other |= {
        "locationId": COPY_ID,
        "name": "Birchwood Annexe",
        "registrationStatus": "Deregistered",
        "deregistrationDate": "2025-06-01",
    }
    safe = other["assessment"][0]["ratings"]["asgRatings"][0]["keyQuestionRatings"][0]
    [safeguarding] = [t for t in safe["topicareas"] if t["name"] == "Safeguarding"]
    safeguarding["status"] = "Not Assessed"
    summary = load(
        [
            ("birchwood.json", json.dumps(record).encode()),
            ("annexe.json", json.dumps(other).encode()),
        ],
        db_path,
    )
    assert not summary.rejected, summary.line
    return db_path


def captions(at) -> str:
    return "\n".join(c.value for c in at.caption)


def test_carried_forward_scores_are_left_out_and_said_until_switched_on(two_locations):
    at = page("statements").run()
    assert not at.exception
    assert "Left out: 1 carried-forward statement score" in captions(at)
    at.toggle(key=session.CARRIED_FORWARD).set_value(True).run()
    assert not at.exception
    assert "carried-forward" not in captions(at)


def test_a_link_with_the_switch_on_opens_with_it_on(two_locations):
    at = page("statements")
    at.query_params[session.CARRIED_FORWARD] = "true"
    at.run()
    assert not at.exception
    assert at.toggle(key=session.CARRIED_FORWARD).value is True
    assert "carried-forward" not in captions(at)


def test_current_pictures_leave_the_deregistered_location_out_and_say_so(two_locations):
    at = page("overview").run()
    assert not at.exception
    assert "1 deregistered location" in captions(at)
    at.toggle(key=session.DEREGISTERED).set_value(True).run()
    assert not at.exception
    assert "deregistered" not in captions(at)


def test_service_groups_are_offered_and_the_location_page_says_deregistered(two_locations):
    at = page("location")
    at.query_params[session.LOCATION_ID] = COPY_ID
    at.run()
    assert not at.exception
    assert at.multiselect(key=session.SERVICE_GROUP).options == ["Care Homes", "Homecare"]
    [warning] = [w.value for w in at.warning if "Deregistered" in w.value]
    assert "on 1 Jun 2025" in warning
