"""Choose a backend by the name a suite gives for a role, and close it when the work is done."""

from __future__ import annotations

from harness.backends.base import Backend
from harness.config.suites import RoleSettings


def make_backend(settings: RoleSettings) -> Backend:
    """A fresh backend for one role; the caller closes it with `close_backend`."""
    if settings.backend == "synthetic":
        from harness.backends.synthetic import SyntheticBackend

        return SyntheticBackend()
    from harness.backends.anthropic_backend import AnthropicBackend

    return AnthropicBackend()


async def close_backend(backend: Backend) -> None:
    """Release what a backend holds (the anthropic one has an HTTP client); unwraps a cache."""
    inner = getattr(backend, "inner", backend)
    aclose = getattr(inner, "aclose", None)
    if aclose is not None:
        await aclose()
