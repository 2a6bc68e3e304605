"""`sdi score` (verdicts for every rule of every transcript) and `sdi validate-scorers`
(precision, recall and F1 of the scorers against the labelled golden set)."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from collections.abc import Sequence
from contextlib import ExitStack
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from harness.cli.batching import BatchFlag, BatchPoll, batch_options
from harness.cli.common import RunsDir, cli_errors, next_step
from harness.errors import InputError
from harness.store.runs import DEFAULT_RUNS_DIR

if TYPE_CHECKING:
    from harness.backends.batch import BatchOptions
    from harness.contracts import BadLine, ScoreRecord, Transcript
    from harness.scoring.golden import GoldenSet
    from harness.scoring.judge import Judge
    from harness.simulate.progress import ProgressSink

EXIT_SKIPPED = 3
NO_JUDGE = "none"
MAX_LISTED_BAD = 20  # a file that is not JSONL at all should not flood the terminal
# Deterministic scoring is fast: a progress bar only pays off on large inputs.
PROGRESS_MIN = 500


# Help texts keep each paragraph on one line: the terminal wraps them, not the source.
SCORE_HELP = "\n\n".join(
    [
        "Score every rule of every transcript: verdict, turns at fault, evidence, final score.",
        "TARGET is a transcript file (sdi.transcript/1 JSONL) or a run (id or folder). A run is "
        "scored from the store and its scores are saved with it (runs/<id>/scores.jsonl). "
        "Output keeps the input order; a summary goes to stderr.",
        "Exit codes: 0 every transcript scored; 2 bad input, nothing scored (missing file, "
        "unknown run, no transcripts, missing API key); 3 some lines were malformed and "
        "skipped (each named on stderr with its line number and field), the others scored.",
    ]
)
VALIDATE_HELP = "\n\n".join(
    [
        "Per-rule precision, recall and F1 of the deterministic scorers against labelled "
        'transcripts, with "fail" (a violation detected) as the positive class, 95% intervals '
        "and Cohen's kappa; agreement on turn indices and on the final score; with --judge, "
        "the judge beside them on the rules it judges.",
        "--golden takes the golden folder (default) or a label set written by `sdi label`; a "
        "label set drawn in a non-random order is weighted back to the whole run by stratum, "
        "and two labellers on one set give inter-rater kappa per rule. --gallery writes every "
        "disagreement (transcript, turns, each scorer's verdict and reason, the label) to an "
        "HTML page.",
        "Exit codes: 0 whatever the figures; 2 bad input (no golden cases, a malformed case, "
        "a missing API key).",
    ]
)


class OutputFormat(StrEnum):
    jsonl = "jsonl"
    table = "table"


JudgeOpt = Annotated[
    str,
    typer.Option(
        "--judge",
        help="LLM judge for the semantic rules: none, anthropic or openai (or a plugin "
        "backend); it needs that backend's key (ANTHROPIC_API_KEY, OPENAI_API_KEY) and reads "
        "its base-URL variable (ANTHROPIC_BASE_URL, OPENAI_BASE_URL).",
    ),
]
JudgeModel = Annotated[
    str | None, typer.Option("--judge-model", help="Model for the judge (default: the judge's).")
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]
OnlyUncertain = Annotated[
    bool,
    typer.Option(
        "--judge-only-uncertain",
        help="Ask the judge only about verdicts the deterministic scorers mark uncertain.",
    ),
]


def _progress(count: int, judged: bool, quiet: bool) -> ProgressSink | None:
    from harness.simulate.progress import default_progress

    if quiet or not (judged or (count >= PROGRESS_MIN and sys.stderr.isatty())):
        return None
    return default_progress(True)


def _make_judge(
    kind: str, model: str | None, runs_dir: Path, batch: BatchOptions | None = None
) -> Judge | None:
    """The judge, made before anything is read, so a missing key stops the command at once."""
    if kind == NO_JUDGE:
        return None
    from harness.scoring.judge import make_judge

    return make_judge(kind, model=model, cache_path=runs_dir / "cache.sqlite", batch=batch)


async def _score(
    transcripts: Sequence[Transcript],
    judge: Judge | None,
    progress: ProgressSink | None,
    concurrency: int = 8,
    only_uncertain: bool = False,
) -> list[ScoreRecord]:
    from harness.scoring.score import score_transcripts

    try:
        return await score_transcripts(
            transcripts,
            judge=judge,
            progress=progress,
            concurrency=concurrency,
            only_uncertain=only_uncertain,
        )
    finally:
        if judge is not None:
            await judge.aclose()


def _read_file(path: Path) -> tuple[list[Transcript], list[BadLine]]:
    from harness.contracts import BadLine, iter_transcripts

    good: list[Transcript] = []
    bad: list[BadLine] = []
    for item in iter_transcripts(path):
        (bad if isinstance(item, BadLine) else good).append(item)  # type: ignore[arg-type]
    return good, bad


def _bad_line_message(bad: BadLine) -> str:
    prefix = f"line {bad.line_no}"
    field = (bad.field or prefix).removeprefix(prefix).lstrip(".")
    where = f"{bad.path}: line {bad.line_no}" + (f": {field}" if field else "")
    return f"error: {where}: {bad.error} (line skipped)"


@cli_errors
def score(
    target: Annotated[
        str,
        typer.Argument(help="A transcript file (sdi.transcript/1 JSONL), or a run id or folder."),
    ],
    output: Annotated[
        OutputFormat,
        typer.Option("--format", "-f", help="jsonl: sdi.scores/1 lines; table: readable."),
    ] = OutputFormat.jsonl,
    judge: JudgeOpt = NO_JUDGE,
    judge_model: JudgeModel = None,
    judge_only_uncertain: OnlyUncertain = False,
    runs_dir: RunsDir = DEFAULT_RUNS_DIR,
    quiet: Quiet = False,
    batch: BatchFlag = False,
    batch_poll: BatchPoll = None,
) -> None:
    """Score every rule of every transcript (see SCORE_HELP, the command's help)."""
    options = batch_options(batch, batch_poll)
    if options is not None and judge == NO_JUDGE:
        raise InputError(None, "--batch", "batches the judge's calls: give --judge anthropic")
    with ExitStack() as writer:
        judge_obj = _make_judge(judge, judge_model, runs_dir, options)
        _score_target(
            target,
            output,
            judge_obj,
            runs_dir,
            quiet,
            writer,
            options is not None,
            judge_only_uncertain,
        )


def _score_target(
    target: str,
    output: OutputFormat,
    judge_obj: Judge | None,
    runs_dir: Path,
    quiet: bool,
    writer: ExitStack,
    batched: bool,
    judge_only_uncertain: bool,
) -> None:
    path = Path(target)
    bad: list[BadLine] = []
    run_dir: Path | None = None
    if path.is_file():
        transcripts, bad = _read_file(path)
        if not transcripts:
            first = f"line {bad[0].line_no}: {bad[0].error}" if bad else ""
            why = f"{len(bad)} malformed lines, the first: {first}" if bad else "empty"
            raise InputError(path, None, f"no transcript could be read ({why})")
        for b in bad[:MAX_LISTED_BAD]:
            typer.echo(_bad_line_message(b), err=True)
        if len(bad) > MAX_LISTED_BAD:
            typer.echo(f"error: {path}: {len(bad) - MAX_LISTED_BAD} more malformed lines", err=True)
    else:
        from harness.store.lock import run_writer
        from harness.store.rundata import load_run
        from harness.store.runs import find_run_dir

        try:
            run_dir = find_run_dir(target, runs_dir)
        except InputError:
            raise InputError(
                target, None, f"no such transcript file, and no run by that id in {runs_dir}"
            ) from None
        # Held until the scores are saved: a second writer is refused before any judge call.
        writer.enter_context(run_writer(run_dir, "score"))
        transcripts = load_run(run_dir).transcripts
    for interview_id, n in Counter(t.interview_id for t in transcripts).items():
        if n > 1:
            typer.echo(f"warning: interview_id '{interview_id}' appears {n} times", err=True)
    progress = _progress(len(transcripts), judge_obj is not None, quiet)
    # Batched, every transcript's judge call goes at once: the stage is one batch.
    width = len(transcripts) if batched else 8
    records = asyncio.run(_score(transcripts, judge_obj, progress, width, judge_only_uncertain))
    if run_dir is not None:
        from harness.scoring.runs import save_scores

        save_scores(run_dir, records)
    if output is OutputFormat.jsonl:
        for record in records:
            typer.echo(record.to_json())
    else:
        from harness.scoring.tables import render_table

        typer.echo(render_table(records))
    _summary(records, bad, run_dir)
    if bad:
        raise typer.Exit(EXIT_SKIPPED)


def _summary(records: list[ScoreRecord], bad: list[BadLine], run_dir: Path | None) -> None:
    parts = [f"scored {len(records)} transcript(s)"]
    if bad:
        parts.append(f"skipped {len(bad)} malformed line(s)")
    failed = [r.interview_id for r in records if getattr(r, "judge_error", None)]
    if failed:
        parts.append(
            f"judge failed on {len(failed)} ({', '.join(failed[:5])}"
            f"{', …' if len(failed) > 5 else ''}): deterministic verdicts kept"
        )
    if run_dir is not None:
        parts.append(f"saved {run_dir / 'scores.jsonl'}")
    typer.echo("; ".join(parts), err=True)
    if run_dir is not None:
        next_step(f"sdi report {run_dir}", f"sdi consistency {run_dir}")


@cli_errors
def validate_scorers(
    judge: JudgeOpt = NO_JUDGE,
    judge_model: JudgeModel = None,
    judge_only_uncertain: OnlyUncertain = False,
    golden: Annotated[
        Path | None,
        typer.Option(
            "--golden",
            help="A folder of golden cases (*.yaml) or a label set from `sdi label` "
            "(labels/NAME.jsonl). Default: every set in tests/golden/sets.yaml, held-out "
            "sets first.",
        ),
    ] = None,
    labeller: Annotated[
        str | None,
        typer.Option("--labeller", help="Whose labels to validate against (default: the first)."),
    ] = None,
    gallery: Annotated[
        Path | None,
        typer.Option(
            "--gallery",
            help="Write the disagreement gallery to this HTML file (one per set, named "
            "FILE-SET.html, when several sets are validated).",
        ),
    ] = None,
    misses: Annotated[
        bool, typer.Option("--misses/--no-misses", help="List each disagreement with the labels.")
    ] = True,
    runs_dir: RunsDir = DEFAULT_RUNS_DIR,
    quiet: Quiet = False,
) -> None:
    """Validate the scorers against the golden sets (see VALIDATE_HELP, the command's help)."""
    from harness.scoring.golden import GOLDEN_SETS, load_golden_sets
    from harness.scoring.labels import load_reference
    from harness.scoring.validate import render_report, validate_reference

    if golden is not None:
        sets: list[tuple[Path, str, str]] = [(golden, "", "")]
    else:
        listed = load_golden_sets().in_report_order()
        sets = [(GOLDEN_SETS.parent / s.folder, _set_header(s), s.folder) for s in listed]
    references = [(load_reference(folder, labeller), header, name) for folder, header, name in sets]
    judge_obj = _make_judge(judge, judge_model, runs_dir)

    async def run() -> str:
        parts: list[str] = []
        try:
            for reference, header, name in references:
                progress = _progress(0, True, quiet) if judge_obj is not None else None
                report = await validate_reference(
                    reference,
                    judge=judge_obj,
                    progress=progress,
                    only_uncertain=judge_only_uncertain,
                )
                if gallery is not None:
                    from harness.scoring.gallery import write_gallery

                    path = gallery.with_stem(f"{gallery.stem}-{name}") if len(sets) > 1 else gallery
                    typer.echo(f"disagreement gallery: {write_gallery(report, path)}", err=True)
                body = render_report(report, misses)
                parts.append(f"{header}\n{body}" if header else body)
        finally:
            if judge_obj is not None:
                await judge_obj.aclose()
        return "\n\n".join(parts)

    typer.echo(asyncio.run(run()))


def _set_header(s: GoldenSet) -> str:
    """What a set is, and for a held-out set the figures of its first run beside today's."""
    kind = "HELD-OUT set" if s.held_out else "DEVELOPMENT set (the scorers were tuned on it)"
    lines = [f"=== {kind}: {s.folder} (labelled by {s.labelled_by})"]
    if s.first_run is not None:
        f1 = ", ".join(f"{rule} {value:.2f}" for rule, value in s.first_run.f1.items())
        lines += [
            f"first run, before any fix (the honest figure): F1 {f1}; {s.first_run.verdicts}",
            "the table below is today's run: fixes since may have been made for this set",
        ]
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app."""
    app.command("score", help=SCORE_HELP)(score)
    app.command("validate-scorers", help=VALIDATE_HELP)(validate_scorers)
