"""Adaptive concurrency per backend: as many calls in flight as the vendor lets through.

An `AdaptiveLimiter` starts at the suite's `concurrency` and keeps it by AIMD, as TCP does:
a 429 or 529 halves the number of calls allowed in flight (once per `retry-after`, so one
burst of refusals counts once), and each call that succeeds adds 1/limit (about one more
slot per round of calls), never above the suite's `concurrency` nor below one. A refusal's
`retry-after` (capped at `retry_after_cap`) and rate-limit headers that say nothing is left
(`anthropic-ratelimit-*-remaining: 0`, `x-ratelimit-remaining-*: 0`) pause new calls until
the reset; calls already in flight are left to the SDK, which waits out `retry-after` itself.

The SDK backends report every HTTP attempt (retries included) to `observe` through their
`observers`: the Anthropic SDK's middleware, the OpenAI SDK's HTTP client event hook.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime

from harness.backends.base import Backend, ModelRequest, ModelResponse

THROTTLED = frozenset({429, 529})
DEFAULT_RETRY_AFTER_CAP_S = 60.0
_REMAINING = re.compile(r"^(?:anthropic-ratelimit-(.+)-remaining|x-ratelimit-remaining-(.+))$")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}

Observer = Callable[[int, Mapping[str, str]], None]


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    """`retry-after-ms`, else `retry-after` in seconds (an HTTP date is not used by vendors)."""
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                seconds = float(value) * scale
            except ValueError:
                continue
            if math.isfinite(seconds) and seconds >= 0:
                return seconds
    return None


def reset_in_s(value: str, now: float) -> float | None:
    """A reset header as seconds from now: an RFC 3339 time (Anthropic) or a duration such as
    `1s`, `6m0s`, `20ms` (OpenAI)."""
    parts = _DURATION.findall(value)
    if parts and "".join(n + u for n, u in parts) == value.strip():
        return sum(float(n) * _UNIT_S[u] for n, u in parts)
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() - now
    except ValueError:
        return None


@dataclass
class AdaptiveLimiter:
    """Calls in flight for one backend, adapted to what the vendor accepts (see module doc)."""

    maximum: int
    retry_after_cap_s: float = DEFAULT_RETRY_AFTER_CAP_S
    limit: float = 0.0
    in_flight: int = 0
    pause_until: float = 0.0  # time.monotonic()
    throttled: int = 0
    decreases: int = 0
    _decreased_at: float = -math.inf
    _cond: asyncio.Condition | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.limit = float(self.maximum)

    @property
    def condition(self) -> asyncio.Condition:
        if self._cond is None:  # made on first use, inside the running loop
            self._cond = asyncio.Condition()
        return self._cond

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """One HTTP attempt's outcome: throttling shrinks the window; headers may pause it."""
        now = time.monotonic()
        lowered = {k.lower(): v for k, v in headers.items()}
        if status in THROTTLED:
            self.throttled += 1
            wait = min(retry_after_s(lowered) or 1.0, self.retry_after_cap_s)
            self.pause_until = max(self.pause_until, now + wait)
            if now - self._decreased_at >= max(wait, 0.5):
                self.limit = max(1.0, self.limit / 2)
                self._decreased_at = now
                self.decreases += 1
            return
        for name, value in lowered.items():
            match = _REMAINING.match(name)
            if not match or value.strip() != "0":
                continue
            kind = match.group(1) or match.group(2)
            reset = lowered.get(
                f"anthropic-ratelimit-{kind}-reset"
                if match.group(1)
                else f"x-ratelimit-reset-{kind}"
            )
            until = reset_in_s(reset, time.time()) if reset else None
            if until is not None and until > 0:
                self.pause_until = max(self.pause_until, now + min(until, self.retry_after_cap_s))

    def succeeded(self) -> None:
        """Additive increase: about one more slot per round of successful calls."""
        self.limit = min(float(self.maximum), self.limit + 1.0 / self.limit)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        cond = self.condition
        async with cond:
            while True:
                wait = self.pause_until - time.monotonic()
                if wait <= 0 and self.in_flight < int(self.limit):
                    break
                with suppress(TimeoutError):
                    await asyncio.wait_for(cond.wait(), timeout=wait if wait > 0 else None)
            self.in_flight += 1
        try:
            yield
        finally:
            async with cond:
                self.in_flight -= 1
                cond.notify_all()


class LimitedBackend:
    """A backend whose calls take a slot of an `AdaptiveLimiter`; the limiter hears every
    HTTP attempt of the inner backend through its `observers`."""

    def __init__(self, inner: Backend, limiter: AdaptiveLimiter) -> None:
        self.inner = inner
        self.name = inner.name
        self.limiter = limiter
        observers: list[Observer] | None = getattr(inner, "observers", None)
        if observers is not None:
            observers.append(limiter.observe)

    async def complete(self, request: ModelRequest) -> ModelResponse:
        async with self.limiter.slot():
            response = await self.inner.complete(request)
        self.limiter.succeeded()
        return response
