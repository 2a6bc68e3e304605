"""Message Batches through the real SDK against the loopback batches server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.backends.base import BackendFatalError, ChatMessage, ModelRequest, ModelResponse
from harness.backends.batch import JOURNAL, BatchJournal, BatchOptions, open_batcher
from harness.backends.cache import ResponseCache
from harness.backends.pricing import estimate_cost
from tests.loopback import FAKE_API_KEY
from tests.loopback_batches import BatchesServer, running_batches

MODEL = "claude-sonnet-4-6"
FAST = BatchOptions(poll_s=0.01, idle_s=0.02)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[BatchesServer]:
    with running_batches(monkeypatch, delay_s=0.05) as s:
        yield s


def _request(text: str, sample: int = 0) -> ModelRequest:
    return ModelRequest(
        role="interviewer",
        model=MODEL,
        system="You are a demanding system-design interviewer. " * 20,
        messages=[ChatMessage(role="user", content=text)],
        max_tokens=500,
        sample_index=sample,
    )


async def _ask(tmp_path: Path, requests: list[ModelRequest], options: BatchOptions = FAST) -> list:
    cache = ResponseCache(tmp_path / "cache.sqlite")
    batcher = open_batcher(tmp_path / JOURNAL, cache, options)
    try:
        return await asyncio.gather(
            *(batcher.call(r, r.cache_key("anthropic")) for r in requests), return_exceptions=True
        )
    finally:
        await batcher.aclose()
        cache.close()


async def test_calls_within_the_idle_window_share_one_batch(
    server: BatchesServer, tmp_path: Path
) -> None:
    requests = [_request(f"Question {i}?") for i in range(5)]
    answers = await _ask(tmp_path, requests)

    assert server.creates == 1
    (ids,) = server.created_ids()
    assert ids == [r.cache_key("anthropic") for r in requests]  # custom_id = response-cache key
    create = next(r for r in server.requests if r.method == "POST")
    assert create.headers["authorization"] == f"Bearer {FAKE_API_KEY}"
    assert create.body is not None
    params = create.body["requests"][0]["params"]
    # prompt caching stays on inside the batch: system prompt and top-level breakpoint
    assert params["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert params["cache_control"] == {"type": "ephemeral"}
    assert params["model"] == MODEL and params["max_tokens"] == 500
    for answer in answers:
        assert isinstance(answer, ModelResponse)
        assert answer.batched and answer.backend == "anthropic" and answer.text
        full = estimate_cost(MODEL, answer.usage)
        assert full > 0 and answer.cost_usd == pytest.approx(full / 2)
    # the server answered in reverse order; each caller still got its own reply (by custom_id)
    assert sum(a.usage.cache_read_input_tokens > 0 for a in answers) == 4
    # the shared system prompt was written once and read by the other four entries
    journal = [json.loads(line) for line in (tmp_path / JOURNAL).read_text().splitlines()]
    assert [e["event"] for e in journal] == ["created", "collected"]
    assert BatchJournal(tmp_path / JOURNAL).pending() == {}
    cache = ResponseCache(tmp_path / "cache.sqlite")
    assert all(cache.get(r.cache_key("anthropic")) is not None for r in requests)
    cache.close()


async def test_identical_requests_are_sent_once(server: BatchesServer, tmp_path: Path) -> None:
    same = _request("Same question?")
    answers = await _ask(tmp_path, [same, same, _request("Other?")])
    assert [len(ids) for ids in server.created_ids()] == [2]
    assert answers[0] == answers[1]


async def test_errored_and_expired_entries_are_retried_in_a_new_batch(
    server: BatchesServer, tmp_path: Path
) -> None:
    server.fates.extend(["errored:overloaded_error", "expired", ""])
    requests = [_request(f"Q{i}?") for i in range(3)]
    answers = await _ask(tmp_path, requests)
    assert all(isinstance(a, ModelResponse) for a in answers)
    first, second = server.created_ids()
    assert len(first) == 3 and len(second) == 2 and set(second) < set(first)


async def test_an_unfixable_error_fails_that_call_alone(
    server: BatchesServer, tmp_path: Path
) -> None:
    server.fates.extend(["errored:invalid_request_error", ""])
    answers = await _ask(tmp_path, [_request("Bad?"), _request("Good?")])
    assert isinstance(answers[0], BackendFatalError)
    assert "invalid_request_error" in str(answers[0]) and "1 attempt" in str(answers[0])
    assert isinstance(answers[1], ModelResponse)
    assert server.creates == 1  # not retried


async def test_retries_are_bounded(server: BatchesServer, tmp_path: Path) -> None:
    server.fates.extend(["expired"] * 5)
    options = BatchOptions(poll_s=0.01, idle_s=0.01, attempts=3)
    (answer,) = await _ask(tmp_path, [_request("Never?")], options)
    assert isinstance(answer, BackendFatalError)
    assert "expired (after 3 attempts)" in str(answer)
    assert FAKE_API_KEY not in str(answer)
    assert server.creates == 3


async def test_create_is_retried_by_the_sdk_and_a_refusal_fails_its_calls(
    server: BatchesServer, tmp_path: Path
) -> None:
    server.create_errors.extend([(529, "overloaded_error"), (400, "invalid_request_error")])
    (answer,) = await _ask(tmp_path, [_request("x?")])
    assert isinstance(answer, BackendFatalError)
    assert "400 invalid_request_error" in str(answer) and FAKE_API_KEY not in str(answer)
    creates = [r for r in server.requests if r.method == "POST"]
    assert len(creates) == 2 and server.creates == 0
    assert not (tmp_path / JOURNAL).exists()  # nothing was created, so nothing is pending


async def test_cancel_fails_the_unanswered_calls(server: BatchesServer, tmp_path: Path) -> None:
    server.hold_from = 0
    cache = ResponseCache(tmp_path / "cache.sqlite")
    batcher = open_batcher(tmp_path / JOURNAL, cache, FAST)
    try:
        waiting = asyncio.gather(
            *(batcher.call(r, r.cache_key("anthropic")) for r in [_request("A?"), _request("B?")]),
            return_exceptions=True,
        )
        while server.creates == 0:
            await asyncio.sleep(0.01)
        await batcher.cancel()
        answers = await waiting
    finally:
        await batcher.aclose()
        cache.close()
    assert all(isinstance(a, BackendFatalError) and "canceled" in str(a) for a in answers)
    assert any(r.path.endswith("/cancel") for r in server.requests)
    assert server.creates == 1


async def test_resume_reattaches_to_a_pending_batch(server: BatchesServer, tmp_path: Path) -> None:
    """The first process is gone after creating the batch; the second finds it in the journal,
    waits for it, and answers from it without creating another."""
    server.hold_from = 0
    requests = [_request("A?"), _request("B?")]
    cache = ResponseCache(tmp_path / "cache.sqlite")
    first = open_batcher(tmp_path / JOURNAL, cache, FAST)
    calls = [asyncio.ensure_future(first.call(r, r.cache_key("anthropic"))) for r in requests]
    while server.creates == 0:
        await asyncio.sleep(0.01)
    await first.aclose()  # stops following; the batch stays pending in the journal
    for c in calls:
        c.cancel()
    assert len(BatchJournal(tmp_path / JOURNAL).pending()) == 1

    second = open_batcher(tmp_path / JOURNAL, cache, FAST)
    assert second.counts.recovered == 1
    later = asyncio.ensure_future(second.call(requests[0], requests[0].cache_key("anthropic")))
    await asyncio.sleep(0.1)
    assert not later.done()
    server.release()
    answer = await later
    await second.aclose()
    assert answer.batched and server.creates == 1
    # the entry nobody asked for landed in the response cache all the same
    assert cache.get(requests[1].cache_key("anthropic")) is not None
    assert BatchJournal(tmp_path / JOURNAL).pending() == {}
    cache.close()


async def test_judge_stage_is_one_batch(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`sdi score --judge anthropic --batch`: every transcript's judge call in one batch; an
    unreadable answer's retry goes in the next."""
    from harness.scoring.judge import JUDGE_JOURNAL, make_judge
    from harness.scoring.score import score_transcripts
    from tests.loopback import message
    from tests.test_judge import TRANSCRIPT, _answer, _rubric

    folder = tmp_path / "rubrics"
    folder.mkdir()
    for rule in ("pushback", "drill_down", "no_direct_correction", "in_role", "score_justified"):
        (folder / f"{rule}.yaml").write_text(json.dumps(_rubric(rule)))
    answers = iter([message("not json"), *[message(json.dumps(_answer()))] * 4])
    transcripts = [
        TRANSCRIPT.model_copy(
            update={
                "interview_id": f"t{i}",
                "turns": [
                    TRANSCRIPT.turns[0].model_copy(update={"text": f"Interview {i}, please."}),
                    *TRANSCRIPT.turns[1:],
                ],
            }
        )
        for i in range(3)
    ]
    with running_batches(monkeypatch, responder=lambda body: next(answers)) as server:
        judge = make_judge(
            "anthropic",
            model=MODEL,
            cache_path=tmp_path / "cache.sqlite",
            rubrics_dir=folder,
            batch=FAST,
        )
        records = await score_transcripts(transcripts, judge=judge, concurrency=len(transcripts))
        await judge.aclose()
    assert [len(ids) for ids in server.created_ids()] == [3, 1]
    assert all(r.rules["pushback"].verdict == "fail" for r in records)
    assert not any(getattr(r, "judge_error", None) for r in records)
    assert BatchJournal(tmp_path / JUDGE_JOURNAL).pending() == {}


