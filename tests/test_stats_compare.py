"""Comparison figures checked against hand computations on small hand-made runs."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.power import TTestPower

from harness.errors import InputError
from harness.stats.compare import (
    ArmValue,
    MetricComparison,
    compare_runs,
    decide,
    margin_for,
)
from harness.stats.measures import cliffs_delta, wilson
from harness.stats.power import (
    bernoulli_within,
    paired_repeats,
    plan_from_run,
    plan_rate,
    repeats_to_settle,
    smallest_p,
)
from harness.stats.render import Section, comparison_sections, to_markdown, to_text
from tests.test_stats_tables import PERSONAS, Row, fingerprint, make_run

FAIL = ("fail", 1, 10)


def two_version_run(
    v1: dict[str, list[bool]], v2: dict[str, list[bool]], score: float = 6.0
) -> Any:
    """one_question pass/fail per persona and repeat, for prompt versions v1 and v2."""
    rows = []
    for prompt, outcomes in (("v1", v1), ("v2", v2)):
        for persona, passes in outcomes.items():
            for s, ok in enumerate(passes):
                rules = {} if ok else {"one_question": FAIL}
                rows.append(Row(persona, s, score, prompt=prompt, rules=rules))
    return make_run(rows)


def many_personas(n: int) -> list[str]:
    PERSONAS.update({f"p{i:02d}": {"level": "mid", "expected_band": [5, 7]} for i in range(n)})
    return [f"p{i:02d}" for i in range(n)]


def test_cliffs_delta_equals_counting_pairs() -> None:
    a = [3.0, 5.0, 5.0, 7.0, 8.0]
    b = [4.0, 5.0, 6.0, 9.0]
    greater = sum(y > x for x in a for y in b)
    less = sum(y < x for x in a for y in b)
    delta, p = cliffs_delta(a, b)
    assert delta == pytest.approx((greater - less) / (len(a) * len(b)))
    assert p is not None and 0 < p <= 1


def test_score_intervals_use_per_persona_differences_and_all_scores() -> None:
    base = {
        "junior-a": [3.0, 4.0],
        "mid-a": [6.0, 6.0],
        "senior-a": [7.0, 8.0],
        "staff-a": [9.0, 9.0],
    }
    cand = {
        "junior-a": [4.0, 4.0],
        "mid-a": [6.0, 7.5],
        "senior-a": [8.0, 8.5],
        "staff-a": [9.0, 10.0],
    }
    rows = [Row(p, s, v, prompt="v1") for p, vs in base.items() for s, v in enumerate(vs)]
    rows += [Row(p, s, v, prompt="v2") for p, vs in cand.items() for s, v in enumerate(vs)]
    contrast = compare_runs([make_run(rows)], n_boot=500).contrasts[0]
    mean = contrast.metric("score:mean")
    assert mean is not None
    diffs = [np.mean(cand[p]) - np.mean(base[p]) for p in base]
    assert mean.difference == pytest.approx(np.mean(diffs))
    # Each bound is the estimate minus a bootstrap-t quantile times the paired SE, sd(diffs)/sqrt(P)
    se = np.std(diffs, ddof=1) / math.sqrt(len(diffs))
    assert mean.ci95 is not None and mean.ci95[0] < mean.difference < mean.ci95[1]
    quantiles = [(mean.difference - mean.ci95[1]) / se, (mean.difference - mean.ci95[0]) / se]
    assert quantiles[0] < 0 < quantiles[1]
    all_a = [v for vs in base.values() for v in vs]
    all_b = [v for vs in cand.values() for v in vs]
    greater = sum(y > x for x in all_a for y in all_b)
    less = sum(y < x for x in all_a for y in all_b)
    assert mean.extra["cliffs_delta"] == pytest.approx((greater - less) / 64)
    spread = contrast.metric("score:spread")
    assert spread is not None
    within_a = math.sqrt(sum(np.var(vs, ddof=1) for vs in base.values()) / 4)
    assert spread.baseline.value == pytest.approx(within_a)


def test_rates_when_every_persona_moved_alike() -> None:
    personas = many_personas(12)
    v1 = {p: [True, True, True] for p in personas}
    v2 = {p: [False, True, False] for p in personas}
    contrast = compare_runs([two_version_run(v1, v2)], n_boot=500).contrasts[0]
    m = contrast.metric("rule:one_question")
    assert m is not None and contrast.paired
    assert (m.baseline.value, m.candidate.value) == (1.0, pytest.approx(1 / 3))
    assert (m.candidate.count, m.candidate.n) == (12, 36)
    # Every persona moved alike: no bootstrap draw differs, so p is 0 and the interval a point.
    assert m.p_value == 0.0
    assert m.difference == pytest.approx(-2 / 3)
    assert m.ci95 == pytest.approx((-2 / 3, -2 / 3))  # no persona differs from another
    assert m.verdict == "regressed" and m.non_inferior is False


def test_holm_is_applied_across_the_contrast_by_hand() -> None:
    personas = many_personas(12)
    rng = np.random.default_rng(5)
    rows = []
    for prompt, fail_rate in (("v1", 0.2), ("v2", 0.5)):
        for p in personas:
            for s in range(3):
                rules = {
                    rule: FAIL
                    for rule in ("one_question", "pushback", "drill_down")
                    if rng.random() < fail_rate
                }
                rows.append(Row(p, s, float(rng.integers(3, 9)), prompt=prompt, rules=rules))
    contrast = compare_runs([make_run(rows)], n_boot=500).contrasts[0]
    tested = [m for m in contrast.metrics if m.p_value is not None]
    ps = sorted((m.p_value, i) for i, m in enumerate(tested) if m.p_value is not None)
    k = len(ps)
    running = 0.0
    holm = {}
    for rank, (p, i) in enumerate(ps):
        running = max(running, min(1.0, (k - rank) * p))
        holm[i] = running
    for i, m in enumerate(tested):
        assert m.p_holm == pytest.approx(holm[i])


def test_identical_versions_show_no_change_everywhere() -> None:
    outcomes = {p: [True, False, True] for p in ("junior-a", "mid-a", "senior-a", "staff-a")}
    contrast = compare_runs([two_version_run(outcomes, outcomes)], n_boot=300).contrasts[0]
    for m in contrast.metrics:
        if m.difference is None:
            continue
        assert m.difference == 0
        assert m.verdict == "no change", m.metric
        if m.ci95 is not None:
            assert m.ci95 == (0.0, 0.0)


def test_paired_bootstrap_resamples_persona_pairs() -> None:
    # The effect is -1/3 for half the personas and 0 for the other half: a persona-pair
    # bootstrap gives an interval from about -1/3 to 0, never outside it.
    personas = many_personas(10)
    v1 = {p: [True, True, True] for p in personas}
    v2 = {p: [False, True, True] if i % 2 else [True, True, True] for i, p in enumerate(personas)}
    m = (
        compare_runs([two_version_run(v1, v2)], n_boot=2000)
        .contrasts[0]
        .metric("rule:one_question")
    )
    assert m is not None and m.ci95 is not None
    assert m.difference == pytest.approx(-1 / 6)
    assert -1 / 3 <= m.ci95[0] < m.difference < m.ci95[1] <= 0


def test_unmatched_interviews_are_left_out_and_said() -> None:
    v1 = {"junior-a": [True, True, True], "mid-a": [True, True]}
    v2 = {"junior-a": [True, True], "mid-a": [True, True]}
    contrast = compare_runs([two_version_run(v1, v2)], n_boot=200).contrasts[0]
    assert contrast.unmatched_interviews == 1 and contrast.matched_interviews == 4
    assert any("without a partner" in n for n in contrast.notes)


def test_unpaired_when_the_personas_differ() -> None:
    v1 = {"junior-a": [True, False], "mid-a": [True, True]}
    v2 = {"senior-a": [True, True], "staff-a": [False, False]}
    contrast = compare_runs([two_version_run(v1, v2)], n_boot=200).contrasts[0]
    assert not contrast.paired
    assert any("unpaired" in n for n in contrast.notes)


def test_icc_change_uses_each_versions_icc() -> None:
    good = {
        "junior-a": [3.0, 3.0, 3.5],
        "mid-a": [6.0, 6.0, 6.5],
        "senior-a": [8.0, 8.0, 7.5],
        "staff-a": [9.0, 9.5, 9.0],
    }
    noisy = {
        "junior-a": [3.0, 7.0, 5.0],
        "mid-a": [6.0, 3.0, 8.0],
        "senior-a": [8.0, 4.0, 6.0],
        "staff-a": [9.0, 5.0, 7.0],
    }
    rows = [Row(p, s, v, prompt="v1") for p, vs in good.items() for s, v in enumerate(vs)]
    rows += [Row(p, s, v, prompt="v2") for p, vs in noisy.items() for s, v in enumerate(vs)]
    m = compare_runs([make_run(rows)], n_boot=500).contrasts[0].metric("score:icc2")
    from tests.test_stats_consistency import hand_iccs

    assert m is not None and m.baseline.value is not None and m.candidate.value is not None
    assert m.baseline.value == pytest.approx(hand_iccs(np.array(list(good.values())))[1])
    assert m.candidate.value == pytest.approx(hand_iccs(np.array(list(noisy.values())))[1])
    assert m.difference == pytest.approx(m.candidate.value - m.baseline.value)


def test_drift_is_refused_naming_the_field_and_allowed_on_request() -> None:
    a = make_run([Row("mid-a", 0, 6.0)], run_id="ra")
    changed = fingerprint(interviewer={"backend": "anthropic", "model": "claude-sonnet-4-6"})
    b = make_run([Row("mid-a", 0, 6.0, prompt="v2")], run_id="rb", fp=changed)
    with pytest.raises(InputError) as err:
        compare_runs([a, b])
    text = str(err.value)
    assert err.value.field == "fingerprint.interviewer.backend"
    assert "fingerprint.interviewer.model" in text and "claude-sonnet-4-6" in text
    assert "--allow-drift" in text and "rb" in text
    result = compare_runs([a, b], allow_drift=True, n_boot=200)
    assert result.drift_allowed and {d.field for d in result.drift} == {
        "fingerprint.interviewer.backend",
        "fingerprint.interviewer.model",
    }
    assert "WARNING: compared despite differences" in to_text(comparison_sections(result))


def test_one_version_is_refused() -> None:
    with pytest.raises(InputError, match="at least two prompt versions"):
        compare_runs([make_run([Row("mid-a", 0, 6.0)])])


def test_margins_resolve_exact_then_longest_glob() -> None:
    margins = {"rule:*": 0.1, "rule:one_*": 0.2, "rule:one_question": 0.3}
    assert margin_for("rule:one_question", margins) == 0.3
    assert margin_for("rule:opening", margins) == 0.1
    assert margin_for("rule:one_x", {"rule:*": 0.1, "rule:one_*": 0.2}) == 0.2


def metric(
    diff: float, ci90: tuple[float, float], p_holm: float | None, hib: bool | None = True
) -> MetricComparison:
    value = ArmValue(value=0.5)
    return MetricComparison(
        metric="rule:x", label="x", unit="share", higher_is_better=hib, baseline=value,
        candidate=value, difference=diff, ci95=ci90, ci90=ci90, ci_decision=ci90, tail=0.05,
        test="t", p_value=p_holm,
        p_holm=p_holm, margin=0.1, verdict="not tested", non_inferior=None,
    )  # fmt: skip


def test_verdicts() -> None:
    assert decide(metric(-0.3, (-0.4, -0.2), 0.001)) == ("regressed", False)
    assert decide(metric(-0.05, (-0.08, -0.02), 0.01)) == ("regressed", True)
    assert decide(metric(0.3, (0.2, 0.4), 0.001)) == ("improved", True)
    assert decide(metric(0.01, (-0.05, 0.07), 0.8)) == ("no change", True)
    assert decide(metric(-0.05, (-0.15, 0.05), 0.3)) == ("inconclusive", False)
    assert decide(metric(0.05, (-0.02, 0.12), 0.3)) == ("inconclusive", True)
    # lower is better: a rise is the bad side
    assert decide(metric(0.3, (0.2, 0.4), 0.001, hib=False)) == ("regressed", False)
    assert decide(metric(0.3, (0.2, 0.4), 0.001, hib=None)) == ("changed", None)


def test_inconclusive_metrics_get_repeats_that_reach_the_power() -> None:
    # Half the personas lose one pass of three, half do not: five signs, p = 2/2^5 > 0.05.
    personas = many_personas(10)
    v1 = {p: [True, True, True] for p in personas}
    v2 = {p: [False, True, True] if i % 2 else [True, True, True] for i, p in enumerate(personas)}
    m = compare_runs([two_version_run(v1, v2)], n_boot=500).contrasts[0].metric("rule:one_question")
    assert m is not None and m.verdict == "inconclusive"
    need = m.repeats_needed
    assert need is not None and need.repeats_per_persona is not None
    m_needed = need.repeats_per_persona
    assert need.effect is not None

    def power(m_: int) -> float:
        sd = math.sqrt(need.effect_variance + 2 * need.within_variance / m_)
        alternative = "two-sided" if need.target.startswith("detect") else "larger"  # type: ignore[union-attr]
        return float(
            TTestPower().power(need.effect / sd, nobs=10, alpha=need.alpha, alternative=alternative)
        )

    assert power(m_needed) >= 0.8
    if m_needed > 1:
        assert power(m_needed - 1) < 0.8


def test_paired_repeats_inverts_the_power_function() -> None:
    for effect, within, tau, personas in (
        (0.1, 0.16, 0.0, 15),
        (0.5, 1.0, 0.01, 10),
        (0.05, 0.2, 0.0, 30),
    ):
        m = paired_repeats(effect, within, tau, personas, alpha=0.01)
        assert m is not None
        power = TTestPower().power(
            effect / math.sqrt(tau + 2 * within / m), nobs=personas, alpha=0.01
        )
        before = (
            TTestPower().power(
                effect / math.sqrt(tau + 2 * within / (m - 1)), nobs=personas, alpha=0.01
            )
            if m > 1
            else 0
        )
        assert power >= 0.8 > before
    # The effect varies between personas more than the power allows: no repeats help.
    assert paired_repeats(0.1, 0.2, 0.05, 10) is None
    # Six personas cannot reach p < 0.01 with a sign-flip test at all.
    assert smallest_p(6) == pytest.approx(2 / 64)
    assert paired_repeats(1.0, 0.01, 0.0, 6, alpha=0.01) is None
    settle = repeats_to_settle(0.5, 0.1, 0.01, 0.0, 6, alpha=0.01)
    assert settle.repeats_per_persona is None and settle.note is not None and "2/2^6" in settle.note


def test_plan_rate_unpaired_matches_the_design_effect_formula() -> None:
    plan = plan_rate(0.8, -0.1, personas=15, icc=0.2, alpha=0.05)
    n = plan.independent_interviews_per_version
    expected = math.ceil(n * (1 - 0.2) / (15 - n * 0.2)) if 15 - n * 0.2 > 0 else None
    assert plan.unpaired_repeats_per_persona == expected
    assert plan.paired.repeats_per_persona is not None
    # within-persona variance of one interview: (1 - icc) p (1 - p) at the mean rate 0.75
    assert plan.paired.within_variance == pytest.approx(0.8 * 0.75 * 0.25)


def test_markdown_and_text_say_the_same() -> None:
    outcomes = {p: [True, False] for p in ("junior-a", "mid-a", "senior-a", "staff-a")}
    sections = comparison_sections(compare_runs([two_version_run(outcomes, outcomes)], n_boot=200))
    md, text = to_markdown(sections), to_text(sections)
    for needle in ("rule:one_question", "score:icc2", "no change", "SYNTHETIC"):
        assert needle in md and needle in text
    assert "| metric | baseline |" in md


def test_plan_from_a_run_uses_the_bernoulli_variance_before_and_after() -> None:
    # mid-a passes one_question 2 of 3 times, senior-a 3 of 3; plan a drop of 0.2.
    rows = [Row("mid-a", s, 6.0, rules={} if s else {"one_question": FAIL}) for s in range(3)] + [
        Row("senior-a", s, 8.0) for s in range(3)
    ]
    (plan,) = plan_from_run(make_run(rows), -0.2, metrics=["rule:one_question"], alpha=0.05)
    mid_now = (2 / 3) * (1 / 3) * 3 / 2
    mid_after = (2 / 3 - 0.2) * (1 - (2 / 3 - 0.2))
    senior_after = 0.8 * 0.2
    expected = ((mid_now + mid_after) / 2 + (0 + senior_after) / 2) / 2
    assert plan.answer.within_variance == pytest.approx(expected)
    assert plan.value == pytest.approx(5 / 6)
    assert plan.answer.repeats_per_persona is None  # two personas cannot reach p < 0.05
    assert bernoulli_within(pd.Series([1.0, 1.0]), pd.Series(["a", "a"]), 0.0) == 0.0


def test_markdown_keeps_text_from_runs_inert() -> None:
    """Ids from runs reach pull-request comments: no raw HTML, no broken tables."""
    hostile = "<img src=x onerror=alert(1)>|v2"
    md = to_markdown(
        [Section(hostile, lines=[hostile], headers=["prompt"], rows=[[hostile]], notes=[hostile])]
    )
    assert "<img" not in md and "&lt;img src=x onerror=alert(1)&gt;" in md
    assert "\\|v2" in md


def test_per_version_rates_widen_by_the_design_effect() -> None:
    # Personas either always pass or always fail: 36 interviews carry the information of 12.
    personas = many_personas(12)
    v1 = {p: [i % 2 == 0] * 3 for i, p in enumerate(personas)}
    m = compare_runs([two_version_run(v1, v1)], n_boot=500).contrasts[0].metric("rule:one_question")
    assert m is not None and m.baseline.low is not None and m.baseline.high is not None
    naive = wilson(18, 36)
    by_persona = wilson(6, 12)  # the design effect here is exactly 3 (rho = 1, m = 3)
    assert m.baseline.high - m.baseline.low > (naive.high or 0) - (naive.low or 0)
    assert m.baseline.low == pytest.approx(by_persona.low, abs=0.02)


def test_one_repeat_asks_for_two_before_counting_repeats() -> None:
    personas = many_personas(6)
    v1 = {p: [True] for p in personas}
    v2 = {p: [i % 2 == 0] for i, p in enumerate(personas)}
    m = compare_runs([two_version_run(v1, v2)], n_boot=500).contrasts[0].metric("rule:one_question")
    assert m is not None and m.verdict == "inconclusive"
    assert m.repeats_needed is not None and m.repeats_needed.repeats_per_persona is None
    assert "at least 2" in (m.repeats_needed.note or "")
