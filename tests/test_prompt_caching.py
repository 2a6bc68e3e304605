"""Both roles' requests grow at their end, so the vendor's prompt cache reads the earlier
conversation on every turn; measured from the loopback server's own accounting."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.config.suites import load_suite
from harness.simulate.progress import QuietProgress
from harness.simulate.runner import run_suite
from tests.conftest import LLM_PERSONA, write_project
from tests.loopback import (
    LoopbackServer,
    PromptCacheModel,
    Reply,
    interviewer_reply,
    running_loopback,
)
from tests.test_openai_backend import candidate_reply
from tests.test_simulate import RecordingBackend


def test_model_candidate_requests_are_a_growing_prefix(tmp_path: Path) -> None:
    suite = write_project(tmp_path / "project", repeats=1, personas=[LLM_PERSONA])
    candidate = RecordingBackend()
    run_suite(
        load_suite(suite),
        tmp_path / "runs",
        progress=QuietProgress(),
        candidate_backend=candidate,
    )
    requests = candidate.requests
    assert len(requests) > 5
    for before, after in itertools.pairwise(requests):
        assert after.system == before.system
        assert after.messages[: len(before.messages)] == before.messages
        assert len(after.messages) == len(before.messages) + 2
    # each turn's stage direction is in the turn it was given with, once
    last = requests[-1].messages
    directions = [m.content for m in last if m.content.startswith("[Stage direction")]
    assert len(directions) == len(requests)
    assert any("Planted moves due now: gloss" in d for d in directions)


def _role(body: dict[str, Any]) -> str:
    system = "".join(b.get("text", "") for b in body.get("system") or [])
    return "candidate" if "role-playing a job candidate" in system else "interviewer"


@pytest.fixture
def caching_loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    with running_loopback(monkeypatch) as server:
        server.cache = PromptCacheModel(min_cacheable=1024)
        yield server


def test_both_roles_read_the_cache_above_the_minimum_length(
    caching_loopback: LoopbackServer, tmp_path: Path
) -> None:
    def responder(body: dict[str, Any]) -> Reply:
        return candidate_reply(body) if _role(body) == "candidate" else interviewer_reply(body)

    caching_loopback.responder = responder
    role = {"backend": "anthropic", "model": "claude-haiku-4-5"}
    suite = write_project(
        tmp_path / "project",
        repeats=1,
        personas=[LLM_PERSONA],
        extra_suite={"interviewer": role, "candidate": role, "limits": {"max_turns": 44}},
    )
    run_suite(load_suite(suite), tmp_path / "runs", progress=QuietProgress())
    for name in ("interviewer", "candidate"):
        rows = [u for body, u in caching_loopback.cache.log if _role(body) == name]
        total = [
            u["input_tokens"] + u["cache_creation_input_tokens"] + u["cache_read_input_tokens"]
            for u in rows
        ]
        above = [i for i in range(1, len(rows)) if total[i - 1] >= 1024]
        assert len(above) >= 5, name
        # every call whose predecessor was long enough to cache reads all of it
        assert all(rows[i]["cache_read_input_tokens"] >= total[i - 1] for i in above), name
        billed = sum(
            u["input_tokens"]
            + 1.25 * u["cache_creation_input_tokens"]
            + 0.1 * u["cache_read_input_tokens"]
            for u in rows
        )
        # (before candidate requests grew at their end, the candidate's was 1.24x naive)
        assert billed < 0.7 * sum(total), name
