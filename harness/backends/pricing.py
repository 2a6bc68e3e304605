"""Cost estimates from token usage, with prices kept in `prices.yaml` beside this module."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from harness.backends.base import ModelResponse, Usage

PRICES_FILE = Path(__file__).with_name("prices.yaml")


class ModelPrice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: float
    output: float


class PriceTable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cache_write: float
    cache_read: float
    batch: float = Field(default=0.5, gt=0, le=1)
    models: dict[str, ModelPrice]

    def price_for(self, model: str) -> ModelPrice | None:
        """Exact id first, else the longest listed prefix; None for a model with no price."""
        if model in self.models:
            return self.models[model]
        prefixes = [name for name in self.models if model.startswith(name)]
        return self.models[max(prefixes, key=len)] if prefixes else None


@lru_cache(maxsize=1)
def price_table() -> PriceTable:
    return PriceTable.model_validate(yaml.safe_load(PRICES_FILE.read_text(encoding="utf-8")))


def estimate_cost(model: str, usage: Usage, *, batched: bool = False) -> float:
    """US dollars for one call; 0.0 for a model without a listed price (synthetic, unknown).
    A call sent through Message Batches costs the table's `batch` fraction of it."""
    table = price_table()
    price = table.price_for(model)
    if price is None:
        return 0.0
    per_input = price.input / 1e6
    discount = table.batch if batched else 1.0
    return discount * (
        usage.input_tokens * per_input
        + usage.cache_creation_input_tokens * per_input * table.cache_write
        + usage.cache_read_input_tokens * per_input * table.cache_read
        + usage.output_tokens * price.output / 1e6
    )


def call_record(response: ModelResponse) -> dict[str, Any]:
    """What a transcript's or regrade's `meta` keeps of one model call, cost estimate included."""
    cost = response.cost_usd or estimate_cost(
        response.model, response.usage, batched=response.batched
    )
    return {
        "backend": response.backend,
        "model": response.model,
        "usage": response.usage.model_dump(),
        "latency_s": round(response.latency_s, 4),
        "stop_reason": response.stop_reason,
        "cost_usd": round(cost, 6),
        "cached": response.cached,
        "synthetic": response.synthetic,
        "batched": response.batched,
    }
