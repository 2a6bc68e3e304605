"""The SQLite index of runs (`<runs-dir>/index.sqlite`), behind `sdi runs list` and `show`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pydantic import BaseModel

from harness.store.manifest import Manifest

INDEX_FILE = "index.sqlite"


class RunRow(BaseModel):
    run_id: str
    suite: str
    status: str
    started_at: str
    ended_at: str | None
    prompts: str
    interviews: int
    synthetic: bool
    cost_usd: float
    path: str


class RunIndex:
    def __init__(self, runs_dir: Path) -> None:
        runs_dir.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(runs_dir / INDEX_FILE, timeout=30)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS runs (run_id TEXT PRIMARY KEY, suite TEXT, status TEXT, "
            "started_at TEXT, ended_at TEXT, prompts TEXT, interviews INTEGER, synthetic INTEGER, "
            "cost_usd REAL, path TEXT)"
        )
        self._db.commit()

    def record(self, manifest: Manifest, run_dir: Path) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                manifest.run_id,
                manifest.suite_name,
                manifest.status,
                manifest.started_at,
                manifest.ended_at,
                ",".join(p.id for p in manifest.prompts),
                manifest.interviews_done,
                int(manifest.synthetic),
                manifest.cost_usd,
                str(run_dir),
            ),
        )
        self._db.commit()

    def list(self) -> list[RunRow]:
        cursor = self._db.execute("SELECT * FROM runs ORDER BY started_at DESC")
        names = [d[0] for d in cursor.description]
        return [RunRow.model_validate(dict(zip(names, row, strict=True))) for row in cursor]

    def close(self) -> None:
        self._db.close()
