"""The agreement statistics on a known truth: interval coverage by simulation, and stratum
weights that undo an over-sampled labelling order."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from harness.scoring.agreement import binary_agreement, kappa, resample_indices

SIMS = 300


def _population_draw(
    rng: np.random.Generator, n: int, base: float, recall: float, false_alarm: float
) -> tuple[list[str], list[str]]:
    truth = rng.random(n) < base
    guess = np.where(truth, rng.random(n) < recall, rng.random(n) < false_alarm)
    return (
        ["fail" if t else "pass" for t in truth],
        ["fail" if g else "pass" for g in guess],
    )


def test_kappa_matches_sklearn_with_and_without_weights() -> None:
    rng = np.random.default_rng(1)
    cats = np.array(["pass", "fail", "n/a"])
    a = list(cats[rng.integers(0, 3, 80)])
    b = [x if rng.random() < 0.7 else str(cats[rng.integers(0, 3)]) for x in a]
    w = rng.uniform(0.5, 4, 80)
    assert math.isclose(kappa(a, b), cohen_kappa_score(a, b))
    assert math.isclose(kappa(a, b, list(w)), cohen_kappa_score(a, b, sample_weight=w))


def test_point_estimates_are_the_counts() -> None:
    a = binary_agreement(["fail", "fail", "pass", "n/a"], ["fail", "pass", "fail", "n/a"])
    assert (a.tp, a.fp, a.fn) == (1, 1, 1)
    assert a.precision.value == 0.5 and a.recall.value == 0.5 and a.f1.value == 0.5
    assert a.precision.low < 0.5 < a.precision.high  # Wilson, not a degenerate interval


def test_intervals_cover_the_truth_at_about_95_percent() -> None:
    """Simulated scorer with precision 0.8 and recall 0.7 on a base rate of 0.3; the true F1
    and kappa follow from the joint probabilities."""
    base, recall, false_alarm = 0.3, 0.7, 0.075
    p11, p10, p01 = base * recall, base * (1 - recall), (1 - base) * false_alarm
    precision = p11 / (p11 + p01)
    f1 = 2 * precision * recall / (precision + recall)
    po = 1 - p10 - p01
    found = p11 + p01
    pe = base * found + (1 - base) * (1 - found)
    true_kappa = (po - pe) / (1 - pe)
    rng = np.random.default_rng(7)
    hits = dict.fromkeys(["precision", "recall", "f1", "kappa"], 0)
    for sim in range(SIMS):
        labels, guesses = _population_draw(rng, 150, base, recall, false_alarm)
        a = binary_agreement(labels, guesses, draws=800, seed=sim)
        for name, truth in (
            ("precision", precision),
            ("recall", recall),
            ("f1", f1),
            ("kappa", true_kappa),
        ):
            est = getattr(a, name)
            hits[name] += est.low <= truth <= est.high
    coverage = {k: v / SIMS for k, v in hits.items()}
    for name, c in coverage.items():
        assert 0.90 <= c <= 0.99, (name, coverage)


def _stratified_population(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Disagreement stratum (small, scorer near chance) and the rest (large, scorer good)."""
    hard = 400
    rest = 3600
    truth = np.concatenate([rng.random(hard) < 0.5, rng.random(rest) < 0.12])
    guess = truth.copy()
    flip = np.concatenate([rng.random(hard) < 0.45, rng.random(rest) < 0.02])
    guess[flip] = ~guess[flip]
    strata = np.array(["disagreement"] * hard + ["rest"] * rest)
    return truth, guess, strata


def test_stratum_weights_undo_the_over_sampling_and_cover() -> None:
    rng = np.random.default_rng(11)
    truth, guess, strata = _stratified_population(rng)
    tp = (truth & guess).sum()
    true_precision = tp / guess.sum()
    true_recall = tp / truth.sum()
    sizes = {s: int((strata == s).sum()) for s in ("disagreement", "rest")}
    take = {"disagreement": 60, "rest": 60}  # the hard stratum is 10% of the run, half the sample
    weighted, plain, covered = [], [], 0
    for sim in range(200):
        chosen = np.concatenate(
            [rng.choice(np.flatnonzero(strata == s), take[s], replace=False) for s in take]
        )
        labels = ["fail" if t else "pass" for t in truth[chosen]]
        found = ["fail" if g else "pass" for g in guess[chosen]]
        st = list(strata[chosen])
        w = [sizes[s] / take[s] for s in st]
        a = binary_agreement(labels, found, weights=w, strata=st, draws=800, seed=sim)
        b = binary_agreement(labels, found, draws=200, seed=sim)
        weighted.append(a.precision.value)
        plain.append(b.precision.value)
        covered += a.recall.low <= true_recall <= a.recall.high
    assert abs(np.mean(weighted) - true_precision) < 0.02
    assert abs(np.mean(plain) - true_precision) > 0.1  # what ignoring the order would claim
    assert covered / 200 >= 0.88


def test_resampling_stays_inside_each_stratum() -> None:
    strata = ["a", "a", "b", "b", "b"]
    idx = resample_indices(strata, draws=50, seed=3)
    assert set(idx[:, :2].ravel()) <= {0, 1} and set(idx[:, 2:].ravel()) <= {2, 3, 4}


@pytest.mark.parametrize("labels", [["pass", "pass"], ["fail", "fail"]])
def test_one_category_everywhere_has_no_kappa(labels: list[str]) -> None:
    assert math.isnan(binary_agreement(labels, labels).kappa.value)
