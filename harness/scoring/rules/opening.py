"""Rule 1: offer the problem list and ask; then state the chosen problem and stop."""

from __future__ import annotations

from harness.contracts import PROBLEMS, RuleResult
from harness.scoring.design import design_given
from harness.scoring.lexicon import has, normalize
from harness.scoring.markdown import blocks, sentences
from harness.scoring.rules.verdicts import Hit, judged, not_applicable
from harness.scoring.view import TranscriptView

RULE = "opening"
# Naming three of the five problems is offering the list; one or two is picking for the candidate.
MIN_LISTED = 3


def problems_named(normalized_text: str) -> set[str]:
    return {p for p in PROBLEMS if has(RULE, f"problem.{p}", normalized_text)}


def _picks_itself(text: str, asks_choice: bool) -> str | None:
    """A statement outside the list that names one problem and picks it ("Let's go with the
    rate limiter"); a suggestion ("I'd suggest the rate limiter") picks only when the turn
    does not also ask the candidate to choose."""
    named: str | None = None
    cues = ("pick_cues",) if asks_choice else ("pick_cues", "suggest_cues")
    if not any(has(RULE, c, normalize(text)) for c in cues):
        return None
    for block in blocks(text):
        if block.kind == "item":
            continue
        for sentence in sentences(block.text):
            lowered = normalize(sentence)
            if len(problems_named(lowered)) == 1:
                named = sentence
            if named is not None and any(has(RULE, c, lowered) for c in cues):
                return named
    return None


def check_opening(view: TranscriptView) -> RuleResult:
    if not view.interviewer:
        return not_applicable()
    first = view.interviewer[0]
    asks_choice = any(has(RULE, "choice_cues", normalize(a.text)) for a in view.asks(first))
    picked_itself = _picks_itself(view.text(first), asks_choice)
    if picked_itself is not None:
        return judged([(first, picked_itself)], 1, "the first turn picks a problem itself")
    offered = len(problems_named(view.normalized(first))) >= MIN_LISTED and asks_choice
    if not offered:
        return judged([(first, view.text(first))], 1, "the first turn does not offer the list")
    pick = next(
        (i for i in range(first + 1, len(view.turns)) if view.turns[i].role == "candidate"), None
    )
    statement = view.next_interviewer(pick) if pick is not None else None
    if pick is None or statement is None or statement == view.feedback:
        return judged([], 1)
    chosen = view.transcript.problem
    picked: set[str] = {chosen} if chosen else problems_named(view.normalized(pick))
    stated = problems_named(view.normalized(statement))
    hits: list[Hit] = []
    note = None
    if len(picked) == 1 and stated and not stated & picked:
        hits, note = [(statement, view.text(statement))], "states a different problem"
    else:
        design = design_given(view.text(statement))
        if design is not None:
            hits, note = [(statement, design)], "designs the system in the problem statement"
    return judged(hits, 2, note)
