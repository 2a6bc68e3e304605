"""`sdi consistency`, `sdi compare`, `sdi plan` and `sdi gate`: thin over `harness.stats`.

The statistics libraries take a second to import, so they are imported inside the commands.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from harness.cli.common import cli_errors, fail
from harness.errors import InputError
from harness.store.runs import DEFAULT_RUNS_DIR

if TYPE_CHECKING:
    from harness.stats.gate import GateConfig, GateReport
    from harness.stats.render import Section
    from harness.store.rundata import RunData

EXIT_GATE_FAILED = 1


class Format(StrEnum):
    table = "table"
    json = "json"
    md = "md"


RunsDir = Annotated[Path, typer.Option("--runs-dir", help="Where runs and the cache live.")]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="table, json or md.")]


def _scored(ref: str, runs_dir: Path) -> RunData:
    from harness.scoring.runs import scored_run

    return scored_run(ref, runs_dir)


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
    """Print a report as JSON, markdown or an aligned text table."""
    from harness.stats.render import render

    if fmt is Format.json:
        typer.echo(json_text)
    else:
        typer.echo(render(sections, fmt is Format.md), nl=False)


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
    fmt: FormatOpt = Format.table,
) -> None:
    """What improved, what regressed and what cannot be told apart yet, per rule and for
    the scores, with intervals (and the level that decided) and the repeats needed."""
    from harness.stats.compare import compare_runs
    from harness.stats.render import Section, comparison_sections

    if until_decided:
        from harness.stats.gate import load_gate_config, stopping_text

        if len(runs) != 2:
            raise InputError(None, "runs", "--until-decided compares exactly two prompt versions")
        report = _sequential_report(
            load_gate_config(config), runs[0], runs[1], suite=suite, runs_dir=runs_dir,
            quiet=fmt is Format.json, allow_drift=allow_drift,
        )  # fmt: skip
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
    _emit(result.to_json(), comparison_sections(result), fmt)


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
) -> None:
    """Repeats per persona a comparison needs to detect a difference with the given power:
    from a baseline rate (before any run) or from a run's own variances."""
    from harness.stats.compare import default_tail
    from harness.stats.power import plan_from_run, plan_rate
    from harness.stats.render import rate_plan_section, run_plan_section

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
        _emit(as_json, [run_plan_section(plans, effect)], fmt)
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
    _emit(result.model_dump_json(indent=2), [rate_plan_section(result)], fmt)


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
) -> None:
    """Fail a prompt edit that makes things worse: exit 0 when no gate fails, 1 when one
    does, 2 on bad input. For prompt versions, repeats run in stages (gates.yaml `repeats`)
    until every gate is decided. Writes markdown (also to $GITHUB_STEP_SUMMARY), JUnit XML
    and JSON."""
    from harness.stats.gate import (
        STAND_IN_NOTE,
        load_gate_config,
        stopping_text,
        write_gate_outputs,
    )

    gates = load_gate_config(config)
    report = _sequential_report(
        gates, baseline, candidate, suite=suite, runs_dir=runs_dir, quiet=quiet,
        allow_drift=allow_drift,
    )  # fmt: skip
    paths = write_gate_outputs(report, out)
    label = " [SYNTHETIC backend]" if report.synthetic else ""
    for g in report.gates:
        typer.echo(f"{g.status.upper():<5} {g.name}: {g.message}")
    typer.echo(f"decided by: {report.decided_by}")
    if report.stopping is not None:
        typer.echo(stopping_text(report.stopping))
    if report.synthetic:
        typer.echo(STAND_IN_NOTE)
    typer.echo(
        f"gate {'passed' if report.passed else 'FAILED'}{label}: {report.count('fail')} failed, "
        f"{report.count('warn')} warnings, {report.count('pass')} passed; "
        f"reports in {paths.markdown.parent}"
    )
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
    """Both sides as runs (one look), or prompt versions run in stages until decided."""
    from harness.simulate.progress import default_progress
    from harness.stats.gate_inputs import run_prompt, side_source
    from harness.stats.sequential import Sides, run_sequential

    sources = [
        side_source(ref, option=option, suite_path=suite, runs_dir=runs_dir)
        for ref, option in ((baseline, "--baseline"), (candidate, "--candidate"))
    ]

    def at(source: RunData | Path, repeats: int | None) -> RunData:
        if isinstance(source, Path):
            return run_prompt(
                source, suite_path=suite, runs_dir=runs_dir, repeats=repeats,
                progress=default_progress(not quiet),
            )  # fmt: skip
        return source

    fixed_repeats = next(
        (int(s.manifest.suite.get("repeats", 1)) for s in sources if not isinstance(s, Path)),
        None,
    )
    if fixed_repeats is not None:
        sides = Sides(at(sources[0], fixed_repeats), at(sources[1], fixed_repeats))
        if sides.baseline.run_dir == sides.candidate.run_dir:
            raise InputError(None, "--candidate", "baseline and candidate are the same run")
        return run_sequential(gates, None, sides, allow_drift=allow_drift)
    return run_sequential(
        gates,
        lambda repeats: Sides(at(sources[0], repeats), at(sources[1], repeats)),
        allow_drift=allow_drift,
    )


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("consistency")(consistency)
    app.command("compare")(compare)
    app.command("plan")(plan)
    app.command("gate")(gate)
