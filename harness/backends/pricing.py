"""Cost estimates from token usage, with prices kept in `prices.yaml` beside this module.

A role may also carry its own price in the suite (`price: {input: .., output: ..}`, or
`price: 0` for a local model); that wins over the table. A model with neither is refused when
the suite is loaded (`require_price`), never priced at $0 by default: a missing price would
silently disable every cost cap.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from harness.backends.base import ModelResponse, Usage

PRICES_FILE = Path(__file__).with_name("prices.yaml")
_SNAPSHOT = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2}|latest)$")


class ModelPrice(BaseModel):
    """US dollars per million tokens; cache multiples of `input` default to the table's."""

    model_config = ConfigDict(extra="forbid")

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_write: float | None = Field(default=None, ge=0, description="x input, per token")
    cache_read: float | None = Field(default=None, ge=0, description="x input, per token")
    source: str | None = Field(default=None, description="where the figure comes from, and when")


FREE = ModelPrice(input=0.0, output=0.0, source="price: 0 (a local model)")


class PriceTable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checked: str = Field(description="date the table was last checked, YYYY-MM-DD")
    cache_write: float
    cache_read: float
    batch: float = Field(default=0.5, gt=0, le=1)
    models: dict[str, ModelPrice]

    def price_for(self, model: str) -> ModelPrice | None:
        """The entry for the id, or for the id without a dated-snapshot or `-latest` suffix;
        None for a model with no price. (`synthetic-*` ids are the stand-in's, never billed.)"""
        if model in self.models:
            return self.models[model]
        base = _SNAPSHOT.sub("", model)
        if base in self.models:
            return self.models[base]
        return self.models.get("synthetic") if model.startswith("synthetic") else None


@lru_cache(maxsize=1)
def price_table() -> PriceTable:
    return PriceTable.model_validate(yaml.safe_load(PRICES_FILE.read_text(encoding="utf-8")))


def cost_of(usage: Usage, price: ModelPrice, *, batched: bool = False) -> float:
    """US dollars for the given usage at the given price; a call sent through Message Batches
    costs the table's `batch` fraction of it."""
    table = price_table()
    per_input = price.input / 1e6
    write = table.cache_write if price.cache_write is None else price.cache_write
    read = table.cache_read if price.cache_read is None else price.cache_read
    discount = table.batch if batched else 1.0
    return discount * (
        usage.input_tokens * per_input
        + usage.cache_creation_input_tokens * per_input * write
        + usage.cache_read_input_tokens * per_input * read
        + usage.output_tokens * price.output / 1e6
    )


def estimate_cost(
    model: str, usage: Usage, price: ModelPrice | None = None, *, batched: bool = False
) -> float:
    """US dollars for one call: at `price` when given, else the table's; 0.0 for a model the
    table does not list (only the synthetic stand-in gets that far: suites refuse the rest)."""
    chosen = price or price_table().price_for(model)
    return 0.0 if chosen is None else cost_of(usage, chosen, batched=batched)


def call_record(response: ModelResponse) -> dict[str, Any]:
    """What a transcript's or regrade's `meta` keeps of one model call, its cost included.

    The cost is the backend's, priced when the call was answered (a role's own price wins over
    the table, and a batched call costs the batch price, so it cannot be recomputed from the
    model id alone)."""
    return {
        "backend": response.backend,
        "model": response.model,
        "usage": response.usage.model_dump(),
        "latency_s": round(response.latency_s, 4),
        "stop_reason": response.stop_reason,
        "cost_usd": round(response.cost_usd, 6),
        "cached": response.cached,
        "synthetic": response.synthetic,
        "batched": response.batched,
    }
