"""`sdi init [DIR]`: scaffold a prompt project (see harness.scaffold)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import cli_errors


@cli_errors
def init(
    folder: Annotated[Path, typer.Argument(help="Project folder (created if missing).")] = Path(
        "."
    ),
) -> None:
    """Lay out a prompt project: prompts/interviewer/v1.md, suites, gates.yaml, example personas,
    the pull-request workflow and a README section. Overwrites nothing."""
    from harness.scaffold import scaffold

    written = scaffold(folder)
    for path in written:
        typer.echo(f"wrote {os.path.relpath(path)}")
    cd = [f"cd {folder}"] if folder.resolve() != Path.cwd().resolve() else []
    typer.echo("next:")
    for line in [
        *cd,
        "sdi run suites/smoke.yaml",
        "cp prompts/interviewer/v1.md prompts/interviewer/v2.md   # then edit v2",
        "sdi gate --baseline v1 --candidate v2",
    ]:
        typer.echo(f"  {line}")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
