"""Label sets written by `sdi label`: `labels/<NAME>.jsonl`, one line per label given.

Each line is the labelled case as it stands after that label: a golden case (transcript,
labels, tags, notes) plus who labelled it, which labels are given so far, and how the
transcript was selected (order, stratum, and how many transcripts of the labelled runs fell in
that stratum, so agreement can be weighted back to the whole run). The last line of a
(labeller, transcript) pair is its state; once every rule and the final score are given it is
`complete`, and then its golden part validates as a `GoldenCase`. Lines are only appended, so
a killed session loses nothing already given and resumes where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from harness.contracts import RULE_IDS, RuleResult, Transcript
from harness.errors import InputError, from_validation_error
from harness.scoring.golden import GoldenCase, load_golden
from harness.store.runs import read_complete_lines

LABELS_SCHEMA = "sdi.labels/1"
FINAL_SCORE = "final_score"
ITEMS: tuple[str, ...] = (*RULE_IDS, FINAL_SCORE)
RANDOM = "random"


class Selection(BaseModel):
    """How this transcript came to be labelled."""

    model_config = ConfigDict(extra="forbid")

    order: str
    stratum: str
    stratum_size: int = Field(ge=1, description="transcripts of the labelled runs in the stratum")
    run: str | None = None


class PartialLabels(BaseModel):
    model_config = ConfigDict(extra="forbid")

    final_score: float | None = None
    rules: dict[str, RuleResult] = Field(default_factory=dict)


class LabelLine(BaseModel):
    """One line of a label set."""

    model_config = ConfigDict(extra="forbid")

    schema_: Literal["sdi.labels/1"] = Field(default="sdi.labels/1", alias="schema")
    labeller: str = Field(min_length=1)
    selection: Selection
    given: list[str] = Field(default_factory=list)
    complete: bool = False
    transcript: Transcript
    labels: PartialLabels
    tags: list[str] = Field(default_factory=list)
    notes: str = ""
    at: str = ""

    def golden(self) -> GoldenCase:
        """The golden-set case of a complete line (raises ValidationError otherwise)."""
        return GoldenCase.model_validate(
            self.model_dump(
                mode="json", by_alias=True, include={"transcript", "labels", "tags", "notes"}
            )
        )


def read_label_lines(path: Path) -> list[LabelLine]:
    """Every whole line of a label set, in order (a torn last line is left out)."""
    out = []
    for number, raw in enumerate(read_complete_lines(path), start=1):
        try:
            out.append(LabelLine.model_validate_json(raw))
        except ValidationError as err:
            raise from_validation_error(path, err, prefix=f"line {number}") from None
    return out


def latest(lines: list[LabelLine]) -> dict[tuple[str, str], LabelLine]:
    """The state of each (labeller, interview id): its last line."""
    state: dict[tuple[str, str], LabelLine] = {}
    for line in lines:
        state[(line.labeller, line.transcript.interview_id)] = line
    return state


@dataclass(frozen=True)
class Reference:
    """Labelled cases to validate against, with their weights back to the whole run."""

    source: Path
    cases: list[GoldenCase]
    strata: list[str]
    weights: list[float] | None
    labeller: str | None = None
    others: dict[str, dict[str, GoldenCase]] = field(default_factory=dict)
    partial: int = 0
    runs: list[str | None] = field(default_factory=list)  # per case, its run (when recorded)

    @property
    def weighted(self) -> bool:
        return self.weights is not None


def _weights(lines: list[LabelLine]) -> list[float] | None:
    """Horvitz-Thompson weights: a stratum's size over the labelled transcripts in it; none
    when the order was random (every transcript equally likely)."""
    if all(line.selection.order == RANDOM for line in lines):
        return None
    counts: dict[str, int] = {}
    for line in lines:
        counts[line.selection.stratum] = counts.get(line.selection.stratum, 0) + 1
    return [line.selection.stratum_size / counts[line.selection.stratum] for line in lines]


def load_reference(path: Path, labeller: str | None = None) -> Reference:
    """A golden folder (`*.yaml`) or a label set (`*.jsonl`): the complete cases of one
    labeller (the first to appear, unless named), and every other labeller's complete cases
    for inter-rater agreement."""
    if path.is_dir():
        cases = load_golden(path)
        return Reference(path, cases, ["all"] * len(cases), None)
    if not path.is_file():
        raise InputError(path, None, "no such golden folder or label set")
    state = latest(read_label_lines(path))
    labellers = list(dict.fromkeys(who for who, _ in state))
    if not labellers:
        raise InputError(path, None, "no labels in this set")
    primary = labeller or labellers[0]
    if primary not in labellers:
        raise InputError(path, "labeller", f"no labels by '{primary}' (found {labellers})")
    mine = [line for (who, _), line in state.items() if who == primary]
    done = [line for line in mine if line.complete]
    if not done:
        raise InputError(path, None, f"no transcript fully labelled by '{primary}' yet")
    others = {
        who: {
            line.transcript.interview_id: line.golden()
            for (w, _), line in state.items()
            if w == who and line.complete
        }
        for who in labellers
        if who != primary
    }
    return Reference(
        source=path,
        cases=[line.golden() for line in done],
        strata=[line.selection.stratum for line in done],
        weights=_weights(done),
        labeller=primary,
        others=others,
        partial=len(mine) - len(done),
        runs=[line.selection.run for line in done],
    )


def interrater(reference: Reference) -> dict[str, dict[str, float]]:
    """Cohen's kappa per rule between the primary labeller and each other one, on the
    transcripts both completed ({other: {rule: kappa}}); nan where undefined."""
    from harness.scoring.agreement import kappa

    out: dict[str, dict[str, float]] = {}
    mine = {c.transcript.interview_id: c for c in reference.cases}
    for who, theirs in reference.others.items():
        both = [i for i in mine if i in theirs]
        if not both:
            continue
        out[who] = {
            rule: kappa(
                [mine[i].labels.rules[rule].verdict for i in both],
                [theirs[i].labels.rules[rule].verdict for i in both],
            )
            for rule in RULE_IDS
        }
        out[who]["(cases)"] = float(len(both))
    return out
