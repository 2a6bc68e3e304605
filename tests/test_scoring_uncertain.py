"""Uncertain verdicts: where a semantic rule's decision rests on the edge of its word lists,
the verdict is marked `uncertain` with the signals (added fields; the verdict is unchanged),
and the judge can be asked about those verdicts only."""

from __future__ import annotations

import asyncio

import pytest

from harness.contracts import RuleResult, Transcript
from harness.scoring.judge import JUDGED_RULES
from harness.scoring.score import score_transcript, score_transcripts
from tests.test_scoring_score import FakeJudge
from tests.test_scoring_support import cand, interview, intv

GLOSS = "We'd add a cache in front of the database."
DECISION = "We'll store the URLs in Postgres."
CLAIM = "Redis is multi-threaded, so it scales across cores."


def _rule(t: Transcript, rule: str) -> RuleResult:
    return score_transcript(t).rules[rule]


@pytest.mark.parametrize(
    ("rule", "candidate", "reply", "verdict", "uncertain"),
    [
        ("drill_down", cand(GLOSS, "gloss:cache"), "What's next?", "fail", False),
        ("drill_down", cand(GLOSS, "gloss:cache"), "What's the TTL?", "pass", False),
        (
            "drill_down",
            cand(GLOSS, "gloss:cache"),
            "How will the database keep up with writes?",
            "fail",
            True,
        ),
        ("pushback", cand(DECISION, "decision:database"), "OK. What about the API?", "fail", False),
        (
            "pushback",
            cand(DECISION, "decision:database"),
            "Why Postgres rather than DynamoDB?",
            "pass",
            False,
        ),
        (
            "pushback",
            cand(DECISION, "decision:database"),
            "What happens when traffic spikes tenfold?",
            "fail",
            True,
        ),
        (
            "no_direct_correction",
            cand(CLAIM, "incorrect_claim:redis"),
            "Actually, Redis is single-threaded.",
            "fail",
            False,
        ),
        (
            "no_direct_correction",
            cand(CLAIM, "incorrect_claim:redis"),
            "Interesting. How do you handle deploys?",
            "fail",
            True,
        ),
    ],
)
def test_edge_decisions_are_marked_and_clear_ones_are_not(
    rule: str, candidate: dict[str, object], reply: str, verdict: str, uncertain: bool
) -> None:
    result = _rule(interview(candidate, intv(reply)), rule)
    assert result.verdict == verdict
    assert getattr(result, "uncertain", False) is uncertain
    signals = getattr(result, "signals", [])
    assert bool(signals) is uncertain and all(s.startswith("turn 5") for s in signals)


def test_feedback_sections_found_only_in_prose_are_uncertain() -> None:
    prose = (
        "Thanks. You explained the API clearly and the schema was solid. The caching story was "
        "thin: no eviction policy. I was hoping you'd size the storage. Score: 6/10."
    )
    labelled = (
        "**Strong:** a clear API.\n\n**Needs work:** the cache had no eviction policy.\n\n"
        "**Would have liked to hear:** storage sizing.\n\n**Score: 6/10**"
    )
    loose = _rule(interview(cand(DECISION), feedback=prose), "feedback_format")
    firm = _rule(interview(cand(DECISION), feedback=labelled), "feedback_format")
    assert loose.verdict == firm.verdict == "pass"
    assert getattr(loose, "uncertain", False) and len(loose.signals) == 3  # type: ignore[attr-defined]
    assert not getattr(firm, "uncertain", False)


def test_uncertain_verdicts_keep_the_contract() -> None:
    t = interview(cand(GLOSS, "gloss:cache"), intv("How will the database keep up with writes?"))
    data = score_transcript(t).model_dump(mode="json", by_alias=True)
    drill = data["rules"]["drill_down"]
    assert drill["verdict"] == "fail" and drill["turns"] == [5]
    assert len(drill["evidence"]) == len(drill["turns"])  # signals live beside the evidence


GROUNDED = (
    "**Strong:** putting a cache in front of the database early.\n\n"
    "**Needs work:** the cache had no eviction policy.\n\n"
    "**Would have liked to hear:** how the database is sharded.\n\n**Score: 7/10**"
)


def test_the_judge_is_asked_about_uncertain_verdicts_only() -> None:
    certain = interview(
        cand(GLOSS, "gloss:cache"), intv("What's the TTL?"), feedback=GROUNDED, interview_id="c"
    )
    unsure = interview(
        cand(GLOSS, "gloss:cache"),
        intv("How will the database keep up with writes?"),
        feedback=GROUNDED,
        interview_id="u",
    )
    assert not any(getattr(r, "uncertain", False) for r in score_transcript(certain).rules.values())
    judge = FakeJudge()
    records = asyncio.run(score_transcripts([certain, unsure], judge=judge, only_uncertain=True))
    assert judge.calls == 1  # the certain transcript costs no judge call
    kept, judged = records
    assert kept.model_dump() == score_transcript(certain).model_dump()
    drill = judged.rules["drill_down"]
    assert getattr(judged, "scorers")["drill_down"] == judge.name  # noqa: B009
    assert drill.verdict == "fail" and getattr(drill, "deterministic")["uncertain"] is True  # noqa: B009
    for rule in set(JUDGED_RULES) - {"drill_down"}:  # not uncertain: the deterministic verdict
        assert getattr(judged, "scorers")[rule] == "deterministic"  # noqa: B009
    everything = asyncio.run(score_transcripts([certain, unsure], judge=FakeJudge()))
    assert all(getattr(r, "judge", None) for r in everything)
