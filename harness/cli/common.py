"""Shared CLI plumbing: bad input becomes one line on stderr and exit code 2."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer

from harness.errors import InputError, scrub_secrets

# Every command that reads or writes runs takes the same option.
RunsDir = Annotated[
    Path, typer.Option("--runs-dir", help="Where runs and the response cache live.")
]

P = ParamSpec("P")
R = TypeVar("R")

EXIT_BAD_INPUT = 2


def fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    """One line on stderr; no key from the environment, nor 8+ characters of one, survives."""
    typer.echo(f"error: {scrub_secrets(message)}", err=True)
    return typer.Exit(code)


def next_step(*commands: str) -> None:
    """End a command with the next useful one (on stderr: stdout may be data)."""
    typer.echo(f"next: {'  |  '.join(commands)}", err=True)


def cli_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator for commands: InputError -> `error: <file>: <field>: <msg>`, exit 2."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except InputError as err:
            raise fail(str(err)) from None
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            sys.exit(130)

    return wrapper
