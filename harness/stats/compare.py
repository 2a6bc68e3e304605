"""Compare prompt versions: per rule and for the scores, what improved, what regressed and what
cannot be told apart yet, with intervals, the level that decided, and the repeats it would take.

Design (why each choice):
- The persona is the unit of inference: repeats of one persona are not independent. Interviews
  are paired by (persona, sample_index); intervals come from a studentized (bootstrap-t) cluster
  bootstrap that resamples personas (persona *pairs* when both versions met the same personas,
  so between-persona variance cancels), `n_boot` draws, seeded (`harness.stats.intervals`).
  Percentile intervals under-covered with 15 personas; the bootstrap-t corrects for that.
- Decisions come from intervals, never from a p-value alone. Each difference is oriented so that
  positive is better; every metric with a direction gets an interval whose bounds are each
  one-sided at level `tail` (by default alpha / the number of such metrics: Bonferroni on the
  interval levels, so the chance of any false verdict in one contrast is at most alpha).
  improved: lower bound > 0; regressed: upper bound < 0; "no change": the interval lies inside
  (-margin, +margin); otherwise inconclusive, with the repeats per persona that would settle it
  at the same level (`harness.stats.power`). `non_inferior`: the lower bound is >= -margin.
  The mean score has no better direction: "changed" when its interval excludes 0.
- p-values (two-sided, from the same bootstrap-t draws; Holm across the contrast) are shown for
  reference only. The ICCs (ICC(1,1), the primary figure, and ICC(A,1)) are compared on the
  personas both versions scored in full, with a percentile bootstrap over those personas.
- Comparability: runs compare only when their manifests' fingerprints (everything but the prompt
  under test) agree; otherwise InputError names each difference, unless allow_drift.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field
from statsmodels.stats.multitest import multipletests

from harness.errors import InputError
from harness.scoring.run_labels import ScorerAgreement
from harness.stats.intervals import (
    ClusterSums,
    Studentized,
    design_effect,
    studentized_difference,
    studentized_one,
)
from harness.stats.measures import (
    IccResult,
    Interval,
    balanced_table,
    cliffs_delta,
    finite,
    icc,
    icc1_many,
    icc2_many,
    wilson_clustered,
    within_variance,
)
from harness.stats.metrics import (
    MetricSpec,
    interview_outcomes,
    metric_specs,
    persona_sums,
)
from harness.stats.power import RepeatsNeeded, repeats_to_settle
from harness.stats.tables import arm_labels, interview_table, table_rules
from harness.store.rundata import RunData
from harness.store.runs import MANIFEST, SCORES

ALPHA = 0.05
METHOD = "studentized (bootstrap-t) cluster bootstrap over personas"
DEFAULT_MARGINS: dict[str, float] = {
    "rule:*": 0.10,
    "turns:one_question": 0.05,
    "score:in_band": 0.15,
    "score:mae": 0.5,
    "score:mean": 0.5,
    "score:spread": 0.5,
    "score:icc": 0.15,
    "score:icc2": 0.15,
}
Verdict = Literal["improved", "regressed", "no change", "changed", "inconclusive", "not tested"]


class ArmValue(BaseModel):
    """One version's figure for a metric."""

    value: float | None
    low: float | None = Field(
        default=None,
        description="95%: Wilson on the effective n (design effect) for rates, F interval for "
        "ICCs, else the studentized cluster bootstrap",
    )
    high: float | None = None
    count: float | None = Field(default=None, description="numerator (passes, violations...)")
    n: float | None = Field(default=None, description="denominator (interviews, turns...)")
    personas: int = 0
    decision: tuple[float, float] | None = Field(
        default=None, description="the same kind of interval, each bound one-sided at the tail"
    )


class MetricComparison(BaseModel):
    metric: str = Field(description="rule:<id>, turns:one_question, or score:<name>")
    label: str
    unit: str
    higher_is_better: bool | None
    baseline: ArmValue
    candidate: ArmValue
    difference: float | None = Field(description="candidate - baseline")
    ci95: tuple[float, float] | None = Field(description="cluster bootstrap over personas")
    ci90: tuple[float, float] | None
    ci_decision: tuple[float, float] | None = Field(
        default=None,
        description="candidate - baseline, each bound one-sided at level `tail`: the verdict's",
    )
    tail: float | None = Field(default=None, description="one-sided level of each decision bound")
    test: str
    p_value: float | None
    p_holm: float | None
    margin: float
    verdict: Verdict
    non_inferior: bool | None = Field(
        description="the decision interval excludes a loss larger than the margin"
    )
    extra: dict[str, float | None] = Field(default_factory=dict)
    repeats_needed: RepeatsNeeded | None = None
    scorer_agreement: ScorerAgreement | None = Field(
        default=None, description="the rule's scorer against a label set (--labels), if named"
    )


