"""The request/response types every backend speaks, and the Backend protocol."""

from __future__ import annotations

import hashlib
import json
from typing import Literal, Protocol

from pydantic import BaseModel, Field

Role = Literal["interviewer", "candidate", "judge"]


class ChatMessage(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class ModelRequest(BaseModel):
    """Everything that determines a model call; its hash is the response-cache key.

    `persona_id` and `sample_index` are the interview's identity: they are part of the key, so
    two interviews never share a sample (two personas with one problem send the same first
    request, and would otherwise get one cached reply), while the same persona and sample under
    another prompt version gets the same candidate reply (common random numbers).
    """

    role: Role
    model: str
    system: str
    messages: list[ChatMessage]
    max_tokens: int = 1024
    persona_id: str = ""
    sample_index: int = 0
    seed: int = 0

    def cache_key(self, backend: str) -> str:
        payload = {"backend": backend, **self.model_dump()}
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0

    @property
    def total_input(self) -> int:
        return self.input_tokens + self.cache_read_input_tokens + self.cache_creation_input_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_read_input_tokens=self.cache_read_input_tokens + other.cache_read_input_tokens,
            cache_creation_input_tokens=self.cache_creation_input_tokens
            + other.cache_creation_input_tokens,
        )


class ModelResponse(BaseModel):
    text: str
    model: str
    backend: str
    stop_reason: str | None = None
    usage: Usage = Field(default_factory=Usage)
    latency_s: float = 0.0
    cost_usd: float = 0.0
    synthetic: bool = False
    cached: bool = False
    batched: bool = False  # answered through Message Batches, at the batch price


class Backend(Protocol):
    """A model behind `complete`; `name` goes into cache keys and manifests."""

    name: str

    async def complete(self, request: ModelRequest) -> ModelResponse: ...


class BackendFatalError(Exception):
    """A model error that retrying cannot fix (bad key, spend cap, bad request): stop the run."""


class CallFailedError(BackendFatalError):
    """One call failed for good (retries exhausted, a 400, an unreadable reply) while the
    backend itself works: a runner fails that interview alone; other callers stop as before."""
