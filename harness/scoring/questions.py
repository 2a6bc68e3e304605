"""Counting the distinct questions a turn asks, as a careful reader of the contract would.

An ask is a sentence ending in "?" or an imperative request ("Walk me through the math.").
One sentence joining two questions ("How would you shard it, and how would you replicate it?")
is two; options inside one question ("LRU, LFU, or something else?") are one; a list whose
lead-in is the question and whose items carry no question mark lists options, not questions.
A heading that asks counts only when the body asks nothing; a check-in ("Make sense?") only
when nothing else is asked. The word lists live in `rubrics/one_question.yaml`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from harness.scoring.lexicon import normalize, words
from harness.scoring.markdown import Block, blocks, is_question_sentence, sentences

RULE = "one_question"
AskKind = Literal["question", "request"]


@dataclass(frozen=True, slots=True)
class Ask:
    text: str
    kind: AskKind
    block: int
    in_heading: bool
    check_in: bool


@dataclass(frozen=True)
class _Patterns:
    request: re.Pattern[str]
    check_in: re.Pattern[str]
    joint: re.Pattern[str]


@lru_cache(maxsize=1)
def _patterns() -> _Patterns:
    lead = rf"(?:{words(RULE, 'discourse_leads')}[,.!:;]?\s+)*"
    asks = words(RULE, "ask_verbs")
    requests = words(RULE, "request_leads")
    wh, aux, subject = (words(RULE, n) for n in ("wh_words", "auxiliaries", "subjects"))
    # A question clause inverts: "what does that mean", "how many shards do you", "what's";
    # "how a request flows" (subject first) is part of the sentence before it.
    modifier = rf"(?:(?!(?:{subject})(?!\w))[\w'-]+\s+){{0,2}}?"
    wh_clause = rf"(?:{wh})(?:'s|'re|\s+{modifier}(?:{aux})(?!\w)|\s+(?:about|happens|if)(?!\w))"
    clause = rf"{wh_clause}|(?:{aux})\s+(?:{subject})(?!\w)|(?:{asks})(?!\w)"
    return _Patterns(
        request=re.compile(rf"^{lead}(?:(?:{requests})(?!\w)|(?:please\s+)?(?:{asks})(?!\w))"),
        check_in=re.compile(rf"^{lead}(?:{words(RULE, 'check_ins')})[\s?.!]*$"),
        joint=re.compile(rf"(?:,\s*|;\s*|\s+)(?:and|also|plus)\s+(?={clause})|;\s*(?={clause})"),
    )


def _split_joined(sentence: str, normalized: str) -> list[str]:
    """One sentence that joins separate questions with "and" is split into them."""
    cuts = [m for m in _patterns().joint.finditer(normalized)]
    if not cuts:
        return [sentence]
    source = sentence if len(sentence) == len(normalized) else normalized
    parts, start = [], 0
    for m in cuts:
        parts.append(source[start : m.start()])
        start = m.end()
    parts.append(source[start:])
    return [p.strip() for p in parts if p.strip()]


def _ask_kind(sentence: str, normalized: str) -> AskKind | None:
    if is_question_sentence(sentence):
        return "question"
    if _patterns().request.match(normalized):
        return "request"
    return None


def asks(text: str) -> list[Ask]:
    """The distinct asks of a turn, in order."""
    found: list[Ask] = []
    parsed = blocks(text)
    option_groups = _option_groups(parsed)
    for index, block in enumerate(parsed):
        if block.list_group in option_groups:
            continue
        for sentence in sentences(block.text):
            normalized = normalize(sentence)
            kind = _ask_kind(sentence, normalized)
            if kind is None:
                continue
            check_in = bool(_patterns().check_in.match(normalized))
            for part in _split_joined(sentence, normalized):
                found.append(Ask(part, kind, index, block.kind == "heading", check_in))
    if any(not a.in_heading for a in found):
        found = [a for a in found if not a.in_heading]
    if any(not a.check_in for a in found):
        found = [a for a in found if not a.check_in]
    return found


def _option_groups(parsed: list[Block]) -> set[int]:
    """List groups that enumerate the options of the question just before them."""
    groups: dict[int, list[str]] = {}
    lead_of: dict[int, str] = {}
    previous: Block | None = None
    for block in parsed:
        if block.kind == "item":
            if block.list_group not in groups and previous is not None and previous.kind != "item":
                lead_of[block.list_group] = (sentences(previous.text) or [""])[-1]
            groups.setdefault(block.list_group, []).append(block.text)
        previous = block
    return {
        group
        for group, items in groups.items()
        if is_question_sentence(lead_of.get(group, ""))
        and not any(is_question_sentence(s) for item in items for s in sentences(item))
    }


def count_questions(text: str) -> int:
    return len(asks(text))