class Contrast(BaseModel):
    """One candidate version against the baseline (the first version)."""

    baseline: str
    candidate: str
    paired: bool = Field(description="both versions met the same personas")
    personas: int
    matched_interviews: int = Field(description="(persona, sample_index) pairs in both versions")
    unmatched_interviews: int = Field(description="left out of a paired comparison")
    metrics: list[MetricComparison]
    notes: list[str] = Field(default_factory=list)

    def metric(self, metric_id: str) -> MetricComparison | None:
        return next((m for m in self.metrics if m.metric == metric_id), None)


class ArmInfo(BaseModel):
    arm: str
    run_id: str
    prompt_version: str
    prompt_sha256: str | None
    interviews: int
    personas: int
    seed: int | None
    synthetic: bool


class Drift(BaseModel):
    """A fingerprint field that differs between runs: run id -> value."""

    field: str
    values: dict[str, str]

    def text(self) -> str:
        return f"{self.field} ({'; '.join(f'{k}: {v}' for k, v in self.values.items())})"


class CompareSettings(BaseModel):
    alpha: float = ALPHA
    n_boot: int
    seed: int
    margins: dict[str, float]
    tail: float = Field(description="one-sided level of each decision bound")
    method: str = METHOD
    multiplicity: str = (
        "Bonferroni on interval levels across the metrics with a direction (p(Holm) for reference)"
    )

    def decided_by(self) -> str:
        """Which interval and level decided, in words for every output."""
        return decision_text(self.tail)


def decision_text(tail: float) -> str:
    two_sided = 100 * (1 - 2 * tail)
    return (
        f"{METHOD}: each bound one-sided at {100 * tail:.3g}% "
        f"(a {two_sided:.4g}% two-sided interval)"
    )


class Comparison(BaseModel):
    """`sdi compare`: every candidate version against the first (the baseline)."""

    schema_: Literal["sdi.comparison/1"] = Field(default="sdi.comparison/1", alias="schema")
    arms: list[ArmInfo]
    contrasts: list[Contrast]
    drift: list[Drift] = Field(description="fingerprint differences between the runs")
    drift_allowed: bool
    synthetic: bool
    settings: CompareSettings

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)


# --- comparability --------------------------------------------------------------------------


def _flatten(value: Any, prefix: str) -> dict[str, str]:
    if isinstance(value, dict):
        out: dict[str, str] = {}
        for key, sub in value.items():
            out.update(_flatten(sub, f"{prefix}.{key}"))
        return out
    return {prefix: repr(value)}


def refuse_mixed_rule_sets(runs: list[RunData]) -> None:
    """Runs scored with different rule sets (`rules_sha256` of their scores) never compare,
    whatever --allow-drift says: their metrics are not the same metrics."""
    first: str | None = None
    for run in runs:
        for record in run.scores or []:
            sha = getattr(record, "rules_sha256", None)
            first = first or sha
            if sha != first:
                raise InputError(
                    run.run_dir / SCORES,
                    "rules_sha256",
                    "runs were scored with different rule sets (rubrics); score them again in "
                    "one project (`sdi score RUN`) to compare them",
                )


def fingerprint_drift(runs: list[RunData]) -> list[Drift]:
    """Every fingerprint field whose value is not the same in all runs ('absent' if missing)."""
    flat = {r.manifest.run_id: _flatten(r.manifest.fingerprint, "fingerprint") for r in runs}
    keys = sorted({k for f in flat.values() for k in f})
    drift = []
    for key in keys:
        values = {run_id: f.get(key, "absent") for run_id, f in flat.items()}
        if len(set(values.values())) > 1:
            drift.append(Drift(field=key, values=values))
    return drift


def margin_for(metric: str, margins: dict[str, float]) -> float:
    """The margin for a metric: its own entry, else the longest matching glob ("rule:*")."""
    if metric in margins:
        return margins[metric]
    globs = [k for k in margins if fnmatch.fnmatchcase(metric, k)]
    if globs:
        return margins[max(globs, key=len)]
    raise InputError(None, f"margins.{metric}", "no margin for this metric")


