"""A response cache keyed on everything that determines a model call.

Re-running an unchanged suite then makes no model calls, and a model-played candidate
gives the same reply whenever its conversation so far is the same (common random numbers
across prompt versions). Stored in SQLite beside the runs.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from harness.backends.base import Backend, ModelRequest, ModelResponse


class ResponseCache:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, response TEXT NOT NULL)"
        )
        self._db.commit()

    def get(self, key: str) -> ModelResponse | None:
        row = self._db.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        return ModelResponse.model_validate_json(row[0]) if row else None

    def put(self, key: str, response: ModelResponse) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO responses (key, response) VALUES (?, ?)",
            (key, response.model_dump_json()),
        )
        self._db.commit()

    def close(self) -> None:
        self._db.close()


@dataclass
class CallCounter:
    """How many calls went to the model and how many the cache answered."""

    model_calls: int = 0
    cache_hits: int = 0
    by_role: dict[str, int] = field(default_factory=dict)


class CachedBackend:
    """Wraps a backend: answers from the cache when it can, stores what the model said."""

    def __init__(
        self,
        inner: Backend,
        cache: ResponseCache,
        counter: CallCounter,
        identity: str | None = None,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        # What replies are keyed by: the backend and the server it talks to (registry's
        # `cache_identity`), so one server's replies are never replayed as another's.
        self.identity = identity or inner.name
        self.cache = cache
        self.counter = counter

    async def complete(self, request: ModelRequest) -> ModelResponse:
        key = request.cache_key(self.identity)
        hit = self.cache.get(key)
        if hit is not None:
            self.counter.cache_hits += 1
            return hit.model_copy(update={"cached": True})
        response = await self.inner.complete(request)
        self.counter.model_calls += 1
        self.counter.by_role[request.role] = self.counter.by_role.get(request.role, 0) + 1
        self.cache.put(key, response)
        return response


def cached_keys(path: Path, keys: list[str]) -> set[str]:
    """Which of `keys` the cache at `path` holds, read without writing (no file made)."""
    if not path.is_file() or not keys:
        return set()
    db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = db.execute(f"SELECT key FROM responses WHERE key IN ({marks})", chunk)
            found.update(row[0] for row in rows)
        return found
    finally:
        db.close()
