"""Adaptive concurrency against a rate limit: a suite through a loopback Messages server that
allows R requests a minute (token bucket, 2 s burst) and answers 429 with `retry-after`
above it, with 200 ms latency per answer.

Usage: python benchmarks/bench_ratelimit.py [--per-minute 1200] [--repeats 3] [--concurrency 32]
Prints sustained throughput (answered requests a minute between the first and last answer,
the initial burst excluded) as a share of R, the 429s sent, and interviews finished, with
the adaptive limiter and, for comparison, with the SDK's retries alone (the limiter
replaced by a pass-through). Goal: >= 90% of R, no interview failed.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from benchmarks.loopback_play import scripted_suite
from harness.backends.base import BackendFatalError
from harness.config.suites import load_suite
from harness.simulate import runner
from harness.simulate.progress import QuietProgress
from harness.store.runs import read_manifest
from tests.loopback_ratelimit import RateLimitedServer


def measure(args: argparse.Namespace, adaptive: bool) -> str:
    with (
        tempfile.TemporaryDirectory() as tmp,
        RateLimitedServer(per_minute=args.per_minute, latency_s=0.2) as server,
    ):
        os.environ.update(ANTHROPIC_API_KEY="sk-ant-bench-FAKE", ANTHROPIC_BASE_URL=server.url)
        loaded = load_suite(
            scripted_suite(Path(tmp), "ratelimit-bench", args.repeats, args.concurrency)
        )
        started = time.monotonic()
        failure = ""
        try:
            run_dir = runner.run_suite(loaded, Path(tmp) / "runs", progress=QuietProgress())
            done = read_manifest(run_dir).interviews_done
        except BackendFatalError as err:
            failure = f" (run stopped: {err})"
            done = 0
        wall = time.monotonic() - started
        times = server.accepted
        burst = int(server.capacity)
        steady = times[burst:]
        rate = (len(steady) - 1) / (steady[-1] - steady[0]) * 60 if len(steady) > 1 else 0.0
        planned = len(runner.plan_interviews(loaded))
        return (
            f"{'adaptive' if adaptive else 'SDK retries only'}: {len(times)} answered in "
            f"{wall:.1f} s; sustained {rate:.0f}/min = {rate / args.per_minute:.1%} of R; "
            f"429s sent {server.refused}; interviews finished {done}/{planned}{failure}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-minute", type=float, default=1200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    print(f"R = {args.per_minute:.0f} requests/min, concurrency {args.concurrency}")
    print(measure(args, adaptive=True))
    real = runner.LimitedBackend
    runner.LimitedBackend = lambda inner, limiter: inner  # type: ignore[assignment, misc]
    try:
        print(measure(args, adaptive=False))
    finally:
        runner.LimitedBackend = real  # type: ignore[misc]


if __name__ == "__main__":
    main()
