"""Rubrics (`rubrics/<rule_id>.yaml`): each rule's definition, examples, judge instructions and
the wording its deterministic scorer matches, so that rubric and code cannot drift apart."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.config.yamlio import read_yaml_model, require_file_stem
from harness.contracts import RULE_IDS
from harness.errors import InputError

RUBRICS_DIR = Path(__file__).resolve().parents[2] / "rubrics"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RuleDefinition(_Strict):
    """The contract's three cells for this rule (`../shared/contracts/scores.md`)."""

    passes: str
    fails: str
    na: str


class RubricExample(_Strict):
    text: str = Field(description="an interviewer turn, or a short exchange")
    why: str


class RubricExamples(_Strict):
    passing: list[RubricExample] = Field(min_length=1)
    failing: list[RubricExample] = Field(min_length=1)


class Rubric(_Strict):
    id: str
    prompt_rule: str = Field(description="the rule of prompt v1 this checks, quoted")
    definition: RuleDefinition
    opened_by: list[str] = Field(
        default_factory=list,
        description="annotation kinds on candidate turns that give the rule its chances "
        "(a report shows the candidate turn behind each violation)",
    )
    examples: RubricExamples
    scorers: list[Literal["deterministic", "judge"]] = Field(min_length=1)
    judge_instructions: str | None = None
    lexicon: dict[str, list[str]] = Field(
        default_factory=dict,
        description="named word and phrase lists the deterministic scorer matches with",
    )


def load_rubric(path: Path) -> Rubric:
    rubric = read_yaml_model(path, Rubric)
    require_file_stem(path, "id", rubric.id)
    if "judge" in rubric.scorers and not rubric.judge_instructions:
        raise InputError(path, "judge_instructions", "required when 'judge' is among scorers")
    return rubric


@lru_cache(maxsize=4)
def load_rubrics(folder: Path = RUBRICS_DIR) -> dict[str, Rubric]:
    """Every rule's rubric; a rule without a rubric file is an error naming the missing file."""
    out: dict[str, Rubric] = {}
    for rule_id in RULE_IDS:
        path = folder / f"{rule_id}.yaml"
        if not path.is_file():
            raise InputError(path, None, f"no rubric for rule '{rule_id}'")
        out[rule_id] = load_rubric(path)
    return out


def lexicon(rule_id: str, name: str) -> tuple[str, ...]:
    """A named word list from a rule's rubric; the scorers match with these, never with their own.

    A list the code needs but the rubric lacks is an InputError naming the rubric file and field.
    """
    rubric = load_rubrics()[rule_id]
    try:
        return tuple(rubric.lexicon[name])
    except KeyError:
        path = RUBRICS_DIR / f"{rule_id}.yaml"
        raise InputError(path, f"lexicon.{name}", "word list missing from the rubric") from None


def lexicon_names(rule_id: str, prefix: str) -> list[str]:
    """Names of a rubric's word lists that start with `prefix` (families like `topic.cache`)."""
    return sorted(n for n in load_rubrics()[rule_id].lexicon if n.startswith(prefix))


def rubrics_sha256(folder: Path = RUBRICS_DIR) -> str:
    """One hash over every rubric file: part of a run's comparability fingerprint."""
    digest = hashlib.sha256()
    for path in sorted(folder.glob("*.yaml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
