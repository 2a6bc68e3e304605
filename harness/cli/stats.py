"""`sdi consistency`, `sdi compare`, `sdi plan` and `sdi gate`: thin over `harness.stats`.

The statistics libraries take a second to import, so they are imported inside the commands.
"""

from __future__ import annotations

import math
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from harness.cli.common import RunsDir, cli_errors, fail, next_step
from harness.errors import InputError
from harness.store.runs import DEFAULT_RUNS_DIR

if TYPE_CHECKING:
    from harness.scoring.run_labels import ScorerAgreement
    from harness.stats.gate import GateConfig, GateReport
    from harness.stats.render import Section
    from harness.store.rundata import RunData

EXIT_GATE_FAILED = 1


class Format(StrEnum):
    table = "table"
    json = "json"
    md = "md"


LabelsOpt = Annotated[
    Path | None,
    typer.Option(
        "--labels",
        help="A label set (labels/NAME.jsonl from `sdi label`) or golden folder of this model's "
        "transcripts: show beside each rule how far its scorer agreed with the labels "
        "(Cohen's kappa, 95% interval, n).",
    ),
]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table, json or md.")]


def _scored(ref: str, runs_dir: Path) -> RunData:
    from harness.scoring.runs import scored_run

    return scored_run(ref, runs_dir)


def _label_agreement(labels: Path | None) -> dict[str, ScorerAgreement] | None:
    """Each rule's scorer against the label set, read (and checked) before any run starts."""
    if labels is None:
        return None
    from harness.scoring.run_labels import label_set_agreement

    return label_set_agreement(labels)