# --- the cluster design -----------------------------------------------------------------------


@dataclass
class _Design:
    """Personas of each arm and the bootstrap's persona weights (shared when paired)."""

    paired: bool
    personas_a: list[str]
    personas_b: list[str]
    weights_a: np.ndarray  # (n_boot, personas_a): how often each persona is drawn
    weights_b: np.ndarray
    rng: np.random.Generator
    n_boot: int


def _design(a: pd.DataFrame, b: pd.DataFrame, n_boot: int, seed: int) -> _Design:
    rng = np.random.default_rng(seed)
    pa, pb = sorted(a["persona"].unique()), sorted(b["persona"].unique())
    paired = pa == pb

    def draws(k: int) -> np.ndarray:
        return rng.multinomial(k, np.full(k, 1 / k), size=n_boot) if k else np.zeros((n_boot, 0))

    wa = draws(len(pa))
    wb = wa if paired else draws(len(pb))
    return _Design(paired, pa, pb, wa, wb, rng, n_boot)


def _percentiles(draws: np.ndarray, tail: float) -> tuple[float, float] | None:
    ok = draws[np.isfinite(draws)]
    if len(ok) < 10:
        return None
    low, high = np.quantile(ok, [tail, 1 - tail])
    return float(low), float(high)


def _bootstrap_p(draws: np.ndarray) -> float | None:
    """Two-sided p from the bootstrap: twice the share of draws on the far side of 0."""
    ok = draws[np.isfinite(draws)]
    if len(ok) < 10:
        return None
    return float(min(1.0, 2 * min((ok <= 0).mean(), (ok >= 0).mean())))


def _studentized_p(s: Studentized) -> float | None:
    """Two-sided p for no difference from the bootstrap-t draws: the share of |t*| at least
    |estimate / SE|."""
    ok = s.t_draws[np.isfinite(s.t_draws)]
    if len(ok) < 10 or not np.isfinite(s.estimate):
        return None
    if s.se == 0:
        return 1.0 if s.estimate == 0 else 0.0
    return float(np.mean(np.abs(ok) >= abs(s.estimate / s.se)))


@dataclass
class _Intervals:
    """The difference's intervals at 95%, 90% and the decision level."""

    ci95: tuple[float, float] | None
    ci90: tuple[float, float] | None
    decision: tuple[float, float] | None


# --- one metric -----------------------------------------------------------------------------


def _cluster_sums(spec: MetricSpec, sums: pd.DataFrame) -> ClusterSums:
    return ClusterSums(
        sums["num"].to_numpy(float), sums["den"].to_numpy(float), sqrt=spec.kind == "spread"
    )


def _arm_value(spec: MetricSpec, sums: pd.DataFrame, weights: np.ndarray, tail: float) -> ArmValue:
    cs = _cluster_sums(spec, sums)
    value = finite(float(cs.estimate()))
    num, den = float(cs.num.sum()), float(cs.den.sum())
    personas = int((cs.den > 0).sum())
    if spec.binary and den > 0:
        deff = design_effect(cs)
        w = wilson_clustered(num, den, deff)
        d = wilson_clustered(num, den, deff, level=1 - 2 * tail)
        return ArmValue(
            value=value,
            low=w.low,
            high=w.high,
            count=num,
            n=den,
            personas=personas,
            decision=(d.low, d.high) if d.low is not None and d.high is not None else None,
        )
    boot = studentized_one(cs, weights)
    ci = boot.interval(0.025) if value is not None else None
    return ArmValue(
        value=value,
        low=ci[0] if ci else None,
        high=ci[1] if ci else None,
        count=num if spec.kind != "spread" else None,
        n=den,
        personas=personas,
        decision=boot.interval(tail) if value is not None else None,
    )


