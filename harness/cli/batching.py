"""The `--batch` and `--batch-poll` options that `sdi run`, `sdi regrade` and `sdi score` share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from harness.backends.batch import BatchOptions

BatchFlag = Annotated[
    bool, typer.Option("--batch", help="Anthropic calls as Message Batches (50% off).")
]
BatchPoll = Annotated[
    float | None,
    typer.Option("--batch-poll", min=0.01, help="Seconds between batch status checks (30)."),
]


def batch_options(batch: bool, poll: float | None) -> BatchOptions | None:
    """Batch options when either flag is given; None means no batching was asked for."""
    if not batch and poll is None:
        return None
    from harness.backends.batch import BatchOptions

    return BatchOptions() if poll is None else BatchOptions(poll_s=poll)
