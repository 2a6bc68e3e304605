"""`sdi regrade`: re-ask the final feedback K times on each fixed transcript of a run."""

from __future__ import annotations

from typing import Annotated

import typer

from harness.cli.batching import BatchFlag, BatchPoll, batch_options
from harness.cli.common import RunsDir, cli_errors, fail
from harness.store.runs import DEFAULT_RUNS_DIR


@cli_errors
def regrade(
    run: Annotated[str, typer.Argument(help="Run id or run folder.")],
    samples: Annotated[
        int, typer.Option("--samples", "-k", min=1, help="Regrades per transcript.")
    ] = 5,
    runs_dir: RunsDir = DEFAULT_RUNS_DIR,
    concurrency: Annotated[
        int | None,
        typer.Option("--concurrency", min=1, help="Parallel calls (default: the run's suite)."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    batch: BatchFlag = False,
    batch_poll: BatchPoll = None,
) -> None:
    """Cut each transcript at the candidate's time_up turn and ask the interviewer for its
    feedback K more times; appends to the run's regrades.jsonl, whose path is printed last."""
    from harness.backends.base import BackendFatalError
    from harness.simulate.progress import default_progress
    from harness.simulate.regrade import regrade_run

    try:
        summary = regrade_run(
            run,
            runs_dir,
            samples=samples,
            concurrency=concurrency,
            progress=default_progress(not quiet, unit="regrades"),
            batch=batch_options(batch, batch_poll),
        )
    except BackendFatalError as err:
        raise fail(f"model backend: {err}", code=1) from None
    label = " (SYNTHETIC backend: offline stand-in, not model output)" if summary.synthetic else ""
    typer.echo(f"regrade {summary.run_id}{label}")
    typer.echo(
        f"  transcripts: {summary.transcripts}  regraded: {summary.regraded} x {summary.samples}"
        f"  skipped (no time_up turn): {summary.skipped_no_time_up}"
    )
    typer.echo(
        f"  records written: {summary.written}  already present: {summary.already_present}"
        f"  without a score out of 10: {summary.without_score}"
    )
    typer.echo(
        f"  model calls: {summary.model_calls}  cache hits: {summary.cache_hits}"
        f"  cost estimate: ${summary.cost_usd:.4f}"
    )
    typer.echo(str(summary.path))


def register(app: typer.Typer) -> None:
    app.command("regrade")(regrade)
