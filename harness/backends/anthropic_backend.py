"""The Anthropic backend: Claude through the official SDK's `AsyncAnthropic`, with prompt caching.

The system prompt and the growing conversation are both marked for caching, so each turn of
an interview reads the earlier prefix from the cache instead of paying for it again. The SDK
retries 429, 529 and 5xx itself; whatever it gives up on, or what retrying cannot fix, becomes
one `BackendFatalError` line that never carries the key.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

import anthropic
from anthropic import AsyncAnthropic
from anthropic.types import (
    AssistantMessageParam,
    CacheControlEphemeralParam,
    Message,
    MessageParam,
    TextBlockParam,
    UserMessageParam,
)
from anthropic.types.message_create_params import MessageCreateParamsNonStreaming

from harness.backends.base import (
    BackendFatalError,
    ChatMessage,
    ModelRequest,
    ModelResponse,
    Usage,
)
from harness.backends.pricing import ModelPrice, estimate_cost
from harness.errors import InputError

API_KEY_ENV = "ANTHROPIC_API_KEY"
DEFAULT_MAX_RETRIES = 4
SPEND_LIMIT_CODES = frozenset({"enforced_spend_limit_reached", "contract_spend_limit_reached"})
WATCHED_STOP_REASONS = frozenset({"max_tokens", "refusal", "model_context_window_exceeded"})
EPHEMERAL: CacheControlEphemeralParam = {"type": "ephemeral"}

log = logging.getLogger(__name__)


def api_key() -> str:
    key = os.environ.get(API_KEY_ENV, "").strip()
    if not key:
        raise InputError(None, API_KEY_ENV, "not set; the anthropic backend needs an API key")
    return key


async def _stop_on_spend_limit(
    request: anthropic.APIRequest, call_next: Any
) -> anthropic.AsyncAPIResponse[Any]:
    """A spend-cap 429 is a RateLimitError the SDK would retry (waiting out `retry-after`);
    no wait lifts a spend cap, so stop at the first one."""
    response: anthropic.AsyncAPIResponse[Any] = await call_next(request)
    if response.status_code == 429:
        raw = response.http_response
        await raw.aread()
        try:
            error = json.loads(raw.text).get("error") or {}
        except (ValueError, AttributeError):
            error = {}
        code = (error.get("details") or {}).get("error_code") if isinstance(error, dict) else None
        if code in SPEND_LIMIT_CODES:
            raise BackendFatalError(f"anthropic: spend limit reached ({code}); not retrying")
    return response


def describe_error(err: anthropic.AnthropicError, key: str) -> str:
    """One line saying what went wrong and whether retrying was tried; the key is scrubbed."""
    if isinstance(err, anthropic.APIStatusError):
        what = err.api_message or (err.body if isinstance(err.body, str) else "") or ""
        kind = err.type or type(err).__name__
        line = f"anthropic: HTTP {err.status_code} {kind}: {what}".rstrip(": ")
        if isinstance(err, anthropic.RateLimitError | anthropic.InternalServerError):
            line += " (gave up after the SDK's retries)"
        elif isinstance(err, anthropic.AuthenticationError):
            line += f" (check {API_KEY_ENV})"
    elif isinstance(err, anthropic.APIConnectionError):
        line = f"anthropic: {type(err).__name__}: {err.message} (gave up after the SDK's retries)"
    else:
        line = f"anthropic: {type(err).__name__}: {err}"
    line = " ".join(line.split())
    return line.replace(key, "***") if key else line


def _message_param(message: ChatMessage) -> MessageParam:
    if message.role == "user":
        return UserMessageParam(role="user", content=message.content)
    return AssistantMessageParam(role="assistant", content=message.content)


def _text_of(message: Message) -> str:
    """Join the text blocks; thinking and other block types are not the model's reply."""
    return "".join(b.text for b in message.content if b.type == "text")


def message_params(request: ModelRequest) -> MessageCreateParamsNonStreaming:
    """The Messages API parameters for a request, with prompt caching on: the system prompt
    and (automatic caching) the conversation so far. Batched calls send the same parameters."""
    system: list[TextBlockParam] = [
        {"type": "text", "text": request.system, "cache_control": EPHEMERAL}
    ]
    return {
        "model": request.model,
        "max_tokens": request.max_tokens,
        "system": system,
        "messages": [_message_param(m) for m in request.messages],
        # Automatic caching: the breakpoint follows the last block, so each turn reads the
        # conversation so far from the cache.
        "cache_control": EPHEMERAL,
    }


def to_response(
    message: object,
    request: ModelRequest,
    latency: float,
    *,
    batched: bool = False,
    price: ModelPrice | None = None,
) -> ModelResponse:
    """A Messages reply as the harness's response, at `price` (else the table's); batched
    replies cost the batch price."""
    # Parsing is lenient: a junk body comes back as a str, or as a Message without content.
    if not isinstance(message, Message) or not isinstance(message.content, list):
        raise BackendFatalError("anthropic: the response was not a readable Messages reply")
    raw = message.usage
    usage = Usage(
        input_tokens=raw.input_tokens or 0,
        output_tokens=raw.output_tokens or 0,
        cache_read_input_tokens=raw.cache_read_input_tokens or 0,
        cache_creation_input_tokens=raw.cache_creation_input_tokens or 0,
    )
    model = message.model or request.model
    if message.stop_reason in WATCHED_STOP_REASONS:
        log.warning("anthropic: %s stopped with %s", request.role, message.stop_reason)
    return ModelResponse(
        text=_text_of(message),
        model=model,
        backend=AnthropicBackend.name,
        stop_reason=message.stop_reason,
        usage=usage,
        latency_s=latency,
        cost_usd=estimate_cost(model, usage, price, batched=batched),
        batched=batched,
    )


class AnthropicBackend:
    """Claude via `AsyncAnthropic`; one client per backend, closed with `aclose()`."""

    name = "anthropic"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        key: str | None = None,
        price: ModelPrice | None = None,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout: float | None = None,
    ) -> None:
        self._key = key or api_key()
        self.price = price
        # Told of every HTTP attempt, retries included (status, headers): rate limiting.
        self.observers: list[Callable[[int, Mapping[str, str]], None]] = []
        options: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        # Passing the key explicitly stops the SDK from looking for credentials anywhere else
        # (profiles, federation files); `base_url=None` falls back to ANTHROPIC_BASE_URL.
        self.client = AsyncAnthropic(
            api_key=self._key,
            base_url=base_url,
            max_retries=max_retries,
            middleware=[self._observe, _stop_on_spend_limit],
            **options,
        )

    async def _observe(
        self, request: anthropic.APIRequest, call_next: Any
    ) -> anthropic.AsyncAPIResponse[Any]:
        response: anthropic.AsyncAPIResponse[Any] = await call_next(request)
        for observe in self.observers:
            observe(response.status_code, response.headers)
        return response

    async def complete(self, request: ModelRequest) -> ModelResponse:
        started = time.perf_counter()
        try:
            message = await self.client.messages.create(**message_params(request))
        except anthropic.AnthropicError as err:
            raise BackendFatalError(describe_error(err, self._key)) from None
        return to_response(message, request, time.perf_counter() - started, price=self.price)

    async def aclose(self) -> None:
        await self.client.close()
