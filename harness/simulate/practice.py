"""A person plays the candidate (`sdi practice`): the seed article's own use of the prompt.

The interview runs through the same turn-taking as a simulated one (`simulate.interview`), with
the person's answers in place of a persona's moves and the clock following the wall clock. The
session is saved as a run like any other (persona `human`, level and problem in the manifest),
through the store functions the runner uses, and scored, so it appears in `sdi runs list` and
can be labelled, compared and reported. `/time` asks for feedback (a `time_up` turn, at the
real elapsed time, early or not); `/quit`, Ctrl-C or end of input stop and keep what was said.
"""

from __future__ import annotations

import re
import secrets
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from harness import __version__
from harness.backends.base import Backend
from harness.config.personas import Persona
from harness.config.prompts import PromptVersion
from harness.config.suites import Limits, RoleSettings
from harness.contracts import Annotation, ScoreRecord, Transcript
from harness.scoring.feedback import looks_like_feedback, parse_feedback
from harness.simulate.interview import InterviewPlan, _Interview, opening_text, pick_text
from harness.store.index import RunIndex
from harness.store.manifest import Manifest, PromptRecord, RoleRecord
from harness.store.rundata import RunData, load_run
from harness.store.runs import TRANSCRIPTS, append_jsonl, write_manifest

HUMAN = "human"
PRACTICE_SUITE = "practice"
TIME_UP_ASK = "Time is up. Could you give me your feedback and a score?"
QUIT = "/quit"
TIME = "/time"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x9b]")


def printable(text: str) -> str:
    """Model text made safe for a terminal: no escape sequences or other control characters."""
    return _CONTROL.sub("", text)


class Terminal(Protocol):
    """Where the session meets the person (the CLI's console; a script in tests)."""

    def interviewer(self, text: str, elapsed_s: float) -> None: ...

    def candidate(self, text: str, elapsed_s: float) -> None: ...

    def answer(self, elapsed_s: float) -> str: ...


@dataclass(frozen=True)
class PracticeSetup:
    prompt: PromptVersion
    interviewer: RoleSettings
    problem: str
    level: str
    limits: Limits
    clock: str = "off"
    suite_name: str = PRACTICE_SUITE
    suite_path: str = "(built in)"

    @property
    def synthetic(self) -> bool:
        return self.interviewer.backend == "synthetic"


def _human(problem: str) -> Persona:
    """The persona record of a person: nothing scripted, nothing planted."""
    return Persona.model_construct(
        id=HUMAN, level="mid", problem=problem, expected_band=(0.0, 10.0), mode="scripted"
    )


