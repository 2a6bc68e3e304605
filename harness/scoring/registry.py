"""The rule registry: every rule is a rubric file, judged by the LLM judge and/or checked by a
deterministic Python scorer.

Rules come from the built-in rubrics (`harness/data/rubrics`) and the project's `rubrics/`
(a project file overrides the built-in rule of the same id). A rubric names its scorer as
`scorer: package.module:function`; without one, an installed package may provide it through
the `sdi.rules` entry point named by the rule id:

    [project.entry-points."sdi.rules"]
    monitoring = "my_rules.monitoring:check"

A scorer takes a `harness.scoring.view.TranscriptView` and returns a `RuleResult`. The ten
built-in rules are the first users: their rubrics name their scorers.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

from harness.errors import InputError
from harness.project import BUILTIN_ROOT, Project, current_project, snapshotted
from harness.scoring.rubrics import Rubric, files_sha256, load_rubric, rule_order

if TYPE_CHECKING:
    from harness.contracts import RuleResult
    from harness.scoring.view import TranscriptView

Check = Callable[["TranscriptView"], "RuleResult"]
ENTRY_POINT_GROUP = "sdi.rules"


@dataclass(frozen=True)
class Rule:
    rubric: Rubric
    path: Path
    check: Check | None

    @property
    def id(self) -> str:
        return self.rubric.id

    @property
    def judged(self) -> bool:
        return "judge" in self.rubric.scorers


@dataclass(frozen=True)
class RuleSet:
    """The rules a project scores with, in report order; `sha256` is the set's identity."""

    rules: dict[str, Rule]
    sha256: str

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.rules)

    @cached_property
    def judged(self) -> dict[str, Rubric]:
        """The rubrics of the rules the LLM judge decides, by id."""
        return {r.id: r.rubric for r in self.rules.values() if r.judged}


def _import(dotted: str, path: Path) -> Check:
    """`module:function`, importable as installed or from the project folder holding the
    rubric (`<project>/rubrics/x.yaml` -> `<project>/module.py`)."""
    module, _, name = dotted.partition(":")
    project_root = path.resolve().parent.parent
    if project_root != BUILTIN_ROOT and str(project_root) not in sys.path:
        sys.path.append(str(project_root))
    try:
        found = getattr(importlib.import_module(module), name) if name else None
    except (ImportError, AttributeError) as err:
        raise InputError(path, "scorer", f"cannot import '{dotted}' ({err})") from None
    if not callable(found):
        raise InputError(path, "scorer", f"'{dotted}' is not module:function")
    check: Check = found
    return check


def _entry_point(rule_id: str, path: Path) -> Check | None:
    for ep in entry_points(group=ENTRY_POINT_GROUP, name=rule_id):
        try:
            loaded: Check = ep.load()
            return loaded
        except Exception as err:  # a broken plugin is the user's input: name it
            raise InputError(path, "scorer", f"entry point {ep.value} failed: {err}") from None
    return None


def resolve_check(rubric: Rubric, path: Path) -> Check | None:
    """The rule's deterministic scorer; an error when the rubric asks for one that is missing."""
    check = _import(rubric.scorer, path) if rubric.scorer else _entry_point(rubric.id, path)
    if check is None and "deterministic" in rubric.scorers:
        raise InputError(
            path,
            "scorers",
            "'deterministic' needs `scorer: module:function` or an "
            f"'{ENTRY_POINT_GROUP}' entry point named '{rubric.id}'",
        )
    if "judge" in rubric.scorers and not rubric.judge_instructions:
        raise InputError(path, "judge_instructions", "required when 'judge' is among scorers")
    return check


@lru_cache(maxsize=16)
def _load(files: tuple[tuple[Path, float], ...]) -> RuleSet:
    rules: dict[str, Rule] = {}
    for path, _ in files:
        rubric = load_rubric(path)
        rules[rubric.id] = Rule(rubric=rubric, path=path, check=resolve_check(rubric, path))
    ordered = dict(sorted(rules.items(), key=lambda kv: rule_order(kv[0])))
    return RuleSet(rules=ordered, sha256=files_sha256([p for p, _ in files]))


def load_rules(project: Project | None = None) -> RuleSet:
    """The project's rule set: built-in rubrics overridden and extended by `rubrics/*.yaml`.
    Read again when a rubric file changes (once per harness.project.snapshot block)."""

    def fresh() -> RuleSet:
        paths = (project or current_project()).glob("rubrics/*.yaml")
        return _load(tuple((p, p.stat().st_mtime) for p in paths))

    return fresh() if project is not None else snapshotted("rules", fresh)


def rules_from_folder(folder: Path) -> RuleSet:
    """The rules of one folder of rubrics alone (no built-ins), e.g. for a judge under test."""
    paths = sorted(folder.glob("*.yaml"))
    return _load(tuple((p, p.stat().st_mtime) for p in paths))
