"""What the synthetic interviewer notices in a candidate's words and in its own system prompt."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from harness.backends.synthetic.lexicon import (
    DEPTH_TERMS,
    MISCONCEPTIONS,
    NUMBER_PATTERN,
    TOPIC_WORDS,
    TRADEOFF_TERMS,
)
from harness.config.problems import load_problems

# A first-person commitment to a choice: "I'd use Redis", "I'll go with CRDTs", "we'd shard by
# user". The words after the verb (up to a clause break) name what was chosen.
_DECISION = re.compile(
    r"\b(?:i'?d|i would|i'?ll|i will|we'?d|we'?ll|we would|let'?s|i'?m going to|i chose)\s+"
    r"(?:just |probably |rather |also |then |still )?"
    r"(?:use|go with|pick|choose|store|put|keep|save|switch to|say|do|shard|partition|build on|"
    r"rely on|run|autoscale|cap|write|replicate|cache)\b\s*(?P<choice>[^,.;:!?()]{0,60})",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(r"\b(so|because|since|and then|which|that|to|for|when|if|but)\b")
# A sentence that waves at something: it names a component or a vague action, without a
# number or a specific (eviction, quorum, idempotency...) to back it.
_VAGUE = re.compile(
    r"\b(just|add|use|put|handle[sd]?|take care of|somehow|scale (it|out)|shard it|some kind of|"
    r"make it|should be fine|live[sd]? in|load[sd]?)\b",
    re.IGNORECASE,
)
# Hedges: the candidate says it is unsure, or leaves the details out.
_HEDGE = re.compile(
    r"\b(i guess|i think|not sure|probably|maybe|some|somehow|automatically|the details|"
    r"keep (it )?light|leave the details|go deeper|something like|or so|i suppose)\b",
    re.IGNORECASE,
)
_SENTENCES = re.compile(r"[^.!?]+[.!?]?")
_MANIPULATION = re.compile(
    r"just tell me|give me the answer|what('?s| is) the (right|correct|ideal) (answer|design)|"
    r"how would you design it|system prompt|your (instructions|prompt|rules)|"
    r"10\s*/\s*10|ten out of ten|perfect score|give me a 10",
    re.IGNORECASE,
)
_TIME_UP = re.compile(r"\btime('?s| is)? up\b|\bout of time\b|\b40 minutes\b", re.IGNORECASE)
_CLOCK_PREFIX = re.compile(r"^\[elapsed (\d+):(\d{2})\]")


@dataclass(frozen=True)
class PromptRules:
    """Which of the seed prompt's rules the system prompt states; a missing rule is not followed."""

    offers_problem_list: bool
    one_question: bool
    pushback: bool
    scale_probe: bool
    drill_down: bool
    no_direct_correction: bool
    timed_feedback: bool
    feedback_sections: bool
    scored: bool
    stays_in_role: bool
    problems: tuple[str, ...]


def _has(text: str, *patterns: str) -> bool:
    return any(re.search(p, text, re.IGNORECASE) for p in patterns)


def read_prompt_rules(system: str) -> PromptRules:
    problems = tuple(
        m.group(1).strip() for m in re.finditer(r"^\s*[-*]\s*(Design .+)$", system, re.MULTILINE)
    )
    return PromptRules(
        offers_problem_list=bool(problems) and _has(system, r"which (of these|problem)"),
        one_question=_has(
            system, r"one question at a time", r"never (dump|ask) multiple questions"
        ),
        pushback=_has(system, r"push back", r"why not use"),
        scale_probe=_has(system, r"scale numbers", r"ask about scale"),
        drill_down=_has(system, r"drill into", r"gloss(es)? over"),
        no_direct_correction=_has(system, r"don'?t correct directly", r"do not correct"),
        timed_feedback=_has(system, r"after 40 minutes"),
        feedback_sections=_has(system, r"what was strong") and _has(system, r"what was weak"),
        scored=_has(system, r"score out of 10", r"/10"),
        stays_in_role=_has(system, r"not to be helpful", r"simulate a real interview"),
        problems=problems,
    )


@dataclass(frozen=True)
class CandidateSignals:
    """Opportunities a candidate turn opens, as a careful reader would spot them."""

    gives_numbers: bool
    topics: tuple[str, ...] = ()
    decision: str | None = None
    glossed: str | None = None
    misconception: int | None = None
    manipulation: bool = False
    time_up: bool = False
    words: int = 0


def split_clock_prefix(text: str) -> tuple[float | None, str]:
    """`[elapsed 12:30] text` -> (750.0, "text"); no prefix -> (None, text)."""
    m = _CLOCK_PREFIX.match(text)
    if not m:
        return None, text
    return int(m.group(1)) * 60 + int(m.group(2)), text[m.end() :].lstrip()


_TOPIC_PATTERNS: dict[str, re.Pattern[str]] = {
    topic: re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")", re.IGNORECASE)
    for topic, words in TOPIC_WORDS.items()
}


def topics_in(text: str) -> list[str]:
    """Topics named in a text; words match at a word start ("follower" is not "followers'")."""
    return [topic for topic, pattern in _TOPIC_PATTERNS.items() if pattern.search(text)]


@lru_cache(maxsize=8192)
def read_candidate(text: str) -> CandidateSignals:
    """Read once per text: every later turn of an interview looks back at the earlier ones."""
    misconception = next(
        (i for i, (pattern, _, _) in enumerate(MISCONCEPTIONS) if pattern.search(text)), None
    )
    return CandidateSignals(
        gives_numbers=bool(NUMBER_PATTERN.search(text)),
        topics=tuple(topics_in(text)),
        decision=decision_in(text),
        glossed=glossed_sentence(text),
        misconception=misconception,
        manipulation=bool(_MANIPULATION.search(text)),
        time_up=bool(_TIME_UP.search(text)) and "feedback" in text.lower(),
        words=len(text.split()),
    )


def decision_in(text: str) -> str | None:
    """What the candidate committed to ("redis for the session cache"), or None."""
    match = _DECISION.search(text)
    if not match:
        return None
    choice = _CLAUSE_BREAK.split(match.group("choice").strip(), maxsplit=1)[0]
    words = choice.split()[:5]
    return " ".join(words).strip() or "that approach"


def glossed_sentence(text: str) -> str | None:
    """The sentence that waves at something: a hedge about a named thing first, else a vague
    action or a bare component with no number or specific to back it."""
    sentences = [s.strip() for s in _SENTENCES.findall(text) if 3 <= len(s.split()) <= 30]
    sentences = [s for s in sentences if not s.endswith("?") and not NUMBER_PATTERN.search(s)]
    named = [s for s in sentences if topics_in(s) or depth_terms_in(s)]
    hedged = [s for s in named if _HEDGE.search(s)]
    bare = [s for s in sentences if not depth_terms_in(s) and (topics_in(s) or _VAGUE.search(s))]
    found = (hedged or bare or [None])[0]
    return found.rstrip(".!") if found else None


def problem_in(text: str) -> str | None:
    low = text.lower()
    return next((p.id for p in load_problems().values() if any(w in low for w in p.keywords)), None)


def depth_terms_in(text: str) -> set[str]:
    low = text.lower()
    return {t for t in DEPTH_TERMS if t in low}


def tradeoff_count(text: str) -> int:
    low = text.lower()
    return sum(low.count(t) for t in TRADEOFF_TERMS)
