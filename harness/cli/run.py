"""`sdi run` and `sdi runs`: run a suite into the store, list runs, inspect one."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.batching import BatchFlag, BatchPoll, batch_options
from harness.cli.common import RunsDir, cli_errors, fail
from harness.errors import InputError
from harness.store.runs import DEFAULT_RUNS_DIR

EXIT_UNFINISHED = 3  # partial (some interviews failed) or stopped by the run budget: resumable
RESUMABLE = frozenset({"interrupted", "partial", "budget", "failed"})
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
    if manifest.status == "partial":
        typer.echo(
            f"  failed: {manifest.interviews_failed} interview(s), reasons in "
            f"{run_dir / 'failures.jsonl'}; rerun them with --resume {manifest.run_id}"
        )
    if manifest.status == "budget":
        typer.echo(
            f"  stopped by the run budget (limits.max_run_cost_usd, spent "
            f"${manifest.spent_usd:.4f}): {manifest.interviews_budget_stopped} interview(s) not "
            f"finished; raise it and --resume {manifest.run_id}"
        )
    typer.echo(f"  next: sdi score {run_dir} -f table; sdi report {run_dir}")
    typer.echo(str(run_dir))
    if manifest.status in ("partial", "budget"):
        raise typer.Exit(EXIT_UNFINISHED)


@runs_app.command("list")
@cli_errors
def list_runs(runs_dir: RunsDir = DEFAULT_RUNS_DIR) -> None:
    """Runs recorded in the store, newest first; a run whose writer is gone is `interrupted`."""
    from harness.store.index import INDEX_FILE, RunIndex
    from harness.store.ledger import LEDGER, read_ledger
    from harness.store.lock import live_status

    if not (runs_dir / INDEX_FILE).is_file():  # listing never creates the folder
        typer.echo(f"no runs in {runs_dir}")
        return
    index = RunIndex(runs_dir)
    rows = index.list()
    index.close()
    if not rows:
        typer.echo(f"no runs in {runs_dir}")
        return
    typer.echo(f"{'run id':<40} {'status':<11} {'prompts':<16} {'n':>5} {'spent $':>8}  backend")
    interrupted = []
    for r in rows:
        kind = "synthetic" if r.synthetic else "model"
        run_dir = Path(r.path)
        status = live_status(r.status, run_dir)
        spent = read_ledger(run_dir).spent_usd if (run_dir / LEDGER).is_file() else r.cost_usd
        if status == "interrupted":
            interrupted.append(r.run_id)
        typer.echo(
            f"{r.run_id:<40} {status:<11} {r.prompts:<16} {r.interviews:>5} {spent:>8.4f}  {kind}"
        )
    for run_id in interrupted:
        typer.echo(f"resume {run_id}: sdi run SUITE --resume {run_id} --runs-dir {runs_dir}")


@runs_app.command("show")
@cli_errors
def show_run(
    run_id: Annotated[str, typer.Argument(help="Run id or run folder.")],
    runs_dir: RunsDir = DEFAULT_RUNS_DIR,
) -> None:
    """A run's manifest and what its interviews did."""
    from harness.contracts import load_transcripts
    from harness.scoring.feedback import extract_score
    from harness.store.failures import read_failures
    from harness.store.ledger import apply_ledger
    from harness.store.lock import live_status
    from harness.store.runs import TRANSCRIPTS, find_run_dir, read_manifest

    run_dir = find_run_dir(run_id, runs_dir)
    manifest = apply_ledger(read_manifest(run_dir), run_dir)
    transcripts = load_transcripts(run_dir / TRANSCRIPTS)
    status = live_status(manifest.status, run_dir)
    done_ids = {t.interview_id for t in transcripts}
    failures = [f for f in read_failures(run_dir).values() if f.interview_id not in done_ids]
    typer.echo(f"run:        {manifest.run_id}  [{status}]")
    if status in RESUMABLE:
        typer.echo(
            f"resume:     sdi run {manifest.suite_path} --resume {manifest.run_id} "
            f"--runs-dir {run_dir.parent}"
        )
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
        f"interviews: {len(done_ids)}/{manifest.interviews_planned}"
        f"  failed: {len(failures)}  model calls: "
        f"{manifest.model_calls}  cache hits: {manifest.cache_hits}  "
        f"cost estimate: ${manifest.cost_usd:.4f}  spent: ${manifest.spent_usd:.4f}"
    )
    if manifest.in_doubt_calls:
        typer.echo(
            f"in doubt:   {manifest.in_doubt_calls} call(s) cut off by a kill before their reply "
            f"was read: may have been billed, up to ${manifest.in_doubt_max_usd:.4f} more"
        )
    for f in failures:
        typer.echo(f"failed:     {f.interview_id}: {f.reason}")
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
