"""`sdi run` and `sdi runs`: run a suite into the store, list runs, inspect one."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.batching import BatchFlag, BatchPoll, batch_options
from harness.cli.common import cli_errors, fail
from harness.errors import InputError
from harness.store.runs import DEFAULT_RUNS_DIR

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
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print the expected calls, tokens and cost (with and without batches) "
            "without calling any model.",
        ),
    ] = False,
    prompts: Annotated[
        str | None, typer.Option("--prompts", help="Prompt versions instead: v1,v2 (ids, files).")
    ] = None,
    repeats: Annotated[
        int | None, typer.Option("--repeats", min=1, help="Repeats instead.")
    ] = None,
    personas: Annotated[
        str | None, typer.Option("--personas", help="Only personas whose id matches: 'url-*'.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most N personas.")] = None,
    batch: BatchFlag = False,
    batch_poll: BatchPoll = None,
) -> None:
    """Simulate every interview of a suite; the last line printed is the run's folder."""
    from harness.backends.base import BackendFatalError
    from harness.config.suites import load_suite, override
    from harness.contracts import load_transcripts
    from harness.simulate.progress import default_progress
    from harness.simulate.runner import run_suite
    from harness.store.runs import TRANSCRIPTS, read_manifest

    loaded = override(
        load_suite(suite, require_key=not dry_run),
        prompts=prompts.split(",") if prompts else None,
        repeats=repeats,
        personas=personas,
        limit=limit,
    )
    if dry_run:
        from harness.simulate.estimate import estimate_suite, render_estimate

        typer.echo("\n".join(render_estimate(estimate_suite(loaded, runs_dir))))
        return

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
    billed, replayed = manifest.billed_usage, manifest.replayed_usage
    typer.echo(
        f"  model calls: {manifest.model_calls}  billed tokens in/out: "
        f"{billed.total_input}/{billed.output_tokens} (prompt cache read "
        f"{billed.cache_read_input_tokens}, written {billed.cache_creation_input_tokens})  "
        f"spent ${manifest.spent_usd:.4f}"
    )
    typer.echo(
        f"  response-cache hits: {manifest.cache_hits}  replayed tokens in/out: "
        f"{replayed.total_input}/{replayed.output_tokens} (not billed)  "
        f"cost of all calls: ${manifest.cost_usd:.4f}"
    )
    typer.echo(f"  next: sdi score {run_dir} -f table; sdi report {run_dir}")
    typer.echo(str(run_dir))


@runs_app.command("list")
@cli_errors
def list_runs(runs_dir: RunsDir = DEFAULT_RUNS_DIR) -> None:
    """Runs recorded in the store, newest first."""
    from harness.store.index import RunIndex

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
    from harness.contracts import load_transcripts
    from harness.scoring.feedback import extract_score
    from harness.store.runs import TRANSCRIPTS, find_run_dir, read_manifest

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
