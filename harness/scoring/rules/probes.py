"""Rules 3 to 6, checked where the candidate opened a chance for them (its annotations):
pushback after a `decision`, a scale question after `no_scale`, a drill-down after a `gloss`,
and a probe, not a correction, after an `incorrect_claim`."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from harness.contracts import RuleResult
from harness.scoring.lexicon import has, matcher, normalize, words
from harness.scoring.markdown import blocks, is_question_sentence, sentences
from harness.scoring.rules.verdicts import Hit, judged, not_applicable
from harness.scoring.terms import content_words
from harness.scoring.topics import Topic, topic
from harness.scoring.view import TranscriptView

_CLAUSE = re.compile(r"\s+[—–-]\s+|;\s+|:\s+|,\s+(?=but\b)")
# A statement that shares this many words of the true fact (the annotation's note) that the
# claim itself did not use states the fact.
NOTE_OVERLAP = 2
# A negated statement shares this many content words with the claim: it contradicts it.
CLAIM_OVERLAP = 2
_LEAD_SPAN = 25  # a restatement opens the statement ("So you said...")


def _chances(view: TranscriptView, kind: str) -> list[tuple[int, int]]:
    """(candidate turn, next interviewer turn) for each turn annotated `kind` whose next
    interviewer turn is an interview turn (the feedback is no place to follow up)."""
    out = []
    for c in view.annotated(kind):
        i = view.next_interviewer(c)
        if i is not None and view.is_interview_turn(i):
            out.append((c, i))
    return out


def _topics(view: TranscriptView, c: int, kind: str) -> list[Topic]:
    return [topic(name, view.text(c)) for name in view.topics(c, kind)]


def _missed(
    view: TranscriptView,
    chances: list[tuple[int, int]],
    kind: str,
    followed_up: Callable[[TranscriptView, int, list[Topic]], bool],
) -> list[Hit]:
    """The interviewer turns that did not follow up on the annotated topics."""
    return [
        (i, view.text(i)) for c, i in chances if not followed_up(view, i, _topics(view, c, kind))
    ]


# --- pushback -----------------------------------------------------------------------------


def challenges(view: TranscriptView, i: int, decided: list[Topic]) -> bool:
    """An ask in turn i asks why this choice or what it costs. Comparison and stress questions
    count when they name the decision's topic or point back at it."""
    for ask in view.asks(i):
        text = normalize(ask.text)
        if has("pushback", "challenge_cues", text):
            return True
        if not (has("pushback", "comparison_cues", text) or has("pushback", "stress_cues", text)):
            continue
        if has("pushback", "back_references", text) or any(
            t.named_in(text) or t.aspect_in(text) for t in decided
        ):
            return True
    return False


def check_pushback(view: TranscriptView) -> RuleResult:
    chances = _chances(view, "decision")
    if not chances:
        return not_applicable()
    missed = _missed(view, chances, "decision", challenges)
    challenged = len(chances) - len(missed)
    return judged(
        missed,
        len(chances),
        f"{challenged} of {len(chances)} decisions challenged",
        failed=2 * challenged < len(chances),
    )


# --- scale_probe --------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _scale_numbers() -> re.Pattern[str]:
    mag = words("scale_probe", "magnitudes")
    units = words("scale_probe", "scale_units")
    spelled = words("scale_probe", "spelled_counts")
    count = rf"(?:\d[\d,.]*\s*(?:{mag})?|(?:{spelled})\s+(?:{mag})?)"
    return re.compile(
        rf"(?<![\w.]){count}\s*(?:{units})(?!\w)|(?<!\w)(?:{mag})s?\s+of\s+(?:{units})(?!\w)"
    )


def gives_numbers(text: str) -> bool:
    """The candidate put numbers on the load: "100M users", "40 writes/s", "2 TB a year"."""
    return _scale_numbers().search(normalize(text)) is not None


