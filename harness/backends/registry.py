"""Choose a backend by the name a suite gives for a role."""

from __future__ import annotations

from harness.backends.base import Backend
from harness.config.suites import RoleSettings


def make_backend(settings: RoleSettings) -> Backend:
    if settings.backend == "synthetic":
        from harness.backends.synthetic import SyntheticBackend

        return SyntheticBackend()
    from harness.backends.anthropic_backend import AnthropicBackend

    return AnthropicBackend()
