"""Problems (`problems/<id>.yaml`): the system-design problems an interview can be about.

The five of the seed prompt ship in `harness/data/problems`; a project's `problems/` adds
problems and overrides built-in ones by id (harness.project). Personas name a problem by id;
the opening rule recognises problems by their `names`; the synthetic backend reads the
`keywords`, states the `brief` and asks for the `expectations`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from harness.config.yamlio import read_yaml_model, require_file_stem
from harness.errors import InputError
from harness.project import current_project, snapshotted


class ProblemSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    order: int = Field(default=100, description="place in listings (the seed prompt's order)")
    label: str = Field(description='the problem as a noun phrase: "URL shortener"')
    brief: str = Field(description="the problem statement")
    names: list[str] = Field(min_length=1, description="phrases that name it (`*` = any ending)")
    setting: list[str] = Field(
        default_factory=list, description="parts a statement of it may name without designing it"
    )
    keywords: list[str] = Field(default_factory=list)
    expectations: list[str] = Field(default_factory=list)


@lru_cache(maxsize=16)
def _load(files: tuple[tuple[Path, float], ...]) -> dict[str, ProblemSpec]:
    specs = []
    for path, _ in files:
        spec = read_yaml_model(path, ProblemSpec)
        require_file_stem(path, "id", spec.id)
        specs.append(spec)
    return {s.id: s for s in sorted(specs, key=lambda s: (s.order, s.id))}


def load_problems() -> dict[str, ProblemSpec]:
    """The current project's problems by id, in listing order. Read again when a file
    changes (once per harness.project.snapshot block)."""

    def fresh() -> dict[str, ProblemSpec]:
        paths = current_project().glob("problems/*.yaml")
        return _load(tuple((p, p.stat().st_mtime) for p in paths))

    return snapshotted("problems", fresh)


def problem(problem_id: str) -> ProblemSpec:
    problems = load_problems()
    if problem_id not in problems:
        known = ", ".join(problems)
        raise InputError(None, "problem", f"unknown problem '{problem_id}' (known: {known})")
    return problems[problem_id]
