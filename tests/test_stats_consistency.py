"""Consistency figures checked against values computed independently, by hand, in the tests."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from harness.stats.consistency import consistency_report, variance_decomposition
from harness.stats.measures import (
    BalancedTable,
    balanced_table,
    icc,
    icc2_many,
    pass_hat_k,
    pass_hat_k_curve,
    wilson,
)
from tests.test_stats_tables import Row, make_run

# Shrout & Fleiss (1979), Table 2: 6 targets rated by 4 judges. Published: ICC(1,1) = 0.17,
# ICC(2,1) = 0.29, ICC(3,1) = 0.71.
SHROUT_FLEISS = np.array(
    [
        [9, 2, 5, 8],
        [6, 1, 3, 2],
        [8, 4, 6, 8],
        [7, 1, 2, 6],
        [10, 5, 6, 9],
        [6, 2, 4, 7],
    ],
    dtype=float,
)


def hand_iccs(x: np.ndarray) -> tuple[float, float]:
    """ICC(1,1) and ICC(2,1) from the ANOVA mean squares, written out with loops."""
    n, k = x.shape
    grand = sum(sum(r) for r in x) / (n * k)
    row_means = [sum(r) / k for r in x]
    col_means = [sum(x[i][j] for i in range(n)) / n for j in range(k)]
    ss_rows = k * sum((m - grand) ** 2 for m in row_means)
    ss_cols = n * sum((m - grand) ** 2 for m in col_means)
    ss_total = sum((x[i][j] - grand) ** 2 for i in range(n) for j in range(k))
    ss_error = ss_total - ss_rows - ss_cols
    msr = ss_rows / (n - 1)
    msc = ss_cols / (k - 1)
    mse = ss_error / ((n - 1) * (k - 1))
    msw = (ss_cols + ss_error) / (n * (k - 1))
    icc1 = (msr - msw) / (msr + (k - 1) * msw)
    icc2 = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    return icc1, icc2


def shrout_fleiss_run():  # type: ignore[no-untyped-def]
    rows = [
        Row(f"t{i}", j, float(SHROUT_FLEISS[i, j]))
        for i in range(SHROUT_FLEISS.shape[0])
        for j in range(SHROUT_FLEISS.shape[1])
    ]
    return make_run(rows)


def test_icc_matches_the_anova_formulas_and_the_published_values() -> None:
    icc1, icc2 = hand_iccs(SHROUT_FLEISS)
    assert round(icc1, 2) == 0.17 and round(icc2, 2) == 0.29
    agreement = consistency_report(shrout_fleiss_run()).versions[0].agreement
    assert agreement.icc1.estimate == pytest.approx(icc1)
    assert agreement.icc2.estimate == pytest.approx(icc2)
    assert agreement.icc2.low is not None and agreement.icc2.high is not None
    assert agreement.icc2.low < icc2 < agreement.icc2.high
    assert (agreement.targets, agreement.raters) == (6, 4)
    assert agreement.icc_band.startswith("poor")
    assert agreement.balanced_note is None


def test_vectorised_icc2_equals_the_hand_formula_on_many_tables() -> None:
    rng = np.random.default_rng(3)
    tables = rng.normal(size=(5, 7, 3)) + rng.normal(size=(5, 7, 1))
    got = icc2_many(tables)
    for table, value in zip(tables, got, strict=True):
        assert value == pytest.approx(hand_iccs(table)[1])
    assert icc2_many(SHROUT_FLEISS) == pytest.approx(hand_iccs(SHROUT_FLEISS)[1])


def test_incomplete_repeats_are_dropped_and_said() -> None:
    rows = [Row(p, s, float(s + i)) for i, p in enumerate(["mid-a", "senior-a"]) for s in range(3)]
    rows += [Row("junior-a", 0, 2.0), Row("junior-a", 1, None), Row("junior-a", 2, 3.0)]
    rows += [Row("staff-a", 0, 9.0)]
    table = balanced_table(
        pd.DataFrame(
            [(r.persona, r.sample, r.score) for r in rows],
            columns=["persona", "sample_index", "final_score"],
        )
    )
    # k = 3 keeps 6 scores, k = 2 keeps 6 too (3 personas x 2): the larger k wins the tie.
    assert table.repeats == 3
    assert table.personas == ["mid-a", "senior-a"]
    assert table.dropped_personas == ["junior-a", "staff-a"]
    assert table.dropped_scores == 3
    note = table.note()
    assert note is not None and "junior-a" in note and "3 score(s) left out" in note
    assert icc(table).targets == 2


def krippendorff_by_hand(units: list[list[float]]) -> float:
    """Interval alpha from its definition: 1 - D_o / D_e over pairable values."""
    pairable = [u for u in units if len(u) >= 2]
    values = [v for u in pairable for v in u]
    n = len(values)
    d_o = (
        sum(
            sum((a - b) ** 2 for a, b in itertools.permutations(u, 2)) / (len(u) - 1)
            for u in pairable
        )
        / n
    )
    d_e = sum((a - b) ** 2 for a, b in itertools.permutations(values, 2)) / (n * (n - 1))
    return 1 - d_o / d_e


def test_krippendorff_alpha_matches_its_definition_with_missing_data() -> None:
    scores = {
        "junior-a": [3, 4, None],
        "mid-a": [6, 5, 6],
        "senior-a": [8, 8, 7],
        "staff-a": [9, None, 10],
    }
    rows = [
        Row(p, s, None if v is None else float(v))
        for p, vs in scores.items()
        for s, v in enumerate(vs)
    ]
    got = consistency_report(make_run(rows)).versions[0].agreement.krippendorff_alpha
    units = [[float(v) for v in vs if v is not None] for vs in scores.values()]
    assert got == pytest.approx(krippendorff_by_hand(units))


def test_per_persona_statistics_by_hand() -> None:
    # mid-a's band is 5-7.
    rows = [Row("mid-a", s, v) for s, v in enumerate([4.0, 6.0, 6.0, 9.0, None])]
    stats = consistency_report(make_run(rows)).versions[0].personas[0]
    assert (stats.interviews, stats.scored) == (5, 4)
    assert stats.mean == pytest.approx(25 / 4)
    assert stats.sd == pytest.approx(
        math.sqrt(((4 - 6.25) ** 2 + 2 * (6 - 6.25) ** 2 + (9 - 6.25) ** 2) / 3)
    )
    assert (stats.min, stats.max, stats.range) == (4.0, 9.0, 5.0)
    assert (stats.modal_score, stats.modal_share) == (6.0, 0.5)
    assert stats.in_band_share == pytest.approx(2 / 4)
    assert stats.mae_to_band == pytest.approx((1 + 0 + 0 + 2) / 4)


def test_validity_correlations_and_gap_by_hand() -> None:
    # Per-persona means 3, 7, 6, 9 for levels junior, mid, senior, staff: one swapped pair.
    means = {
        "junior-a": (2.0, 4.0),
        "mid-a": (6.0, 8.0),
        "senior-a": (5.0, 7.0),
        "staff-a": (8.0, 10.0),
    }
    rows = [Row(p, s, v) for p, vs in means.items() for s, v in enumerate(vs)]
    v = consistency_report(make_run(rows)).versions[0].validity
    # Spearman: 1 - 6 sum d^2 / (n (n^2 - 1)) with d = (0, 1, -1, 0).
    assert v.level_spearman.statistic == pytest.approx(1 - 6 * 2 / (4 * 15))
    # Kendall: 5 concordant, 1 discordant pair of 6.
    assert v.level_kendall.statistic == pytest.approx((5 - 1) / 6)
    # Gap: strong (senior, staff) mean 7.5, weak (junior) mean 3, within-persona SD sqrt(2).
    assert v.strong_mean == pytest.approx(7.5) and v.weak_mean == pytest.approx(3.0)
    assert v.within_sd == pytest.approx(math.sqrt(2))
    assert v.strong_weak_gap_sd == pytest.approx(4.5 / math.sqrt(2))
    # In band: junior 2-4 (2 of 2), mid 5-7 (1 of 2), senior 7-9 (1 of 2), staff 8-10 (2 of 2).
    assert v.in_band.estimate == pytest.approx(6 / 8)


def test_wilson_matches_the_closed_form() -> None:
    z = 1.959963984540054
    for count, n in ((0, 10), (3, 10), (17, 20), (20, 20)):
        p = count / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        iv = wilson(count, n)
        assert iv.low == pytest.approx(centre - half)
        assert iv.high == pytest.approx(centre + half)
        assert iv.estimate == pytest.approx(p)
    assert wilson(0, 0).estimate is None


def test_pass_hat_k_equals_enumerating_subsets() -> None:
    outcomes = [1, 1, 0, 1, 1, 0]
    for k in range(1, len(outcomes) + 1):
        subsets = list(itertools.combinations(outcomes, k))
        share = sum(all(s) for s in subsets) / len(subsets)
        assert pass_hat_k(sum(outcomes), len(outcomes), k) == pytest.approx(share)
    with pytest.raises(ValueError):
        pass_hat_k(2, 3, 4)


def test_pass_hat_k_curve_in_the_report_keeps_one_set_of_personas() -> None:
    fail = {"one_question": ("fail", 2, 8)}
    rows = [
        Row("junior-a", 0, 3.0),
        Row("junior-a", 1, 3.0, rules=fail),
        Row("junior-a", 2, 3.0),
        Row("mid-a", 0, 6.0),
        Row("mid-a", 1, 6.0),
        Row("senior-a", 0, 8.0, rules=fail),
        Row("senior-a", 1, 8.0, rules={"one_question": ("n/a", 0, 0)}),
    ]
    rule = next(
        r for r in consistency_report(make_run(rows)).versions[0].rules if r.rule == "one_question"
    )
    assert (rule.applicable, rule.passed, rule.violations) == (6, 4, 4)
    # Repeats per persona 3, 2, 1: K = 2 keeps the most (2 x 2 personas), so the curve is over
    # junior-a (2 of 3) and mid-a (2 of 2) at every k: k=1 mean(2/3, 1), k=2 mean(1/3, 1).
    assert [round(c.value, 6) for c in rule.curve] == [round(5 / 6, 6), round(2 / 3, 6)]
    assert [c.personas for c in rule.curve] == [2, 2]
    # With one set the curve cannot rise with k, whatever the personas' repeats.
    rng = np.random.default_rng(3)
    for _ in range(200):
        counts = [(int(c), int(n)) for n in rng.integers(1, 6, 8) for c in [rng.integers(0, n + 1)]]
        values = [c.value for c in pass_hat_k_curve(counts)]
        assert all(b <= a + 1e-12 for a, b in itertools.pairwise(values))


def nested_by_hand(y: np.ndarray) -> tuple[float, float, float]:
    a, b, n = y.shape
    grand = y.mean()
    t = y.mean(axis=2)
    p = t.mean(axis=1)
    ms_a = b * n * sum((p[i] - grand) ** 2 for i in range(a)) / (a - 1)
    ms_b = n * sum((t[i, j] - p[i]) ** 2 for i in range(a) for j in range(b)) / (a * (b - 1))
    ms_e = sum(
        (y[i, j, k] - t[i, j]) ** 2 for i in range(a) for j in range(b) for k in range(n)
    ) / (a * b * (n - 1))
    return ms_e, (ms_b - ms_e) / n, (ms_a - ms_b) / (b * n)


def regrade_frame(y: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        [
            (f"v1:p{i}#{j}", f"p{i}", k, float(y[i, j, k]))
            for i in range(y.shape[0])
            for j in range(y.shape[1])
            for k in range(y.shape[2])
        ],
        columns=["interview_id", "persona", "regrade_index", "final_score"],
    )


def test_variance_decomposition_matches_the_nested_anova_by_hand() -> None:
    rng = np.random.default_rng(7)
    y = (
        rng.normal(0, 2, size=(5, 1, 1))
        + rng.normal(0, 1, size=(5, 3, 1))
        + rng.normal(0, 0.5, size=(5, 3, 4))
    )
    result = variance_decomposition(regrade_frame(y))
    grading, path, persona = nested_by_hand(y)
    got = {c.source: c.variance for c in result.components}
    assert got["grading"] == pytest.approx(grading)
    assert got["conversation path"] == pytest.approx(max(path, 0))
    assert got["between personas"] == pytest.approx(max(persona, 0))
    assert (result.personas, result.transcripts_per_persona, result.grades_per_transcript) == (
        5,
        3,
        4,
    )
    assert sum(c.share or 0 for c in result.components) == pytest.approx(1)


def test_negative_components_are_clipped_and_said() -> None:
    # Every transcript of a persona has the same mean: path variance estimate is negative.
    y = np.array([[[1.0, 3.0], [3.0, 1.0]], [[5.0, 7.0], [7.0, 5.0]]])
    result = variance_decomposition(regrade_frame(y))
    path = next(c for c in result.components if c.source == "conversation path")
    assert path.clipped and path.variance == 0
    assert "clipped at 0: conversation path" in result.note


def test_without_regrades_the_report_names_the_command() -> None:
    rows = [Row("mid-a", s, 6.0) for s in range(2)]
    variance = consistency_report(make_run(rows)).versions[0].variance
    assert not variance.available
    assert "sdi regrade RUN --samples K" in variance.note


def test_regrades_in_the_run_reach_the_report() -> None:
    rows = [Row(p, s, 5.0) for p in ("junior-a", "mid-a") for s in range(2)]
    regrades = [
        ("v1", f"v1:{p}#{s}", k, float(base + s + k % 2))
        for base, p in ((3, "junior-a"), (6, "mid-a"))
        for s in range(2)
        for k in range(3)
    ]
    variance = consistency_report(make_run(rows, regrades=regrades)).versions[0].variance
    assert variance.available and variance.grades_per_transcript == 3


def test_own_icc_gives_pingouins_figures() -> None:
    """pingouin stays a dev dependency for this check only; the harness computes its own."""
    pingouin = pytest.importorskip("pingouin")
    rng = np.random.default_rng(11)
    for n, k in ((15, 3), (8, 5), (6, 2)):
        x = rng.normal(size=(n, 1)) + rng.normal(size=(n, k)) + rng.normal(size=(1, k)) * 0.3
        names = [f"p{i}" for i in range(n)]
        ours = icc(BalancedTable(matrix=x, personas=names, repeats=k))
        long = pd.DataFrame(
            [(names[i], r, x[i, r]) for i in range(n) for r in range(k)],
            columns=["persona", "repeat", "score"],
        )
        theirs = pingouin.intraclass_corr(
            long, targets="persona", raters="repeat", ratings="score"
        ).set_index("Type")
        for mine, row in ((ours.icc1, "ICC(1,1)"), (ours.icc2, "ICC(A,1)")):
            assert mine.estimate == pytest.approx(theirs.at[row, "ICC"])
            low, high = theirs.at[row, "CI95"]
            assert (mine.low, mine.high) == (
                pytest.approx(low, abs=0.006),
                pytest.approx(high, abs=0.006),
            )
