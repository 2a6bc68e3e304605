"""A loopback HTTP server that speaks the Messages API, for testing the real SDK offline.

It listens on 127.0.0.1 (a free port, in a thread), records every request (headers and JSON
body), and answers from a scripted queue of replies or, when the queue is empty, from a
responder: by default a plausible interviewer (one question a turn, feedback with a score once
the candidate says time is up), so a whole `sdi run` can go through it. Usage is computed by
a small model of prompt caching that honours the request's `cache_control` breakpoints, so
cache tokens appear only when the client asks for caching.

`running_loopback(monkeypatch)` starts one and points the SDK at it with a fake key.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

import pytest

FAKE_API_KEY = "sk-ant-loopback-FAKE-0123456789abcdef"
Body = dict[str, Any]


@dataclass
class Reply:
    """One scripted answer: a message, an error or junk. `usage=None` on a message means the
    server's cache model computes it from the request."""

    status: int = 200
    payload: Body | bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None
    thinking: str | None = None
    stop_reason: str = "end_turn"
    usage: dict[str, int] | None = None


def message(
    text: str,
    *,
    thinking: str | None = None,
    stop_reason: str = "end_turn",
    usage: dict[str, int] | None = None,
) -> Reply:
    return Reply(text=text, thinking=thinking, stop_reason=stop_reason, usage=usage)


def error(
    status: int,
    error_type: str,
    text: str = "scripted error",
    *,
    retry_after: str | None = None,
    retry_after_ms: str | None = None,
    error_code: str | None = None,
) -> Reply:
    """An error reply as the API sends it; `retry-after` headers only when given."""
    err: Body = {"type": error_type, "message": text}
    if error_code:
        err["details"] = {"error_code": error_code}
    headers = {}
    if retry_after is not None:
        headers["retry-after"] = retry_after
    if retry_after_ms is not None:
        headers["retry-after-ms"] = retry_after_ms
    return Reply(status=status, payload={"type": "error", "error": err}, headers=headers)


def junk(body: bytes = b"<html>upstream proxy says hello</html>", status: int = 200) -> Reply:
    return Reply(status=status, payload=body, headers={"content-type": "text/html"})


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: Body | None
    raw: bytes


def tokens(text: str) -> int:
    """A rough token count (4 characters a token), enough for plausible usage figures."""
    return max(1, len(text) // 4)


def _blocks(body: Body) -> list[tuple[str, bool]]:
    """The request as (block text, has breakpoint), system first, in cache-prefix order."""
    out: list[tuple[str, bool]] = []
    system = body.get("system")
    if isinstance(system, str):
        out.append((system, False))
    elif isinstance(system, list):
        out.extend((str(b.get("text", "")), "cache_control" in b) for b in system)
    for msg in body.get("messages", []):
        content = msg.get("content")
        if isinstance(content, str):
            out.append((f"{msg.get('role')}:{content}", False))
        else:
            for block in content or []:
                text = f"{msg.get('role')}:{block.get('text', '')}"
                out.append((text, "cache_control" in block))
    if body.get("cache_control") and out:
        out[-1] = (out[-1][0], True)  # automatic caching: the breakpoint is the last block
    return out


class PromptCacheModel:
    """Prefixes written at breakpoints are read back by later requests that share them. As at
    the real API, a breakpoint whose prefix is shorter than `min_cacheable` tokens (1,024 for
    Sonnet and Opus) writes nothing; the default 0 caches any length."""

    def __init__(self, min_cacheable: int = 0) -> None:
        self.min_cacheable = min_cacheable
        self.written: set[str] = set()
        self.lock = threading.Lock()
        self.log: list[tuple[Body, dict[str, int]]] = []  # the server's accounting, per call

    def usage(self, body: Body, output: str) -> dict[str, int]:
        blocks = _blocks(body)
        sizes = [tokens(text) for text, _ in blocks]
        digests, digest, running = [], hashlib.sha256(), []
        for text, size in zip((t for t, _ in blocks), sizes, strict=True):
            digest.update(text.encode() + b"\0")
            digests.append(digest.hexdigest())
            running.append(size + (running[-1] if running else 0))
        marks = [i for i, (_, mark) in enumerate(blocks) if mark]
        marks = [i for i in marks if running[i] >= self.min_cacheable]
        with self.lock:
            hit = max((i + 1 for i, d in enumerate(digests) if d in self.written), default=0)
            last_mark = max(marks, default=-1) + 1
            self.written.update(digests[i] for i in marks)
        written = sum(sizes[hit:last_mark]) if last_mark > hit else 0
        usage = {
            "input_tokens": sum(sizes) - sum(sizes[:hit]) - written,
            "output_tokens": tokens(output),
            "cache_read_input_tokens": sum(sizes[:hit]),
            "cache_creation_input_tokens": written,
        }
        with self.lock:
            self.log.append((body, usage))
        return usage


QUESTIONS = (
    "Let's start with scale. How many new links a day, and how many reads per write?",
    "How would you generate the short code so that two writers never collide?",
    "You mentioned a cache. What eviction policy would you use, and why that one?",
    "Why did you choose that database over the alternatives you considered?",
    "What happens to the keys when you add a node to that cluster?",
    "Walk me through what breaks first when traffic grows ten times.",
)
OPENING = (
    "Happy to. Which of these problems would you like to tackle?\n\n"
    "1. URL shortener\n2. Twitter-style feed\n3. Rate limiter\n4. Job queue\n"
    "5. Collaborative editor"
)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(str(b.get("text", "")) for b in content or [])


def interviewer_reply(body: Body) -> Reply:
    """A plausible interviewer: the problem list first, then one question a turn, and feedback
    with a score out of 10 once the candidate says time is up or asks for it."""
    messages = body.get("messages", [])
    last = _text(messages[-1]["content"]).lower() if messages else ""
    asked = sum(1 for m in messages if m.get("role") == "assistant")
    if "time is up" in last or "feedback and a score" in last:
        seed = int(hashlib.sha256(json.dumps(messages).encode()).hexdigest()[:8], 16)
        return message(
            "Thanks, that's time. Here's my feedback.\n\n"
            "**What went well:** you clarified requirements and gave a clear API.\n\n"
            "**What needs work:** the cache stayed vague; no eviction policy or hit rate.\n\n"
            "**What I was hoping to hear:** capacity numbers and how the key space is sharded.\n\n"
            f"**Score: {4 + seed % 5}/10**"
        )
    if asked == 0:
        return message(OPENING)
    return message(QUESTIONS[(asked - 1) % len(QUESTIONS)])


def message_body(body: Body, reply: Reply, cache: PromptCacheModel, message_id: str) -> Body:
    """The Messages reply for a request body: the scripted text, usage from the cache model."""
    text = reply.text or ""
    content: list[Body] = []
    if reply.thinking is not None:
        content.append({"type": "thinking", "thinking": reply.thinking, "signature": "sig"})
    content.append({"type": "text", "text": text})
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": body.get("model", "unknown"),
        "content": content,
        "stop_reason": reply.stop_reason,
        "stop_sequence": None,
        "usage": reply.usage or cache.usage(body, text),
    }


