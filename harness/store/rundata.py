"""Everything a finished run holds, read back in one call: manifest, transcripts, scores, regrades.

The run folder is the one source of truth; analysis and reports read it through here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from harness.contracts import BadLine, ScoreRecord, Transcript, iter_transcripts, load_transcripts
from harness.errors import InputError
from harness.store.manifest import Manifest
from harness.store.runs import (
    DEFAULT_RUNS_DIR,
    SCORES,
    TRANSCRIPTS,
    find_run_dir,
    read_complete_lines,
    read_manifest,
)

REGRADES = "regrades.jsonl"
M = TypeVar("M", bound=BaseModel)


class RegradeRecord(BaseModel):
    """One re-asked final feedback on a fixed transcript cut at `time_up` (`sdi regrade`)."""

    model_config = ConfigDict(extra="allow")

    schema_: Literal["sdi.regrade/1"] = Field(default="sdi.regrade/1", alias="schema")
    interview_id: str
    prompt_version: str
    persona: str
    regrade_index: int = Field(ge=0)
    text: str
    final_score: float | None
    meta: dict[str, Any] = Field(default_factory=dict)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True)


class RunData(BaseModel):
    run_dir: Path
    manifest: Manifest
    transcripts: list[Transcript]
    scores: list[ScoreRecord] | None = Field(
        default=None, description="None until the run is scored (`sdi score RUN_ID`)"
    )
    regrades: list[RegradeRecord] = Field(default_factory=list)


def _read_records(path: Path, model: type[M]) -> list[M]:
    out: list[M] = []
    for line_no, line in enumerate(read_complete_lines(path), start=1):
        try:
            out.append(model.model_validate_json(line))
        except ValueError as err:
            raise InputError(path, f"line {line_no}", f"unreadable record ({err})") from None
    return out


def _without_turns(path: Path) -> list[Transcript]:
    """Every transcript of a file with its turns and its per-call records (`meta.calls`)
    dropped as it is read."""
    out: list[Transcript] = []
    for item in iter_transcripts(path):
        if isinstance(item, BadLine):
            raise InputError(item.path, item.field, item.error)
        meta = {k: v for k, v in item.meta.items() if k != "calls"}
        out.append(item.model_copy(update={"turns": [], "meta": meta}))
    return out


def load_run(ref: str | Path, runs_dir: Path = DEFAULT_RUNS_DIR, *, turns: bool = True) -> RunData:
    """Read a run by id or folder; scores and regrades are read when they exist. With
    `turns=False` the transcripts come without their turns and per-call records (ids, meta and
    scores are what the statistics read): a fraction of the memory on a long run."""
    run_dir = find_run_dir(ref, runs_dir)
    scores_path = run_dir / SCORES
    path = run_dir / TRANSCRIPTS
    return RunData(
        run_dir=run_dir,
        manifest=read_manifest(run_dir),
        transcripts=load_transcripts(path) if turns else _without_turns(path),
        scores=_read_records(scores_path, ScoreRecord) if scores_path.is_file() else None,
        regrades=_read_records(run_dir / REGRADES, RegradeRecord),
    )
