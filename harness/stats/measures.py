"""Small statistical building blocks shared by consistency, comparison and the gate.

Library calls do the statistics (statsmodels `proportion_confint` for Wilson intervals, pingouin
`intraclass_corr` for ICCs, scipy `mannwhitneyu` for Cliff's delta); this module only shapes
their inputs and outputs, plus the one vectorised ICC the cluster bootstrap needs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pingouin
from pydantic import BaseModel, Field
from scipy import stats
from statsmodels.stats.proportion import proportion_confint


class Interval(BaseModel):
    """An estimate with a confidence interval; None where the data cannot give one."""

    estimate: float | None
    low: float | None = None
    high: float | None = None
    level: float = 0.95

    def text(self, digits: int = 3) -> str:
        if self.estimate is None:
            return "n/a"
        if self.low is None or self.high is None:
            return f"{self.estimate:.{digits}f}"
        return f"{self.estimate:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


def finite(value: float | np.floating | None) -> float | None:
    """A float for JSON, with NaN and infinities as None."""
    if value is None:
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def wilson(count: int, nobs: int, level: float = 0.95) -> Interval:
    """Share `count/nobs` with its Wilson interval (statsmodels `proportion_confint`)."""
    if nobs <= 0:
        return Interval(estimate=None, level=level)
    low, high = proportion_confint(count, nobs, alpha=1 - level, method="wilson")
    return Interval(estimate=count / nobs, low=float(low), high=float(high), level=level)


def pass_hat_k(passes: int, n: int, k: int) -> float:
    """tau-bench's unbiased pass^k for one persona: the chance that k repeats drawn without
    replacement from its n all pass, C(c,k)/C(n,k). Defined for 1 <= k <= n."""
    if not 1 <= k <= n:
        raise ValueError(f"pass^k needs 1 <= k <= n (k={k}, n={n})")
    return math.comb(passes, k) / math.comb(n, k)


class PassHatK(BaseModel):
    k: int
    value: float = Field(description="pass^k averaged over the personas with at least k repeats")
    personas: int = Field(description="personas with at least k applicable repeats")


def pass_hat_k_curve(counts: Iterable[tuple[int, int]]) -> list[PassHatK]:
    """pass^k for k = 1..max n, averaged over personas given as (passes, applicable repeats)."""
    pairs = [(c, n) for c, n in counts if n > 0]
    top = max((n for _, n in pairs), default=0)
    curve = []
    for k in range(1, top + 1):
        values = [pass_hat_k(c, n, k) for c, n in pairs if n >= k]
        curve.append(PassHatK(k=k, value=float(np.mean(values)), personas=len(values)))
    return curve


def cliffs_delta(a: Iterable[float], b: Iterable[float]) -> tuple[float | None, float | None]:
    """Cliff's delta of b over a (P(b > a) - P(b < a)) from scipy's Mann-Whitney U, and the
    test's two-sided p-value: delta = 2U/(n1 n2) - 1 with U counted for b."""
    xa, xb = np.asarray(list(a), float), np.asarray(list(b), float)
    if len(xa) == 0 or len(xb) == 0:
        return None, None
    result = stats.mannwhitneyu(xb, xa, alternative="two-sided")
    delta = 2 * float(result.statistic) / (len(xa) * len(xb)) - 1
    return delta, finite(result.pvalue)


