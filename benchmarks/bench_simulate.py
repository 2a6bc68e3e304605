"""Simulation throughput on the synthetic backend: interviews per second and peak memory.

Usage: python benchmarks/bench_simulate.py [--repeats 20]
Runs suites/smoke.yaml with the given repeats into a temporary runs folder (cold cache),
then again (warm cache: every call answered from the response cache).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from harness.config.suites import load_suite
from harness.project import BUILTIN_ROOT
from harness.simulate.progress import QuietProgress
from harness.simulate.runner import run_suite
from harness.store.runs import read_manifest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    loaded = load_suite(BUILTIN_ROOT / "suites" / "smoke.yaml")
    loaded.suite.repeats = args.repeats
    with tempfile.TemporaryDirectory() as tmp:
        for label in ("cold cache", "warm cache"):
            start = time.perf_counter()
            run_dir = run_suite(loaded, Path(tmp), progress=QuietProgress())
            seconds = time.perf_counter() - start
            m = read_manifest(run_dir)
            turns = sum(1 for _ in (run_dir / "transcripts.jsonl").open())
            print(
                f"{label}: {m.interviews_done} interviews in {seconds:.2f} s "
                f"({m.interviews_done / seconds:.1f}/s), model calls {m.model_calls}, "
                f"cache hits {m.cache_hits}, lines {turns}"
            )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak_mb:.0f} MB (synthetic backend; no model was called)")


if __name__ == "__main__":
    main()
