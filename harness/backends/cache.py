"""A response cache keyed on everything that determines a model call.

Re-running an unchanged suite then makes no model calls, and a model-played candidate
gives the same reply whenever its conversation so far is the same (common random numbers
across prompt versions). Stored in SQLite beside the runs.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path

from harness.backends.base import Backend, ModelRequest, ModelResponse


class ResponseCache:
    """Reads on the caller's thread (WAL readers never wait); writes in a thread of their own.

    A write is committed (and fsynced) before `put` returns, as before, but the commit runs
    off the event loop and takes every write queued meanwhile with it (group commit): under
    concurrency one fsync serves many calls, and the loop never waits on the disk.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, response TEXT NOT NULL)"
        )
        self._db.commit()
        self._pending: list[tuple[str, str, asyncio.Future[None]]] = []
        self._writing: asyncio.Task[None] | None = None
        self._writer: sqlite3.Connection | None = None
        self._write_lock = threading.Lock()

    def get(self, key: str) -> ModelResponse | None:
        row = self._db.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        return ModelResponse.model_validate_json(row[0]) if row else None

    async def put(self, key: str, response: ModelResponse) -> None:
        """Store a reply; returns once it is committed to disk."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((key, response.model_dump_json(), done))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.create_task(self._drain())
        await done

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await asyncio.to_thread(self._commit, [(k, v) for k, v, _ in batch])
            except asyncio.CancelledError:
                for _, _, done in batch:
                    done.cancel()
                raise
            except Exception as err:  # the callers see the failure, not a lost write
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(err)
                continue
            for _, _, done in batch:
                if not done.done():
                    done.set_result(None)

    def _commit(self, rows: list[tuple[str, str]]) -> None:
        with self._write_lock:
            if self._writer is None:  # one connection, used by one writer thread at a time
                self._writer = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self._writer.executemany(
                "INSERT OR REPLACE INTO responses (key, response) VALUES (?, ?)", rows
            )
            self._writer.commit()

    def close(self) -> None:
        with self._write_lock:  # a commit still running in its thread finishes first
            if self._writer is not None:
                self._writer.close()
                self._writer = None
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
        *,
        share_in_flight: bool = True,
    ) -> None:
        self.inner = inner
        self.name = inner.name
        # What replies are keyed by: the backend and the server it talks to (registry's
        # `cache_identity`), so one server's replies are never replayed as another's.
        self.identity = identity or inner.name
        self.cache = cache
        self.counter = counter
        self._in_flight: dict[str, asyncio.Future[ModelResponse]] = {}
        # Off for a batching backend: it shares identical calls itself, and must see every
        # caller waiting to know when a round is complete.
        self.share_in_flight = share_in_flight

    async def complete(self, request: ModelRequest) -> ModelResponse:
        key = request.cache_key(self.identity)
        hit = self.cache.get(key)
        if hit is None and self.share_in_flight and key in self._in_flight:
            # The same call is already on its way (two prompt versions' candidates at the same
            # point, say): share its answer rather than pay for, and sample, it twice.
            hit = await self._shared(self._in_flight[key])
        if hit is not None:
            self.counter.cache_hits += 1
            return hit.model_copy(update={"cached": True})
        pending: asyncio.Future[ModelResponse] = asyncio.get_running_loop().create_future()
        if self.share_in_flight:
            self._in_flight[key] = pending
        try:
            response = await self.inner.complete(request)
            self.counter.model_calls += 1
            self.counter.by_role[request.role] = self.counter.by_role.get(request.role, 0) + 1
            await self.cache.put(key, response)
        except BaseException:
            pending.cancel()  # whoever shares it makes the call itself
            raise
        finally:
            if self._in_flight.get(key) is pending:
                del self._in_flight[key]
        pending.set_result(response)
        return response

    @staticmethod
    async def _shared(pending: asyncio.Future[ModelResponse]) -> ModelResponse | None:
        """The answer of the identical call in flight, or None if that call did not finish."""
        try:
            return await asyncio.shield(pending)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise  # this caller was cancelled, not the call it waited for
            return None


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
