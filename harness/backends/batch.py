"""Message Batches: the pending calls of many interviews go to Claude as one batch, at half price.

A `Batcher` collects calls instead of sending them. It sends what it holds as one Message Batch
once every interview it serves is waiting in its queue (or after a short idle window, for stages
that do not say how many callers there are: regrades, the judge), so a run takes about as many
batches as its longest interview has turns. Each request's `custom_id` is its response-cache
key, so it is the same in every process and results are matched by it, whatever their order.

Durability: a batch's id and custom_ids are appended (and fsynced) to a journal in the run
folder before anything waits on it. A process killed while batches are pending finds them there
on `--resume`: finished ones are downloaded into the response cache (the resumed interviews
replay them free), unfinished ones are polled again, and a call whose custom_id is in one waits
for it instead of paying again. Errored (transient), expired and canceled entries go into a
later batch, a bounded number of times; after that, or for an error retrying cannot fix, that
call alone fails with the same `BackendFatalError` a direct call raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import anthropic
from anthropic import AsyncAnthropic
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming
from anthropic.types.messages import MessageBatch, MessageBatchIndividualResponse
from anthropic.types.messages.batch_create_params import Request
from pydantic import BaseModel, ConfigDict, Field

from harness.backends.anthropic_backend import (
    DEFAULT_MAX_RETRIES,
    AnthropicBackend,
    api_key,
    describe_error,
    message_params,
    to_response,
)
from harness.backends.base import BackendFatalError, ModelRequest, ModelResponse
from harness.backends.cache import ResponseCache
from harness.config.suites import RoleSettings
from harness.store.runs import append_jsonl, read_complete_lines

JOURNAL = "batches.jsonl"
MAX_BYTES = 200 * 1024 * 1024  # the API takes up to 256 MB per batch; leave room for framing
# Errors in a batch entry that another attempt cannot fix: fail the call at once.
FINAL_ERRORS = frozenset(
    {
        "invalid_request_error",
        "authentication_error",
        "permission_error",
        "not_found_error",
        "request_too_large",
        "billing_error",
    }
)


class BatchOptions(BaseModel):
    """How batching waits: for callers to gather, and for the API to finish a batch."""

    model_config = ConfigDict(extra="forbid")

    poll_s: float = Field(default=30.0, gt=0, description="seconds between status checks")
    idle_s: float = Field(default=0.5, ge=0, description="send after this long with no new call")
    max_wait_s: float = Field(default=120.0, gt=0, description="send at the latest this long after")
    attempts: int = Field(default=3, ge=1, le=10, description="tries per call (errored, expired)")
    max_requests: int = Field(default=100_000, ge=1, le=100_000, description="per batch (API cap)")


@runtime_checkable
class StatusSink(Protocol):
    """A progress sink that can show a line of status beside its count (batches)."""

    def status(self, text: str) -> None: ...


class BatchJournal:
    """`batches.jsonl`: one fsynced line when a batch is created, one when its results are
    safely in the response cache. Pending = created and not collected."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._torn_checked = False

    def created(self, batch_id: str, custom_ids: list[str]) -> None:
        self._write({"event": "created", "batch_id": batch_id, "custom_ids": custom_ids})

    def collected(self, batch_id: str) -> None:
        self._write({"event": "collected", "batch_id": batch_id})

    def pending(self) -> dict[str, list[str]]:
        """Batch id -> custom_ids for every batch created and not yet collected, in order."""
        out: dict[str, list[str]] = {}
        for line in read_complete_lines(self.path):
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a torn line from a kill: the batch it named was never waited on
            if entry.get("event") == "created":
                out[str(entry["batch_id"])] = [str(c) for c in entry["custom_ids"]]
            elif entry.get("event") == "collected":
                out.pop(str(entry["batch_id"]), None)
        return out

    def _write(self, entry: dict[str, Any]) -> None:
        entry["at"] = round(time.time(), 3)
        line = json.dumps(entry, separators=(",", ":"))
        if not self._torn_checked:
            # After a kill mid-write, end the torn line first so this one stays readable.
            self._torn_checked = True
            tail = self.path.read_bytes()[-1:] if self.path.is_file() else b""
            if tail not in (b"", b"\n"):
                line = "\n" + line
        self.path.parent.mkdir(parents=True, exist_ok=True)
        append_jsonl(self.path, line)


