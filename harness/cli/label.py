"""`sdi label`: blind labelling of run transcripts in the browser, into labels/NAME.jsonl."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import RunsDir, cli_errors
from harness.store.runs import DEFAULT_RUNS_DIR

LABEL_HELP = "\n\n".join(
    [
        "Label transcripts of one or more runs by hand, in a local page on 127.0.0.1: one "
        "transcript at a time with every scorer verdict hidden; set each rule's verdict "
        "(click the interviewer turns at fault) and the final score. Each label is appended to "
        "labels/NAME.jsonl the moment it is given, so a session can stop at any time and "
        "resume; one session writes a set at a time.",
        "--order disagreement (default) shows first the transcripts where the deterministic "
        "scorers and the judge disagree (with no judge: the uncertain verdicts), then rare "
        "failures, then the rest; rare skips the first group; random is one shuffled list. "
        "Each transcript's stratum is recorded, so `sdi validate-scorers --golden "
        "labels/NAME.jsonl` weights agreement back to the whole run.",
        "Exit codes: 0 stopped (Ctrl-C); 2 bad input (unknown run, a malformed label set, a "
        "set already open in another session).",
    ]
)


@cli_errors
def label(
    runs: Annotated[list[str], typer.Argument(help="Run ids or folders to label from.")],
    set_name: Annotated[
        str, typer.Option("--set", help="Label set name: labels/NAME.jsonl.")
    ] = "labels",
    order: Annotated[
        str, typer.Option("--order", help="disagreement, rare or random.")
    ] = "disagreement",
    labeller: Annotated[
        str | None, typer.Option("--labeller", help="Your name in the set (default: login).")
    ] = None,
    labels_dir: Annotated[Path, typer.Option("--labels-dir", help="Where label sets live.")] = Path(
        "labels"
    ),
    runs_dir: RunsDir = DEFAULT_RUNS_DIR,
    port: Annotated[int, typer.Option("--port", help="Port on 127.0.0.1 (0: any free).")] = 0,
) -> None:
    """Label run transcripts in the browser (see LABEL_HELP, the command's help)."""
    from harness.errors import InputError
    from harness.label.select import ORDERS, build_queue
    from harness.label.server import LabelServer
    from harness.label.session import LabelSession
    from harness.store.rundata import load_run

    if order not in ORDERS:
        raise InputError(None, "--order", f"unknown order '{order}' (known: {', '.join(ORDERS)})")
    if not set_name or "/" in set_name or set_name.startswith("."):
        raise InputError(None, "--set", f"'{set_name}' is not a plain file name")
    loaded = [load_run(ref, runs_dir) for ref in runs]
    queue = build_queue(loaded, order, seed=set_name)
    if not queue:
        raise InputError(None, "RUN", "the runs hold no transcripts")
    session = LabelSession(
        labels_dir / f"{set_name}.jsonl", labeller or getpass.getuser(), order, queue
    )
    server = LabelServer(session, set_name, port)
    typer.echo(
        f"labelling {len(queue)} transcript(s) ({session.done} done) into {session.path}\n"
        f"open {server.url}  (Ctrl-C to stop; every label is already saved)",
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        typer.echo(f"stopped: {session.done} of {len(queue)} labelled", err=True)
    finally:
        server.stop()
        session.close()


def register(app: typer.Typer) -> None:
    app.command("label", help=LABEL_HELP)(label)