async def play(
    setup: PracticeSetup,
    backend: Backend,
    terminal: Terminal,
    interview_id: str,
    clock: Callable[[], float] = time.monotonic,
) -> Transcript:
    """Play one practice interview to feedback, a cap, or the person's stop."""
    plan = InterviewPlan(
        interview_id=interview_id,
        prompt=setup.prompt,
        persona=_human(setup.problem),
        sample_index=0,
        seed=0,
        clock=setup.clock,  # type: ignore[arg-type]
        limits=setup.limits,
        interviewer=setup.interviewer,
        synthetic=setup.synthetic,
    )
    run = _Interview(plan, backend)
    start = clock()

    def now() -> float:
        return round(clock() - start, 1)

    async def exchange(text: str, annotations: list[Annotation], shown: bool) -> str:
        run.clock_s = max(run.clock_s, now())
        if not shown:
            terminal.candidate(text, run.clock_s)
        run.say(text, annotations, 0.0)
        run.clock_s = max(run.clock_s, now())
        reply = await run.reply()
        terminal.interviewer(reply, run.turns[-1].elapsed_s)
        return reply

    end_reason = "quit"
    await exchange(opening_text(setup.prompt.text), [], shown=False)
    await exchange(pick_text(setup.problem), [], shown=False)
    while True:
        cap = run.cap_reached()
        if cap:
            end_reason = cap
            break
        try:
            answer = terminal.answer(max(run.clock_s, now())).strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not answer:
            continue
        if answer == QUIT:
            break
        if answer == TIME:
            reply = await exchange(TIME_UP_ASK, [Annotation(kind="time_up")], shown=False)
            if looks_like_feedback(reply):
                end_reason = "feedback"
                break
            continue
        await exchange(answer, [], shown=True)
    return Transcript(
        interview_id=interview_id,
        prompt_version=setup.prompt.id,
        persona=HUMAN,
        problem=setup.problem,
        turns=run.turns,
        meta={
            "synthetic": setup.synthetic,
            "practice": True,
            "level": setup.level,
            "prompt_sha256": setup.prompt.sha256,
            "end_reason": end_reason,
            "elapsed_s": now(),
            "usage": run.usage.model_dump(),
            "cost_usd": round(run.cost_usd, 6),
            "calls": run.calls,
        },
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def practice_manifest(setup: PracticeSetup, run_id: str, started_at: str) -> Manifest:
    settings = setup.interviewer
    return Manifest(
        run_id=run_id,
        suite_name=setup.suite_name,
        suite_path=setup.suite_path,
        suite={"practice": True, "interviewer": settings.model_dump(), "clock": setup.clock},
        prompts=[
            PromptRecord(id=setup.prompt.id, path=setup.prompt.path, sha256=setup.prompt.sha256)
        ],
        personas={HUMAN: "-"},
        personas_meta={
            HUMAN: {"level": setup.level, "problem": setup.problem, "mode": HUMAN, "path": None}
        },
        interviewer=RoleRecord(
            backend=settings.backend,
            model=settings.model,
            max_tokens=settings.max_tokens,
            synthetic=setup.synthetic,
        ),
        candidate=RoleRecord(backend=HUMAN, model=HUMAN, max_tokens=0, synthetic=False),
        harness_version=__version__,
        git_commit=None,
        synthetic=setup.synthetic,
        started_at=started_at,
        interviews_planned=1,
    )


def new_run_id() -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{PRACTICE_SUITE}-{secrets.token_hex(2)}"


def save_session(
    setup: PracticeSetup,
    transcript: Transcript,
    runs_dir: Path,
    run_id: str,
    started_at: str,
    scores: list[ScoreRecord],
) -> Path:
    """The session as a run folder: manifest, one transcript, its scores, and an index row."""
    from harness.backends.base import Usage
    from harness.scoring.runs import save_scores

    run_dir = runs_dir / run_id
    run_dir.mkdir(parents=True, exist_ok=False)
    manifest = practice_manifest(setup, run_id, started_at)
    append_jsonl(run_dir / TRANSCRIPTS, transcript.to_json())
    manifest.status = "complete"
    manifest.ended_at = _now()
    manifest.interviews_done = 1
    manifest.usage = Usage.model_validate(transcript.meta.get("usage", {}))
    manifest.cost_usd = float(transcript.meta.get("cost_usd", 0.0))
    manifest.spent_usd = manifest.cost_usd
    manifest.model_calls = len(transcript.meta.get("calls", []))
    write_manifest(run_dir, manifest)
    save_scores(run_dir, scores)
    index = RunIndex(runs_dir)
    try:
        index.record(manifest, run_dir)
    finally:
        index.close()
    return run_dir


@dataclass(frozen=True)
class Session:
    run_id: str
    started_at: str
    problem: str
    level: str
    prompt: str
    synthetic: bool
    final_score: float | None
    failed_rules: list[str]
    needs_work: list[str]
    topics: list[str]
    end_reason: str


def _feedback_text(transcript: Transcript) -> str:
    for turn in reversed(transcript.turns):
        if turn.role == "interviewer" and looks_like_feedback(turn.text):
            return turn.text
    return ""


def needs_work(transcript: Transcript) -> tuple[list[str], list[str]]:
    """The feedback's "Needs Work" points, and the topic families they name."""
    from harness.scoring.lexicon import normalize
    from harness.scoring.topics import families_in

    text = _feedback_text(transcript)
    points = parse_feedback(text).points.get("weak", []) if text else []
    topics = sorted(set(families_in(normalize(" ".join(points))))) if points else []
    return points, topics


def history(runs_dir: Path) -> list[Session]:
    """Every practice session in the store, oldest first."""
    index = RunIndex(runs_dir)
    try:
        rows = [r for r in index.list() if r.suite == PRACTICE_SUITE]
    finally:
        index.close()
    out: list[Session] = []
    for row in sorted(rows, key=lambda r: r.started_at):
        try:
            run: RunData = load_run(Path(row.path))
        except Exception:
            continue
        for t in run.transcripts:
            record = next((s for s in run.scores or [] if s.interview_id == t.interview_id), None)
            points, topics = needs_work(t)
            out.append(
                Session(
                    run_id=row.run_id,
                    started_at=row.started_at,
                    problem=t.problem or "-",
                    level=str(t.meta.get("level", "-")),
                    prompt=t.prompt_version,
                    synthetic=bool(t.meta.get("synthetic")),
                    final_score=record.final_score if record else None,
                    failed_rules=[
                        r
                        for r, v in (record.rules if record else {}).items()
                        if v.verdict == "fail"
                    ],
                    needs_work=points,
                    topics=topics,
                    end_reason=str(t.meta.get("end_reason", "-")),
                )
            )
    return out


def recurring_topics(sessions: list[Session]) -> list[tuple[str, int]]:
    """Topics named under "Needs Work" in more than one session, most frequent first."""
    counts = Counter(topic for s in sessions for topic in s.topics)
    return [(t, n) for t, n in counts.most_common() if n > 1]