@dataclass
class _Call:
    """One custom_id: what to send, who waits for it, how often it has been tried."""

    key: str
    request: ModelRequest | None  # None for a call recovered from the journal, until asked for
    waiters: list[asyncio.Future[ModelResponse]] = field(default_factory=list)
    attempts: int = 0
    queued_at: float = 0.0


@dataclass
class BatchCounts:
    submitted: int = 0
    done: int = 0
    requests: int = 0
    retried: int = 0
    recovered: int = 0

    @property
    def waiting(self) -> int:
        return self.submitted - self.done


class Batcher:
    """Collects calls into Message Batches on one `AsyncAnthropic` client (see the module doc)."""

    def __init__(
        self,
        journal: BatchJournal,
        cache: ResponseCache,
        options: BatchOptions | None = None,
        *,
        sink: object = None,
        base_url: str | None = None,
    ) -> None:
        self.journal = journal
        self.cache = cache
        self.options = options or BatchOptions()
        self.counts = BatchCounts()
        self._sink = sink if isinstance(sink, StatusSink) else None
        self._key = api_key()
        self.client = AsyncAnthropic(
            api_key=self._key, base_url=base_url, max_retries=DEFAULT_MAX_RETRIES
        )
        self._queue: dict[str, _Call] = {}  # not sent yet
        self._sent: dict[str, _Call] = {}  # in a batch that has not ended
        self._tasks: set[asyncio.Task[None]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._active = 0
        self._closed = False
        self._canceling = False
        self._in_flight: set[str] = set()
        self._recovered: list[tuple[str, dict[str, _Call]]] = []

    # -- callers -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def caller(self) -> Iterator[None]:
        """Count a caller (an interview) while it runs: when all of them wait, send at once."""
        self._active += 1
        try:
            yield
        finally:
            self._active -= 1
            self._kick()

    async def call(self, request: ModelRequest, key: str) -> ModelResponse:
        """The response to `request`, through the next batch (or one already holding `key`)."""
        self._follow_recovered()
        future: asyncio.Future[ModelResponse] = asyncio.get_running_loop().create_future()
        pending = self._sent.get(key) or self._queue.get(key)
        if pending is not None:  # the same request from another caller, or re-attached
            pending.request = pending.request or request
            pending.waiters.append(future)
        else:
            self._queue[key] = _Call(key, request, [future], queued_at=time.monotonic())
        self._kick()
        return await future

    def _queued(self) -> int:
        return sum(len(c.waiters) for c in self._queue.values())

    def _kick(self) -> None:
        """Decide when to send what is queued. With counted callers (interviews): once every one
        of them waits in the queue, so each batch is one round and the rounds stay in step (a
        caller still waiting on an earlier batch is waited for). Without (regrades, the judge):
        after `idle_s` with no new call. Either way at the latest `max_wait_s` after the first."""
        if self._closed or not self._queue:
            return
        loop = asyncio.get_running_loop()
        if self._active and self._queued() >= self._active:
            # Callers made ready in this same step (a batch's answers) queue first, then it goes.
            loop.call_soon(self._flush_if_all_queued)
            return
        first = min(c.queued_at for c in self._queue.values())
        due = first + self.options.max_wait_s
        if not self._active:
            due = min(due, time.monotonic() + self.options.idle_s)
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_later(max(0.0, due - time.monotonic()), self._flush)

    def _flush_if_all_queued(self) -> None:
        if self._queued() >= self._active:
            self._flush()

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._closed or not self._queue:
            return
        # A call whose every caller has gone (cancelled) is not worth paying for.
        calls = [c for c in self._queue.values() if any(not w.done() for w in c.waiters)]
        self._queue.clear()
        if not calls:
            return
        for c in calls:
            self._sent[c.key] = c
        self._spawn(self._submit(calls), calls)

    def _spawn(self, work: Coroutine[Any, Any, None], calls: list[_Call]) -> None:
        """Run `work` beside the callers; if it fails, the calls it carries fail with it."""

        async def guarded() -> None:
            try:
                await work
            except anthropic.AnthropicError as err:
                self._fail(calls, describe_error(err, self._key))
            except Exception as err:  # a full disk, say: fail the calls, never leave them waiting
                self._fail(calls, f"anthropic batch: {type(err).__name__}: {err}")

        task = asyncio.get_running_loop().create_task(guarded())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- batches -------------------------------------------------------------------------------

    async def _submit(self, calls: list[_Call]) -> None:
        """Send the calls as one batch, or as several where the API's limits require."""
        chunk: list[tuple[_Call, Request]] = []
        size = 0
        for c in calls:
            assert c.request is not None
            c.attempts += 1
            params: MessageCreateParamsNonStreaming = message_params(c.request)
            request: Request = {"custom_id": c.key, "params": params}
            weight = len(json.dumps(request, ensure_ascii=False).encode()) + 1
            if chunk and (len(chunk) >= self.options.max_requests or size + weight > MAX_BYTES):
                self._spawn(self._send(chunk), [c for c, _ in chunk])
                chunk, size = [], 0
            chunk.append((c, request))
            size += weight
        await self._send(chunk)

    async def _send(self, chunk: list[tuple[_Call, Request]]) -> None:
        calls = [c for c, _ in chunk]
        requests = [r for _, r in chunk]
        batch = await self.client.messages.batches.create(requests=requests)
        # Written before anything waits on the batch, so a killed process finds it again.
        self.journal.created(batch.id, [c.key for c in calls])
        self._in_flight.add(batch.id)
        self.counts.submitted += 1
        self.counts.requests += len(calls)
        self._show()
        await self._follow(batch.id, {c.key: c for c in calls})

    async def _follow(self, batch_id: str, calls: dict[str, _Call]) -> None:
        """Poll a batch until it ends, store its answers, hand them out, retry what failed."""
        batch = await self._wait_ended(batch_id)
        results = await self._results(batch)
        answered: dict[str, ModelResponse] = {}
        problems: dict[str, tuple[str, bool]] = {}  # key -> (what happened, worth retrying)
        for item in results:
            call = calls.get(item.custom_id)
            if call is None:
                continue
            result = item.result
            if result.type == "succeeded":
                latency = time.monotonic() - call.queued_at if call.queued_at else 0.0
                request = call.request or _unknown_request(result.message.model)
                try:
                    answered[item.custom_id] = to_response(
                        result.message, request, latency, batched=True
                    )
                except BackendFatalError as err:
                    problems[item.custom_id] = (str(err), False)
            elif result.type == "errored":
                error = result.error.error
                problems[item.custom_id] = (
                    f"{error.type}: {error.message}",
                    error.type not in FINAL_ERRORS,
                )
            else:
                problems[item.custom_id] = (result.type, True)
        await asyncio.gather(*(self.cache.put(key, r) for key, r in answered.items()))
        self.journal.collected(batch_id)
        self._in_flight.discard(batch_id)
        self.counts.done += 1
        for key, call in calls.items():
            self._sent.pop(key, None)
            if key in answered:
                for waiter in call.waiters:
                    if not waiter.done():
                        waiter.set_result(answered[key])
                continue
            what, retry = problems.get(key, ("missing from the results", True))
            if not call.waiters or call.request is None:
                continue  # recovered and not asked for: whoever asks later sends it anew
            if retry and call.attempts < self.options.attempts and not self._canceling:
                self.counts.retried += 1
                call.queued_at = call.queued_at or time.monotonic()
                self._queue[key] = call
            else:
                tries = f"after {call.attempts} attempt{'s' * (call.attempts != 1)}"
                self._fail([call], f"anthropic batch {batch_id}: {what} ({tries})")
        self._show()
        self._kick()

    async def _wait_ended(self, batch_id: str) -> MessageBatch:
        while True:
            batch = await self.client.messages.batches.retrieve(batch_id)
            if batch.processing_status == "ended":
                return batch
            await asyncio.sleep(self.options.poll_s)

    async def _results(self, batch: MessageBatch) -> list[MessageBatchIndividualResponse]:
        if not batch.results_url:
            return []  # ended without results (archived): every entry counts as missing
        stream = await self.client.messages.batches.results(batch.id)
        return [item async for item in stream]

    def _fail(self, calls: list[_Call], message: str) -> None:
        line = " ".join(message.split()).replace(self._key, "***")
        for call in calls:
            self._sent.pop(call.key, None)
            for waiter in call.waiters:
                if not waiter.done():
                    waiter.set_exception(BackendFatalError(line))

    def _show(self) -> None:
        if self._sink is not None:
            c = self.counts
            self._sink.status(
                f"batches: {c.submitted} submitted, {c.done} done, {c.waiting} waiting "
                f"({c.requests} requests, {c.retried} retried)"
            )

    # -- resume --------------------------------------------------------------------------------

    def recover(self) -> int:
        """Re-attach to the journal's pending batches; returns how many there were. From the
        first call on, each is followed until it ends and its answers land in the response cache;
        a call for one of its custom_ids waits for it instead of sending the request again."""
        pending = self.journal.pending()
        for batch_id, keys in pending.items():
            calls = {key: self._sent.setdefault(key, _Call(key, None)) for key in keys}
            self._in_flight.add(batch_id)
            self._recovered.append((batch_id, calls))
        self.counts.recovered = len(pending)
        return len(pending)

    def _follow_recovered(self) -> None:
        """Start following the recovered batches (needs the running event loop)."""
        while self._recovered:
            batch_id, calls = self._recovered.pop(0)
            self._spawn(self._follow(batch_id, calls), list(calls.values()))

    async def cancel(self) -> None:
        """Ask the API to cancel every batch in flight (a run budget reached, say): entries not
        yet processed come back canceled and their calls fail instead of being retried; what
        was answered before the cancel still arrives and is kept."""
        self._canceling = True
        self._fail(list(self._queue.values()), "anthropic batch: canceled before sending")
        self._queue.clear()
        for batch_id in sorted(self._in_flight):
            try:
                await self.client.messages.batches.cancel(batch_id)
            except anthropic.AnthropicError as err:
                raise BackendFatalError(describe_error(err, self._key)) from None

    async def aclose(self) -> None:
        """Stop following batches (they stay in the journal) and close the client."""
        if self._closed:
            return
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.client.close()


def _unknown_request(model: str) -> ModelRequest:
    """A stand-in request for a recovered answer nobody has asked for yet (role is a guess only
    used for a log line)."""
    return ModelRequest(role="interviewer", model=model, system="", messages=[])


class BatchBackend:
    """A role's backend that sends its calls through a shared `Batcher`: one Message Batch per
    round, shared by every batched role of a run."""

    name = AnthropicBackend.name

    def __init__(self, batcher: Batcher, identity: str | None = None) -> None:
        self.batcher = batcher
        # The response cache's key is the custom_id: the same identity (backend and server).
        self.identity = identity or self.name

    async def complete(self, request: ModelRequest) -> ModelResponse:
        return await self.batcher.call(request, request.cache_key(self.identity))

    async def aclose(self) -> None:
        await self.batcher.aclose()


def open_batcher(
    journal_path: Path,
    cache: ResponseCache,
    options: BatchOptions | None = None,
    *,
    sink: object = None,
    base_url: str | None = None,
) -> Batcher:
    """A batcher journaling to `journal_path`, re-attached to the batches pending there."""
    batcher = Batcher(BatchJournal(journal_path), cache, options, sink=sink, base_url=base_url)
    batcher.recover()
    return batcher


def batches_role(settings: RoleSettings, options: BatchOptions | None) -> bool:
    """Whether a role's calls go through batches: `batch: true` in the suite, or batching asked
    for the whole run (`sdi run --batch`) and the role is on the anthropic backend."""
    return settings.backend == AnthropicBackend.name and (settings.batch or options is not None)
