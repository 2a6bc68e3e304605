"""The response cache: writes committed before `put` returns but off the event loop and in
groups; identical calls in flight at once share one model call."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from harness.backends.base import BackendFatalError, ChatMessage, ModelRequest, ModelResponse
from harness.backends.cache import CachedBackend, CallCounter, ResponseCache


def _request(text: str) -> ModelRequest:
    return ModelRequest(
        role="candidate", model="m", system="s", messages=[ChatMessage(role="user", content=text)]
    )


class Slow:
    """A model that takes a while, counts its calls and can be told to fail."""

    name = "slow"

    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail

    async def complete(self, request: ModelRequest) -> ModelResponse:
        self.calls += 1
        await asyncio.sleep(0.05)
        if self.fail:
            self.fail = False
            raise BackendFatalError("slow: refused")
        return ModelResponse(text=f"reply {self.calls}", model="m", backend=self.name)


class Counting(ResponseCache):
    commits = 0

    def _commit(self, rows: list[tuple[str, str]]) -> None:
        self.commits += 1
        super()._commit(rows)


async def test_writes_are_durable_on_return_and_committed_in_groups(tmp_path: Path) -> None:
    cache = Counting(tmp_path / "cache.sqlite")
    responses = [ModelResponse(text=f"t{i}", model="m", backend="b") for i in range(50)]
    await asyncio.gather(*(cache.put(f"k{i}", r) for i, r in enumerate(responses)))
    # another connection (another process after a kill, say) sees every write
    other = sqlite3.connect(tmp_path / "cache.sqlite")
    assert other.execute("SELECT count(*) FROM responses").fetchone()[0] == 50
    other.close()
    assert cache.commits < 50  # queued writes share a commit
    assert cache.get("k7") == responses[7]
    cache.close()


async def test_identical_calls_in_flight_share_one_model_call(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    model = Slow()
    backend = CachedBackend(model, cache, CallCounter())
    first, second, other = await asyncio.gather(
        backend.complete(_request("same")),
        backend.complete(_request("same")),
        backend.complete(_request("different")),
    )
    assert model.calls == 2
    assert first.text == second.text and [first.cached, second.cached] == [False, True]
    assert not other.cached
    assert backend.counter.model_calls == 2 and backend.counter.cache_hits == 1
    cache.close()


async def test_a_failed_shared_call_is_made_again_by_the_other_caller(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    model = Slow(fail=True)
    backend = CachedBackend(model, cache, CallCounter())
    results = await asyncio.gather(
        backend.complete(_request("same")),
        backend.complete(_request("same")),
        return_exceptions=True,
    )
    assert isinstance(results[0], BackendFatalError)
    assert isinstance(results[1], ModelResponse) and not results[1].cached
    assert model.calls == 2
    cache.close()


def test_cancelling_a_caller_does_not_cancel_the_call_it_shares(tmp_path: Path) -> None:
    async def scenario() -> ModelResponse:
        cache = ResponseCache(tmp_path / "cache.sqlite")
        backend = CachedBackend(Slow(), cache, CallCounter())
        owner = asyncio.create_task(backend.complete(_request("same")))
        await asyncio.sleep(0)
        waiter = asyncio.create_task(backend.complete(_request("same")))
        await asyncio.sleep(0.01)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        result = await owner
        cache.close()
        return result

    assert asyncio.run(scenario()).text == "reply 1"


def test_run_keeps_billed_and_replayed_tokens_apart(suite_path: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from harness.cli.main import app
    from harness.store.runs import read_manifest

    args = ["run", str(suite_path), "--runs-dir", str(tmp_path / "runs"), "-q"]
    first_out = CliRunner().invoke(app, args)
    second_out = CliRunner().invoke(app, args)
    assert first_out.exit_code == second_out.exit_code == 0
    first = read_manifest(Path(first_out.stdout.strip().splitlines()[-1]))
    second = read_manifest(Path(second_out.stdout.strip().splitlines()[-1]))
    assert first.billed_usage.total_input > 0
    assert first.billed_usage + first.replayed_usage == first.usage
    assert second.billed_usage.total_input == 0
    assert second.replayed_usage == first.usage == second.usage
    billed = first.billed_usage
    assert f"billed tokens in/out: {billed.total_input}/{billed.output_tokens}" in first_out.stdout
    replayed = second.replayed_usage
    assert f"replayed tokens in/out: {replayed.total_input}/{replayed.output_tokens}" in (
        second_out.stdout
    )
    assert "billed tokens in/out: 0/0" in second_out.stdout
