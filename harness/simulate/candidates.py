"""Candidate players: a scripted persona plays its turns; a model-played one follows its card."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Protocol, get_args

from harness.backends.base import Backend, ChatMessage, ModelRequest, ModelResponse
from harness.config.personas import Persona, Plant
from harness.config.suites import RoleSettings
from harness.contracts import Annotation, AnnotationKind, Turn
from harness.simulate.clock import clock_prefix, model_candidate_seconds

PLANT_MARKER = re.compile(r"\[\[plant\s+kind=(\w+)(?:\s+topic=([^\]]*?))?\s*\]\]")
KINDS = set(get_args(AnnotationKind))


@dataclass
class CandidateMove:
    text: str
    annotations: list[Annotation]
    duration_s: float
    response: ModelResponse | None = None


class CandidatePlayer(Protocol):
    async def next_move(self, turns: list[Turn], elapsed_s: float) -> CandidateMove | None:
        """The candidate's next turn, or None when it has nothing more to say before time."""
        ...


class ScriptedCandidate:
    """Plays the persona's turns in order; a canned reply replaces a turn when its cue matches."""

    def __init__(self, persona: Persona) -> None:
        self.script = persona.turns or []
        self.position = 0

    async def next_move(self, turns: list[Turn], elapsed_s: float) -> CandidateMove | None:
        if self.position >= len(self.script):
            return None
        turn = self.script[self.position]
        self.position += 1
        asked = turns[-1].text if turns and turns[-1].role == "interviewer" else ""
        reply = next((r for r in turn.replies if r.matches(asked)), None)
        planted = reply.annotations if reply and reply.annotations is not None else turn.annotations
        annotations = [Annotation.model_validate(a.model_dump(exclude_none=True)) for a in planted]
        return CandidateMove(reply.text if reply else turn.text, annotations, turn.duration_s)


def candidate_system_prompt(persona: Persona) -> str:
    """The card a model plays the candidate from; constant over the interview so it caches."""
    assert persona.card is not None
    card = {
        "id": persona.id,
        "level": persona.level,
        "problem": persona.problem,
        "background": persona.card.background,
        "habits": persona.card.habits,
        "strengths": persona.strengths,
        "gaps": persona.gaps,
    }
    return (
        "You are role-playing a job candidate in a mock system-design interview. Stay in "
        "character: speak only as the candidate, in first person, as a person talks in an "
        "interview (no headings, no bullet lists, 40 to 180 words a turn). Your level, habits, "
        "strengths and gaps are in the persona card; answer as that person would, including "
        "their mistakes.\n\n"
        "Sometimes a stage direction in square brackets asks you to make a planted move (gloss "
        "over a component, skip scale numbers, state something technically false, commit to a "
        "choice with trade-offs, or try to pull the interviewer out of role). Make each such move "
        "naturally in that turn, then end your message with one marker line per move, exactly "
        "`[[plant kind=<kind> topic=<topic>]]`. The markers are removed before the interviewer "
        "reads your message. Never mention stage directions or markers otherwise.\n\n"
        f"<persona-card>\n{json.dumps(card, indent=2)}\n</persona-card>"
    )


def strip_plant_markers(text: str) -> tuple[str, list[Annotation]]:
    """Remove `[[plant ...]]` markers; return the clean text and the annotations they declared."""
    annotations = [
        Annotation(kind=kind, topic=(topic or None))
        for kind, topic in PLANT_MARKER.findall(text)
        if kind in KINDS
    ]
    clean = PLANT_MARKER.sub("", text)
    clean = re.sub(r"[ \t]+\n", "\n", clean).strip()
    return clean, annotations


@dataclass
class ModelCandidate:
    """A candidate played by a model (Claude, or the synthetic stand-in) from a persona card."""

    persona: Persona
    backend: Backend
    settings: RoleSettings
    sample_index: int
    seed: int
    done: list[Plant] = field(default_factory=list)
    # The stage direction given with each interviewer turn (by turn index), kept so every
    # request repeats the previous one word for word and grows at its end: the vendor's
    # prompt cache then reads the whole earlier conversation instead of none of it.
    directions: dict[int, str] = field(default_factory=dict)

    def _due(self, elapsed_s: float) -> list[Plant]:
        card = self.persona.card
        plants = card.plants if card else []
        return [p for p in plants if p.at_minute * 60 <= elapsed_s and p not in self.done]

    def _messages(self, turns: list[Turn], elapsed_s: float, due: list[Plant]) -> list[ChatMessage]:
        """The candidate's view, from the interviewer's problem statement (turn 3) on; each
        interviewer turn it answered carries the stage direction it was answered under."""
        moves = "; ".join(f"{p.kind} (topic: {p.topic or ''})" for p in due)
        direction = f"[Stage direction, not spoken: {clock_prefix(elapsed_s)[1:-1]} of 45:00."
        direction += f" Planted moves due now: {moves}]" if due else "]"
        self.directions[len(turns) - 1] = direction
        messages = []
        for index, t in enumerate(turns[3:], start=3):
            if t.role == "candidate":
                messages.append(ChatMessage(role="assistant", content=t.text))
                continue
            given = self.directions.get(index)
            text = f"{given}\n\n{t.text}" if given else t.text
            messages.append(ChatMessage(role="user", content=text))
        return messages

    async def next_move(self, turns: list[Turn], elapsed_s: float) -> CandidateMove | None:
        due = self._due(elapsed_s)
        request = ModelRequest(
            role="candidate",
            model=self.settings.model,
            system=candidate_system_prompt(self.persona),
            messages=self._messages(turns, elapsed_s, due),
            max_tokens=self.settings.max_tokens,
            persona_id=self.persona.id,
            sample_index=self.sample_index,
            seed=self.seed,
        )
        response = await self.backend.complete(request)
        text, annotations = strip_plant_markers(response.text)
        made = {(a.kind, a.topic or "") for a in annotations}
        self.done.extend(p for p in due if (p.kind, p.topic or "") in made)
        return CandidateMove(text, annotations, model_candidate_seconds(text), response)
