"""Fuzzing the readers: any input ends in records or a clean RejectedFile, never a crash."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import readers, reference
from ingest.records import RejectedFile
from tests.conftest import REPORTS

ROWAN_LINES = (REPORTS / "rowan-court-three-key-questions.txt").read_text("utf-8").split("\n")

# Lines that mean something to the parser, to mix into mutated reports.
MEANINGFUL = st.sampled_from(
    [f"Score: {n}" for n in ("1", "4", "9", "-1", "", "2 - some shortfalls", "3.0")]
    + list(reference.KEY_QUESTIONS)
    + list(reference.RATINGS)
    + [s.name for s in reference.STATEMENTS[::5]]
    + ["Updated 1 May 2025", "Updated 31 June 2025", "This service scored 77 (out of 100)",
       "Report from 2 December 2024 assessment", "Overall: Good", "Provided and run by:", "", "•"]
)  # fmt: skip

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def read_or_reject(data: bytes) -> list[dict] | None:
    try:
        return readers.read("fuzz.txt", data)[1]
    except RejectedFile as err:
        assert str(err) and "\n" not in str(err)
        return None


def check_invariants(records: list[dict] | None) -> None:
    for record in records or []:
        for kq in record.get("key_questions", []):  # provider records have none
            assert kq["name"] in reference.KEY_QUESTIONS
            scores = [s["score"] for s in kq["statements"]]
            assert all(1 <= s <= 4 for s in scores)
            if scores:
                assert kq["computed_score"] == reference.rounded_percentage(
                    sum(scores), len(scores)
                )


@SETTINGS
@given(st.binary(max_size=4096))
def test_any_bytes(data):
    read_or_reject(data)


@SETTINGS
@given(st.text(max_size=2000))
def test_any_text(text):
    check_invariants(read_or_reject(text.encode("utf-8", "surrogatepass")))


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.integers(0, len(ROWAN_LINES) - 1),
            st.sampled_from(["delete", "duplicate", "replace", "insert"]),
            MEANINGFUL,
        ),
        max_size=12,
    )
)
def test_mutated_reports(mutations):
    lines = list(ROWAN_LINES)
    for index, op, text in mutations:
        index %= max(len(lines), 1)
        if op == "delete" and lines:
            del lines[index]
        elif op == "duplicate" and lines:
            lines.insert(index, lines[index])
        elif op == "replace" and lines:
            lines[index] = text
        else:
            lines.insert(index, text)
    check_invariants(read_or_reject("\n".join(lines).encode()))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(
        st.sampled_from(
            ["locationId", "providerId", "name", "postalCode", "region", "assessment", "ratings",
             "asgRatings", "keyQuestionRatings", "topicareas", "qualityStatementscore",
             "percentageScore", "assessmentDate", "rating", "currentRatings", "overall"]
        ),
        inner,
        max_size=6,
    ),
    max_leaves=30,
)  # fmt: skip


@SETTINGS
@given(JSON_VALUES)
def test_any_json_shaped_like_an_api_record(value):
    import json

    check_invariants(read_or_reject(json.dumps(value).encode()))
