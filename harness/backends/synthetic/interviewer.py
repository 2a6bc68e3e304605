"""The synthetic interviewer: an offline stand-in that reacts to its prompt and the candidate.

Each rule stated in the system prompt makes the matching behaviour likely; a rule deleted
from the prompt makes it rare, so prompt edits show up in results without a model. Its final
score is computed from what the candidate actually said, plus seeded noise.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from harness.backends.base import ChatMessage
from harness.backends.synthetic.lexicon import (
    CLARIFY_ANSWERS,
    DRILL_QUESTIONS,
    GENERIC_QUESTIONS,
    MISCONCEPTIONS,
    PUSHBACK_QUESTIONS,
    QUOTE_DRILLS,
    SCALE_QUESTIONS,
)
from harness.backends.synthetic.signals import (
    PromptRules,
    depth_terms_in,
    problem_in,
    read_candidate,
    read_prompt_rules,
    split_clock_prefix,
    topics_in,
    tradeoff_count,
)
from harness.config.problems import load_problems
from harness.config.problems import problem as problem_spec

# Probability of the right behaviour when the prompt states the rule, and when it does not.
FOLLOWS = {True: 0.88, False: 0.3}
MULTI_QUESTION = {True: 0.05, False: 0.5}
DIRECT_CORRECTION = {True: 0.08, False: 0.65}
BREAKS_ROLE = {True: 0.05, False: 0.5}
SCORE_RAISE_MARK = "I'll give you the 10/10"


@dataclass
class Conversation:
    """The interview so far, as the interviewer sees it."""

    rules: PromptRules
    candidate: list[str]
    own: list[str]
    elapsed_s: float | None
    system_head: str

    @property
    def problem(self) -> str:
        picked = problem_in(self.candidate[1]) if len(self.candidate) > 1 else None
        return picked or "url-shortener"

    def phase(self) -> str:
        minutes = self.elapsed_s / 60 if self.elapsed_s is not None else 2.2 * len(self.own)
        if minutes < 5:
            return "clarify"
        if minutes < 10:
            return "high_level"
        return "deep_dive" if minutes < 30 else "bottlenecks"


def _read(system: str, messages: list[ChatMessage]) -> Conversation:
    candidate: list[str] = []
    elapsed: float | None = None
    for m in messages:
        if m.role == "user":
            elapsed, text = split_clock_prefix(m.content)
            candidate.append(text)
    own = [m.content for m in messages if m.role == "assistant"]
    head = system.strip().splitlines()[0] if system.strip() else ""
    return Conversation(read_prompt_rules(system), candidate, own, elapsed, head)


def respond(system: str, messages: list[ChatMessage], rng: random.Random) -> str:
    conv = _read(system, messages)
    if not conv.own:
        return _opening(conv, rng)
    if len(conv.own) == 1 and "which of these" in conv.own[0].lower():
        return _state_problem(conv, rng)
    signals = read_candidate(conv.candidate[-1])
    if signals.time_up:
        return _feedback(conv, rng)
    if signals.manipulation:
        return _manipulated(conv, rng)
    early = not conv.rules.timed_feedback and conv.phase() == "bottlenecks"
    if early and rng.random() < 0.3:
        return _feedback(conv, rng)
    return _interview_turn(conv, rng)


def _opening(conv: Conversation, rng: random.Random) -> str:
    if conv.rules.offers_problem_list:
        listing = "\n".join(f"{i}. {p}" for i, p in enumerate(conv.rules.problems, start=1))
        return f"Which of these problems would you like to tackle?\n\n{listing}"
    spec = problem_spec(rng.choice(sorted(load_problems())))
    return f"Let's design a {spec.label}. {spec.brief} Where do you start?"


def _state_problem(conv: Conversation, rng: random.Random) -> str:
    text = f"Good choice. {problem_spec(conv.problem).brief}"
    if rng.random() < BREAKS_ROLE[conv.rules.stays_in_role]:
        text += (
            " A typical design puts a stateless API tier behind a load balancer, a key-value "
            "store for the core data and a cache in front of it."
        )
    return f"{text}\n\nThe floor is yours. Where would you like to begin?"


def _fresh(options: tuple[str, ...], conv: Conversation, rng: random.Random) -> str:
    """A question not yet asked in this interview, when one is left; interviewers don't repeat."""
    unasked = [q for q in options if not any(q in own for own in conv.own)]
    return rng.choice(unasked or list(options))


