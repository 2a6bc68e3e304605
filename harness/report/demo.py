"""Offline runs that show each kind of report (one version, a comparison, a gate): the smoke
suite on the synthetic backend, and the same personas under the seed prompt and a copy of it
without its one-question rule. Used by the report screenshots and the browser test.

Synthetic: the stand-in reads keywords in the prompt, so the figures show the report's
plumbing, not anything about a real model.
"""

from __future__ import annotations

from pathlib import Path

from harness.config.suites import load_suite
from harness.project import BUILTIN_ROOT
from harness.scoring.runs import scored_run
from harness.simulate.progress import QuietProgress
from harness.simulate.runner import run_suite
from harness.store.rundata import RunData

REPO = Path(__file__).resolve().parents[2]  # where the screenshots are kept (reports/)
DROPPED_RULE = "ONE question"  # the line of the seed prompt that v2 leaves out


def two_version_suite(root: Path) -> Path:
    """A suite file in `root`: every smoke persona under v1 and under v2 (v1 minus one rule)."""
    root.mkdir(parents=True, exist_ok=True)
    v1 = BUILTIN_ROOT / "prompts" / "interviewer" / "v1.md"
    lines = v1.read_text(encoding="utf-8").splitlines(keepends=True)
    (root / "v2.md").write_text("".join(line for line in lines if DROPPED_RULE not in line))
    suite = (BUILTIN_ROOT / "suites" / "smoke.yaml").read_text(encoding="utf-8")
    suite = suite.replace("prompts: [v1]", f"prompts: [{v1}, {root / 'v2.md'}]")
    path = root / "two-versions.yaml"
    candidates = str(BUILTIN_ROOT / "candidates")
    path.write_text(suite.replace("../candidates", candidates), encoding="utf-8")
    return path


def scored(suite: Path, runs_dir: Path) -> RunData:
    """Run a suite quietly and score it."""
    run_dir = run_suite(load_suite(suite), runs_dir, progress=QuietProgress())
    return scored_run(run_dir, runs_dir)


def demo_runs(root: Path) -> tuple[RunData, RunData]:
    """(the smoke run, the two-version run), both scored, under `root/runs`."""
    single = scored(BUILTIN_ROOT / "suites" / "smoke.yaml", root / "runs")
    return single, scored(two_version_suite(root), root / "runs")
