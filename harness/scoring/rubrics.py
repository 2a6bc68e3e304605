"""Rubrics (`rubrics/<rule_id>.yaml`): each rule's definition, examples, judge instructions and
the wording its deterministic scorer matches, so that rubric and code cannot drift apart.

The built-in rubrics ship in `harness/data/rubrics`; a project's `rubrics/` adds rules and
overrides built-in ones by id (see harness.scoring.registry). The word lists of the built-in
scorers are read from the built-in rubrics: they are part of the scorer, like its code."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.config.yamlio import read_yaml_model, require_file_stem
from harness.contracts import RULE_IDS, AnnotationKind
from harness.errors import InputError
from harness.project import BUILTIN_ROOT

RUBRICS_DIR = BUILTIN_ROOT / "rubrics"


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
    examples: RubricExamples
    scorers: list[Literal["deterministic", "judge"]] = Field(min_length=1)
    scorer: str | None = Field(
        default=None,
        description="the deterministic scorer as `module:function` (else the `sdi.rules` entry "
        "point named by the rule id)",
    )
    judge_instructions: str | None = None
    opened_by: AnnotationKind | None = Field(
        default=None,
        description="the annotation that opens the rule: n/a exactly when no turn carries it "
        "(a report shows the candidate turn behind each violation)",
    )
    never_na: bool = Field(default=False, description="the rule always applies")
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


def rule_order(rule_id: str) -> tuple[int, str]:
    """The contract's ten rules first, in their order; then the others by name."""
    return (RULE_IDS.index(rule_id) if rule_id in RULE_IDS else len(RULE_IDS), rule_id)


@lru_cache(maxsize=4)
def load_rubrics(folder: Path = RUBRICS_DIR) -> dict[str, Rubric]:
    """The built-in rubrics (or a folder's); a built-in rule without its rubric file is an error
    naming the missing file."""
    out: dict[str, Rubric] = {}
    for rule_id in RULE_IDS:
        path = folder / f"{rule_id}.yaml"
        if folder == RUBRICS_DIR and not path.is_file():
            raise InputError(path, None, f"no rubric for rule '{rule_id}'")
    for path in sorted(folder.glob("*.yaml"), key=lambda p: rule_order(p.stem)):
        out[path.stem] = load_rubric(path)
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


def files_sha256(paths: list[Path]) -> str:
    """One hash over rubric files (names and bytes): a rule set's identity."""
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def rubrics_sha256(folder: Path | None = None) -> str:
    """The hash of a folder's rubrics, or of the current project's rule set: part of a run's
    comparability fingerprint."""
    if folder is not None:
        return files_sha256(list(folder.glob("*.yaml")))
    from harness.scoring.registry import load_rules

    return load_rules().sha256
