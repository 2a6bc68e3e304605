"""Rule 1: offer the problem list and ask; then state the chosen problem and stop."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from harness.config.problems import load_problems
from harness.contracts import RuleResult
from harness.project import snapshotted
from harness.scoring.design import design_given, lays_out_design
from harness.scoring.lexicon import alternation, has, normalize, phrase_regex, words
from harness.scoring.markdown import blocks, sentences
from harness.scoring.rubrics import lexicon
from harness.scoring.rules.verdicts import Hit, judged, not_applicable
from harness.scoring.view import TranscriptView

RULE = "opening"
# Naming three of the five problems is offering the list; one or two is picking for the candidate.
MIN_LISTED = 3
# A pick by a bare number ("3", "Let's do 2, please.") is a short reply.
MAX_BARE_PICK_WORDS = 6
LAST = -1


def problems_named(normalized_text: str) -> set[str]:
    return set(problems_in_order(normalized_text))


Names = tuple[tuple[str, tuple[str, ...]], ...]  # (problem id, its names), listing order


def _names() -> Names:
    return snapshotted(
        "opening.names", lambda: tuple((p.id, tuple(p.names)) for p in load_problems().values())
    )


@lru_cache(maxsize=8)
def _any_problem(names: Names) -> re.Pattern[str]:
    """Every problem's names in one pattern, one group per problem (in listing order)."""
    groups = (f"({alternation(list(words))})" for _, words in names)
    return re.compile(r"(?<!\w)(?:" + "|".join(groups) + r")(?!\w)")


def problems_in_order(normalized_text: str) -> list[str]:
    """The problems a turn names, in the order it first names them: the list as offered."""
    names = _names()
    found: list[str] = []
    for m in _any_problem(names).finditer(normalized_text):
        problem = names[m.lastindex - 1][0] if m.lastindex else None
        if problem is not None and problem not in found:
            found.append(problem)
    return found


@dataclass(frozen=True)
class _PositionPatterns:
    by_number: re.Pattern[str]  # "number 2", "option three", "#4"
    by_ordinal: re.Pattern[str]  # "the second one", "3rd option", "the last"
    bare: re.Pattern[str]  # "2" alone in a short reply
    numbers: dict[str, int]


@lru_cache(maxsize=1)
def _position_patterns() -> _PositionPatterns:
    numbers = {w: i for i, w in enumerate(lexicon(RULE, "number_words"), start=1)}
    numbers |= {w: i for i, w in enumerate(lexicon(RULE, "ordinal_words"), start=1)}
    numbers |= dict.fromkeys(lexicon(RULE, "last_words"), LAST)
    spelled = words(RULE, "number_words")
    ordinal = (
        rf"(?:{words(RULE, 'ordinal_words')}|{words(RULE, 'last_words')}|[1-9](?:st|nd|rd|th))"
    )
    return _PositionPatterns(
        by_number=re.compile(
            rf"(?<!\w)(?:{words(RULE, 'number_leads')})\s*(?P<n>[1-9]|{spelled})(?!\w)"
        ),
        by_ordinal=re.compile(
            rf"(?<!\w)(?:the\s+(?P<a>{ordinal})|(?P<b>{ordinal})\s+(?:{words(RULE, 'pick_nouns')}))"
            r"(?!\w)"
        ),
        bare=re.compile(r"(?<![\w/#])(?<!\d[.,])[1-9](?![\w/%]|[.,]\d)"),
        numbers=numbers,
    )


def position_picked(normalized_pick: str) -> int | None:
    """The place in the offered list that a reply picks by number ("number 2", "the second
    one", "#4", a bare "3"), 1-based, or LAST; None when it picks by no position."""
    pats = _position_patterns()
    found = pats.by_number.search(normalized_pick)
    raw = found["n"] if found else None
    if raw is None:
        found = pats.by_ordinal.search(normalized_pick)
        raw = (found["a"] or found["b"]) if found else None
    if raw is None and len(normalized_pick.split()) <= MAX_BARE_PICK_WORDS:
        digits = pats.bare.findall(normalized_pick)
        raw = digits[0] if len(digits) == 1 else None
    if raw is None:
        return None
    if raw[0].isdigit():
        return int(raw[0])
    return pats.numbers.get(raw)


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


