"""Format checks on the held-out golden set (`tests/golden/holdout/`): every case loads, its labels
point at the right turns with verbatim evidence, and the set covers every rule both ways. No scorer
runs here: the held-out figure comes from `sdi validate-scorers --golden tests/golden/holdout`."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from harness.contracts import RULE_IDS
from harness.scoring.golden import GoldenCase, load_golden

HOLDOUT_DIR = Path(__file__).resolve().parent / "golden" / "holdout"
MIN_CASES = 30
MIN_FULL_INTERVIEWS = 10
MIN_PER_VERDICT = 3
FORTY_MINUTES_S = 2400

# Opportunity rules are n/a exactly when the transcript has no annotation of their kind.
OPPORTUNITY_KIND = {
    "pushback": "decision",
    "scale_probe": "no_scale",
    "drill_down": "gloss",
    "no_direct_correction": "incorrect_claim",
}

CASES = load_golden(HOLDOUT_DIR)


def _case_id(case: GoldenCase) -> str:
    return case.transcript.interview_id


def _kinds(case: GoldenCase) -> set[str]:
    return {a.kind for t in case.transcript.turns for a in t.annotations}


def test_enough_cases_with_unique_ids() -> None:
    ids = [_case_id(c) for c in CASES]
    assert len(ids) >= MIN_CASES
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_turns_are_well_formed(case: GoldenCase) -> None:
    turns = case.transcript.turns
    elapsed = [t.elapsed_s for t in turns]
    assert elapsed == sorted(elapsed), "elapsed_s must not decrease"
    for i, turn in enumerate(turns):
        if turn.role == "interviewer":
            assert not turn.annotations, f"turn {i}: annotations on an interviewer turn"
        for ann in turn.annotations:
            if ann.kind == "time_up":
                assert turn.elapsed_s >= FORTY_MINUTES_S, f"turn {i}: time_up before 40 minutes"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_labels_point_at_interviewer_turns_with_verbatim_evidence(case: GoldenCase) -> None:
    turns = case.transcript.turns
    for rule_id, result in case.labels.rules.items():
        assert (result.verdict == "fail") == bool(result.turns), f"{rule_id}: turns iff fail"
        assert len(result.evidence) == len(result.turns), f"{rule_id}: one quote per turn"
        for index, quote in zip(result.turns, result.evidence, strict=True):
            assert 0 <= index < len(turns), f"{rule_id}: turn {index} out of range"
            assert turns[index].role == "interviewer", f"{rule_id}: turn {index} is not interviewer"
            assert quote.strip(), f"{rule_id}: empty evidence"
            assert quote in turns[index].text, f"{rule_id}: {quote!r} not in turn {index}"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_verdicts_agree_with_the_contract_preconditions(case: GoldenCase) -> None:
    kinds = _kinds(case)
    rules = case.labels.rules
    for rule_id, kind in OPPORTUNITY_KIND.items():
        assert (rules[rule_id].verdict == "n/a") == (kind not in kinds), rule_id
    assert rules["in_role"].verdict != "n/a"
    no_feedback = rules["feedback_format"].verdict == "n/a"
    assert no_feedback == (rules["score_justified"].verdict == "n/a"), "both n/a without feedback"
    if no_feedback:
        assert case.labels.final_score is None
    score = case.labels.final_score
    if score is not None:
        assert 0 <= score <= 10 and (score * 2).is_integer()


def test_every_rule_has_enough_passes_and_fails() -> None:
    counts = Counter((r, c.labels.rules[r].verdict) for c in CASES for r in RULE_IDS)
    for rule_id in RULE_IDS:
        for verdict in ("pass", "fail"):
            assert counts[rule_id, verdict] >= MIN_PER_VERDICT, (rule_id, verdict)


def _is_full_interview(case: GoldenCase) -> bool:
    """List offered and a pick made (opening not failed at the first turn), a time_up at 40 minutes
    or later, and an interviewer turn after it."""
    turns = case.transcript.turns
    time_up = [i for i, t in enumerate(turns) if any(a.kind == "time_up" for a in t.annotations)]
    if not time_up:
        return False
    after = [t for t in turns[time_up[0] + 1 :] if t.role == "interviewer"]
    first_interviewer = next(i for i, t in enumerate(turns) if t.role == "interviewer")
    opening = case.labels.rules["opening"]
    return bool(after) and first_interviewer not in opening.turns and len(turns) >= 20


def test_enough_full_interviews() -> None:
    tagged = [c for c in CASES if "full-interview" in c.tags]
    assert len(tagged) >= MIN_FULL_INTERVIEWS
    for case in tagged:
        assert _is_full_interview(case), _case_id(case)
