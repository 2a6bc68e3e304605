"""Prices: the dated table, its matching rules, a role's own price, and the reference check."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from harness.backends.base import Usage
from harness.backends.pricing import ModelPrice, cost_of, estimate_cost, price_table
from harness.backends.registry import require_price, role_price
from harness.config.suites import RoleSettings
from harness.errors import InputError

REFERENCE = Path("/work/shared/reference/anthropic-sdk.md")


def test_table_is_dated_and_every_entry_says_where_it_comes_from() -> None:
    table = price_table()
    assert date.fromisoformat(table.checked) <= date.today()
    assert all(price.source for price in table.models.values())


@pytest.mark.skipif(not REFERENCE.is_file(), reason="the project's reference notes are absent")
def test_anthropic_prices_agree_with_the_reference_table() -> None:
    rows = re.findall(r"^\| (claude-[\w-]+) \| ([\d.]+) / ([\d.]+)", REFERENCE.read_text(), re.M)
    assert len(rows) >= 5
    table = price_table()
    for model, given_in, given_out in rows:
        ids = [model.replace("-x", f"-{n}") for n in (5, 6, 7)] if model.endswith("-x") else [model]
        for model_id in ids:
            price = table.price_for(model_id)
            assert price is not None, model_id
            assert (price.input, price.output) == (float(given_in), float(given_out)), model_id


@pytest.mark.parametrize(
    ("model", "priced"),
    [
        ("claude-sonnet-4-6", True),
        ("claude-sonnet-4-6-20260115", True),  # a dated snapshot
        ("claude-3-5-haiku-latest", True),
        ("gpt-4o-mini-2024-07-18", True),
        ("gpt-5-pro", False),  # not the price of gpt-5
        ("claude-opus-4-8", False),  # a model we have no price for
        ("llama3.1:8b", False),
    ],
)
def test_matching_takes_snapshots_not_loose_prefixes(model: str, priced: bool) -> None:
    assert (price_table().price_for(model) is not None) is priced


def test_opus_generations_are_priced_apart() -> None:
    table = price_table()
    old, new = table.price_for("claude-opus-4-1"), table.price_for("claude-opus-4-5")
    assert old is not None and new is not None and old.input > new.input


def test_role_price_wins_and_zero_means_free() -> None:
    usage = Usage(input_tokens=1000, output_tokens=500, cache_read_input_tokens=10_000)
    own = RoleSettings(backend="openai", model="gpt-4o", price={"input": 1.0, "output": 2.0})
    assert role_price(own) == ModelPrice(input=1.0, output=2.0)
    assert estimate_cost("gpt-4o", usage, role_price(own)) == pytest.approx(
        (1000 * 1.0 + 10_000 * 1.0 * 0.1 + 500 * 2.0) / 1e6
    )
    local = RoleSettings(backend="openai", model="gpt-4o", price=0)
    assert estimate_cost("gpt-4o", usage, role_price(local)) == 0.0
    # gpt-4o's own cached-input share (x0.5) from the table
    table_price = price_table().price_for("gpt-4o")
    assert table_price is not None
    assert cost_of(usage, table_price) == pytest.approx((1000 * 2.5 + 5000 * 2.5 + 500 * 10) / 1e6)
    assert cost_of(usage, table_price, batched=True) == pytest.approx(
        cost_of(usage, table_price) / 2
    )


def test_unpriced_billed_role_is_refused_synthetic_is_not() -> None:
    with pytest.raises(InputError, match=r"candidate\.model.*'my-model'.*price: 0.*prices\.yaml"):
        require_price(RoleSettings(backend="anthropic", model="my-model"), "s.yaml", "candidate")
    require_price(RoleSettings(backend="synthetic", model="anything"), "s.yaml", "interviewer")
