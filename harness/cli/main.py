"""Entry point of the `sdi` command: each command group lives in its own module.

Command modules import their libraries inside the commands, so `sdi --help` and the quick
commands start without the statistics stack (measured by benchmarks/bench_startup.py). Help is
click's plain layout: it needs no rich import and shows flags without a type.
"""

from __future__ import annotations

from typing import Annotated

import typer

from harness import __version__
from harness.cli import ci, init, label, practice, regrade, report, run, score, stats

app = typer.Typer(
    name="sdi",
    help="Simulate, score and compare LLM system-design interviewer prompts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"max_content_width": 160},  # the terminal width still bounds it
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"sdi {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Options that come before the command (the app's help text is set above)."""


for module in (init, run, regrade, score, stats, report, label, practice, ci):
    module.register(app)

if __name__ == "__main__":
    app()