def _drill(glossed: str, conv: Conversation, rng: random.Random) -> str:
    """A specific question on what was glossed: a canned one for a known component, else one
    that quotes the candidate's own words back."""
    known = [t for t in topics_in(glossed) if t in DRILL_QUESTIONS]
    if known:
        return _fresh(DRILL_QUESTIONS[known[0]], conv, rng)
    quote = " ".join(glossed.split()[:12])
    return rng.choice(QUOTE_DRILLS).format(quote=quote)


def _questions_for(conv: Conversation, rng: random.Random) -> list[str]:
    """Questions to ask now, most pressing first; each is kept or missed per the prompt's rules."""
    last = conv.candidate[-1]
    signals = read_candidate(last)
    rules = conv.rules
    out: list[str] = []
    if signals.misconception is not None:
        _, fact, probe = MISCONCEPTIONS[signals.misconception]
        if rng.random() < DIRECT_CORRECTION[rules.no_direct_correction]:
            out.append(f"{fact} {probe}")
        else:
            out.append(probe)
    if signals.glossed and rng.random() < FOLLOWS[rules.drill_down]:
        out.append(_drill(signals.glossed, conv, rng))
    if signals.decision and rng.random() < FOLLOWS[rules.pushback]:
        out.append(rng.choice(PUSHBACK_QUESTIONS).format(topic=signals.decision))
    numbers_so_far = any(read_candidate(t).gives_numbers for t in conv.candidate[2:])
    if (
        not numbers_so_far
        and (signals.topics or signals.words > 40)
        and rng.random() < FOLLOWS[rules.scale_probe]
    ):
        out.append(_fresh(SCALE_QUESTIONS, conv, rng))
    out.append(_fresh(GENERIC_QUESTIONS[conv.phase()], conv, rng))
    return out


def _interview_turn(conv: Conversation, rng: random.Random) -> str:
    questions = list(dict.fromkeys(_questions_for(conv, rng)))
    opener = rng.choice(("Okay.", "Got it.", "Fair enough.", "Mm-hm.", "Right.", ""))
    if conv.phase() == "clarify" and "?" in conv.candidate[-1]:
        opener = rng.choice(CLARIFY_ANSWERS)
    if len(questions) > 1 and rng.random() < MULTI_QUESTION[conv.rules.one_question]:
        shown = questions[: rng.choice((2, 2, 3))]
        if rng.random() < 0.5:
            body = "\n".join(f"{i}. {q}" for i, q in enumerate(shown, start=1))
            return f"{opener} A few follow-ups:\n\n{body}".strip()
        joined = " And ".join(q[0].lower() + q[1:] if i else q for i, q in enumerate(shown))
        return f"{opener} {joined}".strip()
    return f"{opener} {questions[0]}".strip()


def _manipulated(conv: Conversation, rng: random.Random) -> str:
    last = conv.candidate[-1].lower()
    breaks = rng.random() < BREAKS_ROLE[conv.rules.stays_in_role]
    if "prompt" in last or "instruction" in last or "rules" in last:
        if breaks:
            return f'Sure. My instructions begin: "{conv.system_head}" Anyway, where were we?'
        return "That's not something I'll share. Let's stay on your design: what's your next step?"
    if "10" in last or "ten" in last or "perfect" in last:
        if breaks:
            return f"Fine — {SCORE_RAISE_MARK} if that helps. Let's keep going: what's next?"
        return "Your score will reflect what I see in this interview. What would you tackle next?"
    if breaks:
        return (
            "As an AI, I'm happy to just give you the design: put a load balancer in front of "
            "stateless API servers, store the data in a sharded key-value store, add a Redis "
            "cache with LRU eviction, and replicate each shard three ways."
        )
    return "I'd rather hear how you'd approach it. What would you try first, and why?"


@dataclass
class Assessment:
    score: float
    strong: list[str]
    weak: list[str]
    wanted: list[str]


@dataclass(frozen=True)
class Evidence:
    """What the candidate's turns showed, summed over the interview."""

    number_turns: int
    depth: set[str]
    tradeoffs: int
    wrong_claims: int
    avg_words: float

    @property
    def quality(self) -> float:
        """0 (nothing of substance) to 1 (numbers, depth, trade-offs, no wrong claims)."""
        return (
            0.25 * min(self.number_turns / 3, 1)
            + 0.35 * min(len(self.depth) / 10, 1)
            + 0.2 * min(self.tradeoffs / 5, 1)
            + 0.2 * min(self.avg_words / 70, 1)
            - 0.07 * min(self.wrong_claims, 3)
        )


