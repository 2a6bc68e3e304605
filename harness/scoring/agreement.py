"""Agreement of a scorer with people's labels, with 95% intervals, weighted back to the whole
run when the labelled transcripts were not drawn at random.

Why these methods: precision and recall of fail detection are proportions, so without weights
their interval is Wilson's (`statsmodels` `proportion_confint(method="wilson")`), which keeps
its coverage at the small counts a labelling session gives. F1 and Cohen's kappa are not
proportions; their interval is a percentile bootstrap over transcripts (seeded). When the
labelling order over-sampled some strata (disagreements first, rare failures next), every
figure is a weighted one (weight = transcripts in the stratum / labelled in it, a
Horvitz-Thompson weight) and the bootstrap resamples within each stratum, as the sample was
drawn. The coverage of both is checked by simulation in tests/test_agreement_stats.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

CONFIDENCE = 0.95
BOOTSTRAP = 2000
SEED = 20261206
Interval = tuple[float, float]
NAN_INTERVAL: Interval = (math.nan, math.nan)


@dataclass(frozen=True)
class Estimate:
    value: float
    low: float
    high: float

    def text(self, digits: int = 2) -> str:
        if math.isnan(self.value):
            return "-"
        if math.isnan(self.low):
            return f"{self.value:.{digits}f}"
        return f"{self.value:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


@dataclass(frozen=True)
class BinaryAgreement:
    """Fail detection (positive = fail) and three-verdict kappa, each with its interval."""

    n: int
    labelled_fail: int
    found_fail: int
    tp: int
    fp: int
    fn: int
    precision: Estimate
    recall: Estimate
    f1: Estimate
    kappa: Estimate
    weighted: bool


def wilson(successes: int, trials: int, confidence: float = CONFIDENCE) -> Interval:
    from statsmodels.stats.proportion import proportion_confint

    if trials == 0:
        return NAN_INTERVAL
    low, high = proportion_confint(successes, trials, alpha=1 - confidence, method="wilson")
    return float(low), float(high)


def _ratio(num: NDArray[np.float64], den: NDArray[np.float64]) -> NDArray[np.float64]:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _fail_stats(
    truth: NDArray[np.bool_], guess: NDArray[np.bool_], w: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Weighted precision, recall, F1 for each row of (B, n) arrays (or one row)."""
    tp = (w * (truth & guess)).sum(-1)
    fp = (w * (~truth & guess)).sum(-1)
    fn = (w * (truth & ~guess)).sum(-1)
    return _ratio(tp, tp + fp), _ratio(tp, tp + fn), _ratio(2 * tp, 2 * tp + fp + fn)


def _kappa(
    labels: NDArray[np.int_], found: NDArray[np.int_], w: NDArray[np.float64], k: int
) -> NDArray[np.float64]:
    """Cohen's kappa with case weights for each row of (B, n) arrays; nan when chance
    agreement is 1 (a single category on both sides)."""
    total = w.sum(-1)
    observed = (w * (labels == found)).sum(-1) / total
    expected = sum(
        ((w * (labels == c)).sum(-1) / total) * ((w * (found == c)).sum(-1) / total)
        for c in range(k)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(np.isclose(expected, 1.0), np.nan, (observed - expected) / (1 - expected))


def kappa(
    labels: Sequence[str], found: Sequence[str], weights: Sequence[float] | None = None
) -> float:
    """Cohen's kappa of two raters over the same items (optionally weighted items)."""
    cats = sorted(set(labels) | set(found))
    index = {c: i for i, c in enumerate(cats)}
    a = np.array([index[v] for v in labels])
    b = np.array([index[v] for v in found])
    w = np.ones(len(a)) if weights is None else np.asarray(weights, dtype=float)
    return float(_kappa(a, b, w, len(cats))) if len(a) else math.nan


def resample_indices(
    strata: Sequence[str], draws: int = BOOTSTRAP, seed: int = SEED
) -> NDArray[np.int_]:
    """(draws, n) indices: a bootstrap over transcripts, resampled within each stratum."""
    rng = np.random.default_rng(seed)
    n = len(strata)
    out = np.empty((draws, n), dtype=np.int_)
    labels = np.asarray(strata)
    for stratum in dict.fromkeys(strata):
        members = np.flatnonzero(labels == stratum)
        out[:, members] = rng.choice(members, size=(draws, len(members)), replace=True)
    return out


def _percentile(values: NDArray[np.float64], confidence: float) -> Interval:
    finite = values[~np.isnan(values)]
    if len(finite) < len(values) * 0.5:  # mostly undefined resamples: no honest interval
        return NAN_INTERVAL
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def binary_agreement(
    labels: Sequence[str],
    found: Sequence[str],
    *,
    weights: Sequence[float] | None = None,
    strata: Sequence[str] | None = None,
    positive: str = "fail",
    confidence: float = CONFIDENCE,
    draws: int = BOOTSTRAP,
    seed: int = SEED,
) -> BinaryAgreement:
    """Fail detection of `found` against `labels` (one entry per transcript), with intervals.
    `weights` (per transcript) make every figure a weighted one, `strata` the bootstrap a
    stratified one; with neither, precision and recall get Wilson intervals."""
    n = len(labels)
    truth = np.array([v == positive for v in labels], dtype=bool)
    guess = np.array([v == positive for v in found], dtype=bool)
    weighted = weights is not None and len(set(weights)) > 1
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    cats = sorted(set(labels) | set(found))
    index = {c: i for i, c in enumerate(cats)}
    a = np.array([index[v] for v in labels], dtype=np.int_)
    b = np.array([index[v] for v in found], dtype=np.int_)
    tp = int((truth & guess).sum())
    fp = int((~truth & guess).sum())
    fn = int((truth & ~guess).sum())
    if n == 0:
        empty = Estimate(math.nan, math.nan, math.nan)
        return BinaryAgreement(0, 0, 0, 0, 0, 0, empty, empty, empty, empty, weighted)
    p, r, f = (float(x) for x in _fail_stats(truth, guess, w))
    k = float(_kappa(a, b, w, len(cats)))
    idx = resample_indices(strata or ["all"] * n, draws, seed)
    bp, br, bf = _fail_stats(truth[idx], guess[idx], w[idx])
    bk = _kappa(a[idx], b[idx], w[idx], len(cats))
    if weighted:
        p_iv, r_iv = _percentile(bp, confidence), _percentile(br, confidence)
    else:
        p_iv, r_iv = wilson(tp, tp + fp, confidence), wilson(tp, tp + fn, confidence)

    def est(value: float, iv: Interval) -> Estimate:
        return Estimate(value, *(iv if not math.isnan(value) else NAN_INTERVAL))

    return BinaryAgreement(
        n=n,
        labelled_fail=int(truth.sum()),
        found_fail=int(guess.sum()),
        tp=tp,
        fp=fp,
        fn=fn,
        precision=est(p, p_iv),
        recall=est(r, r_iv),
        f1=est(f, _percentile(bf, confidence)),
        kappa=est(k, _percentile(bk, confidence)),
        weighted=weighted,
    )
