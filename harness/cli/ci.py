"""`sdi ci --base REF`: gate every prompt a pull request changed (see harness.ci)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import RunsDir, cli_errors, next_step
from harness.store.runs import DEFAULT_RUNS_DIR


@cli_errors
def ci(
    base: Annotated[str, typer.Option("--base", help="Base ref or commit of the pull request.")],
    head: Annotated[str, typer.Option("--head", help="Head ref or commit.")] = "HEAD",
    prompts_dir: Annotated[
        str, typer.Option("--prompts-dir", help="Folder of prompt versions in the repository.")
    ] = "prompts/interviewer",
    default: Annotated[
        str, typer.Option("--default", help="Base prompt id a new prompt is gated against.")
    ] = "v1",
    suite: Annotated[
        str, typer.Option("--suite", help="Gate suite, read from the base commit.")
    ] = "suites/gate.yaml",
    config: Annotated[
        str, typer.Option("--config", help="Gates YAML, read from the base commit.")
    ] = "gates.yaml",
    runs_dir: RunsDir = DEFAULT_RUNS_DIR,
    out: Annotated[
        Path, typer.Option("--out", help="comment.md, ci.junit.xml, ci.json, HTML reports.")
    ] = Path("reports/ci"),
    require_key: Annotated[
        bool,
        typer.Option("--require-key", help="Fail (instead of not gating) without an API key."),
    ] = False,
) -> None:
    """Gate each interviewer prompt the pull request added, edited or renamed against its base
    version, with the suite, personas, rubrics and gates of the BASE commit. Exit 0 when no
    gate fails, 1 when one does, 2 on bad input (e.g. a new prompt without the default)."""
    from harness.ci import CiOptions, run_ci

    options = CiOptions(
        base=base,
        head=head,
        prompts_dir=prompts_dir.strip("/"),
        default=default,
        suite=suite,
        config=config,
        runs_dir=runs_dir,
        out=out,
        require_key=require_key,
    )
    result = run_ci(Path.cwd(), options)
    for p in result.prompts:
        extra = f" ({p.message})" if p.message else ""
        typer.echo(f"{p.outcome.upper():<9} {p.change.kind:<8} {p.change.path}{extra}")
    if not result.prompts:
        typer.echo("no interviewer prompt changed")
    typer.echo(f"comment body: {out / 'comment.md'}")
    if result.prompts:
        next_step(f"open {out}/*/report.html")
    if result.exit_code:
        raise typer.Exit(result.exit_code)


def register(app: typer.Typer) -> None:
    app.command("ci")(ci)
