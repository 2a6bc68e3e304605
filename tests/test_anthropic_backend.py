"""The anthropic backend through the real SDK against the loopback Messages-API server."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.backends.anthropic_backend import AnthropicBackend
from harness.backends.base import BackendFatalError, CallFailedError, ChatMessage, ModelRequest
from harness.cli.main import app
from harness.config.suites import load_suite
from harness.contracts import load_transcripts
from harness.errors import InputError
from harness.simulate.progress import QuietProgress
from harness.simulate.runner import run_suite
from harness.store.runs import TRANSCRIPTS, read_manifest
from tests.conftest import SCRIPTED_PERSONA, write_project
from tests.loopback import FAKE_API_KEY, LoopbackServer, error, junk, message

MODEL = "claude-sonnet-4-6"
SYSTEM = "You are a demanding system-design interviewer."


def _request(*texts: str, max_tokens: int = 700) -> ModelRequest:
    roles = ("user", "assistant")
    return ModelRequest(
        role="interviewer",
        model=MODEL,
        system=SYSTEM,
        messages=[ChatMessage(role=roles[i % 2], content=t) for i, t in enumerate(texts)],
        max_tokens=max_tokens,
    )


async def test_normal_exchange_sends_cached_system_and_parses_usage(
    loopback: LoopbackServer,
) -> None:
    usage = {
        "input_tokens": 12,
        "output_tokens": 34,
        "cache_read_input_tokens": 1000,
        "cache_creation_input_tokens": 200,
    }
    loopback.enqueue(message("Why Cassandra over Postgres?", thinking="weigh it", usage=usage))
    backend = AnthropicBackend()
    try:
        response = await backend.complete(
            _request("I'd like to do an interview.", "Pick one.", "URL shortener.")
        )
    finally:
        await backend.aclose()

    (sent,) = loopback.messages_requests()
    assert sent.headers["authorization"] == f"Bearer {FAKE_API_KEY}"
    assert "anthropic-version" in sent.headers
    body = sent.body
    assert body is not None
    assert body["model"] == MODEL
    assert body["max_tokens"] == 700
    assert body["system"] == [
        {"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}
    ]
    assert body["cache_control"] == {"type": "ephemeral"}
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["messages"][2]["content"] == "URL shortener."
    assert not {"temperature", "top_p", "top_k"} & body.keys()

    assert response.text == "Why Cassandra over Postgres?"  # the thinking block is not the reply
    assert response.stop_reason == "end_turn"
    assert response.backend == "anthropic" and not response.synthetic
    assert response.usage.model_dump() == usage
    assert response.latency_s > 0
    # claude-sonnet-4-6 at $3 / $15 per Mtok; cache write x1.25, cache read x0.1 (prices.yaml)
    expected = (12 * 3 + 200 * 3 * 1.25 + 1000 * 3 * 0.1 + 34 * 15) / 1e6
    assert response.cost_usd == pytest.approx(expected)


async def test_growing_conversation_reads_earlier_turns_from_cache(
    loopback: LoopbackServer,
) -> None:
    backend = AnthropicBackend()
    try:
        first = await backend.complete(_request("Hello.", "Which problem?", "URL shortener."))
        second = await backend.complete(
            _request("Hello.", "Which problem?", "URL shortener.", "Scale?", "100M links/month.")
        )
    finally:
        await backend.aclose()
    assert first.usage.cache_creation_input_tokens > 0
    assert first.usage.cache_read_input_tokens == 0
    # The second call's prefix is everything the first one sent: all of it read from cache.
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.cache_creation_input_tokens > 0


async def test_watched_stop_reason_is_kept_and_logged(
    loopback: LoopbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    loopback.enqueue(message("Let me think about the", stop_reason="max_tokens"))
    backend = AnthropicBackend()
    with caplog.at_level(logging.WARNING):
        response = await backend.complete(_request("Hi."))
    await backend.aclose()
    assert response.stop_reason == "max_tokens"
    assert "max_tokens" in caplog.text


async def test_429_and_529_are_retried_by_the_sdk(loopback: LoopbackServer) -> None:
    loopback.enqueue(
        error(429, "rate_limit_error", "slow down", retry_after="0"),
        error(529, "overloaded_error", "overloaded", retry_after_ms="5"),
        message("What is the read/write ratio?"),
    )
    backend = AnthropicBackend(max_retries=2)
    try:
        response = await backend.complete(_request("Hi."))
    finally:
        await backend.aclose()
    assert response.text == "What is the read/write ratio?"
    seen = loopback.messages_requests()
    assert [r.headers["x-stainless-retry-count"] for r in seen] == ["0", "1", "2"]
    assert all(r.body == seen[0].body for r in seen)


async def test_retries_exhausted_is_fatal(loopback: LoopbackServer) -> None:
    loopback.enqueue(*[error(529, "overloaded_error", "overloaded", retry_after="0")] * 2)
    backend = AnthropicBackend(max_retries=1)
    with pytest.raises(BackendFatalError, match=r"529 overloaded_error.*retries"):
        await backend.complete(_request("Hi."))
    await backend.aclose()
    assert len(loopback.messages_requests()) == 2


@pytest.mark.parametrize(
    ("reply", "needle"),
    [
        (error(401, "authentication_error", "invalid x-api-key"), "401 authentication_error"),
        (error(403, "permission_error", "no access to model"), "403 permission_error"),
        (
            error(
                429,
                "rate_limit_error",
                "monthly spend limit",
                retry_after="0",
                error_code="enforced_spend_limit_reached",
            ),
            "spend limit",
        ),
    ],
)
async def test_unfixable_errors_are_fatal_without_a_retry_storm(
    loopback: LoopbackServer, reply: object, needle: str
) -> None:
    loopback.enqueue(reply)  # type: ignore[arg-type]
    backend = AnthropicBackend(max_retries=3)
    with pytest.raises(BackendFatalError) as caught:
        await backend.complete(_request("Hi."))
    await backend.aclose()
    assert needle in str(caught.value)
    assert "\n" not in str(caught.value)
    assert FAKE_API_KEY not in str(caught.value)
    assert len(loopback.messages_requests()) == 1


@pytest.mark.parametrize(
    ("replies", "needle", "attempts"),
    [
        ([error(400, "invalid_request_error", "temperature is not allowed")], "400", 1),
        ([junk()] * 4, "not a readable reply", 4),
        ([junk(b'{"type": "message", "content": [{"type": "te')] * 4, "not a readable", 4),
    ],
)
async def test_a_call_that_fails_alone_is_not_fatal_to_the_backend(
    loopback: LoopbackServer, replies: list[object], needle: str, attempts: int
) -> None:
    """A 400 is not retried; an unreadable 200 is retried like a 5xx; either fails one call."""
    loopback.enqueue(*replies)  # type: ignore[arg-type]
    backend = AnthropicBackend(max_retries=3)
    with pytest.raises(CallFailedError) as caught:
        await backend.complete(_request("Hi."))
    assert needle in str(caught.value) and FAKE_API_KEY not in str(caught.value)
    assert len(loopback.messages_requests()) == attempts
    response = await backend.complete(_request("Hi."))  # the backend still works
    await backend.aclose()
    assert response.text


async def test_an_unreadable_200_then_a_reply_succeeds(loopback: LoopbackServer) -> None:
    loopback.enqueue(junk(), message("How many reads per second?"))
    backend = AnthropicBackend(max_retries=2)
    try:
        response = await backend.complete(_request("Hi."))
    finally:
        await backend.aclose()
    assert response.text == "How many reads per second?"
    assert len(loopback.messages_requests()) == 2


def test_construction_needs_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(InputError, match="ANTHROPIC_API_KEY"):
        AnthropicBackend(base_url="http://127.0.0.1:9")


def _anthropic_project(root: Path) -> Path:
    return write_project(
        root,
        repeats=2,
        personas=[SCRIPTED_PERSONA],
        extra_suite={
            "interviewer": {"backend": "anthropic", "model": MODEL, "max_tokens": 800},
            "candidate": {"backend": "anthropic", "model": "claude-haiku-4-5"},  # unused: scripted
        },
    )


def test_sdi_run_end_to_end_through_the_loopback(loopback: LoopbackServer, tmp_path: Path) -> None:
    suite = _anthropic_project(tmp_path / "project")
    runs = tmp_path / "runs"
    result = CliRunner().invoke(app, ["run", str(suite), "--runs-dir", str(runs), "-q"])
    assert result.exit_code == 0, result.output
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    assert run_dir.parent == runs

    transcripts = load_transcripts(run_dir / TRANSCRIPTS)
    assert len(transcripts) == 2
    first_pass = len(loopback.messages_requests())
    interviewer_calls = [c for t in transcripts for c in t.meta["calls"]]
    assert first_pass == len(interviewer_calls)  # repeats are independent samples: no reuse
    for t in transcripts:
        assert t.meta["end_reason"] == "feedback"
        assert not t.meta["synthetic"]
        calls = t.meta["calls"]
        assert all(c["backend"] == "anthropic" and c["stop_reason"] == "end_turn" for c in calls)
        assert all(c["usage"]["output_tokens"] > 0 for c in calls)
        # every turn after the first reads the conversation so far from the prompt cache
        assert all(c["usage"]["cache_read_input_tokens"] > 0 for c in calls[1:])
    # The repeats run side by side with identical prompts, so either may write what the other
    # then reads: count cache writes over the run, not per call or per interview.
    assert sum(c["usage"]["cache_creation_input_tokens"] for c in interviewer_calls) > 0
    assert all(not c["cached"] and c["latency_s"] > 0 for c in interviewer_calls)
    manifest = read_manifest(run_dir)
    assert manifest.status == "complete"
    assert manifest.interviewer.backend == "anthropic" and not manifest.synthetic
    assert manifest.usage.cache_read_input_tokens > 0 and manifest.cost_usd > 0

    # An identical second run is answered entirely from the response cache.
    loaded = load_suite(suite)
    again = run_suite(loaded, runs, progress=QuietProgress())
    assert len(loopback.messages_requests()) == first_pass
    assert read_manifest(again).model_calls == 0

    # The key never reaches a file: transcripts, manifests, index, response cache (with WAL).
    files = [p for p in runs.rglob("*") if p.is_file()]
    assert any(p.name.startswith("cache.sqlite") for p in files)
    for path in files:
        assert FAKE_API_KEY.encode() not in path.read_bytes(), path
