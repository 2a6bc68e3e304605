"""`sdi run` and `sdi runs`: run a suite into the store, list runs, inspect one."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from harness.backends.base import BackendFatalError
from harness.cli.batching import BatchFlag, BatchPoll, batch_options
from harness.cli.common import cli_errors, fail
from harness.config.suites import load_suite
from harness.contracts import load_transcripts
from harness.errors import InputError
from harness.simulate.runner import run_suite
from harness.store.index import RunIndex
from harness.store.runs import DEFAULT_RUNS_DIR, TRANSCRIPTS, find_run_dir, read_manifest

RunsDir = Annotated[Path, typer.Option("--runs-dir", help="Where runs and the cache live.")]
runs_app = typer.Typer(help="List and inspect runs in the store.", no_args_is_help=True)


@cli_errors
def run(
    suite: Annotated[Path, typer.Argument(help="Suite YAML file.")],
    runs_dir: RunsDir = DEFAULT_RUNS_DIR,
    resume: Annotated[
        str | None, typer.Option("--resume", help="Run id to finish after a kill.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    batch: BatchFlag = False,
    batch_poll: BatchPoll = None,
) -> None:
    """Simulate every interview of a suite; the last line printed is the run's folder."""
    loaded = load_suite(suite)
    from harness.simulate.progress import default_progress

    options = batch_options(batch, batch_poll)
    if options is not None and "anthropic" not in loaded.backends_used():
        raise InputError(
            suite, "--batch", "needs a role on the anthropic backend (Message Batches)"
        )
    try:
        run_dir = run_suite(
            loaded, runs_dir, resume=resume, progress=default_progress(not quiet), batch=options
        )
    except BackendFatalError as err:
        raise fail(f"model backend: {err}", code=1) from None
    manifest = read_manifest(run_dir)
    transcripts = load_transcripts(run_dir / TRANSCRIPTS)
    reasons = Counter(str(t.meta.get("end_reason")) for t in transcripts)
    label = " (SYNTHETIC backend: offline stand-in, not model output)" if manifest.synthetic else ""
    typer.echo(f"run {manifest.run_id}{label}")
    typer.echo(
        f"  interviews: {manifest.interviews_done}/{manifest.interviews_planned}  "
        f"ended by: {', '.join(f'{k} {v}' for k, v in sorted(reasons.items()))}"
    )
    typer.echo(
        f"  model calls: {manifest.model_calls}  cache hits: {manifest.cache_hits}  "
        f"tokens in/out: {manifest.usage.total_input}/{manifest.usage.output_tokens}  "
        f"cache read: {manifest.usage.cache_read_input_tokens}  "
        f"cost estimate: ${manifest.cost_usd:.4f} (spent ${manifest.spent_usd:.4f})"
    )
    typer.echo(str(run_dir))


@runs_app.command("list")
@cli_errors
def list_runs(runs_dir: RunsDir = DEFAULT_RUNS_DIR) -> None:
    """Runs recorded in the store, newest first."""
    index = RunIndex(runs_dir)
    rows = index.list()
    index.close()
    if not rows:
        typer.echo(f"no runs in {runs_dir}")
        return
    typer.echo(f"{'run id':<40} {'status':<11} {'prompts':<16} {'n':>5} {'cost $':>8}  backend")
    for r in rows:
        kind = "synthetic" if r.synthetic else "model"
        typer.echo(
            f"{r.run_id:<40} {r.status:<11} {r.prompts:<16} {r.interviews:>5} "
            f"{r.cost_usd:>8.4f}  {kind}"
        )


@runs_app.command("show")
@cli_errors
def show_run(
    run_id: Annotated[str, typer.Argument(help="Run id or run folder.")],
    runs_dir: RunsDir = DEFAULT_RUNS_DIR,
) -> None:
    """A run's manifest and what its interviews did."""
    from harness.scoring.feedback import extract_score

    run_dir = find_run_dir(run_id, runs_dir)
    manifest = read_manifest(run_dir)
    transcripts = load_transcripts(run_dir / TRANSCRIPTS)
    typer.echo(f"run:        {manifest.run_id}  [{manifest.status}]")
    typer.echo(f"folder:     {run_dir}")
    typer.echo(f"suite:      {manifest.suite_name} ({manifest.suite_path})")
    for p in manifest.prompts:
        typer.echo(f"prompt:     {p.id}  sha256 {p.sha256[:16]}…  {p.path}")
    for role in ("interviewer", "candidate"):
        rec = getattr(manifest, role)
        tag = "  SYNTHETIC" if rec.synthetic else ""
        typer.echo(
            f"{role + ':':<12}{rec.backend} / {rec.model} (max_tokens {rec.max_tokens}){tag}"
        )
    typer.echo(f"started:    {manifest.started_at}  ended: {manifest.ended_at}")
    typer.echo(f"harness:    {manifest.harness_version}  git: {manifest.git_commit or '-'}")
    typer.echo(
        f"interviews: {manifest.interviews_done}/{manifest.interviews_planned}  model calls: "
        f"{manifest.model_calls}  cache hits: {manifest.cache_hits}  "
        f"cost estimate: ${manifest.cost_usd:.4f}"
    )
    typer.echo("")
    typer.echo(f"{'prompt':<12} {'persona':<28} {'n':>3} {'turns':>6} {'scores'}")
    groups: dict[tuple[str, str], list[float | None]] = {}
    turns: dict[tuple[str, str], int] = Counter()
    for t in transcripts:
        key = (t.prompt_version, t.persona)
        last = next((x.text for x in reversed(t.turns) if x.role == "interviewer"), "")
        groups.setdefault(key, []).append(extract_score(last))
        turns[key] += len(t.turns)
    for (prompt, persona), scores in sorted(groups.items()):
        shown = " ".join("-" if s is None else f"{s:g}" for s in scores)
        mean_turns = turns[(prompt, persona)] // len(scores)
        typer.echo(f"{prompt:<12} {persona:<28} {len(scores):>3} {mean_turns:>6} {shown}")


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.add_typer(runs_app, name="runs")
