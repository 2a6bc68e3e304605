"""Backends by name: a registry of `BackendSpec`s, fed by the built-ins and by the `sdi.backends`
entry-point group, so a plugin adds a vendor without touching the harness.

A spec says how to make the backend for a role and what the role needs first (a key in the
environment, a price), so a suite is checked at load time, before any model is called. Nothing
here imports a vendor SDK: each factory imports its own module when a backend is made.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from harness.backends.base import Backend
from harness.errors import InputError

if TYPE_CHECKING:
    from harness.backends.pricing import ModelPrice
    from harness.config.suites import RoleSettings

ENTRY_POINT_GROUP = "sdi.backends"
NO_KEY = "sdi-no-key"  # sent to a local server that wants no key (the SDKs insist on one)


@dataclass(frozen=True)
class BackendSpec:
    """One kind of backend. `factory` makes it for a role's settings; `key_env` and
    `base_url_env` are the environment variables its SDK reads by default; a backend that is
    never billed (`priced=False`) needs no price. `prompt_cache` is how the vendor caches
    prompt prefixes (`explicit` breakpoints with billed writes, `automatic` with none, or
    `none`) and `cache_min_tokens` the shortest prefix it caches: cost previews bill by them."""

    name: str
    factory: Callable[[RoleSettings], Backend]
    key_env: str | None = None
    base_url_env: str | None = None
    default_base_url: str | None = None
    priced: bool = True
    prompt_cache: Literal["explicit", "automatic", "none"] = "none"
    cache_min_tokens: int = 0


def _synthetic(settings: RoleSettings) -> Backend:
    from harness.backends.synthetic import SyntheticBackend

    return SyntheticBackend()


def _anthropic(settings: RoleSettings) -> Backend:
    from harness.backends.anthropic_backend import AnthropicBackend

    return AnthropicBackend(
        base_url=base_url_for(settings),
        key=api_key_for(settings),
        price=role_price(settings),
    )


def _openai(settings: RoleSettings) -> Backend:
    from harness.backends.openai_backend import OpenAIBackend

    return OpenAIBackend(
        base_url=base_url_for(settings),
        api_key=api_key_for(settings),
        price=role_price(settings),
        # The vendor wants `max_completion_tokens`; compatible servers know `max_tokens`.
        vendor=base_url_for(settings) == backend_spec("openai").default_base_url,
    )


BUILTIN: tuple[BackendSpec, ...] = (
    BackendSpec("synthetic", _synthetic, priced=False),
    BackendSpec(
        "anthropic",
        _anthropic,
        key_env="ANTHROPIC_API_KEY",
        base_url_env="ANTHROPIC_BASE_URL",
        default_base_url="https://api.anthropic.com",
        prompt_cache="explicit",
        cache_min_tokens=1024,
    ),
    BackendSpec(
        "openai",
        _openai,
        key_env="OPENAI_API_KEY",
        base_url_env="OPENAI_BASE_URL",
        default_base_url="https://api.openai.com/v1",
        prompt_cache="automatic",
        cache_min_tokens=1024,
    ),
)


@lru_cache(maxsize=1)
def backend_specs() -> dict[str, BackendSpec]:
    """Built-ins, then plugins; an entry point's object is a `BackendSpec`."""
    specs = {spec.name: spec for spec in BUILTIN}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        spec = ep.load()
        if not isinstance(spec, BackendSpec):
            raise InputError(None, f"entry point {ep.name}", f"{ep.value} is not a BackendSpec")
        specs[spec.name] = spec
    return specs


def backend_spec(name: str) -> BackendSpec:
    specs = backend_specs()
    if name not in specs:
        raise InputError(None, "backend", f"unknown backend '{name}' (known: {', '.join(specs)})")
    return specs[name]


def base_url_for(settings: RoleSettings) -> str | None:
    """The suite's `base_url`, else the SDK's environment variable, else the vendor's URL."""
    spec = backend_spec(settings.backend)
    from_env = os.environ.get(spec.base_url_env, "").strip() if spec.base_url_env else ""
    url = settings.base_url or from_env or spec.default_base_url
    return url.rstrip("/") if url else None


def key_env_for(settings: RoleSettings) -> str | None:
    return settings.api_key_env or backend_spec(settings.backend).key_env


def api_key_for(settings: RoleSettings, path: str | Path | None = None, role: str = "") -> str:
    """The role's key from the environment. A role pointed at its own server (`base_url`) with
    no `api_key_env` may go without one (Ollama, vLLM and llama.cpp ask for none)."""
    env = key_env_for(settings)
    key = os.environ.get(env, "").strip() if env else ""
    if key:
        return key
    if env is None or (settings.base_url and not settings.api_key_env):
        return NO_KEY
    field = "api_key_env" if settings.api_key_env else "backend"
    raise InputError(
        path,
        f"{role}.{field}" if role else field,
        f"uses the {settings.backend} backend but {env} is not set",
    )


def cache_identity(settings: RoleSettings) -> str:
    """What the response cache keys a backend by: its name and the URL it talks to, so replies
    from one server are never replayed as another's."""
    url = base_url_for(settings)
    return f"{settings.backend}@{url}" if url else settings.backend


def role_price(settings: RoleSettings) -> ModelPrice | None:
    """The role's price: its own (`price:` in the suite) or the table's; None if neither."""
    from harness.backends.pricing import price_table

    return settings.price_spec() or price_table().price_for(settings.model)


def require_price(settings: RoleSettings, path: str | Path | None, role: str) -> None:
    """Refuse a billed role whose model has no price: it would make every cost cap moot."""
    if not backend_spec(settings.backend).priced or role_price(settings) is not None:
        return
    raise InputError(
        path,
        f"{role}.model",
        f"no price for model '{settings.model}'; give one in the suite ({role}.price: "
        "{input: USD per Mtok, output: USD per Mtok}, or price: 0 for a local model) "
        "or add it to harness/backends/prices.yaml",
    )


def check_role(
    settings: RoleSettings, path: str | Path | None, role: str, *, require_key: bool = True
) -> None:
    """Everything a role needs before its first call: a known backend, a price, a key."""
    try:
        backend_spec(settings.backend)
    except InputError as err:
        raise InputError(path, f"{role}.backend", err.message) from None
    require_price(settings, path, role)
    if require_key:
        api_key_for(settings, path, role)


def make_backend(settings: RoleSettings) -> Backend:
    """A fresh backend for one role; the caller closes it with `close_backend`."""
    return backend_spec(settings.backend).factory(settings)


async def close_backend(backend: Backend) -> None:
    """Release what a backend holds (the SDK ones have an HTTP client); unwraps wrappers."""
    inner = backend
    while hasattr(inner, "inner"):  # a cache, a rate limiter
        inner = inner.inner
    aclose = getattr(inner, "aclose", None)
    if aclose is not None:
        await aclose()