# Koo & Li (2016) for ICC; Krippendorff (2004) for alpha.
def icc_band(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value < 0.5:
        return "poor (< 0.5, Koo & Li)"
    if value < 0.75:
        return "moderate (0.5-0.75, Koo & Li)"
    if value < 0.9:
        return "good (0.75-0.9, Koo & Li)"
    return "excellent (> 0.9, Koo & Li)"


def alpha_band(value: float | None) -> str:
    if value is None:
        return "n/a"
    if value >= 0.8:
        return "reliable (>= 0.800, Krippendorff)"
    if value >= 0.667:
        return "tentative conclusions only (0.667-0.800, Krippendorff)"
    return "unreliable (< 0.667, Krippendorff)"


@dataclass
class BalancedTable:
    """Personas x repeats with every cell filled, and what had to be left out to get it."""

    matrix: np.ndarray  # shape (personas, repeats)
    personas: list[str]
    repeats: int
    dropped_personas: list[str] = field(default_factory=list)
    dropped_scores: int = 0

    def note(self) -> str | None:
        if not self.dropped_scores:
            return None
        who = ""
        if self.dropped_personas:
            who = f" (personas left out: {', '.join(self.dropped_personas)})"
        return (
            f"balanced table {len(self.personas)} personas x {self.repeats} repeats: "
            f"{self.dropped_scores} score(s) left out{who}"
        )


def balanced_table(scores: pd.DataFrame, value: str = "final_score") -> BalancedTable:
    """Make the personas x repeats table ICC needs from one version's scored interviews.

    Repeats are exchangeable (repeat 1 of persona A has nothing to do with repeat 1 of B), so
    each persona's scores are taken in sample order and the table keeps the number of repeats k
    that keeps the most scores; personas with fewer than k scores, and scores beyond k, are
    left out and counted."""
    got = scores.dropna(subset=[value]).sort_values(["persona", "sample_index"])
    by_persona = {str(p): g[value].to_numpy(float) for p, g in got.groupby("persona", sort=True)}
    best_k = max(
        {len(v) for v in by_persona.values() if len(v) >= 2} or {2},
        key=lambda k: (k * sum(len(v) >= k for v in by_persona.values()), k),
    )
    kept = [p for p, v in by_persona.items() if len(v) >= best_k]
    total = sum(len(v) for v in by_persona.values())
    matrix = np.array([by_persona[p][:best_k] for p in kept]).reshape(len(kept), best_k)
    return BalancedTable(
        matrix=matrix,
        personas=kept,
        repeats=best_k,
        dropped_personas=[p for p in by_persona if p not in kept],
        dropped_scores=total - matrix.size,
    )


class IccResult(BaseModel):
    icc1: Interval
    icc2: Interval
    targets: int
    raters: int


def icc(table: BalancedTable) -> IccResult:
    """ICC(1,1) and ICC(2,1) = ICC(A,1) (two-way, absolute agreement, single rating) with 95%
    CIs from pingouin; personas are targets, repeats raters. None when too small to compute."""
    n, k = table.matrix.shape
    if n < 2 or k < 2 or n * k < 5:  # pingouin's ANOVA needs at least 5 values
        return IccResult(
            icc1=Interval(estimate=None), icc2=Interval(estimate=None), targets=n, raters=k
        )
    long = pd.DataFrame(
        [(p, r, table.matrix[i, r]) for i, p in enumerate(table.personas) for r in range(k)],
        columns=["persona", "repeat", "score"],
    )
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        out = pingouin.intraclass_corr(long, targets="persona", raters="repeat", ratings="score")
    rows = out.set_index("Type")

    def pick(*names: str) -> Interval:
        # pingouin >= 0.7 labels rows "ICC(1,1)", "ICC(A,1)"; earlier versions "ICC1", "ICC2"
        name = next(n for n in names if n in rows.index)
        value = finite(rows.at[name, "ICC"])
        low, high = rows.at[name, "CI95"]
        return Interval(estimate=value, low=finite(low), high=finite(high))

    return IccResult(
        icc1=pick("ICC(1,1)", "ICC1"), icc2=pick("ICC(A,1)", "ICC2"), targets=n, raters=k
    )


def icc2_many(matrices: np.ndarray) -> np.ndarray:
    """ICC(A,1) of many personas x repeats tables at once, shape (..., n, k) -> (...).

    The same two-way ANOVA mean squares pingouin uses (checked against it in the tests),
    vectorised because the cluster bootstrap needs thousands of them."""
    x = np.asarray(matrices, float)
    n, k = x.shape[-2], x.shape[-1]
    grand = x.mean(axis=(-2, -1), keepdims=True)
    rows = x.mean(axis=-1, keepdims=True)
    cols = x.mean(axis=-2, keepdims=True)
    msr = k * ((rows - grand) ** 2).sum(axis=(-2, -1)) / (n - 1)
    msc = n * ((cols - grand) ** 2).sum(axis=(-2, -1)) / (k - 1)
    resid = x - rows - cols + grand
    mse = (resid**2).sum(axis=(-2, -1)) / ((n - 1) * (k - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        result: np.ndarray = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    return result


def pooled_within_sd(groups: Iterable[np.ndarray]) -> float | None:
    """Within-persona SD pooled over personas: sqrt(sum (n_i - 1) s_i^2 / sum (n_i - 1))."""
    ss = df = 0.0
    for g in groups:
        if len(g) > 1:
            ss += float(((g - g.mean()) ** 2).sum())
            df += len(g) - 1
    return math.sqrt(ss / df) if df else None


def within_variance(values: pd.Series, groups: list[pd.Series]) -> float:
    """Variance of one observation around its group's mean, pooled over groups (ANOVA's mean
    square within): sum of squared deviations / sum of (n_g - 1). 0 when no group has two."""
    grouped = values.groupby(groups)
    dof = float((grouped.count() - 1).clip(lower=0).sum())
    if dof <= 0:
        return 0.0
    return float(((values - grouped.transform("mean")) ** 2).sum() / dof)
