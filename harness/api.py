"""The Python API, four calls the `sdi` commands are thin over (see docs/api.md):

    from harness.api import compare_runs, gate, run_suite, score_run

    run = run_suite("suites/smoke.yaml")          # a run folder
    records = score_run(run)                      # sdi.scores/1 records, saved with the run
    comparison = compare_runs(run_v1, run_v2)     # or one run with several prompt versions
    report = gate("v1", "v2")                     # the CI gate's verdicts

Paths resolve in the current project first, then in the built-in files (harness.project).
Every call works from plain Python and inside a running event loop (a Jupyter cell).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from harness.aio import run_sync
from harness.errors import InputError
from harness.project import snapshot
from harness.store.runs import DEFAULT_RUNS_DIR

if TYPE_CHECKING:
    from harness.contracts import ScoreRecord
    from harness.stats.compare import Comparison
    from harness.stats.gate import GateReport

__all__ = ["compare_runs", "gate", "run_suite", "score_run"]


def run_suite(
    suite: str | Path,
    *,
    runs_dir: str | Path = DEFAULT_RUNS_DIR,
    prompts: list[str] | None = None,
    repeats: int | None = None,
    personas: str | None = None,
    limit: int | None = None,
    resume: str | None = None,
) -> Path:
    """Simulate a suite (a file or an id such as "smoke"), with the same overrides as
    `sdi run`; returns the run folder."""
    from harness.config.suites import load_suite, override
    from harness.simulate.progress import default_progress
    from harness.simulate.runner import run_suite_async

    loaded = override(
        load_suite(suite), prompts=prompts, repeats=repeats, personas=personas, limit=limit
    )
    quiet = default_progress(False)
    with snapshot():
        return run_sync(run_suite_async(loaded, Path(runs_dir), resume=resume, progress=quiet))


def score_run(
    run: str | Path,
    *,
    runs_dir: str | Path = DEFAULT_RUNS_DIR,
    judge: str | None = None,
    judge_model: str | None = None,
) -> list[ScoreRecord]:
    """Score every transcript of a run (id or folder) with the project's rules and save the
    scores with it; `judge="anthropic"` has the LLM judge decide the judged rules."""
    from harness.scoring.runs import save_scores
    from harness.scoring.score import score_transcripts
    from harness.store.rundata import load_run

    data = load_run(run, Path(runs_dir))
    judge_obj = None
    if judge is not None:
        from harness.scoring.judge import make_judge

        judge_obj = make_judge(judge, model=judge_model, cache_path=Path(runs_dir) / "cache.sqlite")

    async def scored() -> list[ScoreRecord]:
        try:
            return await score_transcripts(data.transcripts, judge=judge_obj)
        finally:
            if judge_obj is not None:
                await judge_obj.aclose()

    records = run_sync(scored())
    save_scores(data.run_dir, records)
    return records


def compare_runs(
    *runs: str | Path,
    runs_dir: str | Path = DEFAULT_RUNS_DIR,
    allow_drift: bool = False,
    margins: dict[str, float] | None = None,
) -> Comparison:
    """Compare the prompt versions of one run, or of several runs (the first is the
    baseline); unscored runs are scored first."""
    from harness.scoring.runs import scored_run
    from harness.stats.compare import compare_runs as compare

    if not runs:
        raise InputError(None, "runs", "nothing to compare")
    data = [scored_run(r, Path(runs_dir)) for r in runs]
    return compare(data, allow_drift=allow_drift, margins=margins)


def gate(
    baseline: str | Path,
    candidate: str | Path,
    *,
    config: str | Path = "gates.yaml",
    suite: str | Path = "suites/gate.yaml",
    runs_dir: str | Path = DEFAULT_RUNS_DIR,
    out: str | Path | None = None,
) -> GateReport:
    """The CI gate: each side is a run or a prompt version (id or file; a prompt is run on
    `suite`); `report.passed` is the verdict. With `out`, writes gate.md, JUnit XML and JSON."""
    from harness.project import current_project
    from harness.simulate.progress import default_progress
    from harness.stats.gate import load_gate_config, write_gate_outputs
    from harness.stats.sequential import gate_report

    config_path = Path(config)
    gates = load_gate_config(current_project().locate(config_path) or config_path)
    report = gate_report(
        gates, str(baseline), str(candidate), suite=Path(suite), runs_dir=Path(runs_dir),
        progress=default_progress(False),
    )  # fmt: skip
    if out is not None:
        write_gate_outputs(report, Path(out))
    return report