def _ratio_metric(
    spec: MetricSpec, a: pd.DataFrame, b: pd.DataFrame, design: _Design, tail: float
) -> MetricComparison:
    sums_a = persona_sums(spec, a).reindex(design.personas_a, fill_value=0.0)
    sums_b = persona_sums(spec, b).reindex(design.personas_b, fill_value=0.0)
    base = _arm_value(spec, sums_a, design.weights_a, tail)
    cand = _arm_value(spec, sums_b, design.weights_b, tail)
    diff = studentized_difference(
        _cluster_sums(spec, sums_a),
        _cluster_sums(spec, sums_b),
        design.weights_a,
        design.weights_b,
        design.paired,
    )
    extra: dict[str, float | None] = {}
    if spec.id == "score:mean":
        delta, mw_p = cliffs_delta(a["final_score"].dropna(), b["final_score"].dropna())
        extra = {"cliffs_delta": delta, "mann_whitney_p": mw_p}
    intervals = _Intervals(diff.interval(0.025), diff.interval(0.05), diff.interval(tail))
    return _metric(spec, base, cand, intervals, METHOD, _studentized_p(diff), extra, tail)


def _icc_value(result: Interval, at_tail: Interval, personas: int, cells: int) -> ArmValue:
    decision = None
    if at_tail.low is not None and at_tail.high is not None:
        decision = (at_tail.low, at_tail.high)
    return ArmValue(
        value=result.estimate,
        low=result.low,
        high=result.high,
        personas=personas,
        n=float(cells),
        decision=decision,
    )


def _icc_metric(
    spec: MetricSpec, a: pd.DataFrame, b: pd.DataFrame, design: _Design, tail: float
) -> MetricComparison:
    """ICC(1,1) or ICC(A,1) of each version (F interval), and the difference on the personas
    both versions scored in full (a percentile bootstrap over those personas)."""
    one_way = spec.id == "score:icc"
    many = icc1_many if one_way else icc2_many
    ta, tb = balanced_table(a), balanced_table(b)
    ia, ib = icc(ta), icc(tb)
    da, db = icc(ta, level=1 - 2 * tail), icc(tb, level=1 - 2 * tail)

    def pick(result: IccResult) -> Interval:
        return result.icc1 if one_way else result.icc2

    base = _icc_value(pick(ia), pick(da), len(ta.personas), ta.matrix.size)
    cand = _icc_value(pick(ib), pick(db), len(tb.personas), tb.matrix.size)
    draws = np.full(design.n_boot, np.nan)
    diff: float | None = None
    note = "cluster bootstrap over personas (percentile)"
    k = min(ta.repeats, tb.repeats)
    if design.paired:
        common = [p for p in ta.personas if p in tb.personas]
        if len(common) >= 3 and k >= 2:
            xa = ta.matrix[[ta.personas.index(p) for p in common], :k]
            xb = tb.matrix[[tb.personas.index(p) for p in common], :k]
            diff = finite(float(many(xb) - many(xa)))
            idx = design.rng.integers(0, len(common), size=(design.n_boot, len(common)))
            draws = many(xb[idx]) - many(xa[idx])
            note += f", on the {len(common)} personas both versions scored in full"
    elif len(ta.personas) >= 3 and len(tb.personas) >= 3:
        if base.value is not None and cand.value is not None:
            diff = cand.value - base.value
        ia_idx = design.rng.integers(0, len(ta.personas), size=(design.n_boot, len(ta.personas)))
        ib_idx = design.rng.integers(0, len(tb.personas), size=(design.n_boot, len(tb.personas)))
        draws = many(tb.matrix[ib_idx]) - many(ta.matrix[ia_idx])
    intervals = _Intervals(
        _percentiles(draws, 0.025), _percentiles(draws, 0.05), _percentiles(draws, tail)
    )
    metric = _metric(spec, base, cand, intervals, note, _bootstrap_p(draws), {}, tail)
    metric.difference = diff
    if diff is None:
        metric.ci95 = metric.ci90 = metric.ci_decision = None
        metric.p_value = None
    return metric


def _metric(
    spec: MetricSpec,
    base: ArmValue,
    cand: ArmValue,
    intervals: _Intervals,
    test: str,
    p: float | None,
    extra: dict[str, float | None],
    tail: float,
) -> MetricComparison:
    diff = None
    if base.value is not None and cand.value is not None:
        diff = cand.value - base.value
    known = diff is not None
    return MetricComparison(
        metric=spec.id,
        label=spec.label,
        unit=spec.unit,
        higher_is_better=spec.higher_is_better,
        baseline=base,
        candidate=cand,
        difference=diff,
        ci95=intervals.ci95 if known else None,
        ci90=intervals.ci90 if known else None,
        ci_decision=intervals.decision if known else None,
        tail=tail,
        test=test,
        p_value=p if known else None,
        p_holm=None,
        margin=0.0,
        verdict="not tested",
        non_inferior=None,
        extra=extra,
    )


