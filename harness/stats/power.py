"""How many repeats per persona a comparison needs: before a run (`sdi plan`) and for a metric
a finished comparison could not decide.

The model is the paired design the harness runs: both versions meet the same personas, the
per-persona difference of means is the unit (statsmodels `TTestPower`, a one-sample t test on
those differences). Its variance over P personas with m repeats each is tau^2 + 2 sigma_w^2 / m:
sigma_w^2 is the within-persona variance of one interview's outcome, tau^2 how much the true
difference varies between personas. More repeats shrink only the first term, so when tau^2
alone is too large no number of repeats settles it: more personas are needed. For designs
that do not share personas, `sdi plan` also gives the classic answer for independent groups
(`NormalIndPower` on the two rates, inflated by the design effect 1 + (m - 1) rho).
"""

from __future__ import annotations

import math

import pandas as pd
from pydantic import BaseModel, Field
from statsmodels.stats.power import NormalIndPower, TTestPower
from statsmodels.stats.proportion import proportion_effectsize

from harness.errors import InputError
from harness.stats.measures import within_variance
from harness.stats.metrics import interview_outcomes, metric_specs
from harness.stats.tables import interview_table, table_rules
from harness.store.rundata import RunData

MAX_REPEATS = 1000
POWER = 0.8
METHOD = "paired per-persona differences, statsmodels TTestPower (variance tau^2 + 2 sigma_w^2/m)"


class RepeatsNeeded(BaseModel):
    """Repeats per persona for 80% power to reach a verdict, if the true difference is the
    one observed (or the one planned for)."""

    repeats_per_persona: int | None = Field(description="None when repeats alone cannot do it")
    target: str | None = Field(description="what those repeats would show")
    effect: float | None = Field(description="the difference powered for, in the metric's units")
    personas: int
    within_variance: float = Field(description="sigma_w^2: one interview's outcome")
    effect_variance: float = Field(description="tau^2: how the difference varies by persona")
    alpha: float
    power: float = POWER
    method: str = METHOD
    note: str | None = None


def smallest_p(personas: int) -> float:
    """The smallest two-sided p a paired sign-flip or signed-rank test reaches with P personas:
    every persona's difference on one side, 2 / 2^P (no repeats can beat it)."""
    return 2.0 / 2.0**personas


def _needed_sd(personas: int, alpha: float, power: float, two_sided: bool) -> float | None:
    """Standardised effect (effect / SD of per-persona differences) that P personas detect."""
    if personas < 2:
        return None
    es = TTestPower().solve_power(
        effect_size=None,
        nobs=personas,
        alpha=alpha,
        power=power,
        alternative="two-sided" if two_sided else "larger",
    )
    return float(es)


def paired_repeats(
    effect: float,
    within_variance: float,
    effect_variance: float,
    personas: int,
    *,
    alpha: float = 0.05,
    power: float = POWER,
    two_sided: bool = True,
) -> int | None:
    """Smallest m with enough power for `effect`; None when no m suffices (or m > 1000), or
    when a two-sided test on P personas cannot reach alpha at all."""
    es = _needed_sd(personas, alpha, power, two_sided)
    if es is None or effect <= 0 or (two_sided and smallest_p(personas) >= alpha):
        return None
    allowed = (effect / es) ** 2  # the variance of per-persona differences that is small enough
    if allowed <= effect_variance:
        return None
    if within_variance <= 0:
        return 1
    m = math.ceil(2 * within_variance / (allowed - effect_variance))
    return max(m, 1) if m <= MAX_REPEATS else None


