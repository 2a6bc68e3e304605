"""Hand-made run pieces shared by tests that build runs without simulating them."""

from __future__ import annotations

from typing import Any

from harness.store.manifest import Manifest, PromptRecord, RoleRecord


def hand_manifest(
    run_id: str,
    prompts: list[str],
    personas_meta: dict[str, dict[str, Any]],
    *,
    synthetic: bool = True,
    suite_name: str = "hand",
    prompt_sha: dict[str, str] | None = None,
    fingerprint: dict[str, Any] | None = None,
) -> Manifest:
    """A finished run's manifest; a prompt's sha256 defaults to `sha-<id>`."""
    role = RoleRecord(backend="synthetic", model="synthetic-x", max_tokens=100, synthetic=synthetic)
    return Manifest(
        run_id=run_id,
        suite_name=suite_name,
        suite_path="suites/hand.yaml",
        suite={"seed": 0},
        prompts=[
            PromptRecord(id=p, path=f"{p}.md", sha256=(prompt_sha or {}).get(p, f"sha-{p}"))
            for p in prompts
        ],
        personas={p: f"sha-{p}" for p in personas_meta},
        personas_meta=personas_meta,
        interviewer=role,
        candidate=role,
        harness_version="0.1.0",
        git_commit=None,
        synthetic=synthetic,
        status="complete",
        started_at="2026-01-01T00:00:00+00:00",
        fingerprint=fingerprint or {},
    )
