"""Build a report from run references and write it atomically (the API `sdi report` wraps)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from harness.errors import InputError
from harness.report.data import ReportData, from_file, gather, labels_section
from harness.report.html import render_html
from harness.report.markdown import render_markdown
from harness.scoring.run_labels import run_labels
from harness.scoring.runs import scored_run, scores_current
from harness.stats.gate import GateConfig
from harness.store.rundata import RunData, load_run
from harness.store.runs import DEFAULT_RUNS_DIR, check_output_path, write_json_atomic

ReportFormat = Literal["html", "md"]


def report_data(
    refs: list[str],
    *,
    runs_dir: Path = DEFAULT_RUNS_DIR,
    gate_config: GateConfig | None = None,
    allow_drift: bool = False,
    title: str | None = None,
    labels: Path | None = None,
) -> ReportData:
    """Load each run (scoring it first when its scores are missing or stale) and gather the
    report's figures. Runs are held without their turns; the text is streamed from each run's
    file into the packed chunks, so a long run's report needs a fraction of its size. With
    `labels` (a label set or golden folder), the runs' scorers are validated against the labels
    of the runs' own interviews, with the disagreement gallery."""
    runs = [_without_turns(ref, runs_dir) for ref in refs]
    data = gather(
        runs, gate_config=gate_config, allow_drift=allow_drift, title=title, texts=from_file
    )
    if labels is None:
        return data
    section = labels_section(run_labels(labels, runs))
    return data.model_copy(update={"labels": section})


def _without_turns(ref: str, runs_dir: Path) -> RunData:
    run = load_run(ref, runs_dir, turns=False)
    if scores_current(run):
        return run
    scored = scored_run(ref, runs_dir)  # scoring reads the turns
    return run.model_copy(update={"scores": scored.scores})


def render(data: ReportData, fmt: ReportFormat) -> str:
    return render_html(data) if fmt == "html" else render_markdown(data)


def write_report(text: str, out: Path) -> Path:
    """Write to a temporary file beside `out` and rename it: a reader never sees half a report.
    A folder or an unwritable place is bad input (checked by the caller before any work)."""
    check_output_path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(out, text)
    except OSError as err:
        raise InputError(out, "--out", f"cannot write the report ({err.strerror or err})") from None
    return out
