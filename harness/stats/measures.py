"""Small statistical building blocks shared by consistency, comparison and the gate.

Library calls do the statistics where a library has them (statsmodels `proportion_confint` for
Wilson intervals, scipy `mannwhitneyu` for Cliff's delta, scipy's F distribution for the ICC
intervals); the ICCs are the ANOVA formulas (Shrout and Fleiss 1979; McGraw and Wong 1996),
checked against pingouin's `intraclass_corr` in the tests, so pingouin is not a runtime need.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
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


def wilson_clustered(count: float, nobs: float, deff: float, level: float = 0.95) -> Interval:
    """Wilson interval for a share of clustered units: on the effective sample size nobs / deff
    (Kish's design effect), so repeats of one persona are not counted as independent."""
    if nobs <= 0:
        return Interval(estimate=None, level=level)
    scale = 1.0 / max(deff, 1.0)
    low, high = proportion_confint(count * scale, nobs * scale, alpha=1 - level, method="wilson")
    return Interval(estimate=count / nobs, low=float(low), high=float(high), level=level)


def pass_hat_k(passes: int, n: int, k: int) -> float:
    """tau-bench's unbiased pass^k for one persona: the chance that k repeats drawn without
    replacement from its n all pass, C(c,k)/C(n,k). Defined for 1 <= k <= n."""
    if not 1 <= k <= n:
        raise ValueError(f"pass^k needs 1 <= k <= n (k={k}, n={n})")
    return math.comb(passes, k) / math.comb(n, k)


class PassHatK(BaseModel):
    k: int
    value: float = Field(description="pass^k averaged over the curve's fixed set of personas")
    personas: int = Field(description="personas in the curve's set (the same at every k)")


def pass_hat_k_curve(counts: Iterable[tuple[int, int]]) -> list[PassHatK]:
    """pass^k for k = 1..K over ONE set of personas, given as (passes, applicable repeats).

    Averaging each k over the personas that happen to have k repeats would change the set with
    k, and the curve could rise. K keeps the most persona-repeats (K times the personas with at
    least K), as the balanced ICC table does; the set is the personas with at least K."""
    pairs = [(c, n) for c, n in counts if n > 0]
    if not pairs:
        return []
    sizes = {n for _, n in pairs}
    top = max(sizes, key=lambda k: (k * sum(n >= k for _, n in pairs), k))
    chosen = [(c, n) for c, n in pairs if n >= top]
    return [
        PassHatK(
            k=k,
            value=float(np.mean([pass_hat_k(c, n, k) for c, n in chosen])),
            personas=len(chosen),
        )
        for k in range(1, top + 1)
    ]


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


@dataclass(frozen=True)
class _MeanSquares:
    n: int
    k: int
    msb: np.float64  # between personas
    msw: np.float64  # within personas (one-way)
    msj: np.float64  # between repeat numbers (two-way)
    mse: np.float64  # residual (two-way)


def _mean_squares(x: np.ndarray) -> _MeanSquares:
    n, k = x.shape
    grand = x.mean()
    rows, cols = x.mean(axis=1), x.mean(axis=0)
    ss_rows = k * float(((rows - grand) ** 2).sum())
    ss_cols = n * float(((cols - grand) ** 2).sum())
    ss_total = float(((x - grand) ** 2).sum())
    ss_err = ss_total - ss_rows - ss_cols
    # numpy floats, so a table without variance gives nan, not ZeroDivisionError
    return _MeanSquares(
        n=n,
        k=k,
        msb=np.float64(ss_rows / (n - 1)),
        msw=np.float64((ss_total - ss_rows) / (n * (k - 1))),
        msj=np.float64(ss_cols / (k - 1)),
        mse=np.float64(max(ss_err, 0.0) / ((n - 1) * (k - 1))),
    )


def _icc1(ms: _MeanSquares, level: float) -> Interval:
    """ICC(1,1), one-way random effects, with the exact F interval (Shrout and Fleiss 1979)."""
    n, k = ms.n, ms.k
    with np.errstate(divide="ignore", invalid="ignore"):
        est = (ms.msb - ms.msw) / (ms.msb + (k - 1) * ms.msw)
        f_obs = ms.msb / ms.msw
        q = 1 - (1 - level) / 2
        f_low = f_obs / stats.f.ppf(q, n - 1, n * (k - 1))
        f_high = f_obs * stats.f.ppf(q, n * (k - 1), n - 1)
        low = (f_low - 1) / (f_low + k - 1)
        high = (f_high - 1) / (f_high + k - 1)
    return Interval(estimate=finite(est), low=finite(low), high=finite(high), level=level)


def _icc_a1(ms: _MeanSquares, level: float) -> Interval:
    """ICC(A,1), two-way random effects, absolute agreement, with McGraw and Wong's (1996)
    approximate F interval (Satterthwaite degrees of freedom)."""
    n, k = ms.n, ms.k
    msb, mse, msj = ms.msb, ms.mse, ms.msj
    q = 1 - (1 - level) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        est = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
        fj = msj / mse
        df_e = (n - 1) * (k - 1)
        vn = df_e * (k * est * fj + n * (1 + (k - 1) * est) - k * est) ** 2
        vd = (n - 1) * k**2 * est**2 * fj**2 + (n * (1 + (k - 1) * est) - k * est) ** 2
        v = vn / vd
        f_u = stats.f.ppf(q, n - 1, v)
        f_l = stats.f.ppf(q, v, n - 1)
        low = n * (msb - f_u * mse) / (f_u * (k * msj + (k * n - k - n) * mse) + n * msb)
        high = n * (f_l * msb - mse) / (k * msj + (k * n - k - n) * mse + n * f_l * msb)
    return Interval(estimate=finite(est), low=finite(low), high=finite(high), level=level)


def icc(table: BalancedTable, level: float = 0.95) -> IccResult:
    """ICC(1,1) (one-way: repeats are exchangeable, the model that fits them; the primary figure)
    and ICC(A,1) (two-way, absolute agreement, single rating, repeat number as a rater) from
    the ANOVA mean squares, each with its F-based interval; personas are targets. None when
    too small to compute (fewer than 2 personas or 2 repeats, or under 5 values)."""
    n, k = table.matrix.shape
    if n < 2 or k < 2 or n * k < 5:
        return IccResult(
            icc1=Interval(estimate=None), icc2=Interval(estimate=None), targets=n, raters=k
        )
    ms = _mean_squares(np.asarray(table.matrix, float))
    return IccResult(icc1=_icc1(ms, level), icc2=_icc_a1(ms, level), targets=n, raters=k)


def icc1_many(matrices: np.ndarray) -> np.ndarray:
    """ICC(1,1) of many personas x repeats tables at once, shape (..., n, k) -> (...)."""
    x = np.asarray(matrices, float)
    n, k = x.shape[-2], x.shape[-1]
    rows = x.mean(axis=-1, keepdims=True)
    grand = x.mean(axis=(-2, -1), keepdims=True)
    msb = k * ((rows - grand) ** 2).sum(axis=(-2, -1)) / (n - 1)
    msw = ((x - rows) ** 2).sum(axis=(-2, -1)) / (n * (k - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        result: np.ndarray = (msb - msw) / (msb + (k - 1) * msw)
    return result


def icc2_many(matrices: np.ndarray) -> np.ndarray:
    """ICC(A,1) of many personas x repeats tables at once, shape (..., n, k) -> (...).

    The same two-way ANOVA mean squares as `icc`, vectorised because the cluster bootstrap
    needs thousands of them."""
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
