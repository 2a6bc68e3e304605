"""How well the scorers agree with people's labels (`sdi validate-scorers`).

The labels come from a golden folder (`tests/golden/cases`) or a label set written by
`sdi label` (`labels/NAME.jsonl`). Per rule, the positive class is "fail" (a violation
detected): precision is the share of reported violations that the labels confirm, recall the
share of labelled violations found; pass and n/a both count as negatives there. Each comes with
a 95% interval, and so do F1 and Cohen's kappa on the three verdicts (see
`harness.scoring.agreement`); when the label set was drawn in a non-random order, every figure
is weighted back to the whole run by stratum. Turn agreement compares the turn indices where
both sides say fail; the final score is compared exactly (null included).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from harness.contracts import RULE_IDS, ScoreRecord
from harness.scoring.agreement import BinaryAgreement, binary_agreement, wilson
from harness.scoring.golden import GOLDEN_DIR, GoldenCase
from harness.scoring.labels import Reference, interrater, load_reference
from harness.scoring.score import score_transcripts

if TYPE_CHECKING:
    from harness.scoring.judge import Judge
    from harness.simulate.progress import ProgressSink

POSITIVE = "fail"
ANY_RULE = "(any rule)"


@dataclass(frozen=True)
class RuleAgreement:
    rule: str
    cases: int
    labelled_fail: int
    found_fail: int
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    verdict_agreement: float
    kappa: float
    turns_agree: int
    turns_compared: int
    stats: BinaryAgreement


@dataclass(frozen=True)
class Miss:
    case: str
    rule: str
    expected: str
    got: str
    evidence: str


@dataclass(frozen=True)
class ScoreAgreement:
    cases: int
    exact: int
    both_null: int
    mean_abs_error: float  # over cases where both give a number
    mismatches: list[tuple[str, float | None, float | None]]
    exact_interval: tuple[float, float] = (math.nan, math.nan)


@dataclass(frozen=True)
class Validation:
    scorer: str
    cases: int
    rules: list[RuleAgreement]
    final_score: ScoreAgreement
    misses: list[Miss]
    judge_errors: list[str]
    overall: RuleAgreement | None = None
    weighted: bool = False


def _describe(verdict: str, turns: Sequence[int]) -> str:
    return f"{verdict}@{list(turns)}" if verdict == "fail" else verdict


def rule_agreement(
    rule: str,
    labels: Sequence[str],
    found: Sequence[str],
    *,
    weights: Sequence[float] | None = None,
    strata: Sequence[str] | None = None,
) -> RuleAgreement:
    stats = binary_agreement(labels, found, weights=weights, strata=strata)
    same = sum(a == b for a, b in zip(labels, found, strict=True))
    return RuleAgreement(
        rule=rule,
        cases=len(labels),
        labelled_fail=stats.labelled_fail,
        found_fail=stats.found_fail,
        tp=stats.tp,
        fp=stats.fp,
        fn=stats.fn,
        precision=stats.precision.value,
        recall=stats.recall.value,
        f1=stats.f1.value,
        verdict_agreement=same / len(labels) if labels else math.nan,
        kappa=stats.kappa.value,
        turns_agree=0,
        turns_compared=0,
        stats=stats,
    )


def compare(
    cases: Sequence[GoldenCase],
    records: Sequence[ScoreRecord],
    rules: Sequence[str] = RULE_IDS,
    scorer: str = "deterministic",
    *,
    weights: Sequence[float] | None = None,
    strata: Sequence[str] | None = None,
) -> Validation:
    """Agreement of the records with the cases' labels (both in the same order); `weights` and
    `strata` (one per case) weight every figure back to the whole run."""
    misses: list[Miss] = []
    agreements: list[RuleAgreement] = []
    keep = [i for i, r in enumerate(records) if not getattr(r, "judge_error", None)]
    usable = [(cases[i], records[i]) for i in keep]
    w = [weights[i] for i in keep] if weights is not None else None
    st = [strata[i] for i in keep] if strata is not None else None
    for rule in rules:
        labels = [c.labels.rules[rule].verdict for c, _ in usable]
        found = [r.rules[rule].verdict for _, r in usable]
        agreement = rule_agreement(rule, labels, found, weights=w, strata=st)
        both = [
            (c.labels.rules[rule].turns, r.rules[rule].turns)
            for c, r in usable
            if c.labels.rules[rule].verdict == POSITIVE and r.rules[rule].verdict == POSITIVE
        ]
        agreements.append(
            replace(
                agreement,
                turns_agree=sum(sorted(a) == sorted(b) for a, b in both),
                turns_compared=len(both),
            )
        )
        for c, r in usable:
            want, got = c.labels.rules[rule], r.rules[rule]
            if want.verdict != got.verdict or (
                want.verdict == POSITIVE and sorted(want.turns) != sorted(got.turns)
            ):
                misses.append(
                    Miss(
                        case=c.transcript.interview_id,
                        rule=rule,
                        expected=_describe(want.verdict, want.turns),
                        got=_describe(got.verdict, got.turns),
                        evidence=(got.evidence or [""])[0],
                    )
                )

    def any_fail(results: dict[str, object]) -> str:
        failed = any(getattr(results[r], "verdict", "") == POSITIVE for r in rules)
        return POSITIVE if failed else "pass"

    overall = rule_agreement(
        ANY_RULE,
        [any_fail(dict(c.labels.rules)) for c, _ in usable],
        [any_fail(dict(r.rules)) for _, r in usable],
        weights=w,
        strata=st,
    )
    return Validation(
        scorer=scorer,
        cases=len(cases),
        rules=agreements,
        final_score=_score_agreement(cases, records),
        misses=misses,
        judge_errors=[r.interview_id for r in records if getattr(r, "judge_error", None)],
        overall=overall,
        weighted=w is not None and len(set(w)) > 1,
    )


def _score_agreement(cases: Sequence[GoldenCase], records: Sequence[ScoreRecord]) -> ScoreAgreement:
    pairs = [
        (c.transcript.interview_id, c.labels.final_score, r.final_score)
        for c, r in zip(cases, records, strict=True)
    ]
    numeric = [abs(a - b) for _, a, b in pairs if a is not None and b is not None]
    exact = sum(a == b for _, a, b in pairs)
    return ScoreAgreement(
        cases=len(pairs),
        exact=exact,
        both_null=sum(a is None and b is None for _, a, b in pairs),
        mean_abs_error=sum(numeric) / len(numeric) if numeric else math.nan,
        mismatches=[p for p in pairs if p[1] != p[2]],
        exact_interval=wilson(exact, len(pairs)),
    )


@dataclass(frozen=True)
class ValidationReport:
    """Everything `sdi validate-scorers` shows: both scorers against one reference."""

    reference: Reference
    deterministic_records: list[ScoreRecord]
    deterministic: Validation
    judged_records: list[ScoreRecord] | None = None
    judged: Validation | None = None
    interrater: dict[str, dict[str, float]] = field(default_factory=dict)


async def validate_reference(
    reference: Reference,
    *,
    judge: Judge | None = None,
    progress: ProgressSink | None = None,
    only_uncertain: bool = False,
) -> ValidationReport:
    """The deterministic scorers against the reference's labels, and the judge too when one
    is given (on the rules it judges; with `only_uncertain`, the deterministic verdicts with
    the judge's in place of the uncertain ones), each weighted by stratum when needed."""
    transcripts = [c.transcript for c in reference.cases]
    deterministic = await score_transcripts(transcripts)
    weights = dict(weights=reference.weights, strata=reference.strata)
    result = compare(reference.cases, deterministic, **weights)  # type: ignore[arg-type]
    report = ValidationReport(reference, deterministic, result, interrater=interrater(reference))
    if judge is None:
        return report
    from harness.scoring.judge import JUDGED_RULES

    judged = await score_transcripts(
        transcripts, judge=judge, progress=progress, only_uncertain=only_uncertain
    )
    validation = compare(
        reference.cases,
        judged,
        rules=sorted(JUDGED_RULES),
        scorer=f"{judge.name} on uncertain" if only_uncertain else judge.name,
        **weights,  # type: ignore[arg-type]
    )
    return replace(report, judged_records=judged, judged=validation)


async def validate_golden(
    folder: Path = GOLDEN_DIR,
    *,
    judge: Judge | None = None,
    progress: ProgressSink | None = None,
) -> tuple[list[GoldenCase], Validation, Validation | None]:
    """The deterministic scorers (and the judge) against a golden folder or label set."""
    report = await validate_reference(load_reference(folder), judge=judge, progress=progress)
    return report.reference.cases, report.deterministic, report.judged


def _fmt(value: float, digits: int = 2) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def _row(a: RuleAgreement, scorer: str | None = None) -> dict[str, object]:
    row: dict[str, object] = {"rule": a.rule}
    if scorer is not None:
        row["scorer"] = scorer
    row.update(
        {
            "cases": a.cases,
            "label_fail": a.labelled_fail,
            "found_fail": a.found_fail,
            "TP": a.tp,
            "FP": a.fp,
            "FN": a.fn,
            "precision": a.stats.precision.text(),
            "recall": a.stats.recall.text(),
            "F1": a.stats.f1.text(),
            "kappa": a.stats.kappa.text(),
            "verdicts": _fmt(a.verdict_agreement),
            "turns": f"{a.turns_agree}/{a.turns_compared}" if a.turns_compared else "-",
        }
    )
    return row


def agreement_table(validation: Validation) -> pd.DataFrame:
    rows = [_row(a) for a in validation.rules]
    if validation.overall is not None:
        rows.append(_row(validation.overall))
    return pd.DataFrame(rows).set_index("rule")


def side_by_side(deterministic: Validation, judged: Validation) -> pd.DataFrame:
    """The judged rules, one row per scorer under each rule, on the same transcripts."""
    det = {a.rule: a for a in deterministic.rules}
    rows = []
    for a in judged.rules:
        rows.append(_row(det[a.rule], deterministic.scorer))
        rows.append(_row(a, judged.scorer))
    return pd.DataFrame(rows).set_index(["rule", "scorer"])


def _reference_lines(reference: Reference, validation: Validation) -> list[str]:
    what = "label set" if reference.labeller is not None else "golden set"
    lines = [f"{what}: {reference.source} ({validation.cases} cases)"]
    if reference.labeller is not None:
        lines[0] += f", labeller {reference.labeller}"
        if reference.partial:
            lines.append(f"{reference.partial} transcript(s) only partly labelled, left out")
    if reference.weighted:
        counts = pd.Series(reference.strata).value_counts().to_dict()
        lines.append(
            "weighted by selection stratum (labelled order was not random): "
            + ", ".join(f"{k} {v}" for k, v in counts.items())
        )
    return lines


def render_report(report: ValidationReport, misses: bool) -> str:
    validation, judged = report.deterministic, report.judged
    s = validation.final_score
    lines = [
        *_reference_lines(report.reference, validation),
        'positive class = "fail" (a violation detected); pass and n/a count as negatives. '
        "95% intervals in brackets: Wilson for precision and recall, bootstrap over "
        "transcripts for F1 and kappa (all bootstrap, within strata, when weighted).",
        "kappa = Cohen's kappa on the three verdicts; verdicts = share of cases with the same "
        "verdict; turns = cases where both say fail with the same turn indices; "
        f"{ANY_RULE} = the transcript has at least one violation.",
        "",
        f"scorers: {validation.scorer}",
        agreement_table(validation).to_string(),
        "",
        f"final_score: {s.exact}/{s.cases} exact "
        f"[{_fmt(s.exact_interval[0])}, {_fmt(s.exact_interval[1])}] ({s.both_null} both null), "
        f"mean absolute error {_fmt(s.mean_abs_error)} where both give a number",
    ]
    if judged is not None:
        lines += [
            "",
            f"judge: {judged.scorer} beside {validation.scorer}, on the rules it judges",
            side_by_side(validation, judged).to_string(),
        ]
        if judged.judge_errors:
            lines.append(
                f"judge failed on {len(judged.judge_errors)} case(s), left out above: "
                + ", ".join(judged.judge_errors)
            )
    for other, kappas in report.interrater.items():
        kappas = dict(kappas)
        cases = int(kappas.pop("(cases)", 0))
        lines += [
            "",
            f"inter-rater: {report.reference.labeller} vs {other} on {cases} transcript(s), "
            "Cohen's kappa per rule",
            "  " + "  ".join(f"{rule} {_fmt(k)}" for rule, k in kappas.items()),
        ]
    if misses:
        for v in (validation, judged):
            if v is None or not (v.misses or v.final_score.mismatches):
                continue
            lines += ["", f"disagreements ({v.scorer}): case  rule  label -> scorer  | evidence"]
            lines += [
                f"  {m.case}  {m.rule}  {m.expected} -> {m.got}  | {m.evidence}" for m in v.misses
            ]
            if v is validation:
                lines += [
                    f"  {case}  final_score  {want} -> {got}" for case, want, got in s.mismatches
                ]
    return "\n".join(lines)


def render(folder: Path, validation: Validation, judged: Validation | None, misses: bool) -> str:
    """The text report for a golden folder's figures (kept for callers of validate_golden)."""
    reference = Reference(folder, [], [], None)
    report = ValidationReport(reference, [], validation, judged=judged)
    return render_report(report, misses)
