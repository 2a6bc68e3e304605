"""The CI gate's operating characteristics, measured on a known truth.

Usage: nice python benchmarks/bench_gate.py [--replications 100] [--workers 2]
           [--config gates.yaml] [--suite suites/gate.yaml] [--results FILE.jsonl]
       python benchmarks/bench_gate.py --summarize FILE.jsonl

On the SYNTHETIC backend (an offline stand-in that reads phrases in the prompt, not their
meaning: these figures test the harness's statistics, never a prompt), for replication
i = 0..N-1 at suite seed i, the sequential gate (`run_sequential`, exactly what `sdi gate`
runs: stages and alpha spending from the gates file) compares prompts/interviewer/v1.md with:
- rule 2, 4, 6 or 7 deleted (regressions of known direction);
- three neutral edits: a trailing space, a typo ("specfic"), and v1 itself at another suite
  seed (i + 1,000,000: every interview a fresh sample, as any edit is with a real model).
Per edit: the fail rate with a Wilson 95% interval (also as if `inconclusive: fail`), the true
effect on the targeted metric (mean over replications of its difference at the first look,
which stopping cannot bias), the mean interviews per side, and why the looks stopped.
Per metric, under no change (the another-seed edit at its first look, 3 repeats), how often
its 90% and 95% intervals exclude zero: nominal 10% and 5%.
Every replication uses a throwaway runs folder and response cache (the baseline's samples are
shared by its edits through that cache, as in CI).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.config.suites import load_suite
from harness.project import BUILTIN_ROOT
from harness.scoring.runs import scored_run
from harness.simulate.progress import QuietProgress
from harness.simulate.runner import run_suite
from harness.stats.gate import GateConfig, GateReport, load_gate_config
from harness.stats.gate_inputs import suite_for_prompt, with_repeats
from harness.stats.measures import wilson
from harness.stats.sequential import Sides, run_sequential
from harness.store.rundata import RunData

V1 = BUILTIN_ROOT / "prompts" / "interviewer" / "v1.md"
OTHER_SEED = 1_000_000
# edit -> (targeted metric, whether the edit is neutral)
EDITS: dict[str, tuple[str, bool]] = {
    "rule 2 deleted": ("rule:one_question", False),
    "rule 4 deleted": ("rule:scale_probe", False),
    "rule 6 deleted": ("rule:no_direct_correction", False),
    "rule 7 deleted": ("rule:feedback_format", False),
    "whitespace": ("rule:one_question", True),
    "typo": ("rule:score_justified", True),
    "another seed": ("rule:one_question", True),
}


def edited_texts(v1: str) -> dict[str, str]:
    """The prompt text of every edit (the another-seed edit keeps v1's text)."""
    out = {}
    for rule in (2, 4, 6, 7):
        cut = re.sub(rf"^{rule}\. .*\n", "", v1, count=1, flags=re.MULTILINE)
        if cut == v1:
            raise SystemExit(f"rule {rule} not found in {V1}")
        out[f"rule {rule} deleted"] = cut
    spaced = re.sub(r"^(3\. .*)$", r"\1 ", v1, count=1, flags=re.MULTILINE)
    typo = v1.replace("specific justification", "specfic justification", 1)
    if spaced == v1 or typo == v1:
        raise SystemExit(f"the neutral edits do not apply to {V1}")
    out["whitespace"], out["typo"], out["another seed"] = spaced, typo, v1
    return out


@dataclass
class EditOutcome:
    failed: bool
    failed_strict: bool  # as if `inconclusive: fail`
    interviews: int  # per side, at the last look
    reason: str
    looks: int
    effect: float | None  # targeted metric, first look
    margin: float | None
    failing: list[str] = field(default_factory=list)
    # per metric: (90% interval excludes 0, 95% excludes 0) at the first look
    null_excludes: dict[str, tuple[bool, bool]] = field(default_factory=dict)


def _run(prompt: Path, seed: int, repeats: int, runs: Path, suite_path: Path) -> RunData:
    loaded = with_repeats(suite_for_prompt(load_suite(suite_path), prompt), repeats)
    loaded = loaded.model_copy(update={"suite": loaded.suite.model_copy(update={"seed": seed})})
    return scored_run(run_suite(loaded, runs, progress=QuietProgress()), runs)


def one(args: tuple[int, Path, Path, Path]) -> dict[str, dict]:
    """One replication: every edit against v1 at suite seed i; errors come back as text."""
    index, suite_path, config_path, prompts_dir = args
    try:
        return {k: asdict(v) for k, v in _one(index, suite_path, config_path, prompts_dir).items()}
    except Exception as err:
        raise RuntimeError(f"replication {index}: {type(err).__name__}: {err}") from None


def _one(
    index: int, suite_path: Path, config_path: Path, prompts_dir: Path
) -> dict[str, EditOutcome]:
    config = load_gate_config(config_path)
    out: dict[str, EditOutcome] = {}
    baseline: dict[int, RunData] = {}  # one baseline run per stage, shared by the edits
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp)

        def base_at(repeats: int) -> RunData:
            if repeats not in baseline:
                baseline[repeats] = _run(V1, index, repeats, runs, suite_path)
            return baseline[repeats]

        for edit, (target, _) in EDITS.items():
            prompt = prompts_dir / f"{edit.replace(' ', '-')}.md"
            seed = index + OTHER_SEED if edit == "another seed" else index
            first: list[GateReport] = []

            def sides_at(repeats: int, prompt: Path = prompt, seed: int = seed) -> Sides:
                return Sides(base_at(repeats), _run(prompt, seed, repeats, runs, suite_path))

            report = run_sequential(config, _recording(sides_at, config, first), allow_drift=True)
            out[edit] = _outcome(report, first[0], target, config)
    return out


