"""What a run may spend, checked before each call, and what it did spend, written as it goes.

Two wrappers around a backend:
- `MeteredBackend`, under the response cache, sees only calls that reach the model: it reserves
  the call's ceiling against the run budget (`limits.max_run_cost_usd`) before sending, and
  writes the answered call to the spend ledger the moment it returns.
- `CappedBackend`, above the cache and one per interview, refuses a call whose ceiling would
  take the interview past `limits.max_cost_usd`. It counts replayed calls too, so a cached
  replay of an interview ends at the same turn as the original.

A call's ceiling is an upper bound, not a guess: every input token priced as a cache write
(the dearest input) at one token per three characters (English runs about four), and the
whole `max_tokens` as output. So a budget is never passed, at the price of stopping a little
early. Models without a listed price count as free here.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

from harness.backends.base import Backend, ModelRequest, ModelResponse
from harness.backends.pricing import ModelPrice, price_table
from harness.store.ledger import SpendLedger

CHARS_PER_TOKEN_FLOOR = 3
TOKENS_PER_MESSAGE = 8  # role markers and framing

current_interview: ContextVar[str | None] = ContextVar("current_interview", default=None)


class BudgetExhausted(Exception):
    """The run budget cannot cover the next call: the interview stops, to be resumed later."""


class CostCapReached(Exception):
    """The interview's own cost cap cannot cover its next call: the interview ends here."""


def backend_price(backend: object) -> ModelPrice | None:
    """The role's own price (`price:` in the suite) of a backend under any wrappers, if set."""
    while backend is not None:
        price = getattr(backend, "price", None)
        if isinstance(price, ModelPrice):
            return price
        backend = getattr(backend, "inner", None)
    return None


def call_ceiling_usd(request: ModelRequest, price: ModelPrice | None = None) -> float:
    """The most this call can cost (see the module docstring), at the role's price if given."""
    table = price_table()
    price = price or table.price_for(request.model)
    if price is None:
        return 0.0
    chars = len(request.system) + sum(len(m.content) for m in request.messages)
    tokens_in = (
        chars // CHARS_PER_TOKEN_FLOOR + 1 + TOKENS_PER_MESSAGE * (len(request.messages) + 1)
    )
    per_input = price.input / 1e6 * max(1.0, table.cache_write)
    return tokens_in * per_input + request.max_tokens * price.output / 1e6


@dataclass
class RunBudget:
    """Spent (from the ledger, earlier invocations included) plus reserved never passes limit."""

    limit_usd: float | None
    spent_usd: float = 0.0
    reserved_usd: float = 0.0
    exhausted: bool = False

    def affords(self, ceiling: float) -> bool:
        if self.limit_usd is None:
            return True
        return self.spent_usd + self.reserved_usd + ceiling <= self.limit_usd

    def reserve(self, ceiling: float) -> None:
        if not self.affords(ceiling):
            self.exhausted = True
            raise BudgetExhausted(
                f"run budget ${self.limit_usd:.4f}: spent ${self.spent_usd:.4f}, "
                f"in flight up to ${self.reserved_usd:.4f}, next call up to ${ceiling:.4f}"
            )
        self.reserved_usd += ceiling

    def settle(self, ceiling: float, cost: float | None) -> None:
        """Release a reservation; `cost` is what the answered call cost (None: not answered)."""
        self.reserved_usd = max(0.0, self.reserved_usd - ceiling)
        self.spent_usd += cost or 0.0


class MeteredBackend:
    """Budget before, ledger after: every call that reaches the model goes through here."""

    def __init__(self, inner: Backend, ledger: SpendLedger, budget: RunBudget) -> None:
        self.inner = inner
        self.name = inner.name
        self.ledger = ledger
        self.budget = budget
        self.price = backend_price(inner)
        # The adaptive limiter listens to the inner backend's HTTP attempts through these.
        self.observers = getattr(inner, "observers", None)

    async def complete(self, request: ModelRequest) -> ModelResponse:
        ceiling = call_ceiling_usd(request, self.price)
        self.budget.reserve(ceiling)
        interview = current_interview.get()
        cost = None
        try:
            call = self.ledger.sent(interview, request.role, request.model, ceiling)
            try:
                response = await self.inner.complete(request)
            except Exception:
                self.ledger.unanswered(call)  # a cancelled call stays in doubt: it may be billed
                raise
            self.ledger.answered(call, interview, request.role, response)
            cost = response.cost_usd
        finally:
            self.budget.settle(ceiling, cost)
        return response

    async def aclose(self) -> None:
        aclose = getattr(self.inner, "aclose", None)
        if aclose is not None:
            await aclose()


@dataclass
class InterviewTally:
    cap_usd: float
    cost_usd: float = 0.0


class CappedBackend:
    """The interview's cost cap, checked before each call (one per interview, both roles)."""

    def __init__(self, inner: Backend, tally: InterviewTally) -> None:
        self.inner = inner
        self.name = inner.name
        self.tally = tally
        self.price = backend_price(inner)

    async def complete(self, request: ModelRequest) -> ModelResponse:
        ceiling = call_ceiling_usd(request, self.price)
        if self.tally.cost_usd + ceiling > self.tally.cap_usd:
            raise CostCapReached(
                f"cost ${self.tally.cost_usd:.4f} + next call up to ${ceiling:.4f} "
                f"> cap ${self.tally.cap_usd:.4f}"
            )
        response = await self.inner.complete(request)
        self.tally.cost_usd += response.cost_usd
        return response
