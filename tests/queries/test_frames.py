"""load_frames on a real DuckDB file, the dtypes it gives and the sequence columns it adds."""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest

from ingest.schema import ddl
from queries import frames as frames_module
from queries.frames import ERA, KEY_QUESTION, RATING, Frames, load_frames
from tests.queries.builders import build, kq

D = dt.date


@pytest.fixture
def loaded(tmp_path) -> Frames:
    return _loaded(tmp_path)


def _loaded(tmp_path) -> Frames:
    """Location 1-L: A1 on 2024-06-01 scores Safe 3+3 and rates Caring Good without scores;
    A2 on 2025-03-01 scores Safe 4+3."""
    con = duckdb.connect(str(tmp_path / "t.duckdb"))
    for statement in ddl():
        con.execute(statement)
    con.execute("INSERT INTO providers VALUES ('1-P', '1-P', 'Provider P', 'api')")
    con.execute(
        "INSERT INTO locations (location_id, location_name, provider_id, service_type, region,"
        " source) VALUES ('1-L', 'Home L', '1-P', 'Care home', 'London', 'api')"
    )
    for aid, day in [("A1", "2024-06-01"), ("A2", "2025-03-01")]:
        era = "SAF by evidence category" if aid == "A1" else "SAF by statement"
        con.execute(
            "INSERT INTO assessments (assessment_id, location_id, assessment_date, published_date,"
            " era, source, content_hash, loaded_at) VALUES (?, '1-L', ?, ?, ?, 'api', 'h', now())",
            [aid, day, day, era],
        )
    con.executemany(
        "INSERT INTO key_question_results (assessment_id, key_question, rating, published_date,"
        " stated_score, computed_score, points, statements_scored)"
        " VALUES (?, ?, ?, NULL, ?, ?, ?, ?)",
        [
            ["A1", "Safe", "Good", 75, 75, 6, 2],  # 6 / 8 = 75%
            ["A1", "Caring", "Good", None, None, None, None],
            ["A2", "Safe", "Outstanding", None, 88, 7, 2],  # 7 / 8 = 87.5%, published 88
        ],
    )
    con.executemany(
        "INSERT INTO statement_scores (assessment_id, key_question, position, statement_id,"
        " statement, score, evidence) VALUES (?, 'Safe', ?, ?, ?, ?, 'evidence text')",
        [
            ["A1", 1, 1, "Learning culture", 3],
            ["A1", 2, 2, "Safe systems, pathways and transitions", 3],
            ["A2", 1, 1, "Learning culture", 4],
            ["A2", 2, 2, "Safe systems, pathways and transitions", 3],
        ],
    )
    frames = load_frames(con)
    con.close()
    return frames


def test_load_frames_reads_both_views_without_evidence(loaded):
    scores, key_questions = loaded.scores.collect(), loaded.key_questions.collect()
    assert scores.height == 4 and key_questions.height == 3
    assert "evidence" not in scores.columns
    assert sorted(scores["score"].to_list()) == [3, 3, 3, 4]
    # stated 75 for A1, none for A2 so the computed 88 stands in
    safe = key_questions.filter(pl.col("key_question") == "Safe").sort("assessment_id")
    assert safe["key_question_score"].to_list() == [75, 88]


def test_load_frames_reads_a_table_in_parts_to_the_same_frames(loaded, tmp_path, monkeypatch):
    monkeypatch.setattr(frames_module, "FETCH_ROWS", 1)  # a part per row
    (tmp_path / "parts").mkdir()
    parts = _loaded(tmp_path / "parts")
    for name in ("scores", "key_questions"):
        whole, parted = getattr(loaded, name).collect(), getattr(parts, name).collect()
        assert parted.schema == whole.schema
        assert parted.equals(whole)


def test_load_frames_dtypes(loaded):
    for frame in (loaded.scores.collect(), loaded.key_questions.collect()):
        assert frame.schema["key_question"] == KEY_QUESTION
        assert frame.schema["key_question_rating"] == RATING
        assert frame.schema["era"] == ERA
        for name in ("location_name", "provider_name", "service_type", "region", "source"):
            assert frame.schema[name] == pl.Categorical(), name
        for name in ("location_id", "provider_id", "assessment_id", "postcode"):
            assert frame.schema[name] == pl.Categorical(), name
        assert frame.schema["assessment_date"] == pl.Date
        assert frame.schema["next_date"] == pl.Date
    assert loaded.scores.collect_schema()["score"] == pl.Int32