def oriented(m: MetricComparison) -> tuple[float, float] | None:
    """The decision interval of the difference turned so that positive is better (None without
    an interval or a better direction)."""
    if m.ci_decision is None or m.higher_is_better is None:
        return None
    low, high = m.ci_decision
    return (low, high) if m.higher_is_better else (-high, -low)


def decide(m: MetricComparison) -> tuple[Verdict, bool | None]:
    """The verdict and non-inferiority of a metric from its decision interval and margin (see
    the module docstring)."""
    if m.difference is None or m.ci_decision is None:
        return "not tested", None
    low, high = m.ci_decision
    inside = -m.margin <= low and high <= m.margin
    turned = oriented(m)
    if turned is None:
        if low > 0 or high < 0:
            return "changed", None
        return ("no change" if inside else "inconclusive"), None
    non_inferior = turned[0] >= -m.margin
    if turned[0] > 0:
        return "improved", non_inferior
    if turned[1] < 0:
        return "regressed", non_inferior
    return ("no change" if inside else "inconclusive"), non_inferior


def _repeats(
    spec: MetricSpec,
    m: MetricComparison,
    a: pd.DataFrame,
    b: pd.DataFrame,
    tail: float,
) -> RepeatsNeeded | None:
    """Repeats per persona that would settle an inconclusive rate or mean metric at the level
    its verdict uses (each bound one-sided at `tail`, so a two-sided 2 * tail), from this
    comparison's own within-persona variance and persona-to-persona spread of the difference:
    the paired model's variance tau^2 + 2 sigma_w^2 / m is the design effect of repeats."""
    if spec.kind not in ("rate", "mean") or m.difference is None:
        return None
    both = pd.concat(
        [interview_outcomes(spec, a).assign(arm="a"), interview_outcomes(spec, b).assign(arm="b")]
    )
    both["v"] = both["num"] / both["den"]
    grouped = both.groupby(["persona", "arm"])["v"]
    means = grouped.mean().unstack("arm").dropna()
    if len(means) < 2:
        return None
    per_arm = float(grouped.count().mean())
    if grouped.count().max() < 2:
        return RepeatsNeeded(
            repeats_per_persona=None,
            target=None,
            effect=None,
            personas=len(means),
            within_variance=0.0,
            effect_variance=0.0,
            alpha=2 * tail,
            note="one repeat per persona: run at least 2 to tell repeat noise from personas",
        )
    within = within_variance(both["v"], [both["persona"], both["arm"]])
    spread = float((means["b"] - means["a"]).var(ddof=1)) - 2 * within / per_arm
    share = len(both) / (len(a) + len(b)) if len(a) + len(b) else 1.0
    return repeats_to_settle(
        m.difference,
        m.margin,
        within,
        max(spread, 0.0),
        len(means),
        alpha=min(2 * tail, 0.5),
        applicable_share=share,
    )


# --- contrasts and the public entry point ---------------------------------------------------


