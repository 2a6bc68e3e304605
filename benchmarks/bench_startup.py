"""Start-up CPU time of the `sdi` command: what a user waits for before anything happens.

Usage: python benchmarks/bench_startup.py [--repeats 5] [--runs-dir DIR]
Runs `python -m harness.cli.main` as a child process for `--help`, `runs list` (on an empty
runs folder) and `compare` of an unknown run (the analysis imports, then exit 2 before any work),
and prints the median user+system CPU seconds of each child (from os.wait4's rusage), plus the
median wall time. Goal: `--help` and `runs list` under 0.3 s of CPU on this machine.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cpu_of(args: list[str]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one child run of `sdi ARGS`."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli.main", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 2):
        raise SystemExit(f"sdi {' '.join(args)} exited with {status}")
    return usage.ru_utime + usage.ru_stime, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    opts = parser.parse_args()
    with tempfile.TemporaryDirectory() as runs:
        commands = {
            "sdi --help": ["--help"],
            "sdi runs list": ["runs", "list", "--runs-dir", runs],
            "sdi compare": ["compare", "no-such-run", "--runs-dir", runs],
        }
        print(f"{'command':<16} {'cpu s (median)':>15} {'wall s':>8}   ({opts.repeats} runs)")
        for name, args in commands.items():
            cpu_of(args)  # warm the page cache and .pyc files
            figures = [cpu_of(args) for _ in range(opts.repeats)]
            cpu = statistics.median(f[0] for f in figures)
            wall = statistics.median(f[1] for f in figures)
            print(f"{name:<16} {cpu:>15.3f} {wall:>8.3f}")


if __name__ == "__main__":
    main()
