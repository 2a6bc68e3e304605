"""Suites (`suites/*.yaml`): which prompts meet which personas, on which backends, how often."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from harness.config.personas import LoadedPersona, load_personas
from harness.config.prompts import PromptVersion, load_prompt
from harness.config.yamlio import read_yaml_model
from harness.errors import InputError

BackendName = Literal["synthetic", "anthropic"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RoleSettings(_Strict):
    backend: BackendName = "synthetic"
    model: str = "synthetic-1"
    max_tokens: int = Field(default=1024, ge=16, le=20000)
    batch: bool = Field(default=False, description="send through Message Batches (anthropic)")

    @model_validator(mode="after")
    def _batch_needs_anthropic(self) -> RoleSettings:
        if self.batch and self.backend != "anthropic":
            raise ValueError("batch: true needs the anthropic backend (Message Batches)")
        return self


class Limits(_Strict):
    """Caps that end an interview early; the transcript records which one fired."""

    max_turns: int = Field(default=80, ge=4)
    max_tokens: int = Field(default=400_000, ge=1000, description="input+output tokens")
    max_cost_usd: float = Field(default=5.0, gt=0)


class Suite(_Strict):
    name: str
    description: str | None = None
    prompts: list[str] = Field(min_length=1, description="prompt ids in prompts_dir, or paths")
    prompts_dir: str = "../prompts/interviewer"
    personas: list[str] = Field(default_factory=lambda: ["../candidates/*.yaml"], min_length=1)
    interviewer: RoleSettings = Field(default_factory=RoleSettings)
    candidate: RoleSettings = Field(default_factory=RoleSettings)
    repeats: int = Field(default=3, ge=1, le=1000)
    concurrency: int = Field(default=8, ge=1, le=256)
    seed: int = 0
    clock: Literal["off", "prefix"] = "off"
    limits: Limits = Field(default_factory=Limits)


class LoadedSuite(BaseModel):
    """A validated suite with its files read: what a run needs and records."""

    suite: Suite
    path: str
    prompts: list[PromptVersion]
    personas: list[LoadedPersona]

    def models_candidate(self) -> bool:
        """Whether any persona is played by a model (scripted ones need no candidate backend)."""
        return any(lp.persona.mode == "llm" for lp in self.personas)

    def backends_used(self) -> set[str]:
        used: set[str] = {self.suite.interviewer.backend}
        if self.models_candidate():
            used.add(self.suite.candidate.backend)
        return used

    def needs_api_key(self) -> bool:
        return "anthropic" in self.backends_used()

    def uses_synthetic(self) -> bool:
        """True when any text in the run comes from the synthetic stand-in."""
        return "synthetic" in self.backends_used()


def _resolve_prompt(entry: str, base: Path, prompts_dir: Path) -> Path:
    as_path = base / entry
    if entry.endswith(".md") or "/" in entry:
        return as_path
    return prompts_dir / f"{entry}.md"


def load_suite(path: str | Path, *, require_key: bool = True) -> LoadedSuite:
    """Validate a suite and everything it names; errors name the file and the field."""
    p = Path(path)
    suite = read_yaml_model(p, Suite)
    base = p.parent
    prompts_dir = base / suite.prompts_dir
    prompts: list[PromptVersion] = []
    for i, entry in enumerate(suite.prompts):
        prompt_path = _resolve_prompt(entry, base, prompts_dir)
        if not prompt_path.is_file():
            raise InputError(p, f"prompts[{i}]", f"prompt file not found: {prompt_path}")
        prompts.append(load_prompt(prompt_path))
    ids = [pv.id for pv in prompts]
    if len(set(ids)) != len(ids):
        raise InputError(p, "prompts", "two prompt versions share one id (file stem)")
    personas = load_personas(suite.personas, base, p)
    loaded = LoadedSuite(suite=suite, path=str(p.resolve()), prompts=prompts, personas=personas)
    if require_key and loaded.needs_api_key() and not os.environ.get("ANTHROPIC_API_KEY"):
        role = "interviewer" if suite.interviewer.backend == "anthropic" else "candidate"
        raise InputError(
            p, f"{role}.backend", "uses the anthropic backend but ANTHROPIC_API_KEY is not set"
        )
    return loaded
