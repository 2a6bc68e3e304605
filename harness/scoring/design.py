"""Recognising an interviewer that designs the system for the candidate.

A turn that prescribes ("put a load balancer in front of stateless API servers", "a typical
architecture looks like this:") and whose statements (not questions, not the candidate's design
repeated back) name several components gives the design away; right after the candidate asked
for the answer, one prescribed component is enough. Phrases that hand over the answer outright
("the right answer is...") count on their own. Before the candidate has designed anything (the
problem statement), no cue is needed: statements that lay out several components are a design,
whatever their wording, and so is a list of statements after an announced design ("The usual
shape of a solution:"), whatever its items name. The lists are in `rubrics/in_role.yaml`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import takewhile

from harness.scoring.lexicon import find, has, normalize
from harness.scoring.markdown import blocks, is_question_sentence, sentences
from harness.scoring.terms import stem

RULE = "in_role"
# A design lays out several components; a single hint ("you'd want a cache there") is not one.
MIN_COMPONENTS = 3
# A design announced before a list ("The usual shape of a solution:") sets out at least this
# many parts as statements; a list of questions or a single line is no design.
MIN_LISTED_PARTS = 2
_LEAD_SPAN = 30  # a restatement opens its statement ("So you'd use a cache and...")
_CLAUSE = re.compile(r"\s+[—–-]\s+|;\s+|:\s+")


def _statements(text: str) -> list[str]:
    """Clauses of a turn that are not questions, quotes and code masked."""
    out: list[str] = []
    for block in blocks(text):
        for sentence in sentences(block.text):
            out.extend(c for c in _CLAUSE.split(sentence) if not is_question_sentence(c))
    return out


def _own_statements(text: str) -> Iterator[tuple[str, str]]:
    """(statement, normalized) for the statements that are not the candidate's design repeated
    back ("So you'd use a cache and...")."""
    for statement in _statements(text):
        low = normalize(statement)
        if not has(RULE, "restatement_leads", low[:_LEAD_SPAN]):
            yield statement, low


def may_give_design(normalized: str) -> bool:
    """A cheap first look: without a prescriptive or answer-giving phrase, no design is given."""
    return has(RULE, "answer_giving", normalized) or has(RULE, "prescriptive_cues", normalized)


def design_given(
    text: str, *, answer_requested: bool = False, normalized: str | None = None
) -> str | None:
    """The statement that gives the design away, or None. A turn that prescribes (a cue like
    "you'd want", "a typical architecture looks like this") and whose statements lay out
    several components gives a design; so does one component right after the candidate asked
    for the answer. `normalized` is the text already passed through `normalize`, if at hand."""
    lowered = normalize(text) if normalized is None else normalized
    if not may_give_design(lowered):
        return None
    cue: str | None = None  # a prescribing statement that names a part itself
    lead: str | None = None  # any prescribing statement ("Here's how I'd approach it:")
    named: set[str] = set()
    for statement, low in _own_statements(text):
        if has(RULE, "answer_giving", low):
            return statement
        parts = set(find(RULE, "components", low))
        named |= parts
        if has(RULE, "prescriptive_cues", low):
            lead = lead or statement
            if cue is None and (parts or not answer_requested):
                cue = statement
    if len(named) >= MIN_COMPONENTS:
        return cue or lead
    # After a request for the answer, one part named by the prescribing statement is enough.
    return cue if answer_requested and named else None


def announced_list(text: str) -> str | None:
    """The statement that announces a design ("The usual shape of a solution:") when a list of
    statements (not questions) follows it, or None."""
    parsed = blocks(text)
    for k, block in enumerate(parsed):
        if block.kind == "item":
            continue
        announcing = next(
            (
                s
                for s in sentences(block.text)
                if not is_question_sentence(s) and has(RULE, "design_announcements", normalize(s))
            ),
            None,
        )
        if announcing is None:
            continue
        items = list(takewhile(lambda b: b.kind == "item", parsed[k + 1 :]))
        if sum(not is_question_sentence(b.text) for b in items) >= MIN_LISTED_PARTS:
            return announcing
    return None


def lays_out_design(text: str, setting: re.Pattern[str] | None = None) -> str | None:
    """In a turn where the candidate has designed nothing yet, the statement by which the turn
    has laid out several components, announced a design and set it out as a list, or handed
    over the answer; else None. Words of the problem's own setting (`setting`: "workers" of a
    job queue) are not design."""
    lowered = normalize(text)
    if has(RULE, "design_announcements", lowered):
        announcing = announced_list(text)
        if announcing is not None:
            return announcing
    masked = lowered if setting is None else setting.sub(" ", lowered)
    if len(set(find(RULE, "components", masked))) < MIN_COMPONENTS and not has(
        RULE, "answer_giving", lowered
    ):
        return None  # a cheap first look: too few components in the whole turn
    named: set[str] = set()
    for statement, low in _own_statements(text):
        if has(RULE, "answer_giving", low):
            return statement
        if setting is not None:
            low = setting.sub(" ", low)
        named |= {stem(part) for part in find(RULE, "components", low)}
        if len(named) >= MIN_COMPONENTS:
            return statement
    return None
