"""How stable and how right the interviewer's scores are, and how reliably it keeps each rule.

Per prompt version of one run: per-persona score statistics, agreement across repeats (ICC(1,1)
first, ICC(A,1) beside it, from the ANOVA formulas; Krippendorff's alpha from `krippendorff`),
validity against the personas' levels and bands (scipy's Spearman and Kendall), pass^k per rule,
and, when `sdi regrade` has been run, a split of score variance into grading noise, conversation
path and persona.
"""

from __future__ import annotations

import math
import warnings
from typing import Literal

import krippendorff
import numpy as np
import pandas as pd
from pydantic import BaseModel, Field
from scipy import stats

from harness.stats.measures import (
    Interval,
    PassHatK,
    alpha_band,
    balanced_table,
    finite,
    icc,
    icc_band,
    pass_hat_k,
    pass_hat_k_curve,
    pooled_within_sd,
    wilson,
)
from harness.stats.tables import interview_table, rule_table, table_rules
from harness.store.rundata import RunData

STRONG_LEVELS = ("senior", "staff")
WEAK_LEVELS = ("junior",)
REGRADE_HINT = "no regrades in this run: `sdi regrade RUN --samples K` writes them"


class PersonaScores(BaseModel):
    persona: str
    level: str | None
    band: tuple[float, float] | None
    interviews: int
    scored: int = Field(description="interviews whose feedback gave a score out of 10")
    mean: float | None
    sd: float | None = Field(description="sample SD (ddof=1); None with fewer than 2 scores")
    min: float | None
    max: float | None
    range: float | None
    modal_score: float | None
    modal_share: float | None = Field(description="share of scores equal to the modal score")
    in_band_share: float | None
    mae_to_band: float | None = Field(description="mean distance to the band, 0 inside it")


class Agreement(BaseModel):
    """Agreement of repeats on each persona's score (personas are targets, repeats raters)."""

    icc2: Interval = Field(description="ICC(A,1): two-way, absolute agreement, single rating")
    icc1: Interval = Field(
        description="ICC(1,1): one-way, single rating; repeats are exchangeable, so the primary"
    )
    icc_band: str = Field(description="Koo & Li reading of ICC(1,1), the primary figure")
    targets: int
    raters: int
    balanced_note: str | None = Field(description="what was left out to balance the table")
    krippendorff_alpha: float | None = Field(description="interval metric; missing data allowed")
    alpha_band: str


class Correlation(BaseModel):
    statistic: float | None
    p_value: float | None


class Validity(BaseModel):
    """Do the scores follow the personas' levels and bands? The persona is the unit."""

    personas: int
    level_spearman: Correlation = Field(description="level rank vs per-persona mean score")
    level_kendall: Correlation
    band_mid_spearman: Correlation = Field(description="band midpoint vs per-persona mean score")
    in_band: Interval = Field(description="share of scores inside the band (Wilson, interviews)")
    mae_to_band: float | None
    strong_mean: float | None = Field(description=f"mean score of {'/'.join(STRONG_LEVELS)}")
    weak_mean: float | None = Field(description=f"mean score of {'/'.join(WEAK_LEVELS)}")
    within_sd: float | None = Field(description="within-persona SD pooled over personas")
    strong_weak_gap_sd: float | None = Field(
        description="(strong mean - weak mean) / within-persona SD"
    )


class PersonaPass(BaseModel):
    persona: str
    passes: int
    applicable: int
    pass_hat_k: list[float] = Field(description="k = 1..applicable")


class RuleConsistency(BaseModel):
    rule: str
    applicable: int = Field(description="interviews where the rule applied (verdict not n/a)")
    passed: int
    pass_rate: Interval = Field(description="Wilson 95%, interviews treated as independent")
    curve: list[PassHatK] = Field(description="pass^k averaged over personas, k = 1..n")
    violations: int = Field(description="turns that broke the rule")
    opportunities: int | None = Field(description="chances the rule had, where counted")
    personas: list[PersonaPass]


VarianceSource = Literal["grading", "conversation path", "between personas"]


class VarianceComponent(BaseModel):
    source: VarianceSource
    variance: float
    share: float | None
    clipped: bool = Field(description="the moment estimate was negative and is shown as 0")


class VarianceDecomposition(BaseModel):
    available: bool
    note: str
    method: str = (
        "nested ANOVA (persona > transcript > regrade), method of moments on a balanced "
        "table; negative components clipped at 0"
    )
    personas: int = 0
    transcripts_per_persona: int = 0
    grades_per_transcript: int = 0
    components: list[VarianceComponent] = Field(default_factory=list)


class VersionConsistency(BaseModel):
    arm: str
    prompt_version: str
    prompt_sha256: str | None
    interviews: int
    scored: int
    personas: list[PersonaScores]
    agreement: Agreement
    validity: Validity
    rules: list[RuleConsistency]
    variance: VarianceDecomposition


class ConsistencyReport(BaseModel):
    """`sdi consistency RUN`: one section per prompt version of the run."""

    schema_: Literal["sdi.consistency/1"] = Field(default="sdi.consistency/1", alias="schema")
    run_id: str
    synthetic: bool
    versions: list[VersionConsistency]

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)


