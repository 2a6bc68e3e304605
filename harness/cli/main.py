"""Entry point of the `sdi` command: each command group lives in its own module."""

from __future__ import annotations

import typer

from harness.cli import label, practice, regrade, report, run, score, stats

app = typer.Typer(
    name="sdi",
    help="Simulate, score and compare LLM system-design interviewer prompts.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

for module in (run, regrade, score, stats, report, label, practice):
    module.register(app)

if __name__ == "__main__":
    app()
