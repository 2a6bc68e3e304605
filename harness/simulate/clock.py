"""The simulated 45-minute clock and how long each kind of turn takes."""

from __future__ import annotations

PHASES: tuple[tuple[float, str], ...] = (
    (5 * 60, "clarify"),
    (10 * 60, "high_level"),
    (30 * 60, "deep_dive"),
    (40 * 60, "bottlenecks"),
    (45 * 60, "feedback"),
)
TIME_UP_S = 40 * 60
INTERVIEW_END_S = 45 * 60


def phase_at(elapsed_s: float) -> str:
    return next((name for end, name in PHASES if elapsed_s < end), "over")


def speaking_seconds(text: str, *, thinking_s: float) -> float:
    """About 150 spoken words a minute, plus time to think before speaking."""
    return round(thinking_s + len(text.split()) * 0.4, 1)


def interviewer_seconds(text: str) -> float:
    return speaking_seconds(text, thinking_s=5.0)


def model_candidate_seconds(text: str) -> float:
    return min(max(speaking_seconds(text, thinking_s=60.0), 30.0), 300.0)


def clock_prefix(elapsed_s: float) -> str:
    minutes, seconds = divmod(int(elapsed_s), 60)
    return f"[elapsed {minutes}:{seconds:02d}]"
