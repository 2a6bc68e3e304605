"""Format checks of the second held-out golden set (`tests/golden/holdout2/`): every case loads,
its labels point at interviewer turns with verbatim quotes, and the set exercises every rule both
ways. No scorer runs here: the set measures the scorers, so it must not be shaped by them."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from harness.contracts import RULE_IDS
from harness.scoring.golden import GoldenCase, load_golden
from harness.simulate.clock import TIME_UP_S

HOLDOUT2_DIR = Path(__file__).resolve().parent / "golden" / "holdout2"
ID_PREFIX = "h2-"
SOURCE = "hand-written held-out case (not model output)"
MIN_CASES = 30
MIN_FULL_INTERVIEWS = 10
MIN_CASES_PER_VERDICT = 3

CASES = load_golden(HOLDOUT2_DIR)
CASE_IDS = [case.transcript.interview_id for case in CASES]


def time_up_turns(case: GoldenCase) -> list[int]:
    return [
        i
        for i, turn in enumerate(case.transcript.turns)
        if any(a.kind == "time_up" for a in turn.annotations)
    ]


def is_full_interview(case: GoldenCase) -> bool:
    """The candidate opens, the interviewer offers the list, and a time_up turn at or after
    40 minutes gets an interviewer reply."""
    turns = case.transcript.turns
    ends = time_up_turns(case)
    return (
        turns[0].role == "candidate"
        and turns[1].role == "interviewer"
        and bool(ends)
        and turns[ends[0]].elapsed_s >= TIME_UP_S
        and any(t.role == "interviewer" for t in turns[ends[0] + 1 :])
    )


def test_enough_cases_with_unique_prefixed_ids() -> None:
    assert len(CASES) >= MIN_CASES
    assert len(set(CASE_IDS)) == len(CASE_IDS)
    assert all(case_id.startswith(ID_PREFIX) for case_id in CASE_IDS)


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_labels_point_at_interviewer_turns_with_verbatim_evidence(case: GoldenCase) -> None:
    turns = case.transcript.turns
    for rule, result in case.labels.rules.items():
        assert len(result.turns) == len(result.evidence), rule
        if result.verdict == "fail":
            assert result.turns, f"{rule}: a failure names the turns that break it"
        else:
            assert not result.turns and not result.evidence, f"{rule}: only failures name turns"
        for index, quote in zip(result.turns, result.evidence, strict=True):
            assert 0 <= index < len(turns), f"{rule}: turn {index} out of range"
            assert turns[index].role == "interviewer", f"{rule}: turn {index} is the candidate's"
            assert quote.strip() and quote in turns[index].text, f"{rule}: {quote!r} not in turn"


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_transcript_shape(case: GoldenCase) -> None:
    turns = case.transcript.turns
    elapsed = [turn.elapsed_s for turn in turns]
    assert elapsed == sorted(elapsed), "elapsed_s must not decrease"
    assert all(not t.annotations for t in turns if t.role == "interviewer")
    assert case.transcript.meta.get("source") == SOURCE


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_labels_agree_with_the_contract(case: GoldenCase) -> None:
    """Verdict combinations the contract rules out: in_role is never n/a; with no feedback there
    is no final score and both feedback rules are n/a; a justified score is a score out of 10."""
    rules = case.labels.rules
    assert rules["in_role"].verdict != "n/a"
    no_feedback = rules["feedback_format"].verdict == "n/a"
    assert no_feedback == (rules["score_justified"].verdict == "n/a")
    if no_feedback:
        assert case.labels.final_score is None
    if rules["score_justified"].verdict == "pass":
        assert case.labels.final_score is not None


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_full_interview_tag_matches_the_transcript(case: GoldenCase) -> None:
    assert ("full-interview" in case.tags) == is_full_interview(case)
    assert ("excerpt" in case.tags) != is_full_interview(case)


def test_enough_full_interviews() -> None:
    assert sum(is_full_interview(case) for case in CASES) >= MIN_FULL_INTERVIEWS


@pytest.mark.parametrize("rule", RULE_IDS)
def test_every_rule_passes_and_fails_in_several_cases(rule: str) -> None:
    verdicts = Counter(case.labels.rules[rule].verdict for case in CASES)
    assert verdicts["pass"] >= MIN_CASES_PER_VERDICT, verdicts
    assert verdicts["fail"] >= MIN_CASES_PER_VERDICT, verdicts
