"""A call that fails for good fails its interview alone: the run goes on, ends `partial`, and
`--resume` reruns only failed and missing interviews without paying again for answered calls."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli.main import app
from harness.contracts import load_transcripts
from harness.store.failures import read_failures
from harness.store.runs import read_manifest
from tests.conftest import anthropic_project
from tests.loopback import Body, LoopbackServer, Reply, error, interviewer_reply

runner = CliRunner()
MODEL = "claude-haiku-4-5"
FAIL_AT = 5  # the request carrying this many messages fails, once


class FailOnce:
    """The interviewer's reply, except that the first request with FAIL_AT messages gets a 400."""

    def __init__(self) -> None:
        self.fired = False
        self.lock = threading.Lock()

    def __call__(self, body: Body) -> Reply:
        with self.lock:
            if len(body.get("messages", [])) == FAIL_AT and not self.fired:
                self.fired = True
                return error(400, "invalid_request_error", "injected")
        return interviewer_reply(body)


def test_one_failed_call_fails_one_interview_and_resume_pays_only_for_the_rest(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    loopback.responder = FailOnce()
    suite, runs = anthropic_project(tmp_path / "p", MODEL, concurrency=1), tmp_path / "runs"
    result = runner.invoke(app, ["run", str(suite), "--runs-dir", str(runs), "-q"])
    assert result.exit_code == 3, result.output
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    manifest = read_manifest(run_dir)
    assert manifest.status == "partial" and manifest.interviews_failed == 1
    assert "failed: 1 interview" in result.stdout
    finished = load_transcripts(run_dir / "transcripts.jsonl")
    (failure,) = read_failures(run_dir).values()
    assert len(finished) == 2 and failure.interview_id not in {t.interview_id for t in finished}
    assert "400" in failure.reason and "invalid_request_error" in failure.reason
    assert "failed" not in (run_dir / "transcripts.jsonl").read_text()
    shown = runner.invoke(app, ["runs", "show", run_dir.name, "--runs-dir", str(runs)])
    assert "[partial]" in shown.stdout and f"failed:     {failure.interview_id}" in shown.stdout

    sent_before = len(loopback.messages_requests())
    answered_before_failure = FAIL_AT // 2  # interviewer replies before the failing call
    again = runner.invoke(
        app, ["run", str(suite), "--runs-dir", str(runs), "-q", "--resume", run_dir.name]
    )
    assert again.exit_code == 0, again.output
    after = load_transcripts(run_dir / "transcripts.jsonl")
    assert sorted(t.interview_id for t in after) == sorted(
        [t.interview_id for t in finished] + [failure.interview_id]
    )
    redone = next(t for t in after if t.interview_id == failure.interview_id)
    calls = redone.meta["calls"]
    assert [c["cached"] for c in calls[:answered_before_failure]] == [
        True
    ] * answered_before_failure
    assert len(loopback.messages_requests()) - sent_before == len(calls) - answered_before_failure
    assert read_manifest(run_dir).status == "complete"


@pytest.mark.parametrize(
    ("reply", "needle"),
    [
        (error(401, "authentication_error", "invalid x-api-key"), "401"),
        (error(403, "permission_error", "no access"), "403"),
    ],
)
def test_fatal_errors_still_stop_the_run_with_one_line(
    loopback: LoopbackServer, tmp_path: Path, reply: Reply, needle: str
) -> None:
    loopback.enqueue(reply)
    suite, runs = anthropic_project(tmp_path / "p", MODEL, concurrency=1), tmp_path / "runs"
    result = runner.invoke(app, ["run", str(suite), "--runs-dir", str(runs), "-q"])
    assert result.exit_code == 1
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in result.stderr
    (manifest_path,) = runs.glob("*/manifest.json")
    assert json.loads(manifest_path.read_text())["status"] == "failed"