def repeats_to_settle(
    difference: float,
    margin: float,
    within_variance: float,
    effect_variance: float,
    personas: int,
    *,
    alpha: float = 0.05,
    power: float = POWER,
    applicable_share: float = 1.0,
) -> RepeatsNeeded:
    """Repeats for an inconclusive metric: enough to detect the observed difference
    (two-sided), or to show it lies within the margin (one-sided, the non-inferiority/
    equivalence side nearer to it), whichever needs fewer. `applicable_share` scales interviews
    to repeats for rules that apply only in some interviews."""
    options: list[tuple[int, str, float]] = []
    size = abs(difference)
    detect = paired_repeats(
        size, within_variance, effect_variance, personas, alpha=alpha, power=power
    )
    if detect is not None:
        options.append((detect, "detect the observed difference", size))
    room = margin - size
    if room > 0:
        within = paired_repeats(
            room,
            within_variance,
            effect_variance,
            personas,
            alpha=alpha,
            power=power,
            two_sided=False,
        )
        if within is not None:
            options.append((within, "show the difference is within the margin", room))
    answer = RepeatsNeeded(
        repeats_per_persona=None,
        target=None,
        effect=size,
        personas=personas,
        within_variance=within_variance,
        effect_variance=effect_variance,
        alpha=alpha,
        power=power,
    )
    if not options:
        reason = "the difference varies too much between personas (or is too close to the margin)"
        if smallest_p(personas) >= alpha:
            reason = (
                f"with {personas} personas the paired tests cannot reach p < {alpha:.2g} "
                f"(their smallest p is 2/2^{personas})"
            )
        note = f"no number of repeats up to {MAX_REPEATS} settles it: {reason}; add personas"
        return answer.model_copy(update={"note": note})
    interviews, target, effect = min(options)
    share = applicable_share if applicable_share > 0 else 1.0
    return answer.model_copy(
        update={
            "repeats_per_persona": math.ceil(interviews / share),
            "target": target,
            "effect": effect,
            "note": None if share >= 1 else f"the metric applies in {share:.0%} of interviews",
        }
    )


def detection_repeats(
    effect: float,
    within_variance: float,
    effect_sd: float,
    personas: int,
    *,
    alpha: float,
    power: float,
    applicable_share: float = 1.0,
) -> RepeatsNeeded:
    """Repeats per persona to detect `effect` (two-sided), planned before a comparison."""
    m = paired_repeats(
        abs(effect), within_variance, effect_sd**2, personas, alpha=alpha, power=power
    )
    note = None
    if m is None:
        note = "no number of repeats suffices with these personas; add personas"
    elif applicable_share < 1:
        note = f"the metric applies in {applicable_share:.0%} of interviews"
    return RepeatsNeeded(
        repeats_per_persona=None if m is None else math.ceil(m / applicable_share),
        target="detect the difference",
        effect=abs(effect),
        personas=personas,
        within_variance=within_variance,
        effect_variance=effect_sd**2,
        alpha=alpha,
        power=power,
        note=note,
    )


class RatePlan(BaseModel):
    """`sdi plan --baseline-rate P --effect D`: repeats per persona for a rate difference."""

    baseline_rate: float
    effect: float
    personas: int
    icc: float
    alpha: float
    power: float
    paired: RepeatsNeeded = Field(description="same personas in both versions (the harness)")
    independent_interviews_per_version: float = Field(
        description="NormalIndPower on the two rates, as if every interview were independent"
    )
    unpaired_repeats_per_persona: int | None = Field(
        description="independent groups inflated by the design effect 1 + (m - 1) rho"
    )
    unpaired_note: str


