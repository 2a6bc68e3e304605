"""One transcript as the rules see it: where the feedback is, when it was due, which turns are
interview turns, and what each interviewer turn asks (worked out once, shared by all rules)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from harness.contracts import Transcript, Turn
from harness.scoring.feedback import (
    FeedbackParts,
    announces_sections,
    answers_feedback_request,
    assessment,
    parse_feedback,
)
from harness.scoring.lexicon import normalize
from harness.scoring.questions import Ask, asks

T = TypeVar("T")
# Rule 7 of the prompt: feedback comes after 40 minutes.
FEEDBACK_DUE_S = 40 * 60


@dataclass
class TranscriptView:
    transcript: Transcript
    interviewer: list[int]
    time_up: int | None
    due: int | None
    feedback: int | None
    assessments: list[int] = field(default_factory=list)  # turns that read as feedback or a score
    scores: dict[int, float | None] = field(default_factory=dict)  # interviewer turn -> its score
    _asks: dict[int, list[Ask]] = field(default_factory=dict)
    _parts: dict[int, FeedbackParts] = field(default_factory=dict)
    _normalized: dict[int, str] = field(default_factory=dict)
    _derived: dict[str, Any] = field(default_factory=dict)

    @property
    def turns(self) -> list[Turn]:
        return self.transcript.turns

    def text(self, i: int) -> str:
        return self.transcript.turns[i].text

    def normalized(self, i: int) -> str:
        if i not in self._normalized:
            self._normalized[i] = normalize(self.text(i))
        return self._normalized[i]

    def asks(self, i: int) -> list[Ask]:
        if i not in self._asks:
            self._asks[i] = asks(self.text(i))
        return self._asks[i]

    def parts(self, i: int) -> FeedbackParts:
        """Turn i read as feedback: score and sections."""
        if i not in self._parts:
            self._parts[i] = parse_feedback(self.text(i))
        return self._parts[i]

    def derived(self, key: str, compute: Callable[[TranscriptView], T]) -> T:
        """`compute(self)`, worked out once per view: for findings that several rules share."""
        if key not in self._derived:
            self._derived[key] = compute(self)
        return cast(T, self._derived[key])

    def next_interviewer(self, i: int) -> int | None:
        return next((j for j in self.interviewer if j > i), None)

    def previous_candidate(self, i: int) -> int | None:
        return next((j for j in range(i - 1, -1, -1) if self.turns[j].role == "candidate"), None)

    def is_interview_turn(self, i: int) -> bool:
        """An interviewer turn before the feedback (every interviewer turn when there is none)."""
        return self.turns[i].role == "interviewer" and (self.feedback is None or i < self.feedback)

    def interview_turns(self) -> list[int]:
        return [i for i in self.interviewer if self.is_interview_turn(i)]

    def annotated(self, kind: str) -> list[int]:
        """Candidate turns that carry an annotation of this kind, in order."""
        return [
            i
            for i, t in enumerate(self.turns)
            if t.role == "candidate" and any(a.kind == kind for a in t.annotations)
        ]

    def topics(self, i: int, kind: str) -> list[str | None]:
        return [a.topic for a in self.turns[i].annotations if a.kind == kind]

    def notes(self, i: int, kind: str) -> list[str]:
        return [a.note for a in self.turns[i].annotations if a.kind == kind and a.note]


def _due_index(transcript: Transcript, time_up: int | None) -> int | None:
    """The first turn at which feedback is due: just after `time_up`, else at 40 minutes."""
    if time_up is not None:
        return time_up + 1
    return next((i for i, t in enumerate(transcript.turns) if t.elapsed_s >= FEEDBACK_DUE_S), None)


def view(transcript: Transcript) -> TranscriptView:
    turns = transcript.turns
    interviewer = [i for i, t in enumerate(turns) if t.role == "interviewer"]
    time_up = next(
        (
            i
            for i, t in enumerate(turns)
            if t.role == "candidate" and any(a.kind == "time_up" for a in t.annotations)
        ),
        None,
    )
    due = _due_index(transcript, time_up)
    scores: dict[int, float | None] = {}
    assessments: list[int] = []
    for i in interviewer:
        scores[i], is_feedback = assessment(turns[i].text)
        if is_feedback:
            assessments.append(i)
    on_time = [i for i in assessments if due is not None and i >= due]
    first_due = next((i for i in interviewer if due is not None and i >= due), None)
    # A thin answer to the request for feedback is still the feedback, however poor.
    if (
        first_due is not None
        and first_due not in on_time
        and answers_feedback_request(turns[first_due].text)
    ):
        on_time.insert(0, first_due)
    # Before it is due, a turn is the feedback only if it is a whole assessment or ends the
    # interview; "so far I'd put you at 7/10" with more questions after it is a remark.
    early = [i for i in assessments if i == interviewer[-1] or announces_sections(turns[i].text)]
    feedback = on_time[0] if on_time else (early[-1] if early else None)
    return TranscriptView(transcript, interviewer, time_up, due, feedback, assessments, scores)
