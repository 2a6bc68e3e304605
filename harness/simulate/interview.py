"""One interview: the candidate and the interviewer take turns on a simulated clock until feedback.

It ends on feedback after time is up, on the turn limit, or on the token or cost cap, and
records why in `meta.end_reason`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.backends.base import Backend, ChatMessage, ModelRequest, ModelResponse, Usage
from harness.backends.pricing import call_record
from harness.config.personas import Persona
from harness.config.problems import problem as problem_spec
from harness.config.prompts import PromptVersion
from harness.config.suites import Limits, RoleSettings
from harness.contracts import Annotation, Transcript, Turn
from harness.scoring.feedback import looks_like_feedback
from harness.simulate.candidates import CandidatePlayer
from harness.simulate.clock import TIME_UP_S, clock_prefix, interviewer_seconds
from harness.simulate.metering import CostCapReached

DEFAULT_OPENING = "I'd like to do a system design interview."
_START_LINE = re.compile(r'^Start:\s*"(.+?)"\s*$', re.MULTILINE)
_SENTENCE = re.compile(r"[^.?!]+[.?!]")
TIME_UP_TEXT = (
    "We're at the 40-minute mark, so I think time is up. Could you give me your feedback "
    "and a score?"
)
NUDGE_TEXT = "Before we finish, could you give me your feedback and a score out of 10?"
MAX_NUDGES = 2
EndReason = Literal["feedback", "no_feedback", "turn_limit", "token_cap", "cost_cap", "empty_reply"]


@dataclass(frozen=True)
class InterviewPlan:
    """Everything that defines one interview of a run."""

    interview_id: str
    prompt: PromptVersion
    persona: Persona
    sample_index: int
    seed: int
    clock: Literal["off", "prefix"]
    limits: Limits
    interviewer: RoleSettings
    synthetic: bool


def interviewer_messages(turns: list[Turn], clock: str) -> list[ChatMessage]:
    """What the interviewer model sees: candidate turns as user, its own as assistant."""
    out = []
    for t in turns:
        if t.role == "candidate":
            text = f"{clock_prefix(t.elapsed_s)} {t.text}" if clock == "prefix" else t.text
            out.append(ChatMessage(role="user", content=text))
        else:
            out.append(ChatMessage(role="assistant", content=t.text))
    return out


def opening_text(prompt_text: str) -> str:
    """What the candidate says first, as the prompt's Start line implies.

    The seed prompt's Start line is the candidate's request followed by the interviewer's
    question; the candidate says the statements and leaves the questions to the interviewer.
    """
    match = _START_LINE.search(prompt_text)
    if not match:
        return DEFAULT_OPENING
    statements = [s.strip() for s in _SENTENCE.findall(match.group(1)) if not s.endswith("?")]
    return " ".join(statements) or DEFAULT_OPENING


def pick_text(problem: str) -> str:
    return f"Let's do the {problem_spec(problem).label}."


@dataclass
class _Interview:
    plan: InterviewPlan
    interviewer: Backend
    turns: list[Turn] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    clock_s: float = 0.0
    silent: bool = False  # the interviewer returned no text (a refusal, say): nothing to answer

    def record(self, response: ModelResponse, role: str) -> None:
        call = {"turn": len(self.turns), "role": role, **call_record(response)}
        self.usage = self.usage + response.usage
        self.cost_usd += call["cost_usd"]
        self.calls.append(call)

    def say(self, text: str, annotations: list[Annotation], duration_s: float) -> None:
        self.turns.append(
            Turn(role="candidate", text=text, elapsed_s=self.clock_s, annotations=annotations)
        )
        self.clock_s = round(self.clock_s + duration_s, 1)

    async def reply(self) -> str:
        plan = self.plan
        request = ModelRequest(
            role="interviewer",
            model=plan.interviewer.model,
            system=plan.prompt.text,
            messages=interviewer_messages(self.turns, plan.clock),
            max_tokens=plan.interviewer.max_tokens,
            persona_id=plan.persona.id,
            sample_index=plan.sample_index,
            seed=plan.seed,
        )
        response = await self.interviewer.complete(request)
        self.record(response, "interviewer")
        self.silent = not response.text.strip()
        self.turns.append(Turn(role="interviewer", text=response.text, elapsed_s=self.clock_s))
        self.clock_s = round(self.clock_s + interviewer_seconds(response.text), 1)
        return response.text

    def cap_reached(self) -> EndReason | None:
        if self.silent:
            return "empty_reply"
        limits = self.plan.limits
        if len(self.turns) + 2 > limits.max_turns:
            return "turn_limit"
        if self.usage.total_input + self.usage.output_tokens >= limits.max_tokens:
            return "token_cap"
        if self.cost_usd >= limits.max_cost_usd:
            return "cost_cap"
        return None

    async def finish(self) -> EndReason:
        self.clock_s = max(self.clock_s, float(TIME_UP_S))
        self.say(TIME_UP_TEXT, [Annotation(kind="time_up")], 8.0)
        last = await self.reply()
        for _ in range(MAX_NUDGES):
            if looks_like_feedback(last) or self.cap_reached():
                break
            self.say(NUDGE_TEXT, [], 5.0)
            last = await self.reply()
        if looks_like_feedback(last):
            return "feedback"
        return self.cap_reached() or "no_feedback"


async def _play(run: _Interview, candidate: CandidatePlayer) -> EndReason:
    plan = run.plan
    run.say(opening_text(plan.prompt.text), [], 5.0)
    await run.reply()
    run.say(pick_text(plan.persona.problem), [], 8.0)
    await run.reply()
    while True:
        end_reason = run.cap_reached()
        if end_reason:
            return end_reason
        move = (
            await candidate.next_move(run.turns, run.clock_s) if run.clock_s < TIME_UP_S else None
        )
        if move is None:
            return await run.finish()
        if move.response is not None:
            run.record(move.response, "candidate")
        run.say(move.text, move.annotations, move.duration_s)
        await run.reply()


async def run_interview(
    plan: InterviewPlan, interviewer: Backend, candidate: CandidatePlayer
) -> Transcript:
    """Play one interview to its end and return it as a `sdi.transcript/1` record."""
    run = _Interview(plan, interviewer)
    end_reason: EndReason
    try:
        end_reason = await _play(run, candidate)
    except CostCapReached:  # checked before a call: the call that would pass the cap is not made
        end_reason = "cost_cap"
    return Transcript(
        interview_id=plan.interview_id,
        prompt_version=plan.prompt.id,
        persona=plan.persona.id,
        problem=plan.persona.problem,
        turns=run.turns,
        meta={
            "synthetic": plan.synthetic,
            "sample_index": plan.sample_index,
            "seed": plan.seed,
            "prompt_sha256": plan.prompt.sha256,
            "end_reason": end_reason,
            "elapsed_s": run.clock_s,
            "usage": run.usage.model_dump(),
            "cost_usd": round(run.cost_usd, 6),
            "calls": run.calls,
        },
    )
