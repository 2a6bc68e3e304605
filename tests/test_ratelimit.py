"""Adaptive concurrency: AIMD on throttling, pauses from `retry-after` and rate-limit headers,
and a whole run through a rate-limited loopback server that finishes every interview."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from harness.backends.ratelimit import AdaptiveLimiter, reset_in_s, retry_after_s
from harness.config.suites import load_suite
from harness.simulate.progress import QuietProgress
from harness.simulate.runner import run_suite
from harness.store.runs import read_manifest
from tests.conftest import SCRIPTED_PERSONA, write_project
from tests.loopback import FAKE_API_KEY
from tests.loopback_ratelimit import RateLimitedServer


def test_throttling_halves_once_per_retry_after_and_success_grows_back() -> None:
    limiter = AdaptiveLimiter(32)
    limiter.observe(429, {"retry-after": "2"})
    assert limiter.limit == 16
    limiter.observe(429, {"retry-after": "2"})  # the same burst of refusals: counted once
    assert limiter.limit == 16 and limiter.throttled == 2
    assert limiter.pause_until > time.monotonic() + 1.5
    limiter._decreased_at -= 10
    limiter.observe(529, {})
    assert limiter.limit == 8
    for _ in range(8):
        limiter.succeeded()
    assert 8.9 < limiter.limit < 9.1  # about one more slot per round of 8 successes
    for _ in range(10_000):
        limiter.succeeded()
    assert limiter.limit == 32  # never above the suite's concurrency


def test_retry_after_is_capped_and_floor_is_one() -> None:
    limiter = AdaptiveLimiter(2, retry_after_cap_s=5)
    limiter.observe(429, {"Retry-After": "3600"})
    assert limiter.pause_until < time.monotonic() + 5.1
    limiter._decreased_at -= 10_000
    limiter.observe(429, {})
    assert limiter.limit == 1.0


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": "2"}, 2.0),
        ({}, None),
    ],
)
def test_retry_after_headers(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after_s(headers) == seconds


def test_reset_headers_of_both_vendors() -> None:
    now = time.time()
    later = datetime.fromtimestamp(now, UTC) + timedelta(seconds=7)
    assert reset_in_s(later.isoformat().replace("+00:00", "Z"), now) == pytest.approx(7)
    assert reset_in_s("6m0s", now) == 360 and reset_in_s("20ms", now) == pytest.approx(0.02)
    assert reset_in_s("soon", now) is None


def test_exhausted_budget_headers_pause_new_calls() -> None:
    limiter = AdaptiveLimiter(4)
    limiter.observe(
        200, {"x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "2s"}
    )
    assert limiter.pause_until > time.monotonic() + 1.5
    other = AdaptiveLimiter(4)
    other.observe(200, {"anthropic-ratelimit-tokens-remaining": "5000"})
    assert other.pause_until == 0


async def test_slots_never_exceed_the_limit() -> None:
    limiter = AdaptiveLimiter(3)
    peak = 0

    async def call() -> None:
        nonlocal peak
        async with limiter.slot():
            peak = max(peak, limiter.in_flight)
            await asyncio.sleep(0.01)

    await asyncio.gather(*(call() for _ in range(20)))
    assert peak == 3
    limiter.observe(429, {"retry-after": "0"})
    peak = 0
    await asyncio.gather(*(call() for _ in range(10)))
    assert peak == 1  # halved from 3 to 1.5: one call at a time


def test_run_through_a_rate_limit_finishes_every_interview(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with RateLimitedServer(per_minute=900, burst_s=0.5) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_API_KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        suite = write_project(
            tmp_path / "project",
            repeats=6,
            personas=[SCRIPTED_PERSONA],
            extra_suite={
                "interviewer": {"backend": "anthropic", "model": "claude-sonnet-4-6"},
                "concurrency": 16,
            },
        )
        run_dir = run_suite(load_suite(suite), tmp_path / "runs", progress=QuietProgress())
    manifest = read_manifest(run_dir)
    assert manifest.status == "complete" and manifest.interviews_done == 6
    assert server.refused > 0  # the limit was reached, and no call gave up on it
