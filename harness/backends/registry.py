"""Choose a backend by the name a suite gives for a role, and close it when the work is done."""

from __future__ import annotations

from harness.backends.base import Backend
from harness.config.suites import Limits, RoleSettings


def make_backend(settings: RoleSettings, limits: Limits | None = None) -> Backend:
    """A fresh backend for one role; the caller closes it with `close_backend`. `limits` gives
    the per-call timeout and the `retry-after` cap (defaults when None)."""
    if settings.backend == "synthetic":
        from harness.backends.synthetic import SyntheticBackend

        return SyntheticBackend()
    from harness.backends.anthropic_backend import AnthropicBackend

    limits = limits or Limits()
    return AnthropicBackend(timeout=limits.call_timeout_s, max_retry_after=limits.max_retry_after_s)


async def close_backend(backend: Backend) -> None:
    """Release what a backend holds (the anthropic one has an HTTP client); unwraps a cache."""
    inner = getattr(backend, "inner", backend)
    aclose = getattr(inner, "aclose", None)
    if aclose is not None:
        await aclose()