def _recording(sides_at, config: GateConfig, first: list[GateReport]):  # type: ignore[no-untyped-def]
    """sides_at, remembering the first look's comparison for the null-interval figures."""
    from harness.stats.sequential import _look, look_tails

    def wrapped(repeats: int) -> Sides:
        sides = sides_at(repeats)
        if not first:
            tail = look_tails(config.repeats.stages, config.repeats.spending, config.tail())[0]
            first.append(_look(config, sides, tail, True))
        return sides

    return wrapped


def _outcome(report: GateReport, first: GateReport, target: str, config: GateConfig) -> EditOutcome:
    contrast = first.comparison.contrasts[0]
    metric = contrast.metric(target)
    excludes = {}
    for m in contrast.metrics:
        if m.ci90 is not None and m.ci95 is not None:
            excludes[m.metric] = (
                m.ci90[0] > 0 or m.ci90[1] < 0,
                m.ci95[0] > 0 or m.ci95[1] < 0,
            )
    stop = report.stopping
    assert stop is not None
    return EditOutcome(
        failed=not report.passed,
        failed_strict=any(g.status == "fail" or g.outcome != "pass" for g in report.gates),
        interviews=stop.interviews["candidate"],
        reason=stop.reason,
        looks=len(stop.looks),
        effect=metric.difference if metric else None,
        margin=config.regression_margins().get(target),
        failing=[g.metric for g in report.gates if g.status == "fail"],
        null_excludes=excludes,
    )


def _rate(hits: int, n: int) -> str:
    iv = wilson(hits, n)
    return f"{100 * hits / n:.1f}% [{100 * (iv.low or 0):.1f}, {100 * (iv.high or 0):.1f}]"


