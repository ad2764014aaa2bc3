"""Compare providers' national picture: a chosen provider's locations placed among every
location's current key question percentage, checked against SQL."""

from __future__ import annotations

import pytest

from tests.helpers import keyed, page, sql
from tests.pages.oracle import CURRENT
from ui import session

# The scored picture: each location's latest assessment with a key question percentage.
SCORED = CURRENT.replace(
    "FROM key_questions", "FROM key_questions WHERE key_question_score IS NOT NULL"
)


def placed(db, provider: str, region: str | None = None) -> list[tuple]:
    """The provider's current percentages, each with the nation's n, median, and the counts
    below and level with it: the nation is every provider's locations (of `region`)."""
    return sql(db, f"""
        WITH nation AS (SELECT * FROM ({SCORED}) WHERE $region IS NULL OR region = $region)
        SELECT t.key_question, t.location_id, t.key_question_score,
            (SELECT count(*) FROM nation o WHERE o.key_question = t.key_question),
            (SELECT median(o.key_question_score) FROM nation o
             WHERE o.key_question = t.key_question),
            (SELECT count(*) FROM nation o WHERE o.key_question = t.key_question
             AND o.key_question_score < t.key_question_score),
            (SELECT count(*) FROM nation o WHERE o.key_question = t.key_question
             AND o.key_question_score = t.key_question_score)
        FROM nation t WHERE t.provider_id = $provider
    """, {"provider": provider, "region": region})  # fmt: skip


SHOWN = ("key_question", "location_id", "key_question_score", "n", "national_median")


def shown(at) -> list[tuple]:
    frame = keyed(at, session.COMPARE_NATIONAL).value
    return [
        (*row, int(below), int(equal))
        for *row, below, equal in frame[[*SHOWN, "below", "equal"]].itertuples(index=False)
    ]


def test_a_providers_locations_on_the_national_picture_follow_the_sidebar(use_demo_db):
    db = use_demo_db
    (provider, name), *_ = sql(db, f"""
        SELECT provider_id, provider_name FROM ({SCORED}) GROUP BY ALL
        ORDER BY count(DISTINCT location_id) DESC, provider_id LIMIT 1
    """)  # fmt: skip
    at = page("compare").run()
    at.multiselect(key=session.COMPARE_PROVIDERS).select(provider).run()
    assert not at.exception
    assert at.selectbox(key=session.COMPARE_NATIONAL_PROVIDER).value == provider
    expected = placed(db, provider)
    assert len(expected) >= 5
    assert sorted(shown(at)) == sorted(expected)
    frame = keyed(at, session.COMPARE_NATIONAL).value
    # percentile_rank = 100 x (below + half of the level ones) / n
    for _, row in frame.iterrows():
        assert row["percentile_rank"] == pytest.approx(
            100 * (row["below"] + row["equal"] / 2) / row["n"]
        )
    # The national bins count the same n per key question.
    bins = keyed(at, session.COMPARE_NATIONAL_BINS).value
    totals = bins.groupby("key_question", observed=True)["count"].sum().to_dict()
    assert totals == dict(zip(frame["key_question"], frame["n"], strict=False))

    # A region in the sidebar narrows the nation to it (the provider's locations too).
    ((region,),) = sql(db, f"""
        SELECT region FROM ({SCORED}) WHERE provider_id = ? GROUP BY 1
        ORDER BY count(*) DESC, 1 LIMIT 1
    """, [provider])  # fmt: skip
    at.multiselect(key="region").select(region).run()
    assert not at.exception
    expected = placed(db, provider, region)
    assert expected and sorted(shown(at)) == sorted(expected)
    assert any(f"{name}'s locations in the same bins" in c.value for c in at.caption)


def test_the_national_picture_offers_only_the_chosen_providers(use_demo_db):
    db = use_demo_db
    two = sql(db, f"""
        SELECT provider_id FROM ({SCORED}) GROUP BY 1
        ORDER BY count(DISTINCT location_id) DESC, 1 LIMIT 2
    """)  # fmt: skip
    at = page("compare").run()
    for (provider,) in two:
        at.multiselect(key=session.COMPARE_PROVIDERS).select(provider)
    at.run()
    picker = at.selectbox(key=session.COMPARE_NATIONAL_PROVIDER)
    assert picker.options == [at.multiselect(key=session.COMPARE_PROVIDERS).format_func(p)
                              for (p,) in two]  # fmt: skip
    picker.set_value(two[1][0]).run()
    assert not at.exception
    ids = set(keyed(at, session.COMPARE_NATIONAL).value["location_id"])
    assert ids == {row[1] for row in placed(db, two[1][0])}
