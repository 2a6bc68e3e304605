"""Compare prompt versions: per rule and for the scores, what improved, what regressed and what
cannot be told apart yet, with intervals, corrected p-values and the repeats it would take.

Design (why each choice):
- The persona is the unit of inference: repeats of one persona are not independent. Interviews
  are paired by (persona, sample_index); intervals come from a cluster bootstrap that resamples
  personas (persona *pairs* when both versions met the same personas, so between-persona
  variance cancels), `n_boot` draws, percentile intervals, seeded.
- p-values: for rates, a cluster permutation test (scipy `permutation_test`: each persona's
  outcomes swap between versions, exact when 2^P <= 9999); for score means and distances,
  Wilcoxon signed-rank on per-persona paired means (Mann-Whitney when unpaired), with
  Mann-Whitney and Cliff's delta on all scores beside it; for spread, Brown-Forsythe
  (`levene(center="median")`) on the scores minus their persona's median; for the ICC, the
  bootstrap. Holm (statsmodels `multipletests`) across every metric of a contrast, so the chance
  of any false "improved"/"regressed" in one comparison is at most alpha.
- Verdicts: improved or regressed when the Holm-adjusted p < alpha; "no change" when the two-sided
  90% interval of the difference lies inside (-margin, +margin) (equivalence by two one-sided
  tests at 5%); otherwise inconclusive, with the repeats per persona that would settle it
  (`harness.stats.power`). `non_inferior` says whether the 90% interval excludes a loss beyond
  the margin. A metric with no better direction (the mean score) gets "changed" instead.
- Comparability: runs compare only when their manifests' fingerprints (everything but the prompt
  under test) agree; otherwise InputError names each difference, unless allow_drift.
"""

from __future__ import annotations

import fnmatch
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field
from scipy import stats
from statsmodels.stats.multitest import multipletests

from harness.errors import InputError
from harness.stats.measures import (
    BalancedTable,
    IccResult,
    balanced_table,
    cliffs_delta,
    finite,
    icc,
    icc2_many,
    wilson,
    within_variance,
)
from harness.stats.metrics import (
    MetricSpec,
    interview_outcomes,
    metric_specs,
    persona_sums,
    ratio_value,
)
from harness.stats.power import RepeatsNeeded, repeats_to_settle
from harness.stats.tables import arm_labels, interview_table, table_rules
from harness.store.rundata import RunData
from harness.store.runs import MANIFEST, SCORES

ALPHA = 0.05
PERMUTATIONS = 9999
DEFAULT_MARGINS: dict[str, float] = {
    "rule:*": 0.10,
    "turns:one_question": 0.05,
    "score:in_band": 0.15,
    "score:mae": 0.5,
    "score:mean": 0.5,
    "score:spread": 0.5,
    "score:icc2": 0.15,
}
Verdict = Literal["improved", "regressed", "no change", "changed", "inconclusive", "not tested"]


class ArmValue(BaseModel):
    """One version's figure for a metric."""

    value: float | None
    low: float | None = Field(default=None, description="95%: Wilson for rates, else bootstrap")
    high: float | None = None
    count: float | None = Field(default=None, description="numerator (passes, violations...)")
    n: float | None = Field(default=None, description="denominator (interviews, turns...)")
    personas: int = 0


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
    test: str
    p_value: float | None
    p_holm: float | None
    margin: float
    verdict: Verdict
    non_inferior: bool | None = Field(
        description="the 90% interval excludes a loss larger than the margin"
    )
    extra: dict[str, float | None] = Field(default_factory=dict)
    repeats_needed: RepeatsNeeded | None = None


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
    permutations: int = PERMUTATIONS
    margins: dict[str, float]
    multiplicity: str = "Holm across every metric of a contrast"


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


def _percentiles(draws: np.ndarray, level: float) -> tuple[float, float] | None:
    ok = draws[np.isfinite(draws)]
    if len(ok) < 10:
        return None
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(ok, [tail, 100 - tail])
    return float(low), float(high)


