"""Counting the distinct questions a turn asks, as a careful reader of the contract would.

An ask is a sentence ending in "?" or an imperative request ("Walk me through the math.").
One sentence joining two questions ("How would you shard it, and how would you replicate it?")
is two, but a clause that does not ask ("I'll leave that to you; where do you start?") adds none;
options inside one question ("LRU, LFU, or something else?") are one; a list whose lead-in is
the question and whose items carry no question mark lists options, not questions. A heading
that asks counts only when the body asks nothing; a check-in ("Make sense?") only when nothing
else is asked. The word lists live in `rubrics/one_question.yaml`.
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
    interrogative: re.Pattern[str]
    wh_word: re.Pattern[str]
    opens_yes_no: re.Pattern[str]
    inverted: re.Pattern[str]


@lru_cache(maxsize=1)
def _patterns() -> _Patterns:
    lead = rf"(?:{words(RULE, 'discourse_leads')}[,.!:;]?\s+)*"
    asks = words(RULE, "ask_verbs")
    requests = words(RULE, "request_leads")
    wh, aux, subject = (words(RULE, n) for n in ("wh_words", "auxiliaries", "subjects"))
    openers = words(RULE, "question_openers")
    # A question clause inverts: "what does that mean", "how many shards do you", "what's";
    # "how a request flows" (subject first) is part of the sentence before it.
    modifier = rf"(?:(?!(?:{subject})(?!\w))[\w'-]+\s+){{0,2}}?"
    wh_clause = rf"(?:{wh})(?:'s|'re|\s+{modifier}(?:{aux})(?!\w)|\s+(?:about|happens|if)(?!\w))"
    clause = rf"{wh_clause}|(?:{aux})\s+(?:{subject})(?!\w)|(?:{asks})(?!\w)"
    return _Patterns(
        # A request verb needs something to ask about: "Pick one." asks, "Good pick." does not.
        request=re.compile(
            rf"^{lead}(?:(?:{requests})(?!\w)|(?:please\s+)?(?:{asks})(?!\w)(?=[\s,]+\w))"
        ),
        check_in=re.compile(rf"^{lead}(?:{words(RULE, 'check_ins')})[\s?.!]*$"),
        joint=re.compile(rf"(?:,\s*|;\s*|\s+)(?:and|also|plus)\s+(?={clause})|;\s*(?={clause})"),
        # A clause asks when it opens like a question, or has a wh-word after a colon or dash
        # ("For the cache: what policy") or a preposition ("Shard on what key").
        interrogative=re.compile(
            rf"^{lead}(?:{wh}|{aux}|{openers})(?!\w)"
            rf"|(?:[:\u2013\u2014]|\s-)\s*(?:{wh}|{openers})(?!\w)"
            rf"|(?<!\w)(?:{words(RULE, 'in_situ_prepositions')})\s+(?:{wh})(?!\w)"
        ),
        wh_word=re.compile(rf"(?<![\w'])(?:{wh})(?!\w)"),
        opens_yes_no=re.compile(rf"^{lead}(?:{aux})\s+(?:{subject})(?!\w)"),
        # A question of its own puts the auxiliary before its subject ("where does it go",
        # "what's the limit") or asks about something new ("what about..."); an embedded
        # clause keeps the subject first ("which agents are idle", "who is typing").
        inverted=re.compile(
            rf"^(?:(?:{wh})(?:\s+[\w'-]+){{0,3}}?(?:\s+(?:{aux})|'s|'re)\s+(?:{subject})(?!\w)"
            rf"|(?:{openers})(?!\w)|(?:{aux})(?!\w))"
        ),
    )


def _split_joined(sentence: str, normalized: str) -> list[str]:
    """One sentence that joins separate questions with "and" is split into them. A clause
    before the last that does not ask ("The floor is yours; where...") is not one of them:
    the "?" that ends the sentence is not its own."""
    patterns = _patterns()
    cuts = [m for m in patterns.joint.finditer(normalized) if not _coordinated(normalized, m)]
    if not cuts:
        return [sentence]
    source = sentence if len(sentence) == len(normalized) else normalized
    parts, start = [], 0
    for m in cuts:
        parts.append(source[start : m.start()])
        start = m.end()
    asked = [p.strip() for p in parts if _opens_an_ask(normalize(p.strip()))]
    return [*asked, source[start:].strip()]


def _coordinated(normalized: str, joint: re.Match[str]) -> bool:
    """The clause after "and" is a second object of the question before it, not a question of
    its own: that question already has a wh-clause as its object ("how would you show which
    tickets are open and which agents are idle?") and the clause after "and" is another one,
    not inverted as a question is ("..., and where does it go?")."""
    patterns = _patterns()
    if joint[0].strip(" ,") != "and":
        return False
    before, after = normalized[: joint.start()], normalized[joint.end() :]
    if patterns.inverted.match(after):
        return False
    opens = patterns.opens_yes_no.match(before) or patterns.request.match(before)
    return len(patterns.wh_word.findall(before)) >= (1 if opens else 2)


def _opens_an_ask(normalized: str) -> bool:
    patterns = _patterns()
    return bool(patterns.interrogative.search(normalized) or patterns.request.match(normalized))


def _ask_kind(sentence: str, normalized: str) -> AskKind | None:
    if is_question_sentence(sentence):
        return "question"
    if _patterns().request.match(normalized):
        return "request"
    return None


def _sentence_asks(index: int, block: Block) -> list[list[Ask]]:
    """Each sentence's asks (a joined sentence gives several). A table row asks nothing: its
    cells are data laid out for the reader ("Consistency?" as a column head), not questions."""
    out: list[list[Ask]] = []
    if block.kind == "row":
        return out
    for sentence in sentences(block.text):
        normalized = normalize(sentence)
        kind = _ask_kind(sentence, normalized)
        check_in = kind is not None and bool(_patterns().check_in.match(normalized))
        parts = _split_joined(sentence, normalized) if kind is not None else []
        out.append([Ask(p, kind, index, block.kind == "heading", check_in) for p in parts if kind])
    return out


def asks(text: str) -> list[Ask]:
    """The distinct asks of a turn, in order."""
    parsed = blocks(text)
    per_block = [_sentence_asks(i, b) for i, b in enumerate(parsed)]
    for first, last in _list_spans(parsed):
        lead = per_block[first - 1] if first > 0 and parsed[first - 1].kind != "item" else None
        items = per_block[first : last + 1]
        if (
            not lead
            or not lead[-1]
            or any(a.kind == "question" for b in items for s in b for a in s)
        ):
            continue
        # The list enumerates the options of the ask before it: its items ask nothing, and a
        # question right after the list repeats that ask ("Pick one: ... Which one?").
        for block in items:
            block[:] = [[] for _ in block]
        after = per_block[last + 1] if last + 1 < len(parsed) else []
        if after and after[0]:
            lead[-1] = []
    found = [a for block in per_block for sentence in block for a in sentence]
    if any(not a.in_heading for a in found):
        found = [a for a in found if not a.in_heading]
    if any(not a.check_in for a in found):
        found = [a for a in found if not a.check_in]
    return found


def _list_spans(parsed: list[Block]) -> list[tuple[int, int]]:
    """(first, last) block indices of each list."""
    spans: dict[int, tuple[int, int]] = {}
    for i, block in enumerate(parsed):
        if block.kind == "item":
            first, _ = spans.get(block.list_group, (i, i))
            spans[block.list_group] = (first, i)
    return sorted(spans.values())


def count_questions(text: str) -> int:
    return len(asks(text))