def test_journal_survives_a_torn_line(tmp_path: Path) -> None:
    journal = BatchJournal(tmp_path / JOURNAL)
    journal.created("b1", ["k1", "k2"])
    journal.created("b2", ["k3"])
    journal.collected("b1")
    with (tmp_path / JOURNAL).open("a") as fh:
        fh.write('{"event":"created","batch_id":"b3","cus')  # a kill mid-write
    again = BatchJournal(tmp_path / JOURNAL)
    assert again.pending() == {"b2": ["k3"]}
    again.created("b4", ["k4"])
    assert BatchJournal(tmp_path / JOURNAL).pending() == {"b2": ["k3"], "b4": ["k4"]}


async def test_a_round_larger_than_a_batch_is_split(server: BatchesServer, tmp_path: Path) -> None:
    options = BatchOptions(poll_s=0.01, idle_s=0.02, max_requests=2)
    answers = await _ask(tmp_path, [_request(f"Q{i}?") for i in range(5)], options)
    assert all(isinstance(a, ModelResponse) for a in answers)
    assert sorted(len(ids) for ids in server.created_ids()) == [1, 2, 2]


async def test_unreadable_results_fail_the_calls_instead_of_hanging(
    server: BatchesServer, tmp_path: Path
) -> None:
    server.junk_results = True
    answers = await asyncio.wait_for(_ask(tmp_path, [_request("A?"), _request("B?")]), 30)
    assert all(isinstance(a, BackendFatalError) for a in answers)
    assert len(BatchJournal(tmp_path / JOURNAL).pending()) == 1  # still there for a later try