def test_sequence_columns_link_consecutive_assessments(loaded):
    key_questions = loaded.key_questions.collect().sort("assessment_id", "key_question")
    columns = ["assessment_id", "key_question", "next_date", "previous_assessment_id"]
    assert key_questions.select(columns).rows() == [
        ("A1", "Safe", D(2025, 3, 1), None),  # A2 follows A1 for Safe
        ("A1", "Caring", None, None),  # Caring assessed once: its latest
        ("A2", "Safe", None, "A1"),
    ]
    a2 = key_questions.row(2, named=True)
    assert (a2["previous_date"], a2["previous_rating"], a2["previous_score"]) == (
        D(2024, 6, 1),
        "Good",
        75,
    )
    scores = loaded.scores.collect().sort("assessment_id", "statement_id")
    # A2's statement 1 was 3 in A1, statement 2 was 3: previous_score; A1 has none before it
    assert scores.select("previous_score").to_series().to_list() == [None, None, 3, 3]
    assert scores["next_date"].to_list() == [D(2025, 3, 1)] * 2 + [None] * 2


def test_scored_sequence_skips_ratings_only_rows():
    frames = build(
        kq("L", "2024-06-01", "Safe", [3, 3]),
        kq("L", "2024-09-01", "Safe", rating="Good", assessment="file"),  # ratings only
        kq("L", "2025-03-01", "Safe", [4, 3]),
    )
    key_questions = frames.key_questions.collect().sort("assessment_date")
    assert key_questions.schema["next_scored_date"] == pl.Date
    # every row: 2024-06 -> the file's 2024-09 -> 2025-03; scored rows: 2024-06 -> 2025-03
    assert key_questions["next_date"].to_list() == [D(2024, 9, 1), D(2025, 3, 1), None]
    assert key_questions["next_scored_date"].to_list() == [D(2025, 3, 1), None, None]
    # the scores frame holds scored rows only, so its sequence skips the file as well
    scores = frames.scores.collect().sort("assessment_date", "statement_id")
    assert scores["next_date"].to_list() == [D(2025, 3, 1)] * 2 + [None] * 2
    assert scores["previous_date"].to_list() == [None] * 2 + [D(2024, 6, 1)] * 2
    assert scores["previous_score"].to_list() == [None, None, 3, 3]


def test_assessment_key_is_one_integer_per_assessment_in_both_frames(loaded):
    frames = (loaded.scores.collect(), loaded.key_questions.collect())
    assert all(frame.schema["assessment_key"] == pl.UInt32 for frame in frames)
    by_frame = [dict(f.select("assessment_id", "assessment_key").unique().rows()) for f in frames]
    assert by_frame[0] == by_frame[1]  # the same key for A1 (and A2) in both frames
    assert sorted(by_frame[0]) == ["A1", "A2"] and len(set(by_frame[0].values())) == 2


def test_location_key_is_one_integer_per_location_in_both_frames():
    frames = build(kq("B", "2024-01-01", "Safe", [3]), kq("A", "2024-01-01", "Caring", [2]),
                   kq("A", "2025-01-01", "Safe", rating="Good"))  # fmt: skip
    for frame in (frames.scores.collect(), frames.key_questions.collect()):
        assert frame.schema["location_key"] == pl.UInt32
        assert dict(frame.select("location_id", "location_key").unique().rows()) == {"A": 1, "B": 2}


def test_builder_matches_load_frames(loaded):
    built = build(kq("1-L", "2024-06-01", "Safe", [3, 3]))
    assert built.scores.collect_schema() == loaded.scores.collect_schema()
    assert built.key_questions.collect_schema() == loaded.key_questions.collect_schema()


def test_load_frames_on_an_empty_database(tmp_path):
    con = duckdb.connect(str(tmp_path / "empty.duckdb"))
    for statement in ddl():
        con.execute(statement)
    frames = load_frames(con)
    assert frames.scores.collect().height == 0
    assert frames.key_questions.collect_schema()["key_question"] == KEY_QUESTION


def test_rollup_order_ranks_rows_by_provider_key_question_score_and_location_name():
    frames = build(
        kq("L1", "2025-01-01", "Safe", [3, 3], provider="P2"),
        kq("L2", "2025-01-01", "Safe", [2, 2], provider="P2"),
        kq("L3", "2025-01-01", "Caring", [2, 2], provider="P1"),
        kq("L4", "2025-01-01", "Safe", [2, 2], provider="P1"),
        kq("L0", "2025-01-01", "Safe", [2, 2], provider="P1"),
    )
    key_questions = frames.key_questions.collect()
    assert key_questions.schema["rollup_order"] == pl.UInt32
    ranked = key_questions.sort("rollup_order")
    # P1 Safe: L0 and L4 tie at 50%, by name (Home L0 first); P1 Caring; P2 Safe 50% then 75%
    assert ranked["location_id"].to_list() == ["L0", "L4", "L3", "L2", "L1"]
    assert ranked["rollup_order"].to_list() == [0, 1, 2, 3, 4]
