"""A loopback HTTP server that speaks the Message Batches API, for testing the real SDK offline.

Routes, as the API has them: `POST /v1/messages/batches` (create), `GET
/v1/messages/batches/{id}` (retrieve), `GET /v1/messages/batches/{id}/results` (JSONL, from the
batch's `results_url`), `POST /v1/messages/batches/{id}/cancel`. A batch stays `in_progress`
for `delay_s` after it is created (and for as long as it is held), then ends; its entries are
then answered one by one by the same interviewer responder and prompt-cache model as
`tests/loopback.py`, so caching inside a batch shows in `usage`. Scripted `fates` make entries
errored or expired; results come back in reverse order, so a client must match by custom_id.
The server counts every create and keeps each batch's custom_ids.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.loopback import (
    Body,
    HttpLoopback,
    PromptCacheModel,
    RecordedRequest,
    Reply,
    interviewer_reply,
    message_body,
    point_sdk_at,
)

CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_ROUTE = re.compile(r"^/v1/messages/batches(?:/([^/]+)(?:/(results|cancel))?)?$")


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Batch:
    id: str
    requests: list[Body]
    created: float
    ready_at: float
    held: bool = False
    cancel_at: float | None = None
    ended: float | None = None
    results: list[Body] = field(default_factory=list)

    @property
    def custom_ids(self) -> list[str]:
        return [str(r["custom_id"]) for r in self.requests]


class BatchesServer(HttpLoopback):
    """The Message Batches API on 127.0.0.1 (see the module doc)."""

    def __init__(
        self,
        responder: Callable[[Body], Reply] = interviewer_reply,
        *,
        delay_s: float = 0.0,
    ) -> None:
        self.responder = responder
        self.delay_s = delay_s
        self.fates: deque[str] = deque()  # "errored[:type]" / "expired", one per entry answered
        self.hold_from: int | None = None  # batches created from this index on stay in progress
        self.create_errors: deque[tuple[int, str]] = deque()  # (status, error type) for creates
        self.junk_results = False  # results as a proxy's HTML page instead of JSONL
        self.batches: dict[str, Batch] = {}
        self.order: list[str] = []
        self.requests: list[RecordedRequest] = []
        self.cache = PromptCacheModel()
        self._lock = threading.Lock()
        super().__init__()
        # A client killed mid-request (the kill -9 test) is expected: no traceback on stderr.
        self._httpd.handle_error = lambda request, client_address: None  # type: ignore[method-assign]

    # -- test helpers --------------------------------------------------------------------------

    @property
    def creates(self) -> int:
        with self._lock:
            return len(self.order)

    def created_ids(self) -> list[list[str]]:
        """Each created batch's custom_ids, in creation order."""
        with self._lock:
            return [self.batches[b].custom_ids for b in self.order]

    def release(self) -> None:
        """Let held batches end (after their delay)."""
        with self._lock:
            self.hold_from = None
            for batch in self.batches.values():
                batch.held = False

    # -- the API -------------------------------------------------------------------------------

    def _answer(self, recorded: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append(recorded)
            match = _ROUTE.match(recorded.path)
            if match is None:
                return _error(404, "not_found_error", f"no route {recorded.path}")
            batch_id, action = match.groups()
            if batch_id is None and recorded.method == "POST":
                return self._create(recorded.body or {})
            batch = self.batches.get(batch_id or "")
            if batch is None:
                return _error(404, "not_found_error", f"no batch {batch_id}")
            self._advance(batch)
            if action == "results" and recorded.method == "GET":
                if batch.ended is None:
                    return _error(400, "invalid_request_error", "batch still in progress")
                lines = "".join(json.dumps(r) + "\n" for r in batch.results)
                if self.junk_results:
                    lines = "<html>upstream proxy says hello</html>\n"
                return 200, {"content-type": "application/binary"}, lines.encode()
            if action == "cancel" and recorded.method == "POST":
                batch.cancel_at = batch.cancel_at or time.time()
                batch.held = False
                self._advance(batch)
                return _json(self._batch_json(batch))
            if action is None and recorded.method == "GET":
                return _json(self._batch_json(batch))
            return _error(405, "invalid_request_error", f"{recorded.method} not allowed")

    def _create(self, body: Body) -> tuple[int, dict[str, str], bytes]:
        if self.create_errors:
            status, kind = self.create_errors.popleft()
            return _error(status, kind, f"scripted {kind}")
        requests = body.get("requests")
        if not isinstance(requests, list) or not requests:
            return _error(400, "invalid_request_error", "requests: at least one request")
        ids = [r.get("custom_id") for r in requests]
        if not all(isinstance(i, str) and CUSTOM_ID.match(i) for i in ids):
            return _error(400, "invalid_request_error", f"custom_id must match {CUSTOM_ID.pattern}")
        if len(set(ids)) != len(ids):
            return _error(400, "invalid_request_error", "custom_id values must be unique")
        if not all(isinstance(r.get("params"), dict) for r in requests):
            return _error(400, "invalid_request_error", "params: required")
        now = time.time()
        batch_id = f"msgbatch_loopback_{len(self.order):04d}"
        held = self.hold_from is not None and len(self.order) >= self.hold_from
        batch = Batch(batch_id, requests, now, now + self.delay_s, held=held)
        self.batches[batch_id] = batch
        self.order.append(batch_id)
        return _json(self._batch_json(batch))

    def _advance(self, batch: Batch) -> None:
        """End a batch whose time has come: answer, fail or expire each entry, in order."""
        now = time.time()
        canceled = batch.cancel_at is not None
        if batch.ended is not None or (not canceled and (batch.held or now < batch.ready_at)):
            return
        results = []
        for entry in batch.requests:
            fate = "canceled" if canceled else (self.fates.popleft() if self.fates else "")
            results.append({"custom_id": entry["custom_id"], "result": self._result(entry, fate)})
        batch.results = results[::-1]  # any order: clients match by custom_id
        batch.ended = now

    def _result(self, entry: Body, fate: str) -> Body:
        if fate in ("expired", "canceled"):
            return {"type": fate}
        if fate.startswith("errored"):
            kind = fate.partition(":")[2] or "api_error"
            error = {"type": "error", "error": {"type": kind, "message": f"scripted {kind}"}}
            return {"type": "errored", "error": error}
        params = entry["params"]
        message_id = f"msg_batch_{entry['custom_id'][:12]}"
        return {
            "type": "succeeded",
            "message": message_body(params, self.responder(params), self.cache, message_id),
        }

    def _batch_json(self, batch: Batch) -> Body:
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if batch.ended is None:
            counts["processing"] = len(batch.requests)
        else:
            for r in batch.results:
                counts[r["result"]["type"]] += 1
        status = "ended" if batch.ended else ("canceling" if batch.cancel_at else "in_progress")
        return {
            "id": batch.id,
            "type": "message_batch",
            "processing_status": status,
            "request_counts": counts,
            "created_at": _iso(batch.created),
            "expires_at": _iso(batch.created + timedelta(hours=24).total_seconds()),
            "ended_at": _iso(batch.ended) if batch.ended else None,
            "cancel_initiated_at": _iso(batch.cancel_at) if batch.cancel_at else None,
            "archived_at": None,
            "results_url": (
                f"{self.url}/v1/messages/batches/{batch.id}/results" if batch.ended else None
            ),
        }


def _json(body: Body, status: int = 200) -> tuple[int, dict[str, str], bytes]:
    headers = {"content-type": "application/json", "request-id": "req_loopback_batches"}
    return status, headers, json.dumps(body).encode()


def _error(status: int, kind: str, text: str) -> tuple[int, dict[str, str], bytes]:
    return _json({"type": "error", "error": {"type": kind, "message": text}}, status)


@contextmanager
def running_batches(monkeypatch: pytest.MonkeyPatch, **options: Any) -> Iterator[BatchesServer]:
    """A running batches server with the SDK pointed at it and a fake key."""
    with BatchesServer(**options) as server:
        point_sdk_at(monkeypatch, server.url)
        yield server
