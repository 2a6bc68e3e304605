"""Cost preview (`sdi run --dry-run`, `sdi gate --dry-run`, `sdi plan` in dollars): no call is
made, and the figures match what a run through the loopback servers then measures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.backends.base import ChatMessage, ModelRequest
from harness.backends.registry import backend_spec
from harness.cli.main import app
from harness.config.suites import load_suite
from harness.contracts import load_transcripts
from harness.simulate.estimate import bill_chain, estimate_suite
from harness.simulate.progress import QuietProgress
from harness.simulate.runner import run_suite
from harness.store.runs import TRANSCRIPTS
from tests.conftest import LLM_PERSONA, SCRIPTED_PERSONA, write_project
from tests.loopback_openai import ChatCompletionsServer, running_openai_loopback


@pytest.fixture
def chat(monkeypatch: pytest.MonkeyPatch) -> Iterator[ChatCompletionsServer]:
    with running_openai_loopback(monkeypatch) as server:
        yield server


def _chain(*turns: str, system: str = "S" * 8000) -> list[ModelRequest]:
    """Requests of one growing conversation, one per user turn."""
    out, messages = [], []
    for i, text in enumerate(turns):
        messages = [*messages, ChatMessage(role="user", content=text)]
        out.append(ModelRequest(role="interviewer", model="m", system=system, messages=messages))
        messages = [*messages, ChatMessage(role="assistant", content=f"reply {i} " * 20)]
    return out


def test_explicit_caching_writes_once_and_reads_the_prefix() -> None:
    spec = backend_spec("anthropic")
    billed = bill_chain(_chain("a" * 400, "b" * 400, "c" * 400), spec)
    assert billed.calls == 3
    first_write = 2000 + 100  # system and first turn, 4 characters a token
    assert billed.cache_write_tokens > first_write
    assert billed.cache_read_tokens >= first_write * 2  # calls 2 and 3 read what came before
    assert billed.input_tokens == 0  # every request ends at a breakpoint


def test_nothing_cached_below_the_minimum_length() -> None:
    for name in ("anthropic", "openai"):
        billed = bill_chain(_chain("a" * 40, "b" * 40, system="short prompt"), backend_spec(name))
        assert billed.cache_read_tokens == billed.cache_write_tokens == 0, name


def test_automatic_caching_reads_without_billing_writes() -> None:
    billed = bill_chain(_chain("a" * 400, "b" * 400), backend_spec("openai"))
    assert billed.cache_write_tokens == 0 and billed.cache_read_tokens > 2000


def _openai_suite(root: Path, chat: ChatCompletionsServer, personas: list[dict]) -> Path:
    return write_project(
        root,
        repeats=2,
        personas=personas,
        extra_suite={
            "interviewer": {"backend": "openai", "model": "gpt-4.1-mini", "max_tokens": 500},
            "candidate": {"backend": "openai", "model": "gpt-4.1-nano", "max_tokens": 400},
        },
    )


def test_dry_run_calls_nothing_and_counts_the_calls_a_run_makes(
    chat: ChatCompletionsServer, tmp_path: Path
) -> None:
    suite = _openai_suite(tmp_path / "project", chat, [SCRIPTED_PERSONA])
    runs = tmp_path / "runs"
    result = CliRunner().invoke(app, ["run", str(suite), "--dry-run", "--runs-dir", str(runs)])
    assert result.exit_code == 0, result.output
    assert chat.chat_requests() == [] and not runs.exists()
    assert "2 planned, 0 already in the response cache" in result.stdout
    assert "with batches: $" in result.stdout
    before = estimate_suite(load_suite(suite), runs)

    run_dir = run_suite(load_suite(suite), runs, progress=QuietProgress())
    calls = [c for t in load_transcripts(run_dir / TRANSCRIPTS) for c in t.meta["calls"]]
    (interviewer,) = before.roles  # a scripted persona needs no candidate model
    # the scripted turns and their timings fix the number of calls: the preview plays them
    assert interviewer.tokens["mid"].calls == len(calls) == len(chat.chat_requests())
    assert before.cost_usd.low <= before.cost_usd.mid <= before.cost_usd.high
    assert before.cost_batch_usd.mid == pytest.approx(before.cost_usd.mid / 2)

    # Now the response cache holds both interviews, and the run's replies set the lengths.
    after = estimate_suite(load_suite(suite), runs)
    assert (after.replayed, after.to_run) == (2, 0) and after.cost_usd.high == 0
    assert "earlier run" in after.roles[0].basis
    measured = sum(c["usage"]["output_tokens"] for c in calls) / len(calls)
    assert after.roles[0].reply_tokens.mid == pytest.approx(measured)


def test_estimate_from_an_earlier_run_is_near_the_measured_cost(
    chat: ChatCompletionsServer, tmp_path: Path
) -> None:
    """A second run of the suite (other seed, so nothing replays) costs about what the
    preview says, with reply lengths learnt from the first."""
    suite = _openai_suite(tmp_path / "project", chat, [SCRIPTED_PERSONA, LLM_PERSONA])
    runs = tmp_path / "runs"
    run_suite(load_suite(suite), runs, progress=QuietProgress())
    suite.write_text(suite.read_text().replace("seed: 3", "seed: 4"))
    preview = estimate_suite(load_suite(suite), runs)
    assert preview.to_run == 4
    second = run_suite(load_suite(suite), runs, progress=QuietProgress())
    spent = sum(
        c["cost_usd"] for t in load_transcripts(second / TRANSCRIPTS) for c in t.meta["calls"]
    )
    assert spent > 0
    assert abs(preview.cost_usd.mid - spent) / spent < 0.25
    assert preview.cost_usd.low <= spent * 1.1 and spent * 0.9 <= preview.cost_usd.high


def test_dry_run_needs_no_key_but_a_price(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    suite = write_project(
        tmp_path / "project",
        extra_suite={"interviewer": {"backend": "anthropic", "model": "claude-sonnet-4-6"}},
    )
    args = ["run", str(suite), "--dry-run", "--runs-dir", str(tmp_path / "runs")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "anthropic/claude-sonnet-4-6" in result.stdout
    suite.write_text(suite.read_text().replace("claude-sonnet-4-6", "claude-unknown-1"))
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2 and "claude-unknown-1" in refused.stderr


def test_gate_dry_run_prices_each_side_and_runs_nothing(tmp_path: Path) -> None:
    suite = write_project(tmp_path / "project", personas=[SCRIPTED_PERSONA])
    runs = tmp_path / "runs"
    run_dir = run_suite(load_suite(suite), runs, progress=QuietProgress())
    args = ["gate", "--baseline", run_dir.name, "--candidate", "v1", "--suite", str(suite)]
    result = CliRunner().invoke(app, [*args, "--runs-dir", str(runs), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"--baseline {run_dir.name}: an existing run, nothing to call" in result.stdout
    assert "--candidate v1:" in result.stdout and "2 planned" in result.stdout
    assert sorted(p.name for p in runs.iterdir() if p.is_dir()) == [run_dir.name]


def test_plan_answers_in_interviews_and_dollars(tmp_path: Path) -> None:
    suite = write_project(
        tmp_path / "project",
        personas=[SCRIPTED_PERSONA],
        extra_suite={"interviewer": {"backend": "anthropic", "model": "claude-sonnet-4-6"}},
    )
    args = ["plan", "--effect", "0.2", "--baseline-rate", "0.6", "--personas", "12"]
    result = CliRunner().invoke(app, [*args, "--suite", str(suite), "--runs-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    repeats = int(result.stdout.split("as `sdi run` does): ")[1].split()[0])
    row = next(ln for ln in result.stdout.splitlines() if ln.startswith("paired  "))
    assert f"{2 * repeats * 12:,}" in row.split() and "$" in row
    per = estimate_suite(load_suite(suite, require_key=False), tmp_path, replay=False)
    dollars = 2 * repeats * 12 * per.cost_per_interview_usd.mid
    assert f"${dollars:,.2f}" in row
