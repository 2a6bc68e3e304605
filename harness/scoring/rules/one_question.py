"""Rule 2: one question at a time, in every interview turn."""

from __future__ import annotations

from harness.contracts import RuleResult
from harness.scoring.rules.verdicts import Hit, judged, not_applicable
from harness.scoring.view import TranscriptView


def check_one_question(view: TranscriptView) -> RuleResult:
    turns = view.interview_turns()
    if not turns:
        return not_applicable()
    hits: list[Hit] = []
    for i in turns:
        found = view.asks(i)
        if len(found) >= 2:
            hits.append((i, " … ".join(a.text for a in found)))
    return judged(hits, len(turns), "a turn asks two or more questions")