def _bootstrap_p(draws: np.ndarray) -> float | None:
    """Two-sided p from the bootstrap: twice the share of draws on the far side of 0."""
    ok = draws[np.isfinite(draws)]
    if len(ok) < 10:
        return None
    return float(min(1.0, 2 * min((ok <= 0).mean(), (ok >= 0).mean())))


def _permutation_p(
    spec: MetricSpec,
    sums_a: pd.DataFrame,
    sums_b: pd.DataFrame,
    design: _Design,
) -> float | None:
    """Cluster permutation test: swap each persona's sums between versions (paired), or
    reassign personas to versions (unpaired); the statistic is the metric's difference."""
    num = np.concatenate([sums_a["num"].to_numpy(float), sums_b["num"].to_numpy(float)])
    den = np.concatenate([sums_a["den"].to_numpy(float), sums_b["den"].to_numpy(float)])
    x = np.arange(len(sums_a))
    y = len(sums_a) + np.arange(len(sums_b))

    def statistic(xs: np.ndarray, ys: np.ndarray, axis: int = -1) -> np.ndarray:
        xi, yi = xs.astype(int), ys.astype(int)
        va = ratio_value(spec, num[xi].sum(axis=axis), den[xi].sum(axis=axis))
        vb = ratio_value(spec, num[yi].sum(axis=axis), den[yi].sum(axis=axis))
        return np.nan_to_num(vb - va, nan=0.0)

    if len(x) < 2 or len(y) < 2:
        return None
    result = stats.permutation_test(
        (x, y),
        statistic,
        permutation_type="samples" if design.paired else "independent",
        vectorized=True,
        n_resamples=PERMUTATIONS,
        rng=design.rng,
    )
    return finite(result.pvalue)


def _rank_test(sums_a: pd.DataFrame, sums_b: pd.DataFrame, paired: bool) -> float | None:
    """Wilcoxon signed-rank on per-persona paired means (Mann-Whitney when unpaired)."""
    ma = (sums_a["num"] / sums_a["den"]).to_numpy(float)
    mb = (sums_b["num"] / sums_b["den"]).to_numpy(float)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if paired:
            ok = np.isfinite(ma) & np.isfinite(mb)
            diffs = mb[ok] - ma[ok]
            if len(diffs) < 2:
                return None
            if np.allclose(diffs, 0):
                return 1.0
            return finite(stats.wilcoxon(diffs).pvalue)
        ma, mb = ma[np.isfinite(ma)], mb[np.isfinite(mb)]
        if len(ma) < 2 or len(mb) < 2:
            return None
        return finite(stats.mannwhitneyu(mb, ma, alternative="two-sided").pvalue)


def _residuals(rows: pd.DataFrame) -> np.ndarray:
    scored = rows.dropna(subset=["final_score"])
    medians = scored.groupby("persona")["final_score"].transform("median")
    return (scored["final_score"] - medians).to_numpy(float)


# --- one metric -----------------------------------------------------------------------------


def _arm_value(spec: MetricSpec, sums: pd.DataFrame, draws: np.ndarray) -> ArmValue:
    num, den = float(sums["num"].sum()), float(sums["den"].sum())
    value = finite(float(ratio_value(spec, np.array(num), np.array(den))))
    personas = int((sums["den"] > 0).sum())
    if spec.kind == "rate" and den > 0:
        w = wilson(round(num), round(den))
        return ArmValue(value=value, low=w.low, high=w.high, count=num, n=den, personas=personas)
    ci = _percentiles(draws, 0.95)
    return ArmValue(
        value=value,
        low=ci[0] if ci else None,
        high=ci[1] if ci else None,
        count=num if spec.kind != "spread" else None,
        n=den,
        personas=personas,
    )


def _resampled(spec: MetricSpec, weights: np.ndarray, sums: pd.DataFrame) -> np.ndarray:
    """The metric in every bootstrap draw: persona sums weighted by how often each was drawn."""
    return ratio_value(
        spec, weights @ sums["num"].to_numpy(float), weights @ sums["den"].to_numpy(float)
    )