def plan_rate(
    baseline_rate: float,
    effect: float,
    *,
    personas: int,
    icc: float,
    alpha: float = 0.05,
    power: float = POWER,
    effect_sd: float = 0.0,
) -> RatePlan:
    """Plan a comparison of a rate (a rule's adherence): `icc` is how alike one persona's
    repeats are (0 = independent, 1 = identical); `effect_sd` how much the change may differ
    from persona to persona (0 = the same everywhere, the optimistic case)."""
    new_rate = min(max(baseline_rate + effect, 0.0), 1.0)
    mean_rate = (baseline_rate + new_rate) / 2
    within = (1 - icc) * mean_rate * (1 - mean_rate)
    paired = detection_repeats(effect, within, effect_sd, personas, alpha=alpha, power=power)
    n_indep = float(
        NormalIndPower().solve_power(
            effect_size=abs(proportion_effectsize(new_rate, baseline_rate)),
            alpha=alpha,
            power=power,
            ratio=1.0,
        )
    )
    # P m >= n (1 + (m - 1) rho)  <=>  m (P - n rho) >= n (1 - rho)
    slack = personas - n_indep * icc
    unpaired = math.ceil(n_indep * (1 - icc) / slack) if slack > 0 else None
    if unpaired is not None and unpaired > MAX_REPEATS:
        unpaired = None
    note = (
        f"{n_indep:.0f} independent interviews per version; with repeats correlated at "
        f"rho={icc:g} each persona is worth at most {1 / icc if icc > 0 else math.inf:.1f} "
        "independent interviews"
    )
    if unpaired is None:
        note += f", so {personas} personas cannot reach it at any number of repeats"
    return RatePlan(
        baseline_rate=baseline_rate,
        effect=effect,
        personas=personas,
        icc=icc,
        alpha=alpha,
        power=power,
        paired=paired,
        independent_interviews_per_version=n_indep,
        unpaired_repeats_per_persona=unpaired,
        unpaired_note=note,
    )


def bernoulli_within(values: pd.Series, personas: pd.Series, effect: float) -> float:
    """Within-persona variance of a 0/1 outcome, averaged over the rate now (p) and after the
    change (p + effect, clipped to [0, 1]), per persona, weighted by its interviews: a rate of
    100% now has no variance, but the change being planned for would give it some."""
    per = values.groupby(personas).agg(["mean", "count"])
    # p(1-p) n/(n-1) is the unbiased estimate from the n interviews seen (as ANOVA's MSW)
    now = per["mean"] * (1 - per["mean"]) * per["count"] / (per["count"] - 1).clip(lower=1)
    after = (per["mean"] + effect).clip(0, 1)
    var = (now + after * (1 - after)) / 2
    return float((var * per["count"]).sum() / per["count"].sum()) if len(per) else 0.0


class MetricPlan(BaseModel):
    """`sdi plan RUN --effect D`: repeats per persona to detect D on one metric."""

    metric: str
    arm: str
    value: float | None = Field(description="the metric in the run (pooled over interviews)")
    answer: RepeatsNeeded


def plan_from_run(
    run: RunData,
    effect: float,
    *,
    metrics: list[str] | None = None,
    alpha: float = 0.05,
    power: float = POWER,
    effect_sd: float = 0.0,
) -> list[MetricPlan]:
    """Repeats per persona to detect a change of `effect` in each rate or mean metric, from
    the within-persona variance measured in a scored run (its first prompt version; for 0/1
    outcomes, `bernoulli_within` at the persona's rate now and after the change), with the
    run's personas; `effect_sd` (default 0, the optimistic case) as in `plan_rate`."""
    table = interview_table(run)
    arm = str(table["arm"].iloc[0])
    rows = table[table["arm"] == arm]
    specs = [s for s in metric_specs(table_rules(table)) if s.kind in ("rate", "mean")]
    if metrics:
        unknown = [m for m in metrics if m not in {s.id for s in specs}]
        if unknown:
            raise InputError(
                None,
                "--metric",
                f"unknown or not plannable: {', '.join(unknown)} "
                f"(one of {', '.join(s.id for s in specs)})",
            )
        specs = [s for s in specs if s.id in metrics]
    out = []
    for spec in specs:
        outcomes = interview_outcomes(spec, rows)
        values = outcomes["num"] / outcomes["den"]
        personas = int(outcomes["persona"].nunique())
        if spec.binary:
            within = bernoulli_within(values, outcomes["persona"], effect)
        else:
            within = within_variance(values, [outcomes["persona"]])
        answer = detection_repeats(
            effect,
            within,
            effect_sd,
            personas,
            alpha=alpha,
            power=power,
            applicable_share=len(outcomes) / len(rows) if len(rows) else 1.0,
        )
        total = float(outcomes["den"].sum())
        value = float(outcomes["num"].sum()) / total if total else None
        out.append(MetricPlan(metric=spec.id, arm=arm, value=value, answer=answer))
    return out