def _matched(a: pd.DataFrame, b: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Keep the (persona, sample_index) pairs both versions have, when they share personas."""
    shared = set(a["persona"]) & set(b["persona"])
    if len(shared) < 2:
        return a, b, 0
    key_a = list(zip(a["persona"], a["sample_index"], strict=True))
    key_b = list(zip(b["persona"], b["sample_index"], strict=True))
    both = set(key_a) & set(key_b)
    keep_a = [k in both for k in key_a]
    keep_b = [k in both for k in key_b]
    dropped = len(a) + len(b) - sum(keep_a) - sum(keep_b)
    return a[keep_a], b[keep_b], dropped


def compare_arms(
    table: pd.DataFrame,
    baseline: str,
    candidate: str,
    *,
    margins: dict[str, float],
    n_boot: int,
    seed: int,
    tail: float,
) -> Contrast:
    """One contrast from the interview table of both versions (column `arm`); every decision
    bound is one-sided at level `tail`."""
    a, b, unmatched = _matched(table[table["arm"] == baseline], table[table["arm"] == candidate])
    design = _design(a, b, n_boot, seed)
    notes = []
    if unmatched:
        notes.append(
            f"{unmatched} interview(s) without a partner (same persona and sample index) in the "
            "other version were left out"
        )
    if not design.paired:
        notes.append(
            "the versions did not meet the same personas: unpaired comparison (personas "
            "resampled within each version); repeats needed are not computed"
        )
    specs = metric_specs(table_rules(table))
    metrics = []
    for spec in specs:
        if spec.kind == "icc":
            metric = _icc_metric(spec, a, b, design, tail)
        else:
            metric = _ratio_metric(spec, a, b, design, tail)
        metric.margin = margin_for(spec.id, margins)
        metrics.append(metric)
    tested = [i for i, m in enumerate(metrics) if m.p_value is not None]
    if tested:
        _, adjusted, _, _ = multipletests(
            [metrics[i].p_value for i in tested], alpha=ALPHA, method="holm"
        )
        for i, p in zip(tested, adjusted, strict=True):
            metrics[i].p_holm = float(p)
    for spec, metric in zip(specs, metrics, strict=True):
        metric.verdict, metric.non_inferior = decide(metric)
        if metric.verdict == "inconclusive" and design.paired:
            metric.repeats_needed = _repeats(spec, metric, a, b, tail)
    return Contrast(
        baseline=baseline,
        candidate=candidate,
        paired=design.paired,
        personas=len(set(design.personas_a) | set(design.personas_b)),
        matched_interviews=len(a) if design.paired else 0,
        unmatched_interviews=unmatched,
        metrics=metrics,
        notes=notes,
    )


def _arms(runs: list[RunData], table: pd.DataFrame) -> list[ArmInfo]:
    labels = arm_labels(runs)
    out = []
    for run in runs:
        seed = run.manifest.suite.get("seed")
        for prompt in run.manifest.prompts:
            label = labels[(run.manifest.run_id, prompt.id)]
            rows = table[table["arm"] == label]
            if rows.empty:
                continue
            out.append(
                ArmInfo(
                    arm=label,
                    run_id=run.manifest.run_id,
                    prompt_version=prompt.id,
                    prompt_sha256=prompt.sha256,
                    interviews=len(rows),
                    personas=rows["persona"].nunique(),
                    seed=seed if isinstance(seed, int) else None,
                    synthetic=run.manifest.synthetic,
                )
            )
    return out


def default_tail(alpha: float = ALPHA) -> float:
    """alpha over the metrics with a better direction: Bonferroni on the interval levels."""
    return alpha / sum(spec.higher_is_better is not None for spec in metric_specs())


def compare_runs(
    runs: list[RunData],
    *,
    allow_drift: bool = False,
    margins: dict[str, float] | None = None,
    n_boot: int = 2000,
    seed: int = 0,
    tail: float | None = None,
) -> Comparison:
    """Compare every prompt version in `runs` (scored) with the first one. Raises InputError
    when fewer than two versions are given, or when the runs' fingerprints differ and
    `allow_drift` is False. `margins` maps metric ids or globs to margins (over the defaults).
    `tail`: the one-sided level of each decision bound; by default alpha over the metrics with
    a direction (Bonferroni). The gate passes its own family's level."""
    if not runs:
        raise InputError(None, "runs", "nothing to compare")
    refuse_mixed_rule_sets(runs)
    drift = fingerprint_drift(runs)
    if drift and not allow_drift:
        first = runs[0].manifest.run_id
        other = next(
            r for r in runs if any(d.values[r.manifest.run_id] != d.values[first] for d in drift)
        )
        raise InputError(
            other.run_dir / MANIFEST,
            drift[0].field,
            "runs are not comparable, they differ in "
            + "; ".join(d.text() for d in drift)
            + " (pass --allow-drift to compare anyway)",
        )
    table = interview_table(runs)
    arms = _arms(runs, table)
    if len(arms) < 2:
        raise InputError(
            runs[0].run_dir / MANIFEST,
            "prompts",
            "needs at least two prompt versions: one run with several, or several runs",
        )
    merged = {**DEFAULT_MARGINS, **(margins or {})}
    if tail is None:
        tail = default_tail()
    contrasts = [
        compare_arms(
            table, arms[0].arm, arm.arm, margins=merged, n_boot=n_boot, seed=seed, tail=tail
        )
        for arm in arms[1:]
    ]
    return Comparison(
        arms=arms,
        contrasts=contrasts,
        drift=drift,
        drift_allowed=bool(drift),
        synthetic=any(r.manifest.synthetic for r in runs),
        settings=CompareSettings(n_boot=n_boot, seed=seed, margins=merged, tail=tail),
    )
