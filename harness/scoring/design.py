"""Recognising an interviewer that designs the system for the candidate.

A statement (not a question) that prescribes components ("put a load balancer in front of
stateless API servers, store the data in a sharded key-value store") is design-giving when it
names several components, or any component right after the candidate asked for the answer;
phrases that hand over the answer outright ("the right answer is...") count on their own. The
lists are in `rubrics/in_role.yaml`.
"""

from __future__ import annotations

import re

from harness.scoring.lexicon import find, has, normalize
from harness.scoring.markdown import blocks, is_question_sentence, sentences

RULE = "in_role"
# A design lays out several components; a single hint ("you'd want a cache there") is not one.
MIN_COMPONENTS = 3
_CLAUSE = re.compile(r"\s+[—–-]\s+|;\s+|:\s+")


def _statements(text: str) -> list[str]:
    """Clauses of a turn that are not questions, quotes and code masked."""
    out: list[str] = []
    for block in blocks(text):
        for sentence in sentences(block.text):
            out.extend(c for c in _CLAUSE.split(sentence) if not is_question_sentence(c))
    return out


def design_given(text: str, *, answer_requested: bool = False) -> str | None:
    """The statement that gives the design away, or None."""
    prescribed: list[tuple[str, set[str]]] = []
    for statement in _statements(text):
        lowered = normalize(statement)
        if has(RULE, "answer_giving", lowered):
            return statement
        if has(RULE, "prescriptive_cues", lowered):
            parts = set(find(RULE, "components", lowered))
            if parts:
                prescribed.append((statement, parts))
    if not prescribed:
        return None
    named = set().union(*(parts for _, parts in prescribed))
    if len(named) >= MIN_COMPONENTS or answer_requested:
        return prescribed[0][0]
    return None
