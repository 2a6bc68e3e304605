"""The openai backend through the real `openai` SDK against the loopback Chat Completions
server, and suites that mix vendors (interviewer on one server, candidate on another)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from harness.backends.base import BackendFatalError, ModelRequest
from harness.backends.openai_backend import OpenAIBackend
from harness.backends.pricing import ModelPrice
from harness.cli.main import app
from harness.contracts import load_transcripts
from harness.store.runs import TRANSCRIPTS, read_manifest
from tests.conftest import LLM_PERSONA, SCRIPTED_PERSONA, write_project
from tests.loopback import FAKE_API_KEY, Body, LoopbackServer, Reply, junk, message
from tests.loopback_openai import (
    FAKE_OPENAI_KEY,
    ChatCompletionsServer,
    openai_error,
    running_openai_loopback,
)
from tests.test_anthropic_backend import _request as anthropic_request

MODEL = "gpt-4.1-mini"
SYSTEM = "You are a demanding system-design interviewer."


@pytest.fixture
def chat(monkeypatch: pytest.MonkeyPatch) -> Iterator[ChatCompletionsServer]:
    with running_openai_loopback(monkeypatch, min_cacheable=16) as server:
        yield server


def _backend(server: ChatCompletionsServer, **kwargs: Any) -> OpenAIBackend:
    return OpenAIBackend(api_key=FAKE_OPENAI_KEY, base_url=f"{server.url}/v1", **kwargs)


def _request(*texts: str, max_tokens: int = 700) -> ModelRequest:
    return anthropic_request(*texts, max_tokens=max_tokens).model_copy(update={"model": MODEL})


async def test_exchange_sends_system_first_and_splits_cached_tokens(
    chat: ChatCompletionsServer,
) -> None:
    usage = {
        "prompt_tokens": 1500,
        "completion_tokens": 40,
        "total_tokens": 1540,
        "prompt_tokens_details": {"cached_tokens": 1280},
    }
    chat.enqueue(Reply(text="Why Cassandra over Postgres?", usage=usage))
    backend = _backend(chat)
    try:
        response = await backend.complete(_request("Hello.", "Which problem?", "URL shortener."))
    finally:
        await backend.aclose()
    (sent,) = chat.chat_requests()
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == f"Bearer {FAKE_OPENAI_KEY}"
    body = sent.body
    assert body is not None and body["model"] == MODEL
    assert body["max_completion_tokens"] == 700 and "max_tokens" not in body
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "user"]
    assert body["messages"][0]["content"] == SYSTEM
    assert not {"temperature", "top_p", "seed"} & body.keys()
    assert response.text == "Why Cassandra over Postgres?"
    assert response.backend == "openai" and response.stop_reason == "stop"
    assert response.latency_s > 0
    # prompt_tokens counts the cached share too: 220 sent fresh, 1280 read from the cache
    assert response.usage.input_tokens == 220
    assert response.usage.cache_read_input_tokens == 1280
    assert response.usage.cache_creation_input_tokens == 0
    # gpt-4.1-mini at $0.40 / $1.60 per Mtok, cached input x0.25, no write surcharge
    assert response.cost_usd == pytest.approx((220 * 0.4 + 1280 * 0.4 * 0.25 + 40 * 1.6) / 1e6)


async def test_compatible_server_gets_max_tokens_and_a_role_price(
    chat: ChatCompletionsServer,
) -> None:
    backend = _backend(chat, vendor=False, price=ModelPrice(input=0.0, output=0.0))
    try:
        first = await backend.complete(_request("Hello, I'd like to practise.", max_tokens=64))
        second = await backend.complete(
            _request("Hello, I'd like to practise.", first.text, "URL shortener.", max_tokens=64)
        )
    finally:
        await backend.aclose()
    bodies = [r.body or {} for r in chat.chat_requests()]
    assert all(b["max_tokens"] == 64 and "max_completion_tokens" not in b for b in bodies)
    assert first.usage.cache_read_input_tokens == 0
    # the second request repeats the first one's messages: the server reads them from cache
    assert second.usage.cache_read_input_tokens > 0
    assert first.cost_usd == second.cost_usd == 0.0


async def test_length_stop_is_kept_and_logged(
    chat: ChatCompletionsServer, caplog: pytest.LogCaptureFixture
) -> None:
    chat.enqueue(message("Let me think about the", stop_reason="max_tokens"))
    backend = _backend(chat)
    with caplog.at_level(logging.WARNING):
        response = await backend.complete(_request("Hi."))
    await backend.aclose()
    assert response.stop_reason == "length" and "length" in caplog.text


async def test_429_and_503_are_retried_by_the_sdk(chat: ChatCompletionsServer) -> None:
    chat.enqueue(
        openai_error(429, "rate_limit_exceeded", "slow down", retry_after="0"),
        openai_error(503, "server_error", "busy", retry_after="0"),
        message("What is the read/write ratio?"),
    )
    backend = _backend(chat, max_retries=2)
    try:
        response = await backend.complete(_request("Hi."))
    finally:
        await backend.aclose()
    assert response.text == "What is the read/write ratio?"
    seen = chat.chat_requests()
    assert [r.headers["x-stainless-retry-count"] for r in seen] == ["0", "1", "2"]


@pytest.mark.parametrize(
    ("replies", "needle", "calls"),
    [
        ([openai_error(401, "invalid_api_key", "Incorrect API key")], "401 invalid_api_key", 1),
        ([openai_error(400, "invalid_request_error", "bad param")], "400", 1),
        ([openai_error(404, "model_not_found", "no such model")], "404 model_not_found", 1),
        ([openai_error(500, "server_error", "boom", retry_after="0")] * 2, "retries", 2),
        ([junk()], "not a readable Chat Completions reply", 1),
    ],
)
async def test_fatal_errors_are_one_line_without_the_key(
    chat: ChatCompletionsServer, replies: list[Reply], needle: str, calls: int
) -> None:
    chat.enqueue(*replies)
    backend = _backend(chat, max_retries=1)
    with pytest.raises(BackendFatalError) as caught:
        await backend.complete(_request("Hi."))
    await backend.aclose()
    text = str(caught.value)
    assert needle in text and "\n" not in text and FAKE_OPENAI_KEY not in text
    assert len(chat.chat_requests()) == calls


def candidate_reply(body: Body) -> Reply:
    """A plausible model-played candidate on the Messages API, planting what it is asked to."""
    last = body["messages"][-1]["content"]
    text = last if isinstance(last, str) else "".join(b.get("text", "") for b in last)
    markers = ""
    if "Planted moves due now" in text:
        markers = "\n[[plant kind=gloss topic=cache]]"
    return message(
        "I'd keep the job records in Postgres and hand work out through a queue, with workers "
        "pulling batches and acknowledging when done. For reads we'd add a cache in front."
        + markers
    )


def _mixed_project(root: Path, chat_url: str, **interviewer: Any) -> Path:
    return write_project(
        root,
        repeats=1,
        personas=[SCRIPTED_PERSONA, LLM_PERSONA],
        extra_suite={
            "interviewer": {
                "backend": "openai",
                "model": "llama3.1:8b",
                "base_url": f"{chat_url}/v1",
                "price": 0,
                "max_tokens": 600,
                **interviewer,
            },
            "candidate": {"backend": "anthropic", "model": "claude-haiku-4-5", "max_tokens": 400},
        },
    )


def test_sdi_run_interviewer_on_openai_candidate_on_anthropic(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # a local server needs no key
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_API_KEY)
    with ChatCompletionsServer() as chat, LoopbackServer(candidate_reply) as messages:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", messages.url)
        suite = _mixed_project(tmp_path / "project", chat.url)
        runs = tmp_path / "runs"
        result = CliRunner().invoke(app, ["run", str(suite), "--runs-dir", str(runs), "-q"])
        assert result.exit_code == 0, result.output
        run_dir = Path(result.stdout.strip().splitlines()[-1])
        manifest = read_manifest(run_dir)
        assert (manifest.interviewer.backend, manifest.interviewer.model) == (
            "openai",
            "llama3.1:8b",
        )
        assert manifest.interviewer.base_url == f"{chat.url}/v1"
        assert (manifest.candidate.backend, manifest.candidate.model) == (
            "anthropic",
            "claude-haiku-4-5",
        )
        assert manifest.candidate.base_url == messages.url
        assert manifest.status == "complete" and not manifest.synthetic

        transcripts = {t.persona: t for t in load_transcripts(run_dir / TRANSCRIPTS)}
        assert set(transcripts) == {SCRIPTED_PERSONA["id"], LLM_PERSONA["id"]}
        calls = [c for t in transcripts.values() for c in t.meta["calls"]]
        by_role = {r: [c for c in calls if c["role"] == r] for r in ("interviewer", "candidate")}
        # (both interviews open with the same first call: one asked, the other shares it)
        asked = [c for c in by_role["interviewer"] if not c["cached"]]
        assert len(asked) == len(chat.chat_requests()) >= len(by_role["interviewer"]) - 1
        assert len(by_role["candidate"]) == len(messages.messages_requests()) > 0
        assert all(c["backend"] == "openai" and c["cost_usd"] == 0 for c in by_role["interviewer"])
        assert all(
            c["stop_reason"] == "stop" and c["latency_s"] > 0 for c in by_role["interviewer"]
        )
        assert all(c["backend"] == "anthropic" and c["cost_usd"] > 0 for c in by_role["candidate"])
        assert transcripts[LLM_PERSONA["id"]].meta["end_reason"] == "feedback"
        # no key was sent to the local server; the SDK insists on some value
        assert all(FAKE_API_KEY not in r.headers["authorization"] for r in chat.chat_requests())
        assert manifest.spent_usd == pytest.approx(sum(c["cost_usd"] for c in calls), abs=1e-5)

        # regrade goes back to the run's interviewer server
        before = len(chat.chat_requests())
        regraded = CliRunner().invoke(
            app, ["regrade", run_dir.name, "--samples", "2", "--runs-dir", str(runs), "-q"]
        )
        assert regraded.exit_code == 0, regraded.output
        assert len(chat.chat_requests()) == before + 2 * len(transcripts)

    for path in (p for p in runs.rglob("*") if p.is_file()):
        assert FAKE_API_KEY.encode() not in path.read_bytes(), path


def test_the_response_cache_tells_servers_apart(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The same suite pointed at another server is asked again, not replayed from the cache."""
    runs = tmp_path / "runs"
    counts = []
    for i in range(2):
        with ChatCompletionsServer() as chat:
            suite = write_project(
                tmp_path / f"p{i}",
                repeats=1,
                personas=[SCRIPTED_PERSONA],
                extra_suite={
                    "interviewer": {
                        "backend": "openai",
                        "model": "qwen2.5:7b",
                        "base_url": f"{chat.url}/v1",
                        "price": 0,
                    }
                },
            )
            args = ["run", str(suite), "--runs-dir", str(runs), "-q"]
            assert CliRunner().invoke(app, args).exit_code == 0
            assert CliRunner().invoke(app, args).exit_code == 0  # same server: all replayed
            counts.append(len(chat.chat_requests()))
    assert counts[0] == counts[1] > 0


