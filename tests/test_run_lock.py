"""One writer per run: a second resume or a score that would write is refused; a run whose
writer died shows `interrupted` with the command that resumes it; SIGTERM acts like Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from harness.cli.main import app
from harness.config.suites import load_suite
from harness.simulate.progress import QuietProgress
from harness.simulate.runner import run_suite
from harness.store.lock import HOLDER_FILE, is_held, run_writer
from harness.store.runs import read_manifest
from tests.conftest import SCRIPTED_PERSONA, write_project
from tests.test_resume import REPO, SLOW_RUN, _kill_after

runner = CliRunner()


def _one_error_line(result: object) -> str:
    err = result.stderr  # type: ignore[attr-defined]
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert result.exit_code == 2 and len(lines) == 1, err  # type: ignore[attr-defined]
    assert "Traceback" not in err
    return lines[0]


def test_second_writer_is_refused_with_one_line(tmp_path: Path) -> None:
    suite = write_project(tmp_path / "p", repeats=1, personas=[SCRIPTED_PERSONA])
    runs = tmp_path / "runs"
    run_dir = run_suite(load_suite(suite), runs, progress=QuietProgress())
    before = (run_dir / "transcripts.jsonl").read_text()
    with run_writer(run_dir):
        assert is_held(run_dir)
        line = _one_error_line(
            runner.invoke(
                app, ["run", str(suite), "--runs-dir", str(runs), "--resume", run_dir.name]
            )
        )
        assert "one writer per run" in line and "pid" in line
        line = _one_error_line(runner.invoke(app, ["score", run_dir.name, "--runs-dir", str(runs)]))
        assert "cannot score" in line
        assert not (run_dir / "scores.jsonl").exists()
    assert (run_dir / "transcripts.jsonl").read_text() == before
    assert not is_held(run_dir) and (run_dir / HOLDER_FILE).is_file()
    result = runner.invoke(app, ["score", run_dir.name, "--runs-dir", str(runs), "-q"])
    assert result.exit_code == 0 and (run_dir / "scores.jsonl").is_file()


def test_killed_run_shows_interrupted_with_the_resume_command(tmp_path: Path) -> None:
    suite = write_project(
        tmp_path / "p", repeats=6, personas=[SCRIPTED_PERSONA], extra_suite={"concurrency": 2}
    )
    runs = tmp_path / "runs"
    run_dir = _kill_after(2, suite, runs)
    assert read_manifest(run_dir).status == "running" and not is_held(run_dir)
    listed = runner.invoke(app, ["runs", "list", "--runs-dir", str(runs)])
    assert listed.exit_code == 0
    assert "interrupted" in listed.stdout and f"--resume {run_dir.name}" in listed.stdout
    shown = runner.invoke(app, ["runs", "show", run_dir.name, "--runs-dir", str(runs)])
    present = (run_dir / "transcripts.jsonl").read_text().count("\n")
    assert "[interrupted]" in shown.stdout and f"--resume {run_dir.name}" in shown.stdout
    assert f"interviews: {present}/6" in shown.stdout  # counts what is there, not the manifest


def test_sigterm_is_handled_like_ctrl_c(tmp_path: Path) -> None:
    suite = write_project(
        tmp_path / "p", repeats=6, personas=[SCRIPTED_PERSONA], extra_suite={"concurrency": 2}
    )
    runs = tmp_path / "runs"
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_RUN, str(suite), str(runs)],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(
        p.read_text().count("\n") for p in runs.glob("*/transcripts.jsonl")
    ):
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    (run_dir,) = [p.parent for p in runs.glob("*/manifest.json")]
    manifest = read_manifest(run_dir)
    assert manifest.status == "interrupted" and manifest.ended_at is not None
    assert not is_held(run_dir)
