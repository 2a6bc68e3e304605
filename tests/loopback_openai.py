"""A loopback HTTP server that speaks the Chat Completions API, for testing the real `openai`
SDK offline (the OpenAI API, and what Ollama, vLLM, llama.cpp and LM Studio serve).

It is `tests/loopback.py`'s server with another route and reply shape: `POST
/v1/chat/completions` (or `/chat/completions` under any base path) on 127.0.0.1, scripted
replies first, then a responder (by default the same plausible interviewer). Usage follows the
vendor's automatic prompt caching: a request whose leading messages repeat an earlier request's
reads them from the cache (`prompt_tokens_details.cached_tokens`) once that prefix is at least
`min_cacheable` tokens (1,024 at OpenAI); nothing is billed for writing.

`running_openai_loopback(monkeypatch)` starts one with the SDK pointed at it and a fake key.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.loopback import (
    Body,
    LoopbackServer,
    RecordedRequest,
    Reply,
    interviewer_reply,
    tokens,
)

FAKE_OPENAI_KEY = "sk-proj-loopback-FAKE-fedcba9876543210"
OPENAI_MIN_CACHEABLE = 1024


def openai_error(
    status: int, code: str, text: str = "scripted error", *, retry_after: str | None = None
) -> Reply:
    """An error reply as the API sends it: `{"error": {"message", "type", "code"}}`."""
    headers = {} if retry_after is None else {"retry-after": retry_after}
    payload = {"error": {"message": text, "type": code, "param": None, "code": code}}
    return Reply(status=status, payload=payload, headers=headers)


class AutomaticPromptCache:
    """Every request's message prefixes are cached; a later request reads the longest one it
    repeats, if that is at least `min_cacheable` tokens."""

    def __init__(self, min_cacheable: int = OPENAI_MIN_CACHEABLE) -> None:
        self.min_cacheable = min_cacheable
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def usage(self, body: Body, output: str) -> Body:
        sizes, digests, digest = [], [], hashlib.sha256()
        for msg in body.get("messages", []):
            text = f"{msg.get('role')}:{msg.get('content')}"
            sizes.append(tokens(text))
            digest.update(text.encode() + b"\0")
            digests.append(digest.hexdigest())
        with self.lock:
            hit = max((i + 1 for i, d in enumerate(digests) if d in self.seen), default=0)
            self.seen.update(digests)
        prompt = sum(sizes)
        cached = sum(sizes[:hit])
        cached = cached if cached >= self.min_cacheable else 0
        completion = tokens(output)
        return {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached},
        }


class ChatCompletionsServer(LoopbackServer):
    """The loopback server with the Chat Completions route and reply shape."""

    def __init__(
        self,
        responder: Callable[[Body], Reply] = interviewer_reply,
        *,
        min_cacheable: int = OPENAI_MIN_CACHEABLE,
    ) -> None:
        super().__init__(responder)
        self.prompt_cache = AutomaticPromptCache(min_cacheable)
        self.usage_log: list[Body] = []

    def chat_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def _answer(self, recorded: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append(recorded)
            reply = self.queue.popleft() if self.queue else None
        body = recorded.body or {}
        if not recorded.path.endswith("/chat/completions") or recorded.method != "POST":
            reply = openai_error(404, "not_found", f"no route {recorded.method} {recorded.path}")
        elif reply is None:
            reply = self.responder(body)
        headers = {"content-type": "application/json", "x-request-id": "req_loopback"}
        headers.update(reply.headers)
        if isinstance(reply.payload, bytes):
            return reply.status, headers, reply.payload
        payload = reply.payload if reply.payload is not None else self._completion(body, reply)
        return reply.status, headers, json.dumps(payload).encode()

    def _completion(self, body: Body, reply: Reply) -> Body:
        text = reply.text or ""
        usage = reply.usage or self.prompt_cache.usage(body, text)
        with self._lock:
            self.usage_log.append(usage)
        finish = {"end_turn": "stop", "max_tokens": "length"}.get(reply.stop_reason, "stop")
        return {
            "id": f"chatcmpl-loopback-{len(self.requests)}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": body.get("model", "unknown"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text, "refusal": None},
                    "finish_reason": finish,
                    "logprobs": None,
                }
            ],
            "usage": usage,
        }


@contextmanager
def running_openai_loopback(
    monkeypatch: pytest.MonkeyPatch, **kwargs: Any
) -> Iterator[ChatCompletionsServer]:
    """A running server with the SDK pointed at it (`OPENAI_BASE_URL`, ending in /v1 like the
    vendor's) and a fake `OPENAI_API_KEY`; a test module wraps it in its own fixture."""
    with ChatCompletionsServer(**kwargs) as server:
        monkeypatch.setenv("OPENAI_API_KEY", FAKE_OPENAI_KEY)
        monkeypatch.setenv("OPENAI_BASE_URL", f"{server.url}/v1")
        yield server