def summarize(rows: list[dict[str, dict]], config: GateConfig, fixed_interviews: int) -> str:
    """The markdown tables, from the per-replication results."""
    n = len(rows)
    lines = [
        f"{n} replications per edit; gates {config.repeats.stages} repeats per persona, "
        f"{config.repeats.spending} spending, family-wise alpha {config.alpha:g}.",
        "",
        "| edit | targeted metric | true effect (margin) | gate fails [Wilson 95%] | "
        "fails if `inconclusive: fail` | interviews per side (mean) | stopped |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for edit, (target, _) in EDITS.items():
        got = [r[edit] for r in rows]
        effects = [g["effect"] for g in got if g["effect"] is not None]
        effect = sum(effects) / len(effects) if effects else float("nan")
        margin = got[0]["margin"]
        fails = sum(g["failed"] for g in got)
        strict = sum(g["failed_strict"] for g in got)
        mean_n = sum(g["interviews"] for g in got) / n
        reasons = Counter(g["reason"] for g in got)
        stopped = ", ".join(f"{k} {v}" for k, v in reasons.most_common())
        lines.append(
            f"| {edit} | {target} | {100 * effect:+.1f} pts ({100 * margin:g}) | "
            f"{_rate(fails, n)} | {_rate(strict, n)} | {mean_n:.0f} | {stopped} |"
        )
    lines += [
        "",
        f"Today's fixed design: {fixed_interviews} interviews per side.",
        "",
        "Under no change (v1 against v1 at another seed, first look, 3 repeats): how often each "
        "metric's interval excludes zero.",
        "",
        "| metric | 90% interval (nominal 10%) | 95% interval (nominal 5%) |",
        "| --- | --- | --- |",
    ]
    nulls = [r["another seed"]["null_excludes"] for r in rows]
    metrics = list(dict.fromkeys(k for x in nulls for k in x))
    worst = 0.0
    for metric in metrics:
        have = [x[metric] for x in nulls if metric in x]
        k90 = sum(a for a, _ in have)
        k95 = sum(b for _, b in have)
        worst = max(worst, k90 / len(have) / 0.10, k95 / len(have) / 0.05)
        lines.append(f"| {metric} | {_rate(k90, len(have))} | {_rate(k95, len(have))} |")
    return "\n".join([*lines, "", *_goals(rows, fixed_interviews, worst)])


def _goals(rows: list[dict[str, dict]], fixed_interviews: int, worst_null: float) -> list[str]:
    """The issue's goals, met or not, from the measured figures."""
    n = len(rows)
    neutral = [e for e, (_, is_neutral) in EDITS.items() if is_neutral]
    out = ["Goals:"]
    for strict in (False, True):
        key = "failed_strict" if strict else "failed"
        worst = max(sum(r[e][key] for r in rows) / n for e in neutral)
        setting = "`inconclusive: fail`" if strict else "`inconclusive: warn` (shipped)"
        verdict = "met" if worst <= 0.05 else "NOT met"
        out.append(
            f"- neutral edits fail <= 5% with {setting}: worst {100 * worst:.1f}%, {verdict}"
        )
    for edit, (_, is_neutral) in EDITS.items():
        got = [r[edit] for r in rows]
        effects = [g["effect"] for g in got if g["effect"] is not None]
        margin = got[0]["margin"]
        if is_neutral or not effects or not margin:
            continue
        effect = abs(sum(effects) / len(effects))
        if effect >= 2 * margin:
            rate = sum(g["failed"] for g in got) / n
            verdict = "met" if rate >= 0.8 else "NOT met"
            out.append(
                f"- {edit} (effect {effect / margin:.1f}x its margin) fails >= 80%: "
                f"{100 * rate:.1f}%, {verdict}"
            )
    verdict = "met" if worst_null <= 1.2 else "NOT met"
    out.append(
        f"- null intervals exclude 0 at <= 1.2x nominal: worst metric {worst_null:.2f}x, {verdict}"
    )
    mean_n = sum(r[e]["interviews"] for r in rows for e in neutral) / (n * len(neutral))
    verdict = "met" if mean_n <= fixed_interviews else "NOT met"
    out.append(
        f"- mean interviews per side on neutral edits <= {fixed_interviews} (fixed 3 repeats): "
        f"{mean_n:.0f}, {verdict}"
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--replications", type=int, default=100)
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--config", type=Path, default=BUILTIN_ROOT / "gates.yaml")
    parser.add_argument("--suite", type=Path, default=BUILTIN_ROOT / "suites" / "gate.yaml")
    parser.add_argument("--results", type=Path, default=None, help="append per-replication JSON")
    parser.add_argument("--summarize", type=Path, default=None, help="only print the tables")
    args = parser.parse_args()
    config = load_gate_config(args.config)
    loaded = load_suite(args.suite)
    fixed = len(loaded.personas) * 3
    if args.summarize:
        rows = [json.loads(line) for line in args.summarize.read_text().splitlines() if line]
        print(summarize(rows, config, fixed))
        return
    start = time.perf_counter()
    rows: list[dict[str, dict]] = []
    with tempfile.TemporaryDirectory() as prompts:
        prompts_dir = Path(prompts)
        for edit, text in edited_texts(V1.read_text(encoding="utf-8")).items():
            (prompts_dir / f"{edit.replace(' ', '-')}.md").write_text(text, encoding="utf-8")
        jobs = [(i, args.suite, args.config, prompts_dir) for i in range(args.replications)]
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            futures = [pool.submit(one, job) for job in jobs]
            for done, future in enumerate(as_completed(futures), start=1):
                row = future.result()
                rows.append(row)
                if args.results:
                    with args.results.open("a", encoding="utf-8") as fh:
                        fh.write(json.dumps(row) + "\n")
                if done % 10 == 0 or done == len(jobs):
                    elapsed = time.perf_counter() - start
                    print(f"  {done}/{len(jobs)} replications ({elapsed:.0f} s)", flush=True)
    print()
    print(
        "gate operating characteristics on the SYNTHETIC backend (an offline stand-in that "
        "reads phrases, not meaning: this tests the harness, not a prompt); "
        f"{len(loaded.personas)} personas"
    )
    print(summarize(rows, config, fixed))
    print(f"\nwall time {time.perf_counter() - start:.0f} s on {args.workers} worker(s)")


if __name__ == "__main__":
    main()
