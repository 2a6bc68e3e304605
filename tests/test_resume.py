"""A run killed part way resumes with every interview exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

from harness.config.suites import load_suite
from harness.contracts import load_transcripts
from harness.errors import InputError
from harness.simulate.progress import QuietProgress
from harness.simulate.runner import plan_interviews, run_suite
from harness.store.runs import read_manifest
from tests.conftest import SCRIPTED_PERSONA, write_project

REPO = Path(__file__).resolve().parent.parent

SLOW_RUN = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from harness.backends.synthetic import SyntheticBackend
    from harness.config.suites import load_suite
    from harness.simulate.progress import LineProgress
    from harness.simulate.runner import run_suite_async

    class Slow(SyntheticBackend):
        async def complete(self, request):
            await asyncio.sleep(0.02)
            return await super().complete(request)

    asyncio.run(run_suite_async(load_suite(sys.argv[1]), Path(sys.argv[2]),
                                progress=LineProgress(), interviewer_backend=Slow()))
    """
)


def _kill_after(lines: int, suite: Path, runs: Path) -> Path:
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_RUN, str(suite), str(runs)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            found = list(runs.glob("*/transcripts.jsonl"))
            if found and found[0].read_text().count("\n") >= lines:
                break
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return found[0].parent


def test_killed_run_resumes_each_interview_exactly_once(tmp_path: Path) -> None:
    suite = write_project(
        tmp_path / "p", repeats=6, personas=[SCRIPTED_PERSONA], extra_suite={"concurrency": 2}
    )
    runs = tmp_path / "runs"
    run_dir = _kill_after(2, suite, runs)
    before = load_transcripts(run_dir / "transcripts.jsonl")
    planned = {p.interview_id for p in plan_interviews(load_suite(suite))}
    assert 2 <= len(before) < len(planned), "the kill should land part way"
    assert read_manifest(run_dir).status == "running"  # killed: never got to say otherwise
    # a torn half-line, as a kill in the middle of a write would leave
    with (run_dir / "transcripts.jsonl").open("a") as fh:
        fh.write('{"schema": "sdi.transcript/1", "interview_id": "v1:url-mi')

    resumed = run_suite(load_suite(suite), runs, resume=run_dir.name, progress=QuietProgress())
    assert resumed == run_dir
    after = load_transcripts(run_dir / "transcripts.jsonl")
    counts = Counter(t.interview_id for t in after)
    assert set(counts) == planned and set(counts.values()) == {1}
    kept = {t.interview_id: t for t in after}
    for t in before:
        assert kept[t.interview_id] == t, "finished interviews are kept, not redone"
    manifest = read_manifest(run_dir)
    assert manifest.status == "complete" and manifest.interviews_done == len(planned)


def test_resume_refuses_a_changed_suite(tmp_path: Path) -> None:
    suite = write_project(tmp_path / "p", repeats=1, personas=[SCRIPTED_PERSONA])
    runs = tmp_path / "runs"
    run_dir = run_suite(load_suite(suite), runs, progress=QuietProgress())
    suite.write_text(suite.read_text().replace("repeats: 1", "repeats: 2"))
    with pytest.raises(InputError, match="suite"):
        run_suite(load_suite(suite), runs, resume=run_dir.name, progress=QuietProgress())
