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
        """The typical selection: the largest region and the largest service type by rows.

        Picked from the data rather than named, so a tiny scale has rows in it too; the
        largest are the heaviest of the typical choices a user makes.
        """
        con = duckdb.connect(str(self.db), read_only=True)
        try:
            region, service_type, provider = (
                con.execute(sql).fetchall()[0][0]
                for sql in (
                    "SELECT region FROM locations GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1",
                    "SELECT service_type FROM locations GROUP BY ALL"
                    " ORDER BY count(*) DESC, 1 LIMIT 1",
                    "SELECT provider_id FROM locations GROUP BY ALL"
                    " ORDER BY count(*) DESC, 1 LIMIT 1",
                )
            )
        finally:
            con.close()
        return {"region": region, "service_type": service_type, "provider": provider}