@lru_cache(maxsize=1)
def _amount_question() -> re.Pattern[str]:
    amount = words("scale_probe", "amount_questions")
    units = words("scale_probe", "scale_units")
    return re.compile(rf"(?<!\w)(?:{amount})\s+(?:[\w'-]+\s+){{0,3}}?(?:{units})(?!\w)")


def asks_scale(view: TranscriptView, i: int) -> bool:
    """An ask in turn i wants scale numbers: users, traffic, QPS, storage, growth."""
    for ask in view.asks(i):
        text = normalize(ask.text)
        if has("scale_probe", "scale_terms", text) or _amount_question().search(text):
            return True
    return False


def check_scale_probe(view: TranscriptView) -> RuleResult:
    chances = 0
    hits: list[Hit] = []
    for c in view.annotated("no_scale"):
        first = view.next_interviewer(c)
        second = view.next_interviewer(first) if first is not None else None
        window = [i for i in (first, second) if i is not None and view.is_interview_turn(i)]
        if not window:
            continue
        chances += 1
        if asks_scale(view, window[0]):
            continue
        if len(window) > 1:
            between = range(window[0] + 1, window[1])
            if any(
                view.turns[j].role == "candidate" and gives_numbers(view.text(j)) for j in between
            ):
                continue
            if asks_scale(view, window[1]):
                continue
        hits.append((window[0], view.text(window[0])))
    if not chances:
        return not_applicable()
    return judged(hits, chances, "no question about scale numbers after the candidate gave none")


# --- drill_down ---------------------------------------------------------------------------


def drills(view: TranscriptView, i: int, glossed: list[Topic]) -> bool:
    """An ask in turn i goes into a specific of a glossed topic: one of its aspects, or the
    topic itself in a question that is not generic."""
    whole = view.normalized(i)
    for ask in view.asks(i):
        text = normalize(ask.text)
        generic = has("drill_down", "generic_asks", text)
        for t in glossed:
            if t.aspect_in(text):
                return True
            if generic:
                continue
            if t.named_in(text) or (
                t.named_in(whole) and has("drill_down", "back_references", text)
            ):
                return True
    return False


def check_drill_down(view: TranscriptView) -> RuleResult:
    chances = _chances(view, "gloss")
    if not chances:
        return not_applicable()
    hits = _missed(view, chances, "gloss", drills)
    return judged(hits, len(chances), "moves on without a specific question on what was glossed")


# --- no_direct_correction -----------------------------------------------------------------


def _statements(text: str) -> list[str]:
    out: list[str] = []
    for block in blocks(text):
        for sentence in sentences(block.text):
            out.extend(c for c in _CLAUSE.split(sentence) if c.strip())
    return out


def correction(view: TranscriptView, c: int, i: int) -> str | None:
    """The statement of turn i that says the claim of turn c is wrong or states the fact."""
    rule = "no_direct_correction"
    claim = content_words(view.text(c))
    facts = [content_words(n) - claim for n in view.notes(c, "incorrect_claim")]
    for statement in _statements(view.text(i)):
        text = normalize(statement)
        if is_question_sentence(statement) or has(rule, "probe_leads", text[:_LEAD_SPAN]):
            continue
        if has(rule, "correction_phrases", text) or matcher(rule, "bare_verdicts").fullmatch(
            text.strip(" .!,*_")
        ):
            return statement
        said = content_words(statement)
        if any(len(said & fact) >= NOTE_OVERLAP for fact in facts):
            return statement
        if has(rule, "negation_markers", text) and len(said & claim) >= CLAIM_OVERLAP:
            return statement
    return None


def check_no_direct_correction(view: TranscriptView) -> RuleResult:
    chances = _chances(view, "incorrect_claim")
    if not chances:
        return not_applicable()
    hits: list[Hit] = []
    for c, i in chances:
        found = correction(view, c, i)
        if found is not None:
            hits.append((i, found))
    return judged(hits, len(chances), "corrects the claim instead of probing")
