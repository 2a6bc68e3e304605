"""Sequential repeats: run the gate in stages (3, 6, 12 repeats per persona, say) and stop once
every gate is decided, with the error rates kept under repeated looks.

Method: a group-sequential design with Lan-DeMets alpha spending (Lan and DeMets 1983,
"Discrete sequential boundaries for clinical trials", Biometrika 70:659-663), Pocock-type
alpha(t) = a ln(1 + (e - 1) t) or O'Brien-Fleming-type alpha(t) = 2 - 2 Phi(z_{1-a/2} / sqrt(t)),
with information fraction t = repeats / cap. Look k tests each bound one-sided at the increment
alpha(t_k) - alpha(t_{k-1}) of the per-gate level a (= alpha / gates). By the union bound over
looks and gates, the chance that any gate ever decides wrongly (a false fail, or a false pass)
is at most alpha however the looks fall: the increments sum to a. This is more conservative
than boundaries computed from the joint distribution of the looks, and needs no assumption about
how information grows (within-persona noise shrinks with repeats, persona-to-persona spread of a
real effect does not).

The looks reuse the response cache: with calls keyed on (persona, sample), a stage with 6
repeats finds samples 0..2 of the 3-repeat stage in the cache and pays only for 3..5.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from scipy import stats

from harness.errors import InputError
from harness.simulate.progress import ProgressSink
from harness.stats.compare import compare_runs
from harness.stats.gate import GateConfig, GateReport, Stopping, evaluate_gates
from harness.stats.gate_inputs import run_prompt, side_source
from harness.store.rundata import RunData

METHOD = "Lan-DeMets {kind} alpha spending over {looks} looks (union bound, Lan and DeMets 1983)"


def spent(kind: str, t: float, level: float) -> float:
    """Alpha spent by information fraction t (0 < t <= 1) of a one-sided level."""
    t = min(max(t, 0.0), 1.0)
    if t == 0:
        return 0.0
    if kind == "pocock":
        return level * math.log(1 + (math.e - 1) * t)
    z = stats.norm.isf(level / 2)
    return float(2 * stats.norm.sf(z / math.sqrt(t)))


def look_tails(stages: list[int], kind: str, level: float) -> list[float]:
    """Each look's one-sided level: the increments of the spending function."""
    cap = stages[-1]
    fractions = [s / cap for s in stages]
    cumulative = [spent(kind, t, level) for t in fractions]
    return [b - a for a, b in zip([0.0, *cumulative[:-1]], cumulative, strict=True)]


@dataclass
class Sides:
    """The runs of one look: baseline and candidate at the same repeats."""

    baseline: RunData
    candidate: RunData


def run_sequential(
    config: GateConfig,
    sides_at: Callable[[int], Sides] | None,
    fixed: Sides | None = None,
    *,
    allow_drift: bool = False,
) -> GateReport:
    """The gate over looks: `sides_at(repeats)` runs (or reuses) both sides at that many
    repeats per persona. With `fixed` runs instead (finished runs given), one look at the
    full level."""
    plan = config.repeats
    if fixed is not None or sides_at is None:
        assert fixed is not None
        single = _look(config, fixed, config.tail(), allow_drift)
        stop = _stopping([], plan.stages, plan.spending, fixed, "fixed")
        return evaluate_gates(single.comparison, config, stop)
    tails = look_tails(plan.stages, plan.spending, config.tail())
    looks: list[int] = []
    for repeats, tail in zip(plan.stages, tails, strict=True):
        sides = sides_at(repeats)
        looks.append(repeats)
        report = _look(config, sides, tail, allow_drift)
        reason = None
        if report.decided:
            reason = "decided"
        elif repeats == plan.stages[-1]:
            reason = "cap"
        elif plan.max_cost_usd is not None and _spent(sides) >= plan.max_cost_usd:
            reason = "budget"
        if reason is not None:
            stop = _stopping(looks, plan.stages, plan.spending, sides, reason)
            return evaluate_gates(report.comparison, config, stop)
    raise AssertionError("the last stage always stops")  # pragma: no cover


def _look(config: GateConfig, sides: Sides, tail: float, allow_drift: bool) -> GateReport:
    comparison = compare_runs(
        [sides.baseline, sides.candidate],
        allow_drift=allow_drift,
        margins=config.regression_margins(),
        n_boot=config.n_boot,
        seed=config.seed,
        tail=tail,
    )
    return evaluate_gates(comparison, config)


def _spent(sides: Sides) -> float:
    return sum(float(s.manifest.spent_usd or 0.0) for s in (sides.baseline, sides.candidate))


def _stopping(
    looks: list[int], planned: list[int], kind: str, sides: Sides, reason: str
) -> Stopping:
    return Stopping(
        looks=looks,
        planned=planned if looks else [],
        spending=kind,
        interviews={
            "baseline": len(sides.baseline.transcripts),
            "candidate": len(sides.candidate.transcripts),
        },
        reason=reason,  # type: ignore[arg-type]
        method=METHOD.format(kind=kind, looks=len(planned)) if looks else "one look",
    )


def gate_report(
    config: GateConfig,
    baseline: str,
    candidate: str,
    *,
    suite: Path,
    runs_dir: Path,
    progress: ProgressSink | None = None,
    allow_drift: bool = False,
) -> GateReport:
    """`sdi gate` as a library call: both sides as runs (one look), a run and a prompt (the
    prompt run at the run's repeats, one look), or two prompt versions run in stages until
    decided."""
    sources = [
        side_source(ref, option=option, suite_path=suite, runs_dir=runs_dir)
        for ref, option in ((baseline, "--baseline"), (candidate, "--candidate"))
    ]

    def at(source: RunData | Path, repeats: int | None) -> RunData:
        if isinstance(source, Path):
            return run_prompt(
                source, suite_path=suite, runs_dir=runs_dir, repeats=repeats, progress=progress
            )
        return source

    fixed_repeats = next(
        (int(s.manifest.suite.get("repeats", 1)) for s in sources if not isinstance(s, Path)),
        None,
    )
    if fixed_repeats is not None:
        sides = Sides(at(sources[0], fixed_repeats), at(sources[1], fixed_repeats))
        if sides.baseline.run_dir == sides.candidate.run_dir:
            raise InputError(None, "--candidate", "baseline and candidate are the same run")
        return run_sequential(config, None, sides, allow_drift=allow_drift)
    return run_sequential(
        config,
        lambda repeats: Sides(at(sources[0], repeats), at(sources[1], repeats)),
        allow_drift=allow_drift,
    )
