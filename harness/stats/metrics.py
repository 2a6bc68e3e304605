"""The metrics a comparison reports, and how each is counted from the interview table.

Adherence to a rule is the share of interviews where it applied (verdict not n/a) that pass
it: the contract's verdict is per interview, and an interview that breaks a rule once has
broken it. `one_question` also gets a per-turn measure, `turns:one_question`: turns that ask
several questions per interview turn, so an edit that makes multi-question turns rarer but not
absent still shows. Score metrics: the share of scores inside the persona's band, the mean
distance to the band, the mean score (no better direction: a shift is reported, not judged),
the within-persona SD, ICC(1,1) (repeats are exchangeable: the primary reliability figure) and
ICC(A,1) beside it.

Every metric but the ICC is a ratio of per-persona sums (numerator / denominator), so the
cluster bootstrap over personas resamples those sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from harness.stats.tables import rule_column

MetricKind = Literal["rate", "mean", "spread", "icc"]


@dataclass(frozen=True)
class MetricSpec:
    id: str
    label: str
    kind: MetricKind
    higher_is_better: bool | None
    unit: str
    binary: bool = False  # each interview's outcome is 0 or 1 (pass, in band)


def metric_specs(rule_ids: Sequence[str] | None = None) -> list[MetricSpec]:
    """Every metric, for the given rules (default: the current project's rule set)."""
    if rule_ids is None:
        from harness.scoring.registry import load_rules

        rule_ids = load_rules().ids
    rules = [
        MetricSpec(
            f"rule:{r}", f"{r} adherence (interviews passing)", "rate", True, "share", binary=True
        )
        for r in rule_ids
    ]
    return [
        *rules,
        MetricSpec(
            "turns:one_question",
            "one_question: multi-question turns per interview turn",
            "rate",
            False,
            "share",
        ),
        MetricSpec(
            "score:in_band", "scores inside the persona's band", "rate", True, "share", binary=True
        ),
        MetricSpec("score:mae", "mean distance of the score to the band", "mean", False, "points"),
        MetricSpec("score:mean", "mean score", "mean", None, "points"),
        MetricSpec("score:spread", "within-persona SD of the score", "spread", False, "points"),
        MetricSpec("score:icc", "score ICC(1,1) across repeats", "icc", True, "ICC"),
        MetricSpec("score:icc2", "score ICC(A,1) across repeats", "icc", True, "ICC"),
    ]


def interview_outcomes(spec: MetricSpec, table: pd.DataFrame) -> pd.DataFrame:
    """Per-interview numerator and denominator of a rate or mean metric (persona, sample_index,
    num, den); interviews the metric does not cover are left out."""
    cols = ["persona", "sample_index"]
    if spec.id.startswith("rule:"):
        verdict = table[rule_column(spec.id.removeprefix("rule:"), "verdict")]
        rows = table[verdict.isin(["pass", "fail"])]
        num = (verdict[rows.index] == "pass").astype(float)
        den = pd.Series(1.0, index=rows.index)
    elif spec.id == "turns:one_question":
        opp = table[rule_column("one_question", "opportunities")]
        rows = table[opp.fillna(0) > 0]
        num = rows[rule_column("one_question", "violations")].astype(float)
        den = opp[rows.index].astype(float)
    else:
        source = {
            "score:in_band": "in_band",
            "score:mae": "band_error",
            "score:mean": "final_score",
        }[spec.id]
        rows = table[table[source].notna()]  # scored, and for the band metrics a band known
        num = rows[source].astype(float)
        den = pd.Series(1.0, index=rows.index)
    out = rows[cols].copy()
    out["num"], out["den"] = num.to_numpy(), den.to_numpy()
    return out


def persona_sums(spec: MetricSpec, table: pd.DataFrame) -> pd.DataFrame:
    """Per-persona (num, den): sums of the per-interview counts, or for the spread the sum of
    squared deviations from the persona's mean score and its degrees of freedom."""
    if spec.kind == "spread":
        scored = table.dropna(subset=["final_score"])
        grouped = scored.groupby("persona")["final_score"]
        ss = grouped.apply(lambda s: float(((s - s.mean()) ** 2).sum()))
        return pd.DataFrame({"num": ss, "den": grouped.count() - 1})
    outcomes = interview_outcomes(spec, table)
    return outcomes.groupby("persona")[["num", "den"]].sum()
