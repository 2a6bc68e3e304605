"""The synthetic backend: an offline, seeded stand-in for both roles. Never a model's output.

Every response it gives is marked `synthetic=True`, and so is every run that uses it.
"""

from __future__ import annotations

import hashlib
import random

from harness.backends.base import BackendFatalError, ModelRequest, ModelResponse, Usage
from harness.backends.synthetic import candidate, interviewer

SYNTHETIC = "synthetic"


def _approx_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def stream_seed(request: ModelRequest) -> int:
    """The random stream of one call: the interview's identity (persona, sample, suite seed), the
    role and the turn (how many messages it sees), never the prompt text. So two interviews never
    share a stream, the same interview under two prompt versions draws the same numbers turn by
    turn (common random numbers), and an edit changes only what the stand-in reads."""
    identity = [
        request.role,
        request.model,
        request.persona_id,
        request.sample_index,
        request.seed,
        len(request.messages),
    ]
    digest = hashlib.sha256(repr(identity).encode("utf-8")).hexdigest()
    return int(digest[:16], 16)


class SyntheticBackend:
    """Seeded from the interview's identity and the turn (`stream_seed`), so a call is
    reproducible, repeats differ by sample, and personas differ by id."""

    name = SYNTHETIC

    async def complete(self, request: ModelRequest) -> ModelResponse:
        rng = random.Random(stream_seed(request))
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
