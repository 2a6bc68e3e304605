"""The golden set is well formed and covers what issue 3 asks of it: labels that point at real
interviewer turns with verbatim evidence, labels consistent with the contract's n/a rules,
every rule passing and failing several times, the hard cases, and the seed article's turn."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

from harness.contracts import RULE_IDS
from harness.scoring.golden import GOLDEN_DIR, GoldenCase, load_golden
from harness.simulate.clock import TIME_UP_S


def _load_count_module() -> ModuleType:
    path = GOLDEN_DIR.parent / "count.py"
    spec = importlib.util.spec_from_file_location("golden_count", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


count = _load_count_module()
CASES = load_golden()
MIN_CASES = 40
MIN_PER_VERDICT = 4
MIN_FULL_INTERVIEWS = 12

# The seed article's pushback on "I'd use Redis for the session cache", verbatim.
SEED_REDIS_TURN = """\
You chose Redis for session caching. A few follow-ups:

1. You have 50M daily active users with an average session length of 20 minutes.
   How much memory does your Redis cluster need? Walk me through the calculation.

2. Redis is single-threaded for command processing. How many requests per second
   can a single Redis node handle? Is that enough for your throughput requirements?

3. What happens when your Redis node goes down? How does your application handle
   a cache miss during failover?

4. You mentioned Redis — did you consider Redis Cluster vs Sentinel vs a managed
   service like ElastiCache? What drove your choice?"""

# Which annotation kind opens which opportunity rule (contract: transcript.md).
OPENED_BY = {
    "pushback": "decision",
    "scale_probe": "no_scale",
    "drill_down": "gloss",
    "no_direct_correction": "incorrect_claim",
}


def case_id(case: GoldenCase) -> str:
    return case.transcript.interview_id


def kinds(case: GoldenCase) -> set[str]:
    return {a.kind for t in case.transcript.turns for a in t.annotations}


def test_enough_cases_with_unique_ids() -> None:
    ids = [case_id(c) for c in CASES]
    assert len(ids) >= MIN_CASES
    assert len(set(ids)) == len(ids)
    assert sorted(p.stem for p in Path(GOLDEN_DIR).glob("*.yaml")) == sorted(ids)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_turns_are_well_formed(case: GoldenCase) -> None:
    turns = case.transcript.turns
    assert turns, "a transcript has at least one turn"
    times = [t.elapsed_s for t in turns]
    assert times == sorted(times), "elapsed_s must not decrease"
    for i, turn in enumerate(turns):
        assert turn.text.strip(), f"turn {i} is empty"
        if turn.role == "interviewer":
            assert not turn.annotations, f"turn {i}: annotations belong on candidate turns"
    assert case.transcript.meta.get("source") == "golden, hand-written"


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_labels_point_at_interviewer_turns_with_verbatim_evidence(case: GoldenCase) -> None:
    turns = case.transcript.turns
    for rule, result in case.labels.rules.items():
        if result.verdict == "fail":
            assert result.turns, f"{rule}: a fail names the turns that break the rule"
        else:
            assert not result.turns and not result.evidence, f"{rule}: {result.verdict} has turns"
        assert result.turns == sorted(set(result.turns)), f"{rule}: turns sorted, no repeats"
        assert len(result.evidence) == len(result.turns), f"{rule}: one quote per turn"
        for index, quote in zip(result.turns, result.evidence, strict=True):
            assert 0 <= index < len(turns), f"{rule}: turn {index} out of range"
            assert turns[index].role == "interviewer", (
                f"{rule}: turn {index} is not the interviewer's"
            )
            assert quote.strip() and quote in turns[index].text, (
                f"{rule}: {quote!r} not in turn {index}"
            )


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_labels_agree_with_the_contract_on_applicability(case: GoldenCase) -> None:
    """n/a exactly where the contract says the rule had no chance to apply."""
    rules = case.labels.rules
    turns = case.transcript.turns
    has_interviewer = any(t.role == "interviewer" for t in turns)
    assert (rules["opening"].verdict == "n/a") == (not has_interviewer)
    assert rules["in_role"].verdict != "n/a", "in_role is never n/a"
    for rule, kind in OPENED_BY.items():
        assert (rules[rule].verdict == "n/a") == (kind not in kinds(case)), rule
    feedback_faults = {
        tuple(rules[r].turns) for r in ("feedback_format", "score_justified") if rules[r].turns
    }
    assert len(feedback_faults) <= 1 and all(len(t) == 1 for t in feedback_faults), (
        "feedback_format and score_justified both point at the one feedback turn"
    )
    no_feedback = rules["feedback_format"].verdict == "n/a"
    assert no_feedback == (rules["score_justified"].verdict == "n/a"), "both mean: no feedback"
    if no_feedback:
        assert case.labels.final_score is None
    if rules["score_justified"].verdict == "pass":
        assert case.labels.final_score is not None
    if rules["feedback_timing"].verdict == "n/a":
        assert no_feedback and "time_up" not in kinds(case) and turns[-1].elapsed_s < TIME_UP_S
    score = case.labels.final_score
    if score is not None:
        assert 0 <= score <= 10 and (score * 2).is_integer(), "out of 10, halves allowed"


def test_every_rule_passes_and_fails_several_times() -> None:
    table = count.verdict_counts(CASES)
    for rule in RULE_IDS:
        assert table.loc[rule, "pass"] >= MIN_PER_VERDICT, rule
        assert table.loc[rule, "fail"] >= MIN_PER_VERDICT, rule
        if rule != "in_role":
            assert table.loc[rule, "n/a"] >= 1, f"{rule}: the contract allows n/a; show it"


def test_full_interviews_are_full_and_enough() -> None:
    tagged = [c for c in CASES if count.FULL_INTERVIEW_TAG in c.tags]
    assert len(tagged) >= MIN_FULL_INTERVIEWS
    for case in CASES:
        assert (count.FULL_INTERVIEW_TAG in case.tags) == count.is_full_interview(case), case_id(
            case
        )


def test_every_tag_is_known_and_every_hard_case_is_exercised() -> None:
    used = {tag for c in CASES for tag in c.tags}
    assert used <= set(count.TAGS), used - set(count.TAGS)
    assert (count.tag_counts(CASES)["cases"] > 0).all(), "every hard case has a case"


# Markdown tags are checked against the interviewer's text, so that a tag cannot claim a hard
# case the transcript does not contain.
MARKDOWN_TAGS = {
    "md-numbered-list": re.compile(r"^\s*\d+\. ", re.M),
    "md-bulleted-list": re.compile(r"^\s*[-*] ", re.M),
    "md-table": re.compile(r"^\|---", re.M),
    "md-bold": re.compile(r"\*\*[^*]+\*\*"),
    "md-heading": re.compile(r"^#{1,6} ", re.M),
    "md-code-block": re.compile(r"^```[a-z]*\n[^`]*\?[^`]*\n```", re.M),
    "md-inline-code": re.compile(r"`[^`\n]+`"),
}


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_markdown_tags_are_truthful(case: GoldenCase) -> None:
    said = "\n".join(t.text for t in case.transcript.turns if t.role == "interviewer")
    for tag, pattern in MARKDOWN_TAGS.items():
        assert (tag in case.tags) == bool(pattern.search(said)), tag


def test_the_seed_redis_turn_is_present_and_breaks_one_question() -> None:
    found = [
        (case, i)
        for case in CASES
        for i, turn in enumerate(case.transcript.turns)
        if turn.role == "interviewer" and turn.text == SEED_REDIS_TURN
    ]
    assert found, "the seed article's Redis pushback is in the golden set, verbatim"
    for case, index in found:
        assert case.labels.rules["one_question"].verdict == "fail"
        assert index in case.labels.rules["one_question"].turns
        assert case.labels.rules["pushback"].verdict == "pass"
