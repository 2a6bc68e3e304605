"""The synthetic backend: an offline, seeded stand-in for both roles. Never a model's output.

Every response it gives is marked `synthetic=True`, and so is every run that uses it.
"""

from __future__ import annotations

import random

from harness.backends.base import BackendFatalError, ModelRequest, ModelResponse, Usage
from harness.backends.synthetic import candidate, interviewer

SYNTHETIC = "synthetic"


def _approx_tokens(text: str) -> int:
    return max(1, len(text) // 4)


class SyntheticBackend:
    """Seeded from the whole request, so a call is reproducible and repeats differ by sample."""

    name = SYNTHETIC

    async def complete(self, request: ModelRequest) -> ModelResponse:
        rng = random.Random(int(request.cache_key(self.name)[:16], 16))
        if request.role == "interviewer":
            text = interviewer.respond(request.system, request.messages, rng)
        elif request.role == "candidate":
            text = candidate.respond(request.system, request.messages, rng)
        else:
            raise BackendFatalError("the synthetic backend cannot act as a judge")
        prompt = request.system + "".join(m.content for m in request.messages)
        usage = Usage(input_tokens=_approx_tokens(prompt), output_tokens=_approx_tokens(text))
        return ModelResponse(
            text=text,
            model=request.model,
            backend=self.name,
            stop_reason="end_turn",
            usage=usage,
            synthetic=True,
        )
