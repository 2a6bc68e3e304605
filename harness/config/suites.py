"""Suites (`suites/*.yaml`): which prompts meet which personas, on which backends, how often."""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.backends.pricing import FREE, ModelPrice
from harness.backends.registry import check_role
from harness.config.personas import LoadedPersona, load_personas
from harness.config.prompts import PromptVersion, load_prompt
from harness.config.yamlio import read_yaml_model
from harness.errors import InputError
from harness.project import current_project


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RoleSettings(_Strict):
    """Which model plays a role, where it is served, and what it costs."""

    backend: str = Field(default="synthetic", description="a registered backend name")
    model: str = "synthetic-1"
    max_tokens: int = Field(default=1024, ge=16, le=20000)
    base_url: str | None = Field(
        default=None, description="the server to call (default: the SDK's env var, the vendor)"
    )
    api_key_env: str | None = Field(
        default=None, description="environment variable holding the key (default: the SDK's)"
    )
    price: ModelPrice | float | None = Field(
        default=None, description="USD per Mtok {input, output}, or 0 for a local model"
    )

    @field_validator("backend")
    @classmethod
    def _registered(cls, name: str) -> str:
        from harness.backends.registry import backend_specs

        if name not in backend_specs():
            raise ValueError(f"unknown backend '{name}' (known: {', '.join(backend_specs())})")
        return name

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None and not url.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return url

    @field_validator("price")
    @classmethod
    def _zero_or_table(cls, price: ModelPrice | float | None) -> ModelPrice | float | None:
        if isinstance(price, float | int) and price != 0:
            raise ValueError("give 0 (a local model) or {input: USD per Mtok, output: ...}")
        return price

    def price_spec(self) -> ModelPrice | None:
        """The suite's own price for this role, if it gives one."""
        if self.price is None:
            return None
        return self.price if isinstance(self.price, ModelPrice) else FREE

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

    def missing_key(self) -> str | None:
        """The environment variable a role's key should be in, when it is not set."""
        from harness.backends.registry import api_key_for, key_env_for

        for settings in self.roles_used().values():
            try:
                api_key_for(settings)
            except InputError:
                return key_env_for(settings)
        return None

    def backends_used(self) -> set[str]:
        return {settings.backend for settings in self.roles_used().values()}

    def roles_used(self) -> dict[str, RoleSettings]:
        """The roles that call a model in this suite (the candidate only if a model plays it)."""
        roles = {"interviewer": self.suite.interviewer}
        if self.models_candidate():
            roles["candidate"] = self.suite.candidate
        return roles

    def uses_synthetic(self) -> bool:
        """True when any text in the run comes from the synthetic stand-in."""
        return "synthetic" in self.backends_used()


def _resolve_prompt(entry: str, base: Path, prompts_dir: Path) -> Path:
    """A prompt path or id; in a project, the project's file first, then the built-in one."""
    as_path = base / entry if entry.endswith(".md") or "/" in entry else prompts_dir / f"{entry}.md"
    return current_project().locate(as_path) or as_path


def _prompt_versions(p: Path, suite: Suite, entries: list[str], field: str) -> list[PromptVersion]:
    base = p.parent
    prompts: list[PromptVersion] = []
    for i, entry in enumerate(entries):
        prompt_path = _resolve_prompt(entry, base, base / suite.prompts_dir)
        if not prompt_path.is_file():
            raise InputError(p, f"{field}[{i}]", f"prompt file not found: {prompt_path}")
        prompts.append(load_prompt(prompt_path))
    ids = [pv.id for pv in prompts]
    if len(set(ids)) != len(ids):
        raise InputError(p, field, "two prompt versions share one id (file stem)")
    return prompts


def override(
    loaded: LoadedSuite,
    *,
    prompts: list[str] | None = None,
    repeats: int | None = None,
    personas: str | None = None,
    limit: int | None = None,
) -> LoadedSuite:
    """The suite with command-line overrides: other prompt versions (ids or files), repeats,
    only the personas whose id matches a glob, at most `limit` personas (the first by id)."""
    p = Path(loaded.path)
    suite = loaded.suite
    updates: dict[str, object] = {}
    if prompts:
        # A file given on the command line is relative to the current folder, not the suite.
        prompts = [str(Path(e).resolve()) if Path(e).is_file() else e for e in prompts]
        updates["prompts"] = _prompt_versions(p, suite, prompts, "--prompts")
        suite = suite.model_copy(update={"prompts": prompts})
    if repeats is not None:
        suite = suite.model_copy(update={"repeats": repeats})
    chosen = loaded.personas
    if personas:
        chosen = [lp for lp in chosen if fnmatch.fnmatchcase(lp.persona.id, personas)]
    if limit is not None:
        chosen = sorted(chosen, key=lambda lp: lp.persona.id)[:limit]
    if not chosen:
        raise InputError(None, "--personas", f"no persona of {p.name} matches '{personas}'")
    return loaded.model_copy(update={"suite": suite, "personas": chosen, **updates})


def load_suite(path: str | Path, *, require_key: bool = True) -> LoadedSuite:
    """Validate a suite and everything it names; errors name the file and the field. `path` may
    be a file, a project-relative path the built-ins have (`suites/smoke.yaml`) or a suite id."""
    p = current_project().resolve(Path(path), "suites") or Path(path)
    suite = read_yaml_model(p, Suite)
    base = p.parent
    prompts = _prompt_versions(p, suite, suite.prompts, "prompts")
    personas = load_personas(suite.personas, base, p)
    loaded = LoadedSuite(suite=suite, path=str(p.resolve()), prompts=prompts, personas=personas)
    for role, settings in loaded.roles_used().items():
        check_role(settings, p, role, require_key=require_key)
    return loaded
