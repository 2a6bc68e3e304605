"""Cost preview against measured cost: `sdi run --dry-run`'s estimate of a suite, then the
same suite run through the loopback Messages-API server (which reports usage as the real API
does, prompt caching with a 1,024-token minimum included), priced from that usage.

Usage: python benchmarks/bench_estimate.py [--repeats 2]
The suite is the seed suite (prompt v1, all shipped personas; interviewer claude-sonnet-4-6,
model candidates claude-haiku-4-5). First run: estimated from priors only. Second run (another
seed, so nothing replays): estimated with reply lengths measured in the first. Goal: the
second estimate within 25% of the measured cost.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import yaml

from benchmarks.loopback_play import DATA, play
from harness.config.suites import load_suite
from harness.contracts import load_transcripts
from harness.simulate.estimate import estimate_suite
from harness.simulate.progress import QuietProgress
from harness.simulate.runner import run_suite
from harness.store.runs import TRANSCRIPTS
from tests.loopback import LoopbackServer, PromptCacheModel

MIN_CACHEABLE = 1024


def _suite(folder: Path, repeats: int, seed: int) -> Path:
    data = yaml.safe_load((DATA / "suites" / "seed.yaml").read_text())
    data.update(
        name="estimate-bench",
        prompts_dir=str(DATA / "prompts" / "interviewer"),
        personas=[str(DATA / "candidates" / "*.yaml")],
        repeats=repeats,
        seed=seed,
        concurrency=8,
    )
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _measured(run_dir: Path) -> tuple[float, int]:
    calls = [c for t in load_transcripts(run_dir / TRANSCRIPTS) for c in t.meta["calls"]]
    return sum(c["cost_usd"] for c in calls if not c["cached"]), len(calls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        for seed, label in ((1, "priors only"), (2, "with the first run's reply lengths")):
            # A fresh server per run: a cold prompt cache, as for runs more than the cache's
            # 5-minute lifetime apart (the seed is not sent, so the requests repeat).
            with LoopbackServer(play) as server:
                server.cache = PromptCacheModel(MIN_CACHEABLE)
                os.environ.update(
                    ANTHROPIC_API_KEY="sk-ant-bench-FAKE", ANTHROPIC_BASE_URL=server.url
                )
                suite = load_suite(_suite(Path(tmp), args.repeats, seed))
                started = time.perf_counter()
                est = estimate_suite(suite, runs)
                took = time.perf_counter() - started
                run_dir = run_suite(suite, runs, progress=QuietProgress())
            spent, calls = _measured(run_dir)
            est_calls = sum(r.tokens["mid"].calls for r in est.roles)
            error = (est.cost_usd.mid - spent) / spent
            inside = est.cost_usd.low <= spent <= est.cost_usd.high
            print(
                f"{label}: {est.to_run} interviews; estimate ${est.cost_usd.mid:.4f} "
                f"(${est.cost_usd.low:.4f}-${est.cost_usd.high:.4f}, {took:.2f} s, "
                f"{est_calls:.0f} calls); measured ${spent:.4f} ({calls} calls); "
                f"error {error:+.1%}; measured inside range: {inside}"
            )
            for r in est.roles:
                print(f"  {r.role}: reply tokens {r.reply_tokens.mid:.0f} ({r.basis})")


if __name__ == "__main__":
    main()
