"""Builders for the small hand-written transcripts of the scoring tests (no tests here)."""

from __future__ import annotations

from typing import Any

from harness.contracts import Transcript
from harness.scoring.score import score_transcript

PROBLEM_LIST = (
    "Which of these problems would you like to tackle?\n\n"
    "1. Design URL shortener (easy)\n2. Design Twitter feed (medium)\n"
    "3. Design distributed rate limiter (medium-hard)\n4. Design distributed job queue (hard)\n"
    "5. Design real-time collaborative document editor (hard)"
)
STATEMENT = (
    "Design a URL shortener like bit.ly: users submit a long URL and get a short code that "
    "redirects to it. Where would you like to start?"
)
FEEDBACK = """## Feedback

**Score: 7/10**

**Strong:**
- You sized the write path with real numbers before picking Cassandra
- The base62 short codes were well reasoned

**Needs work:**
- The cache had no eviction policy or TTL

**Would have liked to hear:**
- How you would shard the links table and handle hot links
"""
TIME_UP = (
    "We're at the 40-minute mark, so I think time is up. Could I get your feedback and a score?"
)


def cand(text: str, *marks: str, at: float | None = None) -> dict[str, Any]:
    """A candidate turn; each mark is `kind` or `kind:topic` (an annotation)."""
    annotations = []
    for mark in marks:
        kind, _, topic = mark.partition(":")
        annotations.append({"kind": kind, "topic": topic or None})
    return {"role": "candidate", "text": text, "elapsed_s": at, "annotations": annotations}


def intv(text: str, at: float | None = None) -> dict[str, Any]:
    return {"role": "interviewer", "text": text, "elapsed_s": at}


def transcript(
    *turns: dict[str, Any], problem: str | None = "url-shortener", interview_id: str = "t"
) -> Transcript:
    """Turns one minute apart unless a turn says when (`at`)."""
    clock = 0.0
    out = []
    for turn in turns:
        clock = turn["elapsed_s"] if turn["elapsed_s"] is not None else clock + 60
        out.append({**turn, "elapsed_s": clock})
    return Transcript.model_validate(
        {"interview_id": interview_id, "problem": problem, "turns": out, "prompt_version": "v1"}
    )


def opening() -> list[dict[str, Any]]:
    return [
        cand("I'd like to do a system design interview."),
        intv(PROBLEM_LIST),
        cand("Let's do the URL shortener."),
        intv(STATEMENT),
    ]


def stated(pick: str, statement: str, problem: str = "url-shortener") -> Transcript:
    """The problem list, the candidate's pick, the problem statement (turn 3), then the
    candidate's first step and the interviewer's next question."""
    return transcript(
        cand("I'd like to do a system design interview."),
        intv(PROBLEM_LIST),
        cand(pick),
        intv(statement),
        cand("Okay, let me start with the API."),
        intv("Go ahead: what are the endpoints?"),
        problem=problem,
    )


def interview(
    *middle: dict[str, Any], feedback: str | None = FEEDBACK, interview_id: str = "t"
) -> Transcript:
    """The opening, the given turns, then time up at 41 minutes and the feedback."""
    ending = [cand(TIME_UP, "time_up", at=2460)]
    if feedback is not None:
        ending.append(intv(feedback, at=2470))
    return transcript(*opening(), *middle, *ending, interview_id=interview_id)


def verdict(t: Transcript, rule: str) -> tuple[str, list[int]]:
    """A rule's verdict on a transcript and the turns it names."""
    result = score_transcript(t).rules[rule]
    return result.verdict, result.turns
