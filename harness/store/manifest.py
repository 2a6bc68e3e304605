"""`runs/<run-id>/manifest.json`: what a run was, so its results can be trusted and compared."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from harness.backends.base import Usage

MANIFEST_SCHEMA = "sdi.manifest/1"
RunStatus = Literal["running", "complete", "interrupted", "failed"]


class PromptRecord(BaseModel):
    id: str
    path: str
    sha256: str


class RoleRecord(BaseModel):
    backend: str
    model: str
    max_tokens: int
    synthetic: bool
    base_url: str | None = Field(default=None, description="the server the role's calls went to")


class Manifest(BaseModel):
    model_config = ConfigDict(extra="allow")

    schema_: str = Field(default=MANIFEST_SCHEMA, alias="schema")
    run_id: str
    suite_name: str
    suite_path: str
    suite: dict[str, Any]
    prompts: list[PromptRecord]
    personas: dict[str, str] = Field(description="persona id -> sha256 of its file")
    personas_meta: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="persona id -> level, problem, expected_band, mode, path"
    )
    interviewer: RoleRecord
    candidate: RoleRecord
    harness_version: str
    git_commit: str | None
    synthetic: bool = Field(description="true when any role ran on the synthetic backend")
    status: RunStatus = "running"
    started_at: str
    ended_at: str | None = None
    interviews_planned: int = 0
    interviews_done: int = 0
    model_calls: int = 0
    cache_hits: int = 0
    usage: Usage = Field(default_factory=Usage, description="every call's, replays included")
    billed_usage: Usage = Field(
        default_factory=Usage, description="calls a model answered (and billed) in this run"
    )
    replayed_usage: Usage = Field(
        default_factory=Usage, description="calls the response cache answered (not billed)"
    )
    cost_usd: float = Field(default=0.0, description="estimate for every call the run used")
    spent_usd: float = Field(default=0.0, description="estimate for calls not served by cache")
    fingerprint: dict[str, Any] = Field(
        default_factory=dict,
        description="everything but the prompt under test; runs compare only when these match",
    )
