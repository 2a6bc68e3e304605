"""A loopback Messages-API server with a rate limit: a token bucket of `per_minute` requests
(refilled continuously, `burst_s` seconds' worth at most), answering 429 `rate_limit_error`
with `retry-after` (whole seconds, as the API sends it) when the bucket is empty, and the
`anthropic-ratelimit-requests-*` headers on every reply. `latency_s` delays each answer."""

from __future__ import annotations

import math
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.loopback import LoopbackServer, RecordedRequest, error


class RateLimitedServer(LoopbackServer):
    def __init__(
        self, *args: Any, per_minute: float, burst_s: float = 2.0, latency_s: float = 0.0
    ) -> None:
        super().__init__(*args)
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate * burst_s)
        self.tokens = self.capacity
        self.latency_s = latency_s
        self.stamp = time.monotonic()
        self.accepted: list[float] = []  # monotonic times of answered requests
        self.refused = 0
        self._bucket = threading.Lock()
        # a client that gives up mid-answer is expected here: no traceback on stderr
        self._httpd.handle_error = lambda request, address: None  # type: ignore[method-assign]

    def _take(self) -> tuple[bool, float]:
        with self._bucket:
            now = time.monotonic()
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                self.accepted.append(now)
                return True, self.tokens
            self.refused += 1
            return False, (1.0 - self.tokens) / self.rate

    def _answer(self, recorded: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        if self.latency_s:
            time.sleep(self.latency_s)
        ok, value = self._take()
        reset = (datetime.now(UTC) + timedelta(seconds=1 / self.rate)).isoformat()
        limits = {
            "anthropic-ratelimit-requests-limit": str(round(self.rate * 60)),
            "anthropic-ratelimit-requests-remaining": str(math.floor(value)) if ok else "0",
            "anthropic-ratelimit-requests-reset": reset,
        }
        if not ok:
            with self._lock:
                self.requests.append(recorded)
            reply = error(
                429, "rate_limit_error", "rate limited", retry_after=str(math.ceil(value))
            )
            return (
                429,
                {"content-type": "application/json", **reply.headers, **limits},
                (b'{"type":"error","error":{"type":"rate_limit_error","message":"rate limited"}}'),
            )
        status, headers, payload = super()._answer(recorded)
        return status, {**headers, **limits}, payload
