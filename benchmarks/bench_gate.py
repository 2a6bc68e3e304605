"""The CI gate tested on itself: its detection rate (power) and false-alarm rate, measured.

Usage: python benchmarks/bench_gate.py [--comparisons 200] [--repeats R] [--workers 2]
                                       [--config gates.yaml] [--suite suites/gate.yaml]

On the SYNTHETIC backend (an offline stand-in, not a model), for i = 0..N-1:
- baseline: the gate suite with prompts/interviewer/v1.md at suite seed 2i;
- (a) injected regression: v1 with rule 2 ("Ask ONE question at a time") deleted, seed 2i, as
  `sdi gate` would run it in CI (same suite, same seed, another prompt text);
- (b) no change: v1 itself at seed 2i+1 (identical text; only the random stream differs, as it
  would for any edit that changes nothing that matters).
Each pair goes through `compare_runs` and `evaluate_gates` with the given gates, exactly as
`sdi gate` does. Detection = share of (a) where a gate fails; false alarms = share of (b) where
a gate fails; both with Wilson 95% intervals. Every run uses a throwaway runs folder and cache.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from harness.config.suites import LoadedSuite, load_suite
from harness.project import BUILTIN_ROOT
from harness.scoring.runs import scored_run
from harness.simulate.progress import QuietProgress
from harness.simulate.runner import run_suite
from harness.stats.compare import compare_runs
from harness.stats.gate import GateConfig, GateReport, evaluate_gates, load_gate_config
from harness.stats.gate_inputs import suite_for_prompt
from harness.stats.measures import wilson
from harness.store.rundata import RunData

V1 = BUILTIN_ROOT / "prompts" / "interviewer" / "v1.md"
RULE_2 = re.compile(r"^2\.\s.*\n", re.MULTILINE)


@dataclass
class Job:
    index: int
    suite: Path
    config: Path
    repeats: int | None
    prompts_dir: Path


@dataclass
class Outcome:
    detected: list[str]  # gates failed by the injected regression
    false_alarms: list[str]  # gates failed with no change
    effect: float | None  # turns:one_question difference in the regression comparison
    seconds: float


def _run(loaded: LoadedSuite, prompt: Path, seed: int, repeats: int | None, runs: Path) -> RunData:
    suite = suite_for_prompt(loaded, prompt)
    update: dict[str, int] = {"seed": seed}
    if repeats is not None:
        update["repeats"] = repeats
    suite = suite.model_copy(update={"suite": suite.suite.model_copy(update=update)})
    return scored_run(run_suite(suite, runs, progress=QuietProgress()), runs)


def _gate(base: RunData, cand: RunData, config: GateConfig) -> GateReport:
    comparison = compare_runs(
        [base, cand], margins=config.regression_margins(), n_boot=config.n_boot, seed=config.seed
    )
    return evaluate_gates(comparison, config)


def one(job: Job) -> Outcome:
    """One pair of comparisons; errors come back as text (InputError does not pickle)."""
    try:
        return _one(job)
    except Exception as err:
        raise RuntimeError(f"comparison {job.index}: {type(err).__name__}: {err}") from None


def _one(job: Job) -> Outcome:
    start = time.perf_counter()
    loaded = load_suite(job.suite)
    config = load_gate_config(job.config)
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp)
        base = _run(loaded, V1, 2 * job.index, job.repeats, runs)
        regressed = _run(
            loaded, job.prompts_dir / "v1-no-rule-2.md", 2 * job.index, job.repeats, runs
        )
        same = _run(loaded, V1, 2 * job.index + 1, job.repeats, runs)
        detection = _gate(base, regressed, config)
        no_change = _gate(base, same, config)
    metric = detection.comparison.contrasts[0].metric("turns:one_question")
    return Outcome(
        detected=[g.name for g in detection.failed],
        false_alarms=[g.name for g in no_change.failed],
        effect=metric.difference if metric else None,
        seconds=time.perf_counter() - start,
    )


def _rate(label: str, hits: int, n: int) -> str:
    iv = wilson(hits, n)
    return (
        f"{label}: {hits}/{n} = {100 * hits / n:.1f}% "
        f"[Wilson 95% {100 * (iv.low or 0):.1f}%, {100 * (iv.high or 0):.1f}%]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--comparisons", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=None, help="default: the gate suite's")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--config", type=Path, default=BUILTIN_ROOT / "gates.yaml")
    parser.add_argument("--suite", type=Path, default=BUILTIN_ROOT / "suites" / "gate.yaml")
    args = parser.parse_args()
    loaded = load_suite(args.suite)
    repeats = args.repeats or loaded.suite.repeats
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as prompts:
        prompts_dir = Path(prompts)
        text = V1.read_text(encoding="utf-8")
        cut = RULE_2.sub("", text, count=1)
        if cut == text:
            raise SystemExit(f"rule 2 not found in {V1}")
        (prompts_dir / "v1-no-rule-2.md").write_text(cut, encoding="utf-8")
        jobs = [
            Job(i, args.suite, args.config, args.repeats, prompts_dir)
            for i in range(args.comparisons)
        ]
        outcomes: list[Outcome] = []
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            for done, outcome in enumerate(pool.map(one, jobs), start=1):
                outcomes.append(outcome)
                if done % 20 == 0 or done == len(jobs):
                    elapsed = time.perf_counter() - start
                    print(f"  {done}/{len(jobs)} comparison pairs ({elapsed:.0f} s)", flush=True)
    wall = time.perf_counter() - start
    n = len(outcomes)
    detected = sum(bool(o.detected) for o in outcomes)
    alarms = sum(bool(o.false_alarms) for o in outcomes)
    effects = [o.effect for o in outcomes if o.effect is not None]
    print()
    print(
        f"gate self-test on the SYNTHETIC backend (offline stand-in, not a model): "
        f"{n} comparisons per scenario, repeats {repeats} per persona, "
        f"{len(loaded.personas)} personas, gates {args.config.name}"
    )
    print(_rate("detection of rule 2 deleted (power)", detected, n))
    print(_rate("false alarms, v1 vs v1 with another seed", alarms, n))
    if effects:
        print(
            f"injected effect on turns:one_question (multi-question turns per turn): "
            f"mean {sum(effects) / len(effects):+.3f}, min {min(effects):+.3f}"
        )
    for label, counts in (
        ("gates failing on the regression", Counter(g for o in outcomes for g in o.detected)),
        ("gates raising false alarms", Counter(g for o in outcomes for g in o.false_alarms)),
    ):
        shown = ", ".join(f"{g} x{c}" for g, c in counts.most_common()) or "none"
        print(f"{label}: {shown}")
    per = sum(o.seconds for o in outcomes) / max(n, 1)
    print(
        f"wall time {wall:.0f} s on {args.workers} worker(s); {per:.1f} s of work per pair of "
        f"comparisons (3 runs of {len(loaded.personas) * repeats} interviews, scoring, 2 gates)"
    )
    print(
        f"goals: false alarms <= 5%: {'met' if alarms / n <= 0.05 else 'NOT met'}; "
        f"detection >= 80%: {'met' if detected / n >= 0.8 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