def consistency_report(run: RunData) -> ConsistencyReport:
    """Everything `sdi consistency` prints, for each prompt version of a scored run."""
    table = interview_table(run)
    rules = rule_table(table)
    versions = [
        _version(arm, table[table["arm"] == arm], rules[rules["arm"] == arm], run)
        for arm in table["arm"].unique()
    ]
    return ConsistencyReport(
        run_id=run.manifest.run_id, synthetic=run.manifest.synthetic, versions=versions
    )


def _version(
    arm: str, table: pd.DataFrame, rules: pd.DataFrame, run: RunData
) -> VersionConsistency:
    prompt = str(table["prompt_version"].iloc[0])
    regrades = pd.DataFrame(
        [
            (r.interview_id, r.persona, r.regrade_index, r.final_score)
            for r in run.regrades
            if r.prompt_version == prompt
        ],
        columns=["interview_id", "persona", "regrade_index", "final_score"],
    )
    return VersionConsistency(
        arm=arm,
        prompt_version=prompt,
        prompt_sha256=table["prompt_sha256"].iloc[0],
        interviews=len(table),
        scored=int(table["final_score"].notna().sum()),
        personas=[persona_scores(g) for _, g in table.groupby("persona", sort=True)],
        agreement=agreement(table),
        validity=validity(table),
        rules=[rule_consistency(rule, rules[rules["rule"] == rule]) for rule in table_rules(table)],
        variance=variance_decomposition(regrades),
    )


def persona_scores(rows: pd.DataFrame) -> PersonaScores:
    """Score statistics of one persona's interviews."""
    first = rows.iloc[0]
    scores = rows["final_score"].dropna()
    band = None if math.isnan(first["band_lo"]) else (first["band_lo"], first["band_hi"])
    counts = scores.value_counts().sort_index()
    counts = counts[counts == counts.max()] if len(counts) else counts  # ties: lowest score
    modal = float(counts.index[0]) if len(counts) else None
    return PersonaScores(
        persona=str(first["persona"]),
        level=first["level"],
        band=band,
        interviews=len(rows),
        scored=len(scores),
        mean=finite(scores.mean()) if len(scores) else None,
        sd=finite(scores.std(ddof=1)) if len(scores) > 1 else None,
        min=finite(scores.min()) if len(scores) else None,
        max=finite(scores.max()) if len(scores) else None,
        range=finite(scores.max() - scores.min()) if len(scores) else None,
        modal_score=modal,
        modal_share=float(counts.iloc[0] / len(scores)) if len(scores) else None,
        in_band_share=finite(rows["in_band"].mean()) if len(scores) else None,
        mae_to_band=finite(rows["band_error"].mean()) if len(scores) else None,
    )


def krippendorff_alpha(table: pd.DataFrame) -> float | None:
    """Interval alpha with reliability data shaped (repeats, personas), NaN where missing."""
    wide = table.pivot_table(
        index="sample_index", columns="persona", values="final_score", aggfunc="first"
    )
    if wide.shape[1] < 2 or wide.notna().sum().sum() < 3:
        return None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            value = krippendorff.alpha(
                reliability_data=wide.to_numpy(float), level_of_measurement="interval"
            )
        except (ValueError, ZeroDivisionError):
            return None
    return finite(value)


def agreement(table: pd.DataFrame) -> Agreement:
    balanced = balanced_table(table)
    result = icc(balanced)
    alpha = krippendorff_alpha(table)
    return Agreement(
        icc2=result.icc2,
        icc1=result.icc1,
        icc_band=icc_band(result.icc1.estimate),
        targets=result.targets,
        raters=result.raters,
        balanced_note=balanced.note(),
        krippendorff_alpha=alpha,
        alpha_band=alpha_band(alpha),
    )


def _correlation(kind: Literal["spearman", "kendall"], x: pd.Series, y: pd.Series) -> Correlation:
    ok = x.notna() & y.notna()
    if ok.sum() < 3 or x[ok].nunique() < 2 or y[ok].nunique() < 2:
        return Correlation(statistic=None, p_value=None)
    fn = stats.spearmanr if kind == "spearman" else stats.kendalltau
    res = fn(x[ok], y[ok])
    return Correlation(statistic=finite(res.statistic), p_value=finite(res.pvalue))


def validity(table: pd.DataFrame) -> Validity:
    scored = table.dropna(subset=["final_score"])
    per = scored.groupby("persona").agg(
        score=("final_score", "mean"),
        level_rank=("level_rank", "first"),
        level=("level", "first"),
        band_mid=("band_lo", "first"),
        band_hi=("band_hi", "first"),
    )
    per["band_mid"] = (per["band_mid"] + per["band_hi"]) / 2
    strong = scored[scored["level"].isin(STRONG_LEVELS)]["final_score"]
    weak = scored[scored["level"].isin(WEAK_LEVELS)]["final_score"]
    within = pooled_within_sd(
        g.to_numpy(float) for _, g in scored.groupby("persona")["final_score"]
    )
    gap = None
    if len(strong) and len(weak) and within:
        gap = finite((strong.mean() - weak.mean()) / within)
    banded = scored["in_band"].dropna()
    return Validity(
        personas=len(per),
        level_spearman=_correlation("spearman", per["level_rank"], per["score"]),
        level_kendall=_correlation("kendall", per["level_rank"], per["score"]),
        band_mid_spearman=_correlation("spearman", per["band_mid"], per["score"]),
        in_band=wilson(int(banded.sum()), len(banded)),
        mae_to_band=finite(scored["band_error"].mean()) if len(banded) else None,
        strong_mean=finite(strong.mean()) if len(strong) else None,
        weak_mean=finite(weak.mean()) if len(weak) else None,
        within_sd=within,
        strong_weak_gap_sd=gap,
    )