def _sdi_error(args: list[str]) -> str:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_unpriced_model_is_refused_before_any_call(
    chat: ChatCompletionsServer, tmp_path: Path
) -> None:
    suite = write_project(
        tmp_path / "project",
        personas=[SCRIPTED_PERSONA],
        extra_suite={"interviewer": {"backend": "openai", "model": "gpt-9-turbo"}},
    )
    line = _sdi_error(["run", str(suite), "--runs-dir", str(tmp_path / "runs")])
    assert "interviewer.model" in line and "gpt-9-turbo" in line
    assert "price: 0" in line and "prices.yaml" in line
    assert chat.chat_requests() == [] and not (tmp_path / "runs").exists()

    # the same model with its price in the suite runs
    data = yaml.safe_load(suite.read_text())
    data["interviewer"]["price"] = {"input": 1.0, "output": 2.0}
    suite.write_text(yaml.safe_dump(data))
    result = CliRunner().invoke(app, ["run", str(suite), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    assert len(chat.chat_requests()) > 0


@pytest.mark.parametrize(
    ("role", "needle"),
    [
        ({"backend": "openai", "model": MODEL, "price": 3}, "interviewer.price"),
        ({"backend": "openai", "model": MODEL, "base_url": "localhost:11434"}, "base_url"),
        ({"backend": "vertex", "model": MODEL}, "unknown backend 'vertex'"),
        ({"backend": "openai", "model": MODEL, "api_key_env": "NO_SUCH_KEY_VAR"}, "NO_SUCH_KEY"),
    ],
)
def test_bad_role_settings_are_one_line(tmp_path: Path, role: dict[str, Any], needle: str) -> None:
    suite = write_project(tmp_path / "project", extra_suite={"interviewer": role})
    assert needle in _sdi_error(["run", str(suite), "--runs-dir", str(tmp_path / "runs")])


def test_vendor_without_key_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    suite = write_project(
        tmp_path / "project", extra_suite={"interviewer": {"backend": "openai", "model": MODEL}}
    )
    line = _sdi_error(["run", str(suite), "--runs-dir", str(tmp_path / "runs")])
    assert "interviewer.backend" in line and "OPENAI_API_KEY" in line


def test_sdi_score_with_the_openai_judge(chat: ChatCompletionsServer, tmp_path: Path) -> None:
    from tests.test_judge import TRANSCRIPT, _answer

    chat.enqueue(message(json.dumps(_answer())))
    transcripts = tmp_path / "t.jsonl"
    transcripts.write_text(TRANSCRIPT.to_json() + "\n")
    args = ["score", str(transcripts), "--judge", "openai", "--runs-dir", str(tmp_path), "-q"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    (record,) = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    (sent,) = chat.chat_requests()
    assert sent.body is not None and sent.body["model"] == "gpt-4.1"
    assert sent.body["messages"][0]["role"] == "system"
    pushback = record["rules"]["pushback"]
    assert pushback["verdict"] == "fail" and pushback["turns"] == [5]
    # judging again is answered from the response cache
    assert CliRunner().invoke(app, args).exit_code == 0
    assert len(chat.chat_requests()) == 1
    # an unpriced judge model is refused before any call
    line = _sdi_error([*args, "--judge-model", "gpt-9-turbo"])
    assert "judge.model" in line and "gpt-9-turbo" in line
    assert len(chat.chat_requests()) == 1


def test_anthropic_role_takes_its_server_from_the_suite(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_API_KEY)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    with LoopbackServer() as server:
        suite = write_project(
            tmp_path / "project",
            repeats=1,
            personas=[SCRIPTED_PERSONA],
            extra_suite={
                "interviewer": {
                    "backend": "anthropic",
                    "model": "claude-sonnet-4-6",
                    "base_url": server.url,
                }
            },
        )
        result = CliRunner().invoke(app, ["run", str(suite), "--runs-dir", str(tmp_path / "r")])
        assert result.exit_code == 0, result.output
        manifest = read_manifest(Path(result.stdout.strip().splitlines()[-1]))
        assert manifest.interviewer.base_url == server.url
        assert len(server.messages_requests()) == manifest.model_calls > 0
