"""Scores kept with their run: `runs/<id>/scores.jsonl`, one `sdi.scores/1` line per transcript.

Stored scores are reused only when they come from this SCORER_VERSION and cover exactly the
run's transcripts; otherwise the run is scored again (deterministically) and saved.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from harness.aio import run_sync
from harness.contracts import ScoreRecord
from harness.scoring import SCORER_VERSION
from harness.scoring.registry import load_rules
from harness.scoring.score import score_transcripts
from harness.store.rundata import RunData, load_run
from harness.store.runs import DEFAULT_RUNS_DIR, SCORES, write_json_atomic

if TYPE_CHECKING:
    from harness.scoring.judge import Judge
    from harness.simulate.progress import ProgressSink


def save_scores(run_dir: Path, records: list[ScoreRecord]) -> Path:
    path = run_dir / SCORES
    write_json_atomic(path, "".join(r.to_json() + "\n" for r in records))
    return path


def score_run(
    run: RunData, *, judge: Judge | None = None, progress: ProgressSink | None = None
) -> list[ScoreRecord]:
    """Score every transcript of a run (in its order) and save the scores with it, atomically.
    Runs its own event loop (in a worker thread when one is already running)."""
    records = run_sync(score_transcripts(run.transcripts, judge=judge, progress=progress))
    save_scores(run.run_dir, records)
    return records


def scores_current(run: RunData) -> bool:
    """Stored scores from this scorer version and the current project's rule set that cover
    exactly the run's transcripts."""
    if run.scores is None:
        return False
    ids = [t.interview_id for t in run.transcripts]
    rules = load_rules().sha256
    return [s.interview_id for s in run.scores] == ids and all(
        getattr(s, "scorer_version", None) == SCORER_VERSION
        and getattr(s, "rules_sha256", None) == rules
        for s in run.scores
    )


def scored_run(ref: str | Path, runs_dir: Path = DEFAULT_RUNS_DIR) -> RunData:
    """A run with its scores: the stored ones when current, else scored now and saved."""
    run = load_run(ref, runs_dir)
    if scores_current(run):
        return run
    records = score_run(run)
    return run.model_copy(update={"scores": records})