def rule_consistency(rule: str, rows: pd.DataFrame) -> RuleConsistency:
    applicable = rows[rows["applicable"]]
    per = applicable.groupby("persona", sort=True)["passed"].agg(["sum", "count"])
    personas = [
        PersonaPass(
            persona=str(p),
            passes=int(r["sum"]),
            applicable=int(r["count"]),
            pass_hat_k=[
                pass_hat_k(int(r["sum"]), int(r["count"]), k) for k in range(1, int(r["count"]) + 1)
            ],
        )
        for p, r in per.iterrows()
    ]
    passed = int(applicable["passed"].sum())
    opportunities = rows["opportunities"].dropna()
    return RuleConsistency(
        rule=rule,
        applicable=len(applicable),
        passed=passed,
        pass_rate=wilson(passed, len(applicable)),
        curve=pass_hat_k_curve((pp.passes, pp.applicable) for pp in personas),
        violations=int(rows["violations"].fillna(0).sum()),
        opportunities=int(opportunities.sum()) if len(opportunities) else None,
        personas=personas,
    )


def _balanced_grades(regrades: pd.DataFrame) -> np.ndarray:
    """Regrade scores as (personas, transcripts, grades), trimmed to a balanced block."""
    got = regrades.dropna(subset=["final_score"]).sort_values(["interview_id", "regrade_index"])
    grades = {
        (str(persona), str(interview)): g["final_score"].to_numpy(float)
        for (persona, interview), g in got.groupby(["persona", "interview_id"])
    }
    if not grades:
        return np.empty((0, 0, 0))
    n = int(pd.Series([len(v) for v in grades.values()]).mode().iloc[0])
    nested: dict[str, list[np.ndarray]] = {}
    for (persona, _), values in grades.items():
        if len(values) >= n:
            nested.setdefault(persona, []).append(values[:n])
    sizes = {len(v) for v in nested.values()}
    b = max(sizes | {1}, key=lambda k: (k * sum(len(v) >= k for v in nested.values()), k))
    blocks = [np.stack(v[:b]) for v in nested.values() if len(v) >= b]
    return np.stack(blocks) if blocks else np.empty((0, 0, 0))


def variance_decomposition(regrades: pd.DataFrame) -> VarianceDecomposition:
    """Split score variance into grading (same transcript, feedback re-asked), conversation
    path (different transcripts of one persona) and persona, by the nested-ANOVA method of
    moments: E[MS_grade] = g, E[MS_path] = g + n p, E[MS_persona] = g + n p + b n s."""
    if regrades.empty:
        return VarianceDecomposition(available=False, note=REGRADE_HINT)
    y = _balanced_grades(regrades)
    a, b, n = y.shape
    if a < 2 or b < 2 or n < 2:
        return VarianceDecomposition(
            available=False,
            note=(
                f"not enough regrades to split variance ({a} personas x {b} transcripts x {n} "
                "grades; needs at least 2 of each: run repeats >= 2 and "
                "`sdi regrade RUN --samples 2` or more)"
            ),
        )
    transcript_means = y.mean(axis=2)
    persona_means = transcript_means.mean(axis=1)
    ms_persona = b * n * ((persona_means - y.mean()) ** 2).sum() / (a - 1)
    ms_path = n * ((transcript_means - persona_means[:, None]) ** 2).sum() / (a * (b - 1))
    ms_grade = ((y - transcript_means[:, :, None]) ** 2).sum() / (a * b * (n - 1))
    raw: dict[VarianceSource, float] = {
        "grading": ms_grade,
        "conversation path": (ms_path - ms_grade) / n,
        "between personas": (ms_persona - ms_path) / (b * n),
    }
    total = sum(max(v, 0.0) for v in raw.values())
    components = [
        VarianceComponent(
            source=source,
            variance=float(max(v, 0.0)),
            share=float(max(v, 0.0) / total) if total > 0 else None,
            clipped=bool(v < 0),
        )
        for source, v in raw.items()
    ]
    clipped = [c.source for c in components if c.clipped]
    note = f"{a} personas x {b} transcripts x {n} regrades"
    if clipped:
        note += f"; negative estimate clipped at 0: {', '.join(clipped)}"
    return VarianceDecomposition(
        available=True,
        note=note,
        personas=a,
        transcripts_per_persona=b,
        grades_per_transcript=n,
        components=components,
    )
