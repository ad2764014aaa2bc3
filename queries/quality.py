"""Data quality: what the numbers rest on and where sources disagree with the framework."""

from __future__ import annotations

import polars as pl

from ingest.reference import STATEMENTS_PER_KEY_QUESTION
from queries.current import selected
from queries.filters import ALL, MIN_N, Filters
from queries.groups import By, assessments, keys, low_n

_FRAMEWORK = pl.col("key_question").replace_strict(
    STATEMENTS_PER_KEY_QUESTION, return_dtype=pl.Int32
)
_ASSESSMENT = ("location_id", "location_name", "assessment_id", "assessment_date", "key_question")
_ORDER = ("assessment_date", "location_key", "key_question")  # location_key sorts as location_id


def score_mismatches(key_questions: pl.LazyFrame, *, filters: Filters = ALL) -> pl.DataFrame:
    """Key questions whose stated percentage differs from the computed one.

    Columns: location_id, location_name, assessment_id, assessment_date, key_question, stated_score,
    computed_score, difference (stated - computed), points, statements_scored, source.
    """
    difference = pl.col("stated_score") - pl.col("computed_score")
    return (
        selected(key_questions, filters)
        .filter(difference != 0)
        .select(
            *_ASSESSMENT,
            "stated_score",
            "computed_score",
            difference.alias("difference"),
            "points",
            "statements_scored",
            "source",
            "location_key",
        )
        .sort(_ORDER)
        .drop("location_key")
        .collect()
    )


def unrecognised_statements(scores: pl.LazyFrame, *, filters: Filters = ALL) -> pl.DataFrame:
    """Statement names not in the framework, most assessments first.

    Columns: key_question, statement, rows, n (assessments), first_date, last_date.
    """
    date = pl.col("assessment_date")
    return (
        selected(scores, filters)
        .filter(pl.col("statement_id").is_null())
        .group_by("key_question", "statement")
        .agg(
            rows=pl.len(),
            n=assessments(["key_question", "statement"], "statement_id"),
            first_date=date.min(),
            last_date=date.max(),
        )
        .sort(["n", "key_question", "statement"], descending=[True, False, False])
        .collect()
    )


def incomplete_key_questions(
    key_questions: pl.LazyFrame, *, filters: Filters = ALL
) -> pl.DataFrame:
    """Scored key questions with fewer statements than the framework has.

    Columns: location_id, location_name, assessment_id, assessment_date, key_question,
    statements_scored, framework_statements, missing.
    """
    return (
        selected(key_questions, filters)
        .with_columns(framework_statements=_FRAMEWORK)
        .filter(pl.col("statements_scored") < pl.col("framework_statements"))
        .select(
            *_ASSESSMENT,
            "statements_scored",
            "framework_statements",
            "location_key",
            missing=pl.col("framework_statements") - pl.col("statements_scored"),
        )
        .sort(_ORDER)
        .drop("location_key")
        .collect()
    )


def statement_coverage(
    key_questions: pl.LazyFrame, *, filters: Filters = ALL, min_n: int = MIN_N
) -> pl.DataFrame:
    """How many statements scored key questions have.

    Columns: key_question, statements_scored, framework_statements, complete, n (assessments), share
    (of the key question's scored assessments), low_n.
    """
    return (
        selected(key_questions, filters)
        .filter(pl.col("statements_scored").is_not_null())
        .group_by("key_question", "statements_scored")
        .agg(n=pl.len())
        .with_columns(
            framework_statements=_FRAMEWORK,
            share=pl.col("n") / pl.col("n").sum().over("key_question"),
        )
        .with_columns(
            complete=pl.col("statements_scored") >= pl.col("framework_statements"),
            low_n=low_n(min_n),
        )
        .select(
            "key_question",
            "statements_scored",
            "framework_statements",
            "complete",
            "n",
            "share",
            "low_n",
        )
        .sort("key_question", "statements_scored")
        .collect()
    )


def era_mix(
    frame: pl.LazyFrame, *, filters: Filters = ALL, by: By = None, min_n: int = MIN_N
) -> pl.DataFrame:
    """Eras behind each trend line (scored rows of either frame).

    Columns: [by], era, n (assessments), first_date, last_date, eras (in the line), mixed (more than
    one: show a caveat), low_n.
    """
    group, date = keys(by), pl.col("assessment_date")
    grain = "statement_id" if "statement_id" in frame.collect_schema() else "key_question"
    return (
        selected(frame, filters)
        .filter(pl.col("key_question_score").is_not_null())
        .group_by(*group, "era")
        .agg(n=assessments([*group, "era"], grain), first_date=date.min(), last_date=date.max())
        .with_columns(eras=pl.len().over(group) if group else pl.len())
        .with_columns(mixed=pl.col("eras") > 1, low_n=low_n(min_n))
        .sort(*group, "era")
        .collect()
    )