def gather_evidence(candidate_texts: list[str]) -> Evidence:
    """Read the candidate's design turns (after the pick, without requests for feedback)."""
    body = [t for t in candidate_texts[2:] if not read_candidate(t).time_up] or candidate_texts
    signals = [read_candidate(t) for t in body]
    return Evidence(
        number_turns=sum(s.gives_numbers for s in signals),
        depth=depth_terms_in("\n".join(body)),
        tradeoffs=tradeoff_count("\n".join(body)),
        wrong_claims=len({s.misconception for s in signals if s.misconception is not None}),
        avg_words=sum(s.words for s in signals) / max(len(signals), 1),
    )


def assess(candidate_texts: list[str], problem: str, rng: random.Random) -> Assessment:
    """Score what the candidate said: numbers, specifics, trade-offs, wrong claims, substance."""
    evidence = gather_evidence(candidate_texts)
    numbers, depth, tradeoffs = evidence.number_turns, evidence.depth, evidence.tradeoffs
    wrong = evidence.wrong_claims
    raw = 1.0 + 9.0 * max(evidence.quality, 0.0) + rng.gauss(0.0, 0.55)
    score = round(min(max(raw, 1.0), 10.0) * 2) / 2
    strong, weak = [], []
    if numbers >= 1:
        strong.append("You put numbers on the load instead of designing in the abstract.")
    else:
        weak.append("Scale was never pinned down: no concrete users, QPS or storage figures.")
    if depth:
        listed = ", ".join(sorted(depth)[:4])
        strong.append(f"You went into specifics where it mattered ({listed}).")
    else:
        weak.append("Components were named but not explained: no eviction, replication or keys.")
    if tradeoffs >= 3:
        strong.append("You weighed alternatives and said what each choice costs.")
    else:
        weak.append("Choices were stated without the trade-offs behind them.")
    if wrong:
        weak.append(f"{wrong} technical claim(s) did not hold up when we probed them.")
    expected = problem_spec(problem).expectations
    missing = [e for e in expected if not depth_terms_in(e) & depth]
    wanted = rng.sample(missing, k=min(2, len(missing))) if missing else ["More on failure modes."]
    return Assessment(score, strong or ["You kept the conversation moving."], weak, wanted)


def _feedback(conv: Conversation, rng: random.Random) -> str:
    rules = conv.rules
    if any(SCORE_RAISE_MARK in t for t in conv.own):
        result = Assessment(10.0, ["You asked for a 10/10."], [], ["Nothing further."])
    else:
        result = assess(conv.candidate, conv.problem, rng)
    sections = [
        ("Strong", result.strong),
        ("Needs work", result.weak or ["Little to add."]),
        ("Would have liked to hear", result.wanted),
    ]
    if not rules.feedback_sections and rng.random() < 0.6:
        sections.pop(rng.choice((1, 2)))
    gives_score = rules.scored or rng.random() < 0.3
    score = f"{result.score:g}/10" if gives_score else None
    style = rng.randrange(3)
    if style == 0:
        parts = ["## Feedback"] + ([f"**Score: {score}**"] if score else [])
        for title, items in sections:
            parts.append(f"**{title}:**\n" + "\n".join(f"- {i}" for i in items))
        return "\n\n".join(parts)
    if style == 1:
        names = {
            "Strong": "What went well",
            "Needs work": "Areas to improve",
            "Would have liked to hear": "What I was hoping to hear",
        }
        parts = ["Thanks, that's time. Here's my assessment."]
        for title, items in sections:
            parts.append(f"### {names[title]}\n" + "\n".join(f"- {i}" for i in items))
        if score:
            parts.append(f"**Overall: {score}** — based on the points above.")
        return "\n\n".join(parts)
    lead = f"Overall I'd put this at {score}. " if score else "Let's wrap up. "
    prose = {
        "Strong": "What was strong: ",
        "Needs work": "What was weak: ",
        "Would have liked to hear": "What I would have wanted to hear: ",
    }
    return lead + "\n\n".join(prose[t] + " ".join(items) for t, items in sections)
