"""How well the scorers agree with the labelled golden set (`sdi validate-scorers`).

Per rule, the positive class is "fail" (a violation detected): precision is the share of
reported violations that the labels confirm, recall the share of labelled violations found.
Pass and n/a both count as negatives there; verdict agreement compares all three verdicts.
Turn agreement compares the turn indices where both sides say fail; the final score is
compared exactly (null included).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from harness.contracts import RULE_IDS, ScoreRecord
from harness.scoring.golden import GOLDEN_DIR, GoldenCase, load_golden
from harness.scoring.score import score_transcripts

if TYPE_CHECKING:
    from harness.scoring.judge import Judge
    from harness.simulate.progress import ProgressSink

POSITIVE = "fail"


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


@dataclass(frozen=True)
class Validation:
    scorer: str
    cases: int
    rules: list[RuleAgreement]
    final_score: ScoreAgreement
    misses: list[Miss]
    judge_errors: list[str]


def _describe(verdict: str, turns: Sequence[int]) -> str:
    return f"{verdict}@{list(turns)}" if verdict == "fail" else verdict


def rule_agreement(rule: str, labels: Sequence[str], found: Sequence[str]) -> RuleAgreement:
    from sklearn.metrics import cohen_kappa_score, confusion_matrix, precision_recall_fscore_support

    truth = [v == POSITIVE for v in labels]
    guess = [v == POSITIVE for v in found]
    _, fp, fn, tp = confusion_matrix(truth, guess, labels=[False, True]).ravel()
    precision, recall, f1, _ = precision_recall_fscore_support(
        truth, guess, average="binary", pos_label=True, zero_division=math.nan
    )
    same = sum(a == b for a, b in zip(labels, found, strict=True))
    kappa = cohen_kappa_score(labels, found) if len(set(labels) | set(found)) > 1 else math.nan
    return RuleAgreement(
        rule=rule,
        cases=len(labels),
        labelled_fail=sum(truth),
        found_fail=sum(guess),
        tp=int(tp),
        fp=int(fp),
        fn=int(fn),
        precision=float(precision),
        recall=float(recall),
        f1=float(f1),
        verdict_agreement=same / len(labels) if labels else math.nan,
        kappa=float(kappa),
        turns_agree=0,
        turns_compared=0,
    )


def compare(
    cases: Sequence[GoldenCase],
    records: Sequence[ScoreRecord],
    rules: Sequence[str] = RULE_IDS,
    scorer: str = "deterministic",
) -> Validation:
    """Agreement of the records with the cases' labels (both in the same order)."""
    misses: list[Miss] = []
    agreements: list[RuleAgreement] = []
    usable = [
        (c, r) for c, r in zip(cases, records, strict=True) if not getattr(r, "judge_error", None)
    ]
    for rule in rules:
        labels = [c.labels.rules[rule].verdict for c, _ in usable]
        found = [r.rules[rule].verdict for _, r in usable]
        agreement = rule_agreement(rule, labels, found)
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
    return Validation(
        scorer=scorer,
        cases=len(cases),
        rules=agreements,
        final_score=_score_agreement(cases, records),
        misses=misses,
        judge_errors=[r.interview_id for r in records if getattr(r, "judge_error", None)],
    )


def _score_agreement(cases: Sequence[GoldenCase], records: Sequence[ScoreRecord]) -> ScoreAgreement:
    pairs = [
        (c.transcript.interview_id, c.labels.final_score, r.final_score)
        for c, r in zip(cases, records, strict=True)
    ]
    numeric = [abs(a - b) for _, a, b in pairs if a is not None and b is not None]
    return ScoreAgreement(
        cases=len(pairs),
        exact=sum(a == b for _, a, b in pairs),
        both_null=sum(a is None and b is None for _, a, b in pairs),
        mean_abs_error=sum(numeric) / len(numeric) if numeric else math.nan,
        mismatches=[p for p in pairs if p[1] != p[2]],
    )


async def validate_golden(
    folder: Path = GOLDEN_DIR,
    *,
    judge: Judge | None = None,
    progress: ProgressSink | None = None,
) -> tuple[list[GoldenCase], Validation, Validation | None]:
    """The deterministic scorers against the golden set, and the judge too when one is given
    (on the rules it judges)."""
    cases = load_golden(folder)
    transcripts = [c.transcript for c in cases]
    deterministic = await score_transcripts(transcripts)
    result = compare(cases, deterministic)
    if judge is None:
        return cases, result, None
    from harness.scoring.judge import JUDGED_RULES

    judged = await score_transcripts(transcripts, judge=judge, progress=progress)
    return cases, result, compare(cases, judged, rules=sorted(JUDGED_RULES), scorer=judge.name)


def _fmt(value: float, digits: int = 2) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def agreement_table(validation: Validation) -> pd.DataFrame:
    rows = [
        {
            "rule": a.rule,
            "cases": a.cases,
            "label_fail": a.labelled_fail,
            "found_fail": a.found_fail,
            "TP": a.tp,
            "FP": a.fp,
            "FN": a.fn,
            "precision": _fmt(a.precision),
            "recall": _fmt(a.recall),
            "F1": _fmt(a.f1),
            "verdicts": _fmt(a.verdict_agreement),
            "kappa": _fmt(a.kappa),
            "turns": f"{a.turns_agree}/{a.turns_compared}" if a.turns_compared else "-",
        }
        for a in validation.rules
    ]
    return pd.DataFrame(rows).set_index("rule")


def render(folder: Path, validation: Validation, judged: Validation | None, misses: bool) -> str:
    s = validation.final_score
    lines = [
        f"golden set: {folder} ({validation.cases} cases)",
        'positive class = "fail" (a violation detected); pass and n/a count as negatives.',
        "verdicts = share of cases with the same verdict (pass/fail/n/a); kappa = Cohen's kappa "
        "on the three verdicts; turns = cases where both say fail with the same turn indices.",
        "",
        f"scorers: {validation.scorer}",
        agreement_table(validation).to_string(),
        "",
        f"final_score: {s.exact}/{s.cases} exact ({s.both_null} both null), "
        f"mean absolute error {_fmt(s.mean_abs_error)} where both give a number",
    ]
    if judged is not None:
        lines += [
            "",
            f"judge: {judged.scorer} (agreement with the labels on the judged rules)",
            agreement_table(judged).to_string(),
        ]
        if judged.judge_errors:
            lines.append(
                f"judge failed on {len(judged.judge_errors)} case(s), left out above: "
                + ", ".join(judged.judge_errors)
            )
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