def _ratio_metric(
    spec: MetricSpec, a: pd.DataFrame, b: pd.DataFrame, design: _Design
) -> MetricComparison:
    sums_a = persona_sums(spec, a).reindex(design.personas_a, fill_value=0.0)
    sums_b = persona_sums(spec, b).reindex(design.personas_b, fill_value=0.0)
    draws_a = _resampled(spec, design.weights_a, sums_a)
    draws_b = _resampled(spec, design.weights_b, sums_b)
    base, cand = _arm_value(spec, sums_a, draws_a), _arm_value(spec, sums_b, draws_b)
    diff_draws = draws_b - draws_a
    extra: dict[str, float | None] = {}
    if spec.kind == "rate":
        test = "cluster permutation test over personas"
        p = _permutation_p(spec, sums_a, sums_b, design)
    elif spec.kind == "mean":
        test = (
            "Wilcoxon signed-rank on per-persona means"
            if design.paired
            else "Mann-Whitney on per-persona means"
        )
        p = _rank_test(sums_a, sums_b, design.paired)
        if spec.id == "score:mean":
            delta, mw_p = cliffs_delta(a["final_score"].dropna(), b["final_score"].dropna())
            extra = {"cliffs_delta": delta, "mann_whitney_p": mw_p}
    else:
        test = "Brown-Forsythe on scores minus their persona's median"
        ra, rb = _residuals(a), _residuals(b)
        p = None
        if len(ra) > 1 and len(rb) > 1 and (np.ptp(ra) > 0 or np.ptp(rb) > 0):
            res = stats.levene(ra, rb, center="median")
            p, extra = finite(res.pvalue), {"brown_forsythe_W": finite(res.statistic)}
    return _metric(spec, base, cand, diff_draws, test, p, extra)


def _icc_metric(
    spec: MetricSpec, a: pd.DataFrame, b: pd.DataFrame, design: _Design
) -> MetricComparison:
    ta, tb = balanced_table(a), balanced_table(b)
    ia, ib = icc(ta), icc(tb)

    def value(result: IccResult, table: BalancedTable) -> ArmValue:
        est = result.icc2
        return ArmValue(
            value=est.estimate,
            low=est.low,
            high=est.high,
            personas=len(table.personas),
            n=float(table.matrix.size),
        )

    base, cand = value(ia, ta), value(ib, tb)
    draws = np.full(design.n_boot, np.nan)
    if design.paired:
        common = [p for p in ta.personas if p in tb.personas]
        if len(common) >= 3:
            xa = ta.matrix[[ta.personas.index(p) for p in common]]
            xb = tb.matrix[[tb.personas.index(p) for p in common]]
            idx = design.rng.integers(0, len(common), size=(design.n_boot, len(common)))
            draws = icc2_many(xb[idx]) - icc2_many(xa[idx])
    elif len(ta.personas) >= 3 and len(tb.personas) >= 3:
        ia_idx = design.rng.integers(0, len(ta.personas), size=(design.n_boot, len(ta.personas)))
        ib_idx = design.rng.integers(0, len(tb.personas), size=(design.n_boot, len(tb.personas)))
        draws = icc2_many(tb.matrix[ib_idx]) - icc2_many(ta.matrix[ia_idx])
    return _metric(
        spec, base, cand, draws, "cluster bootstrap over personas", _bootstrap_p(draws), {}
    )


def _metric(
    spec: MetricSpec,
    base: ArmValue,
    cand: ArmValue,
    diff_draws: np.ndarray,
    test: str,
    p: float | None,
    extra: dict[str, float | None],
) -> MetricComparison:
    diff = None
    if base.value is not None and cand.value is not None:
        diff = cand.value - base.value
    return MetricComparison(
        metric=spec.id,
        label=spec.label,
        unit=spec.unit,
        higher_is_better=spec.higher_is_better,
        baseline=base,
        candidate=cand,
        difference=diff,
        ci95=_percentiles(diff_draws, 0.95) if diff is not None else None,
        ci90=_percentiles(diff_draws, 0.90) if diff is not None else None,
        test=test,
        p_value=p if diff is not None else None,
        p_holm=None,
        margin=0.0,
        verdict="not tested",
        non_inferior=None,
        extra=extra,
    )


