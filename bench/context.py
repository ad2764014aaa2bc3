"""What every phase is given: the scale, its database, and the typical filter on it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from bench.scale import OUT
from bench.timing import RUNS


@dataclass(frozen=True)
class Context:
    scale: float
    db: Path
    seed: int
    runs: int = RUNS
    out: Path = OUT  # generated data (report files, scratch databases)

    def typical(self) -> dict[str, str]:
        """Typical choices: the largest region, service type and provider (by locations), and
        the location with most assessments with its latest assessment that covers Safe.

        Picked from the data rather than named, so a tiny scale has them too; the largest
        are the heaviest of the typical choices a user makes.
        """
        con = duckdb.connect(str(self.db), read_only=True)
        try:
            one = {name: con.execute(sql).fetchall()[0][0] for name, sql in _TYPICAL.items()}
            one["assessment"] = con.execute(
                "SELECT assessment_id FROM assessments JOIN key_question_results USING"
                " (assessment_id) WHERE location_id = ? AND key_question = 'Safe'"
                " ORDER BY assessment_date DESC LIMIT 1",
                [one["location"]],
            ).fetchall()[0][0]
        finally:
            con.close()
        return one


_TYPICAL = {
    "region": "SELECT region FROM locations GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1",
    "service_type": "SELECT service_type FROM locations GROUP BY ALL"
    " ORDER BY count(*) DESC, 1 LIMIT 1",
    "provider": "SELECT provider_id FROM locations GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1",
    "location": "SELECT location_id FROM assessments JOIN key_question_results USING"
    " (assessment_id) WHERE key_question = 'Safe' GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1",
}