def _parse_margins(items: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        metric, sep, value = item.partition("=")
        try:
            out[metric.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not metric.strip():
            raise InputError(None, "--margin", f"'{item}' is not METRIC=NUMBER")
    return out


def _emit(json_text: str, sections: list[Section], fmt: Format) -> None:
    """Print a report as JSON, markdown or tables fitted to the terminal (coloured verdicts
    when standard output is a terminal and NO_COLOR is unset)."""
    from harness.stats.render import render

    if fmt is Format.json:
        typer.echo(json_text)
    else:
        colour = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        typer.echo(render(sections, fmt is Format.md, colour=colour), nl=False)


@cli_errors
def consistency(
    run: Annotated[str, typer.Argument(help="Run id or run folder.")],
    runs_dir: RunsDir = DEFAULT_RUNS_DIR,
    fmt: FormatOpt = Format.table,
) -> None:
    """How stable and how right the interviewer's scores are, and how reliably it keeps each
    rule: per persona, agreement (ICC, Krippendorff's alpha), validity, pass^k, variance."""
    from harness.stats.consistency import consistency_report
    from harness.stats.render import consistency_sections

    report = consistency_report(_scored(run, runs_dir))
    _emit(report.to_json(), consistency_sections(report), fmt)
    if fmt is not Format.json:
        next_step(f"sdi plan --effect 0.1 {run}", f"sdi report {run}")


@cli_errors
def compare(
    runs: Annotated[
        list[str],
        typer.Argument(
            help="One run with several prompt versions, "
            "or several runs; the first version is the "
            "baseline."
        ),
    ],
    runs_dir: RunsDir = DEFAULT_RUNS_DIR,
    allow_drift: Annotated[
        bool,
        typer.Option("--allow-drift", help="Compare runs that differ outside the prompt."),
    ] = False,
    margin: Annotated[
        list[str] | None,
        typer.Option("--margin", help="METRIC=MARGIN (globs allowed: rule:*=0.1); repeatable."),
    ] = None,
    n_boot: Annotated[int, typer.Option("--n-boot", min=200, help="Bootstrap draws.")] = 2000,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap.")] = 0,
    until_decided: Annotated[
        bool,
        typer.Option(
            "--until-decided",
            help="RUNS are two prompt versions (ids or files): run the --suite in stages "
            "(gates file `repeats`) until every gated metric is decided.",
        ),
    ] = False,
    suite: Annotated[Path, typer.Option("--suite", help="Suite run for --until-decided.")] = Path(
        "suites/gate.yaml"
    ),
    config: Annotated[
        Path, typer.Option("--config", help="Gates YAML for --until-decided.")
    ] = Path("gates.yaml"),
    labels: LabelsOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """What improved, what regressed and what cannot be told apart yet, per rule and for
    the scores, with intervals (and the level that decided) and the repeats needed."""
    from harness.stats.compare import compare_runs
    from harness.stats.render import Section, comparison_sections

    agreement = _label_agreement(labels)
    if until_decided:
        from harness.stats.gate import load_gate_config, stopping_text

        if len(runs) != 2:
            raise InputError(None, "runs", "--until-decided compares exactly two prompt versions")
        report = _sequential_report(
            load_gate_config(config), runs[0], runs[1], suite=suite, runs_dir=runs_dir,
            quiet=fmt is Format.json, allow_drift=allow_drift,
        )  # fmt: skip
        if agreement is not None:
            from harness.stats.gate import with_label_agreement

            report = with_label_agreement(report, agreement)
        stop = report.stopping
        sections = comparison_sections(report.comparison)
        sections.append(
            Section(
                "Sequential repeats",
                lines=[report.decided_by, stopping_text(stop) if stop else ""],
            )
        )
        _emit(report.to_json(), sections, fmt)
        return
    margins = _parse_margins(margin or [])
    data = [_scored(ref, runs_dir) for ref in runs]
    result = compare_runs(data, allow_drift=allow_drift, margins=margins, n_boot=n_boot, seed=seed)
    if agreement is not None:
        from harness.scoring.run_labels import with_scorer_agreement

        result = with_scorer_agreement(result, agreement)
    _emit(result.to_json(), comparison_sections(result), fmt)
    if fmt is not Format.json:
        next_step(f"sdi report {' '.join(runs)}")


@cli_errors
def plan(
    effect: Annotated[
        float,
        typer.Option(
            "--effect", help="Difference to detect (0.1 = 10 points of a rate, or score points)."
        ),
    ],
    run: Annotated[str | None, typer.Argument(help="A scored run to take variances from.")] = None,
    baseline_rate: Annotated[
        float | None,
        typer.Option("--baseline-rate", min=0.0, max=1.0, help="Rate before the change."),
    ] = None,
    personas: Annotated[int, typer.Option("--personas", min=2, help="Personas per version.")] = 15,
    icc: Annotated[
        float,
        typer.Option(
            "--icc",
            min=0.0,
            max=0.999,
            help="How alike one persona's repeats are (intra-persona correlation).",
        ),
    ] = 0.3,
    effect_sd: Annotated[
        float,
        typer.Option(
            "--effect-sd",
            min=0.0,
            help="How much the change varies by persona (0 = the same for all).",
        ),
    ] = 0.0,
    metric: Annotated[
        list[str] | None, typer.Option("--metric", help="Metric id(s) to plan (with RUN).")
    ] = None,
    alpha: Annotated[
        float | None,
        typer.Option(
            "--alpha",
            help="Two-sided alpha (default: the level `sdi compare` decides at, twice 0.05 / "
            "the metrics with a direction).",
        ),
    ] = None,
    power: Annotated[float, typer.Option("--power", min=0.5, max=0.99)] = 0.8,
    runs_dir: RunsDir = DEFAULT_RUNS_DIR,
    fmt: FormatOpt = Format.table,
    suite: Annotated[
        Path | None,
        typer.Option(
            "--suite", help="Price the answer on this suite's models (default: the RUN's suite)."
        ),
    ] = None,
) -> None:
    """Repeats per persona a comparison needs to detect a difference with the given power:
    from a baseline rate (before any run) or from a run's own variances; with a suite (or a
    RUN whose suite file is still there), also in interviews and dollars."""
    from harness.stats.compare import default_tail
    from harness.stats.power import plan_from_run, plan_rate
    from harness.stats.render import rate_plan_section, run_plan_section

    _check_effect(effect, baseline_rate)
    level = alpha if alpha is not None else 2 * default_tail()
    if run is not None:
        plans = plan_from_run(
            _scored(run, runs_dir),
            effect,
            metrics=metric,
            alpha=level,
            power=power,
            effect_sd=effect_sd,
        )
        as_json = "[" + ",\n".join(p.model_dump_json(indent=2) for p in plans) + "]"
        needs = [(p.metric, p.answer.repeats_per_persona, p.answer.personas) for p in plans]
        sections = [run_plan_section(plans, effect)]
        _emit(
            as_json,
            sections + _plan_cost(needs, suite or _run_suite_path(run, runs_dir), runs_dir),
            fmt,
        )
        return
    if baseline_rate is None:
        raise fail("give a RUN, or --baseline-rate for a rate (with --personas and --icc)")
    result = plan_rate(
        baseline_rate,
        effect,
        personas=personas,
        icc=icc,
        alpha=level,
        power=power,
        effect_sd=effect_sd,
    )
    needs = [("paired", result.paired.repeats_per_persona, personas)]
    _emit(
        result.model_dump_json(indent=2),
        [rate_plan_section(result), *_plan_cost(needs, suite, runs_dir)],
        fmt,
    )


def _run_suite_path(run: str, runs_dir: Path) -> Path | None:
    """The suite file a run was made from, if it is still there."""
    from harness.store.runs import find_run_dir, read_manifest

    path = Path(read_manifest(find_run_dir(run, runs_dir)).suite_path)
    return path if path.is_file() else None


def _plan_cost(
    needs: list[tuple[str, int | None, int]], suite: Path | None, runs_dir: Path
) -> list[Section]:
    """The plan's answer in dollars, when there is a suite to price it on."""
    if suite is None:
        return []
    from harness.config.suites import load_suite
    from harness.simulate.estimate import plan_cost_section

    return [plan_cost_section(needs, load_suite(suite, require_key=False), runs_dir)]


def _check_effect(effect: float, baseline_rate: float | None) -> None:
    if not math.isfinite(effect) or effect == 0:
        raise InputError(None, "--effect", f"{effect:g} is not a difference to detect (non-zero)")
    if baseline_rate is not None and not 0 <= baseline_rate + effect <= 1:
        raise InputError(
            None,
            "--effect",
            f"{effect:g} moves the rate {baseline_rate:g} to {baseline_rate + effect:g}, "
            "outside 0-1 (a rate's effect is a difference of rates, e.g. 0.1)",
        )


@cli_errors
def gate(
    baseline: Annotated[str, typer.Option("--baseline", help="Run id/folder, or prompt id/file.")],
    candidate: Annotated[
        str, typer.Option("--candidate", help="Run id/folder, or prompt id/file.")
    ],
    config: Annotated[Path, typer.Option("--config", help="Gates YAML.")] = Path("gates.yaml"),
    suite: Annotated[Path, typer.Option("--suite", help="Suite run for a prompt version.")] = Path(
        "suites/gate.yaml"
    ),
    runs_dir: RunsDir = DEFAULT_RUNS_DIR,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for gate.md, .junit.xml, .json.")
    ] = Path("reports/gate"),
    allow_drift: Annotated[
        bool, typer.Option("--allow-drift", help="Compare runs that differ outside the prompt.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print what each side's run would call and cost; run none."),
    ] = False,
    labels: LabelsOpt = None,
) -> None:
    """Fail a prompt edit that makes things worse: exit 0 when no gate fails, 1 when one
    does, 2 on bad input. For prompt versions, repeats run in stages (gates.yaml `repeats`)
    until every gate is decided. Writes markdown (also to $GITHUB_STEP_SUMMARY), JUnit XML
    and JSON."""
    if dry_run:
        from harness.simulate.estimate import estimate_gate_side

        for ref, option in ((baseline, "--baseline"), (candidate, "--candidate")):
            typer.echo("\n".join(estimate_gate_side(ref, option, suite, runs_dir)))
        return
    from harness.project import current_project
    from harness.stats.gate import load_gate_config, stopping_text, write_gate_outputs
    from harness.stats.render import STAND_IN_NOTE

    gates = load_gate_config(current_project().locate(config) or config)
    if out.exists() and not out.is_dir():
        raise InputError(out, "--out", "is a file; give a folder for the gate reports")
    agreement = _label_agreement(labels)
    report = _sequential_report(
        gates, baseline, candidate, suite=suite, runs_dir=runs_dir, quiet=quiet,
        allow_drift=allow_drift,
    )  # fmt: skip
    if agreement is not None:
        from harness.stats.gate import with_label_agreement

        report = with_label_agreement(report, agreement)
    paths = write_gate_outputs(report, out)
    label = " [SYNTHETIC backend]" if report.synthetic else ""
    colours = {"fail": "red", "warn": "yellow", "pass": "green"}
    colour = False if os.environ.get("NO_COLOR") else None  # None: only on a terminal
    for g in report.gates:
        status = typer.style(f"{g.status.upper():<5}", fg=colours.get(g.status), bold=True)
        typer.echo(f"{status} {g.name}: {g.message_with_agreement()}", color=colour)
    verdict = typer.style(
        f"gate {'passed' if report.passed else 'FAILED'}", fg="green" if report.passed else "red"
    )
    typer.echo(f"decided by: {report.decided_by}")
    if report.stopping is not None:
        typer.echo(stopping_text(report.stopping))
    if report.synthetic:
        typer.echo(STAND_IN_NOTE)
    typer.echo(
        f"{verdict}{label}: {report.count('fail')} failed, "
        f"{report.count('warn')} warnings, {report.count('pass')} passed; "
        f"reports in {paths.markdown.parent}",
        color=colour,
    )
    runs = report.comparison.arms
    next_step(f"sdi report {runs[0].run_id} {runs[1].run_id}")
    if not report.passed:
        raise typer.Exit(EXIT_GATE_FAILED)


def _sequential_report(
    gates: GateConfig,
    baseline: str,
    candidate: str,
    *,
    suite: Path,
    runs_dir: Path,
    quiet: bool,
    allow_drift: bool,
) -> GateReport:
    from harness.simulate.progress import default_progress
    from harness.stats.sequential import gate_report

    return gate_report(
        gates, baseline, candidate, suite=suite, runs_dir=runs_dir,
        progress=default_progress(not quiet), allow_drift=allow_drift,
    )  # fmt: skip


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("consistency")(consistency)
    app.command("compare")(compare)
    app.command("plan")(plan)
    app.command("gate")(gate)