def decide(m: MetricComparison, alpha: float = ALPHA) -> tuple[Verdict, bool | None]:
    """The verdict and non-inferiority of a metric from its difference, 90% interval, Holm p
    and margin (see the module docstring)."""
    if m.difference is None:
        return "not tested", None
    non_inferior = None
    if m.ci90 is not None and m.higher_is_better is not None:
        bad_side = m.ci90[0] if m.higher_is_better else -m.ci90[1]
        non_inferior = bad_side > -m.margin
    if m.p_holm is not None and m.p_holm < alpha and m.difference != 0:
        if m.higher_is_better is None:
            return "changed", non_inferior
        better = (m.difference > 0) == m.higher_is_better
        return ("improved" if better else "regressed"), non_inferior
    if m.ci90 is not None and -m.margin < m.ci90[0] and m.ci90[1] < m.margin:
        return "no change", non_inferior
    return "inconclusive", non_inferior


def _repeats(
    spec: MetricSpec,
    m: MetricComparison,
    a: pd.DataFrame,
    b: pd.DataFrame,
    alpha: float,
) -> RepeatsNeeded | None:
    """Repeats per persona that would settle an inconclusive rate or mean metric, from this
    comparison's own within-persona variance and persona-to-persona spread of the difference."""
    if spec.kind not in ("rate", "mean") or m.difference is None:
        return None
    both = pd.concat(
        [interview_outcomes(spec, a).assign(arm="a"), interview_outcomes(spec, b).assign(arm="b")]
    )
    both["v"] = both["num"] / both["den"]
    within = within_variance(both["v"], [both["persona"], both["arm"]])
    grouped = both.groupby(["persona", "arm"])["v"]
    means = grouped.mean().unstack("arm").dropna()
    if len(means) < 2:
        return None
    per_arm = float(grouped.count().mean())
    spread = float((means["b"] - means["a"]).var(ddof=1)) - 2 * within / per_arm
    share = len(both) / (len(a) + len(b)) if len(a) + len(b) else 1.0
    return repeats_to_settle(
        m.difference,
        m.margin,
        within,
        max(spread, 0.0),
        len(means),
        alpha=alpha,
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
    alpha: float = ALPHA,
) -> Contrast:
    """One contrast from the interview table of both versions (column `arm`)."""
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
            metric = _icc_metric(spec, a, b, design)
        else:
            metric = _ratio_metric(spec, a, b, design)
        metric.margin = margin_for(spec.id, margins)
        metrics.append(metric)
    tested = [i for i, m in enumerate(metrics) if m.p_value is not None]
    if tested:
        _, adjusted, _, _ = multipletests(
            [metrics[i].p_value for i in tested], alpha=alpha, method="holm"
        )
        for i, p in zip(tested, adjusted, strict=True):
            metrics[i].p_holm = float(p)
    for spec, metric in zip(specs, metrics, strict=True):
        metric.verdict, metric.non_inferior = decide(metric, alpha)
        if metric.verdict == "inconclusive" and design.paired:
            metric.repeats_needed = _repeats(spec, metric, a, b, alpha / max(len(tested), 1))
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


def compare_runs(
    runs: list[RunData],
    *,
    allow_drift: bool = False,
    margins: dict[str, float] | None = None,
    n_boot: int = 2000,
    seed: int = 0,
) -> Comparison:
    """Compare every prompt version in `runs` (scored) with the first one. Raises InputError
    when fewer than two versions are given, or when the runs' fingerprints differ and
    `allow_drift` is False. `margins` maps metric ids or globs to margins (over the defaults)."""
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
    contrasts = [
        compare_arms(table, arms[0].arm, arm.arm, margins=merged, n_boot=n_boot, seed=seed)
        for arm in arms[1:]
    ]
    return Comparison(
        arms=arms,
        contrasts=contrasts,
        drift=drift,
        drift_allowed=bool(drift),
        synthetic=any(r.manifest.synthetic for r in runs),
        settings=CompareSettings(n_boot=n_boot, seed=seed, margins=merged),
    )