class HttpLoopback:
    """An HTTP server on 127.0.0.1 (a free port, in a thread) that records nothing itself and
    hands every request to `_answer`; a context manager that starts and stops it."""

    def __init__(self) -> None:
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(self._answer))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _answer(self, recorded: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError


class LoopbackServer(HttpLoopback):
    """`POST /v1/messages` on 127.0.0.1; `queue` replies first, then `responder`."""

    def __init__(self, responder: Callable[[Body], Reply] = interviewer_reply) -> None:
        self.responder = responder
        self.queue: deque[Reply] = deque()
        self.requests: list[RecordedRequest] = []
        self.cache = PromptCacheModel()
        self._lock = threading.Lock()
        super().__init__()

    def enqueue(self, *replies: Reply) -> None:
        with self._lock:
            self.queue.extend(replies)

    def messages_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == "/v1/messages"]

    def _answer(self, recorded: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.requests.append(recorded)
            reply = self.queue.popleft() if self.queue else None
        body = recorded.body or {}
        if recorded.path != "/v1/messages" or recorded.method != "POST":
            reply = error(404, "not_found_error", f"no route {recorded.method} {recorded.path}")
        elif reply is None:
            reply = self.responder(body)
        headers = {
            "content-type": "application/json",
            "request-id": "req_loopback",
            **reply.headers,
        }
        if isinstance(reply.payload, bytes):
            return reply.status, headers, reply.payload
        payload = reply.payload if reply.payload is not None else self._message(body, reply)
        return reply.status, headers, json.dumps(payload).encode()

    def _message(self, body: Body, reply: Reply) -> Body:
        return message_body(body, reply, self.cache, f"msg_loopback_{len(self.requests)}")


def _handler_class(
    answer: Callable[[RecordedRequest], tuple[int, dict[str, str], bytes]],
) -> type[BaseHTTPRequestHandler]:
    """A request handler that records each request and sends what `answer` gives back."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            recorded = RecordedRequest(
                method=self.command,
                path=self.path.split("?")[0],
                headers={k.lower(): v for k, v in self.headers.items()},
                body=parsed if isinstance(parsed, dict) else None,
                raw=raw,
            )
            status, headers, payload = answer(recorded)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_POST = _handle
        do_GET = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def point_sdk_at(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """The SDK's base URL and a fake key, for a test on a loopback server."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", url)
    monkeypatch.delenv("ANTHROPIC_AUTH_TOKEN", raising=False)


@contextmanager
def running_loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    """A running loopback server with the SDK pointed at it (`ANTHROPIC_BASE_URL`) and a fake
    `ANTHROPIC_API_KEY`; a test module wraps it in its own fixture."""
    with LoopbackServer() as server:
        point_sdk_at(monkeypatch, server.url)
        yield server
