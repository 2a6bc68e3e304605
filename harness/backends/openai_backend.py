"""The OpenAI backend: Chat Completions through the official SDK's `AsyncOpenAI`.

Anything that speaks the Chat Completions API works: OpenAI itself, and local or self-hosted
servers (Ollama, vLLM, llama.cpp, LM Studio) through a suite's `base_url`. OpenAI caches long
prompt prefixes by itself; the cached share it reports (`prompt_tokens_details.cached_tokens`)
becomes `cache_read_input_tokens`, and the rest of the prompt `input_tokens`, so the two add
up to what the server counted. The SDK retries 408, 409, 429 and 5xx; what it gives up on, or
what retrying cannot fix, becomes one `BackendFatalError` line that never carries the key.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import openai
from openai import AsyncOpenAI, omit
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

from harness.backends.anthropic_backend import DEFAULT_MAX_RETRIES
from harness.backends.base import (
    BackendFatalError,
    ChatMessage,
    ModelRequest,
    ModelResponse,
    Usage,
)
from harness.backends.pricing import ModelPrice, estimate_cost

WATCHED_FINISH_REASONS = frozenset({"length", "content_filter"})

log = logging.getLogger(__name__)


def _error_text(err: openai.APIStatusError) -> str:
    """The server's own message when the body has one (`{"error": {"message": ...}}`)."""
    body: Any = err.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return str(inner["message"])
    return body if isinstance(body, str) else ""


def _describe(err: openai.OpenAIError, key: str) -> str:
    """One line saying what went wrong and whether retrying was tried; the key is scrubbed."""
    if isinstance(err, openai.APIStatusError):
        kind = err.code or err.type or type(err).__name__
        line = f"openai: HTTP {err.status_code} {kind}: {_error_text(err)}".rstrip(": ")
        if isinstance(err, openai.RateLimitError | openai.InternalServerError):
            line += " (gave up after the SDK's retries)"
        elif isinstance(err, openai.AuthenticationError):
            line += " (check the role's api_key_env)"
    elif isinstance(err, openai.APIConnectionError):
        line = f"openai: {type(err).__name__}: {err.message} (gave up after the SDK's retries)"
    else:
        line = f"openai: {type(err).__name__}: {err}"
    line = " ".join(line.split())
    return line.replace(key, "***") if key else line


def chat_messages(request: ModelRequest) -> list[ChatCompletionMessageParam]:
    """The system prompt first, then the conversation: one unchanged prefix per interview, which
    is what the vendor's automatic prompt cache needs."""
    out: list[ChatCompletionMessageParam] = [{"role": "system", "content": request.system}]
    for m in request.messages:
        out.append(_message(m))
    return out


def _message(m: ChatMessage) -> ChatCompletionMessageParam:
    if m.role == "user":
        return {"role": "user", "content": m.content}
    return {"role": "assistant", "content": m.content}


def _usage(completion: ChatCompletion) -> Usage:
    raw = completion.usage
    if raw is None:  # some compatible servers leave usage out
        return Usage()
    details = raw.prompt_tokens_details
    cached = (details.cached_tokens or 0) if details is not None else 0
    prompt = raw.prompt_tokens or 0
    return Usage(
        input_tokens=max(prompt - cached, 0),
        output_tokens=raw.completion_tokens or 0,
        cache_read_input_tokens=min(cached, prompt),
    )


class OpenAIBackend:
    """Chat Completions via `AsyncOpenAI`; one client per backend, closed with `aclose()`."""

    name = "openai"

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str | None = None,
        price: ModelPrice | None = None,
        vendor: bool = True,
        max_retries: int = DEFAULT_MAX_RETRIES,
        timeout: float | None = None,
    ) -> None:
        self._key = api_key
        self.price = price
        # OpenAI's own API takes `max_completion_tokens` (its reasoning models refuse
        # `max_tokens`); compatible servers have long known `max_tokens`, not always the other.
        self._vendor = vendor
        options: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        # Told of every HTTP attempt, retries included (status, headers): rate limiting.
        self.observers: list[Callable[[int, Mapping[str, str]], None]] = []
        http = openai.DefaultAsyncHttpxClient(event_hooks={"response": [self._observe]})
        self.client = AsyncOpenAI(
            api_key=api_key,
            base_url=base_url,
            max_retries=max_retries,
            http_client=http,
            **options,
        )

    async def _observe(self, response: Any) -> None:
        for observe in self.observers:
            observe(response.status_code, response.headers)

    async def complete(self, request: ModelRequest) -> ModelResponse:
        limit = request.max_tokens
        started = time.perf_counter()
        try:
            completion = await self.client.chat.completions.create(
                model=request.model,
                messages=chat_messages(request),
                max_completion_tokens=limit if self._vendor else omit,
                max_tokens=omit if self._vendor else limit,
            )
        except openai.OpenAIError as err:
            raise BackendFatalError(_describe(err, self._key)) from None
        latency = time.perf_counter() - started
        # Parsing is lenient: a junk body comes back as a str, or a completion without choices.
        if not isinstance(completion, ChatCompletion) or not completion.choices:
            raise BackendFatalError(
                "openai: the response was not a readable Chat Completions reply"
            )
        choice = completion.choices[0]
        usage = _usage(completion)
        model = completion.model or request.model
        if choice.finish_reason in WATCHED_FINISH_REASONS:
            log.warning("openai: %s stopped with %s", request.role, choice.finish_reason)
        return ModelResponse(
            text=choice.message.content or "",
            model=model,
            backend=self.name,
            stop_reason=choice.finish_reason,
            usage=usage,
            latency_s=latency,
            cost_usd=estimate_cost(model, usage, self.price),
        )

    async def aclose(self) -> None:
        await self.client.close()
