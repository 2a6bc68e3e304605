"""Runs under injected faults, kill -9s and concurrent resumes: nothing lost, nothing twice,
and the spend ledger equal to what the (loopback) API billed.

Usage: python benchmarks/bench_faults.py [--repeats 3] [--kills 10] [--seed 0]

Every scenario runs `sdi run` as a real subprocess (the anthropic backend on the official SDK)
against a loopback Messages server in this process, which injects faults and prices every
message it sends in full. The suite: the seed prompt against the 13 scripted personas,
`--repeats` each, interviewer on claude-sonnet-4-6 prices, concurrency 8, call timeout 2 s,
retry-after capped at 0.5 s.

1. faults: 20% of requests get a fault (429 with retry-after 1 s, 529, 500, a dropped
   connection, a truncated body, a junk 200, a 4 s hang; equal shares) and 5% of distinct
   request bodies get a 400 every time. One invocation, then `--resume` until nothing changes.
2. kills: the same faults; the run is killed with SIGKILL at a random moment 10 times (each
   resume is killed again), then resumed to the end.
3. concurrent: a run killed once, then two `--resume` started at the same moment.
Each prints interviews finished / failed / lost / duplicated, and ledger spend against the
server's priced spend (calls and dollars).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.store.failures import read_failures  # noqa: E402
from harness.store.ledger import read_ledger  # noqa: E402
from tests.loopback import FAKE_API_KEY, Faults, LoopbackServer  # noqa: E402

MODEL = "claude-sonnet-4-6"


def make_project(root: Path, repeats: int) -> Path:
    (root / "prompts" / "interviewer").mkdir(parents=True)
    shutil.copy(ROOT / "prompts" / "interviewer" / "v1.md", root / "prompts" / "interviewer")
    (root / "candidates").mkdir()
    for path in sorted((ROOT / "candidates").glob("*.yaml")):
        if yaml.safe_load(path.read_text())["mode"] == "scripted":
            shutil.copy(path, root / "candidates")
    (root / "suites").mkdir()
    suite = {
        "name": "faults",
        "prompts": ["v1"],
        "interviewer": {"backend": "anthropic", "model": MODEL, "max_tokens": 300},
        "repeats": repeats,
        "concurrency": 8,
        "seed": 1,
        "limits": {"call_timeout_s": 2.0, "max_retry_after_s": 0.5},
    }
    path = root / "suites" / "faults.yaml"
    path.write_text(yaml.safe_dump(suite))
    return path


@dataclass
class State:
    planned: int
    finished: int
    failed: int
    lost: int
    duplicated: int
    status: str


def state(run_dir: Path, planned: int) -> State:
    lines = (run_dir / "transcripts.jsonl").read_text().splitlines()
    counts = Counter(json.loads(line)["interview_id"] for line in lines if line.strip())
    failed = set(read_failures(run_dir)) - set(counts)
    return State(
        planned=planned,
        finished=len(counts),
        failed=len(failed),
        lost=planned - len(counts) - len(failed),
        duplicated=sum(n - 1 for n in counts.values()),
        status=json.loads((run_dir / "manifest.json").read_text())["status"],
    )


class Harness:
    def __init__(self, server: LoopbackServer, suite: Path, runs: Path) -> None:
        self.suite, self.runs = suite, runs
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "ANTHROPIC_API_KEY": FAKE_API_KEY}
        self.env["ANTHROPIC_BASE_URL"] = server.url

    def start(self, resume: str | None = None) -> subprocess.Popen[bytes]:
        args = [sys.executable, "-m", "harness.cli.main", "run", str(self.suite)]
        args += ["--runs-dir", str(self.runs), "-q"] + (["--resume", resume] if resume else [])
        return subprocess.Popen(
            args, cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def run(self, resume: str | None = None) -> tuple[int, float]:
        started = time.perf_counter()
        proc = self.start(resume)
        _, err = proc.communicate()
        if proc.returncode not in (0, 3):
            print(f"  exit {proc.returncode}: {err.decode().strip()}")
        return proc.returncode, time.perf_counter() - started

    def run_dir(self) -> Path:
        (manifest,) = self.runs.glob("*/manifest.json")
        return manifest.parent

    def settle(self) -> list[State]:
        """Resume until a resume finishes nothing new; the states after each."""
        run_dir = self.run_dir()
        states = []
        while True:
            self.run(run_dir.name)
            states.append(state(run_dir, planned_of(run_dir)))
            if len(states) > 1 and states[-1].finished == states[-2].finished:
                return states
            if len(states) >= 6:
                return states


def planned_of(run_dir: Path) -> int:
    return int(json.loads((run_dir / "manifest.json").read_text())["interviews_planned"])


def money(run_dir: Path, server: LoopbackServer) -> str:
    """Ledger against the server's bill: equal to the cent, or the gap within the calls the
    ledger itself marks in doubt (sent, cut off by a kill before the reply was read)."""
    ledger = read_ledger(run_dir)
    gap_calls = server.billed_calls - ledger.calls
    gap_usd = server.billed_usd - ledger.spent_usd
    same = round(ledger.spent_usd, 2) == round(server.billed_usd, 2)
    covered = 0 <= gap_calls <= ledger.in_doubt_calls and gap_usd <= ledger.in_doubt_max_usd
    return (
        f"ledger {ledger.calls} calls ${ledger.spent_usd:.6f}, in doubt {ledger.in_doubt_calls} "
        f"calls (<= ${ledger.in_doubt_max_usd:.6f}); server billed {server.billed_calls} calls "
        f"${server.billed_usd:.6f} ({server.abandoned_calls} replies to killed clients not "
        f"sent); gap {gap_calls} calls ${gap_usd:.6f}: "
        f"{'equal to the cent' if same else 'NOT equal to the cent'}, "
        f"{'within' if covered else 'NOT within'} the in-doubt calls"
    )


def show(label: str, s: State) -> None:
    print(
        f"  {label}: {s.status}, finished {s.finished}/{s.planned}, failed {s.failed}, "
        f"lost {s.lost}, duplicated {s.duplicated}"
    )


def faults_for(seed: int) -> Faults:
    return Faults(rate=0.20, bad_request_rate=0.05, retry_after="1", hang_s=4.0, seed=seed)


def scenario_faults(tmp: Path, repeats: int, seed: int) -> None:
    print("1. 20% faults + 5% 400s, one invocation then resumes")
    with LoopbackServer(faults=faults_for(seed), latency_s=0.02) as server:
        h = Harness(server, make_project(tmp / "p1", repeats), tmp / "runs1")
        code, seconds = h.run()
        run_dir = h.run_dir()
        first = state(run_dir, planned_of(run_dir))
        show(f"invocation 1 ({seconds:.1f} s, exit {code})", first)
        reasons = Counter(
            "400" if "HTTP 400" in f.reason else "other" for f in read_failures(run_dir).values()
        )
        print(f"  failure reasons after invocation 1: {dict(reasons)}")
        for i, s in enumerate(h.settle(), start=1):
            show(f"resume {i}", s)
        print(f"  injected: {dict(sorted(server.faults.injected.items()))}")  # type: ignore[union-attr]
        print(f"  {money(run_dir, server)}")


def scenario_kills(tmp: Path, repeats: int, kills: int, seed: int) -> None:
    print(f"2. {kills} random kill -9s and resumes, same faults")
    rng = random.Random(seed)
    with LoopbackServer(faults=faults_for(seed + 1), latency_s=0.02) as server:
        h = Harness(server, make_project(tmp / "p2", repeats), tmp / "runs2")
        done_kills = 0
        resume: str | None = None
        finished_between: list[int] = []
        while done_kills < kills:
            proc = h.start(resume)
            time.sleep(rng.uniform(2.0, 10.0))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                done_kills += 1
            proc.wait()
            resume = h.run_dir().name
            s = state(h.run_dir(), planned_of(h.run_dir()))
            finished_between.append(s.finished)
            if s.duplicated:
                print(f"  DUPLICATE after kill {done_kills}")
        run_dir = h.run_dir()
        print(f"  interviews finished after each invocation: {finished_between}")
        show(f"after {done_kills} kills", state(run_dir, planned_of(run_dir)))
        for i, s in enumerate(h.settle(), start=1):
            show(f"resume {i}", s)
        print(f"  {money(run_dir, server)}")


def scenario_concurrent(tmp: Path, repeats: int, seed: int) -> None:
    print("3. two concurrent resumes of a killed run")
    with LoopbackServer(faults=faults_for(seed + 2), latency_s=0.02) as server:
        h = Harness(server, make_project(tmp / "p3", repeats), tmp / "runs3")
        proc = h.start()
        time.sleep(2.0)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        run_dir = h.run_dir()
        show("after the kill", state(run_dir, planned_of(run_dir)))
        both = [h.start(run_dir.name), h.start(run_dir.name)]
        outcomes = []
        for p in both:
            _, err = p.communicate()
            outcomes.append((p.returncode, err.decode().strip()[:90]))
        for code, err in outcomes:
            print(f"  resume exit {code}{': ' + err if err else ''}")
        show("after both", state(run_dir, planned_of(run_dir)))
        for i, s in enumerate(h.settle(), start=1):
            show(f"resume {i}", s)
        print(f"  {money(run_dir, server)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scenarios", default="1,2,3", help="which of 1,2,3 to run")
    args = parser.parse_args()
    chosen = {int(x) for x in args.scenarios.split(",")}
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        if 1 in chosen:
            scenario_faults(Path(tmp), args.repeats, args.seed)
        if 2 in chosen:
            scenario_kills(Path(tmp), args.repeats, args.kills, args.seed)
        if 3 in chosen:
            scenario_concurrent(Path(tmp), args.repeats, args.seed)
        print(f"total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