def _asks_choice(view: TranscriptView, first: int) -> bool:
    return any(has(RULE, "choice_cues", normalize(a.text)) for a in view.asks(first))


def _offered(view: TranscriptView) -> list[str]:
    """The problems the first interviewer turn names, in its order."""
    return view.derived(
        "opening.offered", lambda v: problems_in_order(v.normalized(v.interviewer[0]))
    )


def _offers_list(view: TranscriptView, asks_choice: bool) -> bool:
    return len(_offered(view)) >= MIN_LISTED and asks_choice


def _pick(view: TranscriptView, first: int) -> int | None:
    return next(
        (i for i in range(first + 1, len(view.turns)) if view.turns[i].role == "candidate"), None
    )


def statement_turn(view: TranscriptView) -> int | None:
    """The interviewer turn that states the problem, before the candidate has designed
    anything: the one after the pick when the first turn offers the list, else the first."""
    return view.derived("opening.statement_turn", _statement_turn)


def _statement_turn(view: TranscriptView) -> int | None:
    if not view.interviewer:
        return None
    first = view.interviewer[0]
    if not _offers_list(view, _asks_choice(view, first)):
        return first
    pick = _pick(view, first)
    statement = view.next_interviewer(pick) if pick is not None else None
    return None if statement is None or statement == view.feedback else statement


def picked_problem(view: TranscriptView, pick: int) -> str | None:
    """What the candidate picked: the one problem its reply names, else the problem at the
    place it picks by number in the list as offered, else the transcript's problem."""
    said = view.normalized(pick)
    named = problems_named(said)
    if len(named) == 1:
        return named.pop()
    position = position_picked(said)
    offered = _offered(view)
    if position == LAST and offered:
        return offered[-1]
    if position is not None and 1 <= position <= len(offered):
        return offered[position - 1]
    return view.transcript.problem


def statement_design(view: TranscriptView) -> str | None:
    """The statement by which the problem-statement turn lays out a design, while the
    candidate has named no component yet (else the parts may be the candidate's). The
    problems' names, and the setting of the problem it states (a job queue's workers), are not
    design."""
    return view.derived("opening.statement_design", _statement_design)


def _statement_design(view: TranscriptView) -> str | None:
    i = statement_turn(view)
    if i is None:
        return None
    stated = problems_named(view.normalized(i)) | {view.transcript.problem or ""}
    setting = _setting(_names(), _settings(), frozenset(stated))
    said = (view.normalized(c) for c in range(i) if view.turns[c].role == "candidate")
    if any(has("in_role", "components", setting.sub(" ", text)) for text in said):
        return None
    return lays_out_design(view.text(i), setting)


def _settings() -> tuple[tuple[str, tuple[str, ...]], ...]:
    return snapshotted(
        "opening.settings",
        lambda: tuple((p.id, tuple(p.setting)) for p in load_problems().values()),
    )


@lru_cache(maxsize=64)
def _setting(
    names: Names, settings: tuple[tuple[str, tuple[str, ...]], ...], stated: frozenset[str]
) -> re.Pattern[str]:
    """Every problem's names, and the setting of the problems stated: what a problem
    statement may name without designing the system."""
    words = [w for _, ws in names for w in ws]
    return phrase_regex(words + [w for p, ws in settings if p in stated for w in ws])


def check_opening(view: TranscriptView) -> RuleResult:
    if not view.interviewer:
        return not_applicable()
    first = view.interviewer[0]
    asks_choice = _asks_choice(view, first)
    picked_itself = _picks_itself(view.text(first), asks_choice)
    if picked_itself is not None:
        return judged([(first, picked_itself)], 1, "the first turn picks a problem itself")
    if not _offers_list(view, asks_choice):
        return judged([(first, view.text(first))], 1, "the first turn does not offer the list")
    statement = statement_turn(view)
    pick = _pick(view, first)
    if statement is None or pick is None:
        return judged([], 1)
    picked = picked_problem(view, pick)
    stated = problems_named(view.normalized(statement))
    hits: list[Hit] = []
    note = None
    if picked is not None and stated and picked not in stated:
        hits, note = [(statement, view.text(statement))], "states a different problem"
    else:
        design = design_given(view.text(statement)) or statement_design(view)
        if design is not None:
            hits, note = [(statement, design)], "designs the system in the problem statement"
    return judged(hits, 2, note)
