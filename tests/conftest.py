"""Shared fixtures: a throwaway project (prompt, personas, suite) in a temporary folder."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml

from harness.project import BUILTIN_ROOT
from tests.loopback import LoopbackServer, running_loopback

if TYPE_CHECKING:
    from playwright.sync_api import Browser

REPO = Path(__file__).resolve().parent.parent
V1 = BUILTIN_ROOT / "prompts" / "interviewer" / "v1.md"

SCRIPTED_PERSONA = {
    "id": "url-mid-test",
    "level": "mid",
    "problem": "url-shortener",
    "expected_band": [5, 7],
    "strengths": ["api design"],
    "gaps": ["cache eviction"],
    "mode": "scripted",
    "turns": [
        {"text": "Who are the users, and do links expire?", "duration_s": 240},
        {
            "text": "I'd have an API service that writes the mapping to a database and "
            "returns a short code.",
            "duration_s": 420,
            "annotations": [{"kind": "no_scale"}],
            "replies": [
                {
                    "when": "scale",
                    "text": "About 100M new URLs a month, so 40 writes/s and 4,000 reads/s.",
                    "annotations": [],
                }
            ],
        },
        {
            "text": "For reads we'd add a cache in front of the database.",
            "duration_s": 600,
            "annotations": [{"kind": "gloss", "topic": "cache"}],
        },
        {
            "text": "I'll go with Cassandra rather than Postgres for the writes.",
            "duration_s": 600,
            "annotations": [{"kind": "decision", "topic": "cassandra"}],
        },
        {
            "text": "Consistent hashing means no keys move when we add a node.",
            "duration_s": 500,
            "annotations": [{"kind": "incorrect_claim", "topic": "consistent hashing"}],
        },
    ],
}

LLM_PERSONA = {
    "id": "queue-senior-test",
    "level": "senior",
    "problem": "job-queue",
    "expected_band": [7, 9],
    "mode": "llm",
    "card": {
        "background": "Backend engineer, six years on payment systems.",
        "habits": ["gives numbers early"],
        "plants": [
            {"kind": "gloss", "topic": "cache", "at_minute": 12},
            {"kind": "decision", "topic": "kafka", "at_minute": 20},
        ],
    },
}


def write_project(
    root: Path,
    *,
    repeats: int = 2,
    personas: list[dict] | None = None,
    extra_suite: dict | None = None,
) -> Path:
    """A minimal project in `root`; returns the suite path."""
    (root / "prompts" / "interviewer").mkdir(parents=True)
    shutil.copy(V1, root / "prompts" / "interviewer" / "v1.md")
    (root / "candidates").mkdir()
    for persona in personas or [SCRIPTED_PERSONA, LLM_PERSONA]:
        (root / "candidates" / f"{persona['id']}.yaml").write_text(yaml.safe_dump(persona))
    (root / "suites").mkdir()
    suite = {
        "name": "test",
        "prompts": ["v1"],
        "repeats": repeats,
        "concurrency": 4,
        "seed": 3,
        **(extra_suite or {}),
    }
    path = root / "suites" / "test.yaml"
    path.write_text(yaml.safe_dump(suite))
    return path


@pytest.fixture
def suite_path(tmp_path: Path) -> Path:
    return write_project(tmp_path / "project")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium through Playwright, one per test module (browser tests skip
    themselves where there is no Chromium)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")
    from harness.report.browser import launch

    with sync_api.sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    """A loopback Messages-API server, with the SDK pointed at it and a fake key set."""
    with running_loopback(monkeypatch) as server:
        yield server


def anthropic_project(
    root: Path, model: str, *, concurrency: int, limits: dict | None = None
) -> Path:
    """One scripted persona, 3 repeats, the interviewer on the anthropic backend (the loopback
    server in tests); returns the suite path."""
    return write_project(
        root,
        repeats=3,
        personas=[SCRIPTED_PERSONA],
        extra_suite={
            "concurrency": concurrency,
            "interviewer": {"backend": "anthropic", "model": model, "max_tokens": 300},
            "limits": limits or {},
        },
    )
