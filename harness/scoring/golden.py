"""The labelled golden set (`tests/golden/cases/*.yaml`): transcripts with the verdicts a careful
human gives them per the contract, against which the scorers are validated."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from harness.config.yamlio import read_yaml_model, require_file_stem
from harness.contracts import RULE_IDS, RuleResult, Transcript
from harness.errors import InputError

GOLDEN_ROOT = Path(__file__).resolve().parents[2] / "tests" / "golden"
GOLDEN_DIR = GOLDEN_ROOT / "cases"
GOLDEN_SETS = GOLDEN_ROOT / "sets.yaml"


class GoldenLabels(BaseModel):
    """What a careful reader of the contract says: every rule id, and the final score."""

    model_config = ConfigDict(extra="forbid")

    final_score: float | None
    rules: dict[str, RuleResult]

    @model_validator(mode="after")
    def _every_rule(self) -> GoldenLabels:
        missing = [r for r in RULE_IDS if r not in self.rules]
        unknown = [r for r in self.rules if r not in RULE_IDS]
        if missing or unknown:
            raise ValueError(
                f"labels must cover exactly the ten rules (missing {missing}, unknown {unknown})"
            )
        return self


class GoldenCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    transcript: Transcript
    labels: GoldenLabels
    tags: list[str] = Field(default_factory=list, description="hard cases this one exercises")
    notes: str = Field(description="why the hard parts are labelled as they are")


def load_case(path: Path) -> GoldenCase:
    case = read_yaml_model(path, GoldenCase)
    require_file_stem(path, "transcript.interview_id", case.transcript.interview_id)
    return case


def load_golden(folder: Path = GOLDEN_DIR) -> list[GoldenCase]:
    paths = sorted(folder.glob("*.yaml"))
    if not paths:
        raise InputError(folder, None, "no golden cases (*.yaml) found")
    return [load_case(p) for p in paths]


class FirstRun(BaseModel):
    """A held-out set's figures from the one run before any fix was made for it."""

    model_config = ConfigDict(extra="forbid")

    f1: dict[str, float] = Field(description="F1 per rule id")
    verdicts: str = Field(description="how many rule verdicts agreed, in words")


class GoldenSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    folder: str = Field(description="relative to the sets file")
    held_out: bool = Field(description="no scorer was tuned on it before its first run")
    labelled_by: str
    first_run: FirstRun | None = None


class GoldenSets(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sets: list[GoldenSet]

    def in_report_order(self) -> list[GoldenSet]:
        """Held-out sets first: they say how the scorers do on text they were not built on."""
        return sorted(self.sets, key=lambda s: not s.held_out)


def load_golden_sets(path: Path = GOLDEN_SETS) -> GoldenSets:
    return read_yaml_model(path, GoldenSets)
