"""`sdi report`: one self-contained HTML report (charts, transcript viewer) or markdown figures."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import RunsDir, cli_errors, fail, next_step
from harness.store.runs import DEFAULT_RUNS_DIR

DEFAULT_GATES = Path("gates.yaml")


class Format(StrEnum):
    html = "html"
    md = "md"


@cli_errors
def report(
    runs: Annotated[
        list[str] | None, typer.Argument(help="Run ids or run folders (scored if needed).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="File to write (folders are created). Default: reports/<run id>.html for "
            "html; standard output for md.",
        ),
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="html or md.")] = Format.html,
    runs_dir: RunsDir = DEFAULT_RUNS_DIR,
    gates: Annotated[
        Path | None,
        typer.Option(
            "--gates",
            help=f"Gates YAML for the headline (default: the project's {DEFAULT_GATES}, "
            "else the built-in one).",
        ),
    ] = None,
    no_gates: Annotated[bool, typer.Option("--no-gates", help="Leave the gates out.")] = False,
    allow_drift: Annotated[
        bool, typer.Option("--allow-drift", help="Compare runs that differ outside the prompt.")
    ] = False,
    title: Annotated[str | None, typer.Option("--title", help="Report title.")] = None,
    labels: Annotated[
        Path | None,
        typer.Option(
            "--labels",
            help="A label set (labels/NAME.jsonl from `sdi label`) or golden folder: add the "
            "runs' scorers against the labels of their interviews (precision, recall, F1, "
            "kappa with 95% intervals) and the disagreement gallery. Labels of interviews not "
            "in the runs are ignored.",
        ),
    ] = None,
    index: Annotated[
        bool,
        typer.Option(
            "--index",
            help="Instead: one page listing every run in --runs-dir (default "
            "reports/index.html), linked to the reports beside it.",
        ),
    ] = False,
) -> None:
    """Write a report over one or more runs: the verdict and gates first when there are two
    versions, what changed persona by persona, adherence, scores, consistency, tokens and cost,
    and every transcript with its violations and their reasons. With --index, a page listing
    every run instead."""
    from harness.project import current_project
    from harness.report.build import render, report_data, write_report

    if index:
        if runs:
            raise fail("--index lists every run in --runs-dir: give no RUNS with it")
        from harness.report.runs_index import render_index, runs_index

        target = out or Path("reports") / "index.html"
        listing = runs_index(runs_dir, target)
        path = write_report(render_index(listing), target)
        typer.echo(f"index: {path} ({len(listing.runs)} runs)")
        return
    if not runs:
        raise fail("give one or more RUNS (ids or folders), or --index")
    from harness.stats.gate import load_gate_config

    if out is not None:
        from harness.store.runs import check_output_path

        check_output_path(out)
    gate_path = gates if gates is not None else current_project().locate(DEFAULT_GATES)
    gate_config = None if no_gates or gate_path is None else load_gate_config(gate_path)
    data = report_data(
        runs,
        runs_dir=runs_dir,
        gate_config=gate_config,
        allow_drift=allow_drift,
        title=title,
        labels=labels,
    )
    text = render(data, fmt.value)
    if out is None and fmt is Format.md:
        typer.echo(text, nl=False)
        return
    path = write_report(text, out or Path("reports") / f"{data.runs[0].run_id}.{fmt.value}")
    label = " (SYNTHETIC backend: offline stand-in, not model output)" if data.synthetic else ""
    typer.echo(f"report: {path}{label}")
    if data.labels is not None:
        typer.echo(
            f"labels: {data.labels.matched} of {data.labels.labelled} labelled interview(s) "
            f"in these runs; {len(data.labels.gallery)} disagreement(s) in the report"
        )
    next_step(f"open {path}")


def register(app: typer.Typer) -> None:
    app.command("report")(report)
