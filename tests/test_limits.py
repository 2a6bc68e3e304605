"""Timeouts, the `retry-after` cap, the interview deadline, the run budget and the per-interview
cap checked before a call, all through the real SDK against the loopback server."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.backends.anthropic_backend import AnthropicBackend
from harness.backends.base import ChatMessage, ModelRequest
from harness.cli.main import app
from harness.config.suites import load_suite
from harness.contracts import load_transcripts
from harness.simulate.metering import call_ceiling_usd
from harness.simulate.runner import fingerprint
from harness.store.failures import read_failures
from harness.store.ledger import read_ledger
from harness.store.runs import read_manifest
from tests.conftest import anthropic_project
from tests.loopback import LoopbackServer, error, hang, message

runner = CliRunner()
MODEL = "claude-sonnet-4-6"
REQUEST = ModelRequest(
    role="interviewer",
    model=MODEL,
    system="Interview me.",
    messages=[ChatMessage(role="user", content="Hi.")],
    max_tokens=50,
)


async def test_a_hung_attempt_times_out_and_is_retried(loopback: LoopbackServer) -> None:
    loopback.enqueue(hang(20), message("Where do the writes go?"))
    backend = AnthropicBackend(timeout=0.5, max_retries=2)
    started = time.monotonic()
    try:
        response = await backend.complete(REQUEST)
    finally:
        await backend.aclose()
    assert response.text == "Where do the writes go?"
    assert time.monotonic() - started < 10
    assert len(loopback.messages_requests()) == 2


async def test_retry_after_is_obeyed_only_up_to_the_cap(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        error(429, "rate_limit_error", "slow down", retry_after="3600"),
        error(529, "overloaded_error", "busy", retry_after_ms="3600000"),
        message("And the reads?"),
    )
    backend = AnthropicBackend(max_retry_after=0.1, max_retries=2)
    started = time.monotonic()
    try:
        response = await backend.complete(REQUEST)
    finally:
        await backend.aclose()
    assert response.text == "And the reads?" and time.monotonic() - started < 5


def _project(root: Path, **limits: object) -> Path:
    return anthropic_project(root, MODEL, concurrency=2, limits=limits)


def _run(suite: Path, runs: Path, *extra: str) -> tuple[int, Path]:
    result = runner.invoke(app, ["run", str(suite), "--runs-dir", str(runs), "-q", *extra])
    assert "Traceback" not in result.output
    return result.exit_code, Path(result.stdout.strip().splitlines()[-1])


def test_interview_deadline_fails_that_interview(loopback: LoopbackServer, tmp_path: Path) -> None:
    loopback.latency_s = 0.2
    code, run_dir = _run(_project(tmp_path / "p", interview_deadline_s=0.5), tmp_path / "runs")
    assert code == 3
    failures = read_failures(run_dir)
    assert len(failures) == 3
    assert all("deadline of 0.5 s" in f.reason for f in failures.values())
    assert read_manifest(run_dir).status == "partial"


def test_run_budget_is_never_passed_and_a_higher_one_resumes(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    budget = 0.008
    suite = _project(tmp_path / "p", max_run_cost_usd=budget)
    runs = tmp_path / "runs"
    code, run_dir = _run(suite, runs)
    manifest = read_manifest(run_dir)
    assert code == 3 and manifest.status == "budget"
    assert manifest.interviews_done < 3 and manifest.interviews_budget_stopped >= 1
    assert 0 < loopback.billed_usd <= budget
    assert read_ledger(run_dir).spent_usd == pytest.approx(loopback.billed_usd, abs=1e-6)

    suite.write_text(
        suite.read_text().replace(f"max_run_cost_usd: {budget}", "max_run_cost_usd: 1.0")
    )
    code, again = _run(suite, runs, "--resume", run_dir.name)
    assert code == 0 and again == run_dir
    manifest = read_manifest(run_dir)
    assert manifest.status == "complete" and manifest.interviews_done == 3
    assert manifest.spent_usd == pytest.approx(loopback.billed_usd, abs=1e-6)


def test_operational_limits_are_not_part_of_the_fingerprint(tmp_path: Path) -> None:
    a = load_suite(_project(tmp_path / "a"), require_key=False)
    b = load_suite(
        _project(tmp_path / "b", call_timeout_s=5, max_run_cost_usd=2.0), require_key=False
    )
    assert fingerprint(a)["limits"] == fingerprint(b)["limits"]


def test_interview_cost_cap_is_checked_before_the_call(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    cap = 0.007  # a whole interview costs about $0.005; each call's ceiling about $0.005
    code, run_dir = _run(_project(tmp_path / "p", max_cost_usd=cap), tmp_path / "runs")
    assert code == 0
    for t in load_transcripts(run_dir / "transcripts.jsonl"):
        assert t.meta["end_reason"] == "cost_cap"
        assert t.meta["calls"] and sum(c["cost_usd"] for c in t.meta["calls"]) <= cap
    assert loopback.billed_usd <= 3 * cap


def test_call_ceiling_bounds_what_the_loopback_bills() -> None:
    """The ceiling is an upper bound: more than the server's own pricing of the same call."""
    long = REQUEST.model_copy(update={"system": "word " * 2000, "max_tokens": 10})
    assert call_ceiling_usd(long) > 2000 * 5 / 4 * 3 / 1e6  # 10,000 chars at the input price
    assert call_ceiling_usd(REQUEST.model_copy(update={"model": "synthetic-1"})) == 0.0
