"""Pydantic models of the two shared contracts: `sdi.transcript/1` and `sdi.scores/1`.

Extra keys are allowed and preserved on transcripts (the contract says so); the keys
named in `../shared/contracts/` are validated.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.errors import InputError, from_validation_error

TRANSCRIPT_SCHEMA = "sdi.transcript/1"
SCORES_SCHEMA = "sdi.scores/1"

# A problem id: the built-in five or a project's own (harness/config/problems.py).
Problem = str
AnnotationKind = Literal[
    "no_scale", "gloss", "incorrect_claim", "decision", "time_up", "manipulation"
]
Role = Literal["candidate", "interviewer"]
Verdict = Literal["pass", "fail", "n/a"]

RULE_IDS: tuple[str, ...] = (
    "opening",
    "one_question",
    "pushback",
    "scale_probe",
    "drill_down",
    "no_direct_correction",
    "feedback_timing",
    "feedback_format",
    "score_justified",
    "in_role",
)


class Annotation(BaseModel):
    """What a persona planted in a candidate turn."""

    model_config = ConfigDict(extra="allow")

    kind: AnnotationKind
    topic: str | None = None
    note: str | None = None


class Turn(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Role
    text: str
    elapsed_s: float = Field(ge=0)
    annotations: list[Annotation] = Field(default_factory=list)


class Transcript(BaseModel):
    """One interview, as one line of a `sdi.transcript/1` JSONL file."""

    model_config = ConfigDict(extra="allow")

    schema_: Literal["sdi.transcript/1"] = Field(default="sdi.transcript/1", alias="schema")
    interview_id: str
    prompt_version: str = "unknown"
    persona: str = "human"
    problem: Problem | None = None
    turns: list[Turn]
    meta: dict[str, Any] = Field(default_factory=dict)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_none=False)


class RuleResult(BaseModel):
    """One rule's verdict on one transcript. `opportunities` is an added field (the contract
    allows additions): how many chances the rule had (interview turns for `one_question`,
    `decision` turns for `pushback`...), so adherence can be counted per opportunity."""

    model_config = ConfigDict(extra="allow")

    verdict: Verdict
    turns: list[int] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    opportunities: int | None = None


class ScoreRecord(BaseModel):
    """One line of `sdi.scores/1`: every rule id always present."""

    model_config = ConfigDict(extra="allow")

    schema_: Literal["sdi.scores/1"] = Field(default="sdi.scores/1", alias="schema")
    interview_id: str
    final_score: float | None
    rules: dict[str, RuleResult]

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True)


def scored_rules(records: Iterable[ScoreRecord]) -> tuple[str, ...]:
    """The rules some score records cover, in the order they were scored: the ten above for the
    built-in rule set, plus a project's own (see harness.scoring.registry)."""
    seen: dict[str, None] = {}
    for record in records:
        seen.update(dict.fromkeys(record.rules))
    return tuple(seen)


class BadLine(BaseModel):
    """A JSONL line that could not be read, kept so the caller can report and skip it."""

    path: str
    line_no: int
    field: str | None
    error: str

    def __str__(self) -> str:
        return f"{self.path}: {self.field or f'line {self.line_no}'}: {self.error}"


def parse_transcript_line(path: str | Path, line_no: int, line: str) -> Transcript:
    """Parse one JSONL line; raises InputError naming the line and the field."""
    try:
        return Transcript.model_validate_json(line)
    except ValidationError as err:
        first = err.errors()[0]
        if first["type"] == "json_invalid":
            raise InputError(path, f"line {line_no}", f"not valid JSON ({first['msg']})") from None
        raise from_validation_error(path, err, prefix=f"line {line_no}") from None


def iter_transcripts(path: str | Path) -> Iterator[Transcript | BadLine]:
    """Yield each transcript of a JSONL file in order, or a BadLine for a line that fails."""
    p = Path(path)
    if not p.is_file():
        raise InputError(p, None, "no such transcript file")
    with p.open(encoding="utf-8") as fh:
        for line_no, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                yield parse_transcript_line(p, line_no, raw)
            except InputError as err:
                yield BadLine(path=str(p), line_no=line_no, field=err.field, error=err.message)


def load_transcripts(path: str | Path) -> list[Transcript]:
    """Read every transcript of a file, failing on the first bad line."""
    out: list[Transcript] = []
    for item in iter_transcripts(path):
        if isinstance(item, BadLine):
            raise InputError(item.path, item.field, item.error)
        out.append(item)
    return out
