"""Candidate personas (`candidates/*.yaml`): scripted turns, or a card for a model to play."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.config.yamlio import read_yaml_model, require_file_stem
from harness.contracts import AnnotationKind, Problem
from harness.errors import InputError
from harness.project import expand

Level = Literal["junior", "mid", "senior", "staff"]
LEVEL_RANK: dict[str, int] = {"junior": 0, "mid": 1, "senior": 2, "staff": 3}

# What an interviewer's question is about, for choosing a canned reply. Keyword lists are
# matched case-insensitively against the interviewer's last turn.
REPLY_INTENTS: dict[str, tuple[str, ...]] = {
    "scale": (
        "scale",
        "how many",
        "qps",
        "traffic",
        "users",
        "requests per",
        "storage",
        "volume",
        "numbers",
        "throughput",
        "growth",
        "estimate",
    ),
    "cache": ("cache", "evict", "ttl", "hit rate", "invalidat", "lru", "redis", "memcache"),
    "storage": ("database", "schema", "sql", "shard", "partition", "replica", "store", "index"),
    "failure": ("fail", "down", "outage", "crash", "failover", "lost", "recover", "dies"),
    "tradeoff": (
        "why",
        "instead",
        "alternative",
        "trade-off",
        "tradeoff",
        "rather than",
        "cost",
        "downside",
        "versus",
        " vs",
    ),
    "consistency": (
        "consisten",
        "conflict",
        "order",
        "race",
        "duplicate",
        "exactly once",
        "idempot",
    ),
}
ReplyIntent = Literal["scale", "cache", "storage", "failure", "tradeoff", "consistency"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlantedAnnotation(_Strict):
    kind: AnnotationKind
    topic: str | None = None
    note: str | None = None


class CannedReply(_Strict):
    """Said instead of the turn's text when the interviewer's last turn matches `when`."""

    when: ReplyIntent | list[str]
    text: str
    annotations: list[PlantedAnnotation] | None = None

    def matches(self, interviewer_text: str) -> bool:
        words = REPLY_INTENTS[self.when] if isinstance(self.when, str) else tuple(self.when)
        low = interviewer_text.lower()
        return any(w.lower() in low for w in words)


class ScriptedTurn(_Strict):
    text: str
    duration_s: float = Field(gt=0, description="simulated seconds this candidate turn takes")
    annotations: list[PlantedAnnotation] = Field(default_factory=list)
    replies: list[CannedReply] = Field(default_factory=list)


class Plant(_Strict):
    """A move a model-played candidate makes at (or soon after) a given minute."""

    kind: AnnotationKind
    topic: str | None = None
    at_minute: float = Field(ge=0, le=45)
    note: str | None = None


class PersonaCard(_Strict):
    background: str
    habits: list[str] = Field(default_factory=list)
    plants: list[Plant] = Field(default_factory=list)


class Persona(_Strict):
    id: str
    level: Level
    problem: Problem
    expected_band: tuple[float, float]
    strengths: list[str] = Field(default_factory=list)
    gaps: list[str] = Field(default_factory=list)
    mode: Literal["scripted", "llm"]
    description: str | None = None
    turns: list[ScriptedTurn] | None = None
    card: PersonaCard | None = None

    @field_validator("problem")
    @classmethod
    def _known_problem(cls, value: str) -> str:
        from harness.config.problems import load_problems

        known = load_problems()
        if value not in known:
            raise ValueError(f"unknown problem '{value}' (known: {', '.join(known)})")
        return value

    @model_validator(mode="after")
    def _check(self) -> Persona:
        lo, hi = self.expected_band
        if not (0 <= lo <= hi <= 10):
            raise ValueError("expected_band must be [low, high] with 0 <= low <= high <= 10")
        if self.mode == "scripted" and not self.turns:
            raise ValueError("mode 'scripted' needs a non-empty 'turns' list")
        if self.mode == "llm" and self.card is None:
            raise ValueError("mode 'llm' needs a 'card'")
        return self

    @property
    def band_mid(self) -> float:
        return (self.expected_band[0] + self.expected_band[1]) / 2


class LoadedPersona(BaseModel):
    persona: Persona
    path: str
    sha256: str


def load_persona(path: str | Path) -> LoadedPersona:
    p = Path(path)
    persona = read_yaml_model(p, Persona)
    require_file_stem(p, "id", persona.id)
    return LoadedPersona(
        persona=persona, path=str(p.resolve()), sha256=hashlib.sha256(p.read_bytes()).hexdigest()
    )


def load_personas(patterns: list[str], base: Path, source: str | Path) -> list[LoadedPersona]:
    """Expand globs relative to `base` (layered over the built-in personas, see
    harness.project); `source` is the file that named them, for errors."""
    found: dict[str, LoadedPersona] = {}
    for i, pattern in enumerate(patterns):
        paths = expand(base / pattern)
        if not paths:
            raise InputError(source, f"personas[{i}]", f"'{pattern}' matches no persona file")
        for path in paths:
            loaded = load_persona(path)
            found.setdefault(loaded.persona.id, loaded)
    return list(found.values())
