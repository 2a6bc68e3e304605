"""How many Message Batches a batched run takes, and what it costs, on the loopback server.

Usage: python benchmarks/bench_batches.py [--repeats 2] [--delay 0.05]
Runs suites/smoke.yaml (v1 against every persona) with both roles on the anthropic backend and
`--batch`, against tests/loopback_batches.py (the real Message Batches HTTP API on 127.0.0.1,
answering as the Messages loopback does: a scripted interviewer, and for model-played personas a
scripted candidate). Prints the number of batches against the longest interview's calls, the
requests per batch, and the cost from the server's own usage figures (its prompt-cache model):
at the batch price, at the standard price, and against a naive resend of the whole history.
The texts are scripted, so turn counts are the loopback's, not a model's.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from harness.backends.base import Usage
from harness.backends.batch import BatchOptions
from harness.backends.pricing import estimate_cost
from harness.config.suites import RoleSettings, load_suite
from harness.contracts import load_transcripts
from harness.project import BUILTIN_ROOT
from harness.simulate.progress import QuietProgress
from harness.simulate.runner import run_suite
from harness.store.runs import TRANSCRIPTS
from tests.loopback import FAKE_API_KEY, Body, Reply, interviewer_reply, message
from tests.loopback_batches import BatchesServer

CANDIDATE_LINES = (
    "I'd start with the API: a write endpoint and a read endpoint, about 100M writes a month.",
    "For storage I'd pick a key-value store, sharded by key, with a cache in front for reads.",
    "If a node fails, replicas take over; I'd keep three copies across zones.",
    "The trade-off is consistency: I'd accept eventual consistency for the read path.",
)


def responder(body: Body) -> Reply:
    """The interviewer as tests/loopback.py plays it; a plain candidate for persona cards."""
    system = body.get("system") or [{}]
    if "role-playing a job candidate" in str(system[0].get("text", "")):
        turn = sum(1 for m in body.get("messages", []) if m.get("role") == "assistant")
        return message(CANDIDATE_LINES[turn % len(CANDIDATE_LINES)])
    return interviewer_reply(body)


def naive_input(usage: Usage) -> int:
    return usage.total_input


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--delay", type=float, default=0.05, help="batch processing time (s)")
    args = parser.parse_args()
    with BatchesServer(responder, delay_s=args.delay) as server, tempfile.TemporaryDirectory() as t:
        os.environ.update({"ANTHROPIC_API_KEY": FAKE_API_KEY, "ANTHROPIC_BASE_URL": server.url})
        loaded = load_suite(BUILTIN_ROOT / "suites" / "smoke.yaml")
        suite = loaded.suite
        suite.repeats = args.repeats
        suite.interviewer = RoleSettings(backend="anthropic", model="claude-sonnet-4-6")
        suite.candidate = RoleSettings(backend="anthropic", model="claude-haiku-4-5")
        start = time.perf_counter()
        options = BatchOptions(poll_s=0.01)
        run_dir = run_suite(loaded, Path(t), progress=QuietProgress(), batch=options)
        seconds = time.perf_counter() - start
        transcripts = load_transcripts(run_dir / TRANSCRIPTS)
        calls = [c for tr in transcripts for c in tr.meta["calls"]]
        sizes = [len(ids) for ids in server.created_ids()]
        longest = max(len(tr.meta["calls"]) for tr in transcripts)
        batched = sum(c["cost_usd"] for c in calls)
        full = sum(estimate_cost(c["model"], Usage.model_validate(c["usage"])) for c in calls)
        usages = [Usage.model_validate(c["usage"]) for c in calls]
        billed = sum(
            u.input_tokens + 1.25 * u.cache_creation_input_tokens + 0.1 * u.cache_read_input_tokens
            for u in usages
        )
        naive = sum(naive_input(u) for u in usages)
        print(
            f"smoke suite on the loopback, --batch: {len(transcripts)} interviews, "
            f"{len(calls)} model calls ({sum(c['batched'] for c in calls)} batched), "
            f"{seconds:.1f} s at {args.delay} s per batch"
        )
        print(
            f"batches: {len(sizes)} (longest interview: {longest} calls); requests per batch: "
            f"mean {statistics.mean(sizes):.1f}, max {max(sizes)}; "
            f"{sum(sizes)} requests for {len(calls)} calls (identical requests sent once)"
        )
        print(
            f"cost: ${batched:.4f} at the batch price, ${full:.4f} at the standard price "
            f"({batched / full:.2f}x)"
        )
        print(
            f"input-token equivalents (write 1.25x, read 0.1x): {billed:,.0f} of {naive:,} "
            f"sent ({billed / naive:.2f}x naive; x0.5 batch price: {billed / naive / 2:.2f}x)"
        )


if __name__ == "__main__":
    main()
