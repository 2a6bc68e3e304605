"""`sdi run --batch` end to end against the loopback batches server, kill -9 included."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.backends.base import Usage
from harness.backends.batch import JOURNAL, BatchJournal
from harness.backends.pricing import estimate_cost
from harness.cli.main import app
from harness.contracts import load_transcripts
from harness.store.runs import TRANSCRIPTS, read_manifest
from tests.conftest import SCRIPTED_PERSONA, write_project
from tests.loopback import FAKE_API_KEY
from tests.loopback_batches import BatchesServer, running_batches

REPO = Path(__file__).resolve().parent.parent
MODEL = "claude-sonnet-4-6"
SHORT_PERSONA = {**SCRIPTED_PERSONA, "id": "url-mid-short", "turns": SCRIPTED_PERSONA["turns"][:3]}


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[BatchesServer]:
    with running_batches(monkeypatch, delay_s=0.02) as s:
        yield s


def _project(root: Path, **role: object) -> Path:
    return write_project(
        root,
        repeats=2,
        personas=[SCRIPTED_PERSONA, SHORT_PERSONA],
        extra_suite={"interviewer": {"backend": "anthropic", "model": MODEL, **role}},
    )


def _all_ids(server: BatchesServer) -> list[str]:
    return [i for ids in server.created_ids() for i in ids]


def test_batched_run_takes_one_batch_per_round(server: BatchesServer, tmp_path: Path) -> None:
    suite = _project(tmp_path / "project")
    runs = tmp_path / "runs"
    args = ["run", str(suite), "--runs-dir", str(runs), "--batch", "--batch-poll", "0.01"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    run_dir = Path(result.stdout.strip().splitlines()[-1])
    transcripts = load_transcripts(run_dir / TRANSCRIPTS)
    calls = {t.interview_id: t.meta["calls"] for t in transcripts}
    longest = max(len(c) for c in calls.values())
    assert len(transcripts) == 4 and all(t.meta["end_reason"] == "feedback" for t in transcripts)
    # every interview's next call shares a round's batch: as many batches as the longest has turns
    assert server.creates == longest
    assert len(set(_all_ids(server))) == len(_all_ids(server))  # no request sent twice
    for call in (c for cs in calls.values() for c in cs):
        assert call["batched"] and not call["cached"]
        full = estimate_cost(MODEL, Usage.model_validate(call["usage"]))
        assert call["cost_usd"] == pytest.approx(full / 2, abs=1e-6)
    # the shared system prompt and earlier turns are read from the prompt cache inside batches
    assert sum(c["usage"]["cache_read_input_tokens"] for cs in calls.values() for c in cs) > 0
    assert f"batches: {longest} submitted, {longest} done, 0 waiting" in result.stderr
    assert read_manifest(run_dir).status == "complete"
    assert BatchJournal(run_dir / JOURNAL).pending() == {}

    # An identical run is answered by the response cache: no batch at all.
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output
    assert server.creates == longest

    # A regrade stage is one batch: every transcript x every sample.
    regrade = ["regrade", run_dir.name, "-k", "3", "--runs-dir", str(runs), "-q"]
    result = CliRunner().invoke(app, [*regrade, "--batch", "--batch-poll", "0.01"])
    assert result.exit_code == 0, result.output
    assert server.creates == longest + 1
    # every regrade is keyed on its interview (persona, sample): even when the loopback's
    # deterministic answers give two repeats the same cut transcript, they are separate samples
    assert len(server.created_ids()[-1]) == len(transcripts) * 3
    records = [json.loads(x) for x in (run_dir / "regrades.jsonl").read_text().splitlines()]
    assert len(records) == 12 and all(r["meta"]["batched"] for r in records)


def test_batch_true_per_role_in_the_suite(server: BatchesServer, tmp_path: Path) -> None:
    suite = _project(tmp_path / "project", batch=True)
    result = CliRunner().invoke(
        app, ["run", str(suite), "--runs-dir", str(tmp_path / "runs"), "-q", "--batch-poll", "0.01"]
    )
    assert result.exit_code == 0, result.output
    assert server.creates > 0


def test_batch_on_a_backend_without_batches_is_bad_input(tmp_path: Path) -> None:
    suite = write_project(tmp_path / "project", extra_suite={"interviewer": {"batch": True}})
    result = CliRunner().invoke(app, ["run", str(suite), "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 2
    assert "interviewer" in result.stderr and "anthropic" in result.stderr
    assert "Traceback" not in result.output and not (tmp_path / "runs").exists()
    synthetic = write_project(tmp_path / "synthetic")
    result = CliRunner().invoke(app, ["run", str(synthetic), "--runs-dir", str(tmp_path / "r")])
    assert result.exit_code == 0  # no batches asked for: fine
    result = CliRunner().invoke(
        app, ["run", str(synthetic), "--runs-dir", str(tmp_path / "r2"), "--batch"]
    )
    assert result.exit_code == 2 and "--batch" in result.stderr
    assert not (tmp_path / "r2").exists()


def _sdi(*args: str, server: BatchesServer) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "ANTHROPIC_API_KEY": FAKE_API_KEY,
        "ANTHROPIC_BASE_URL": server.url,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "harness.cli.main", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait(predicate: object, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _journaled(runs: Path) -> int:
    found = list(runs.glob(f"*/{JOURNAL}"))
    if not found:
        return 0
    return sum(json.loads(x)["event"] == "created" for x in found[0].read_text().splitlines())


@pytest.mark.parametrize("ended_while_dead", [False, True], ids=["still-pending", "ended"])
def test_kill_9_with_batches_pending_resumes_without_paying_again(
    server: BatchesServer, tmp_path: Path, ended_while_dead: bool
) -> None:
    suite = _project(tmp_path / "project")
    runs = tmp_path / "runs"
    held = 3  # rounds 0-2 end; round 3's batch stays in progress until released
    server.hold_from = held
    common = ["--runs-dir", str(runs), "--batch", "--batch-poll", "0.02", "-q"]
    first = _sdi("run", str(suite), *common, server=server)
    try:
        _wait(lambda: server.creates > held and _journaled(runs) > held, "the held batch")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert first.returncode == -signal.SIGKILL
    (run_dir,) = [p.parent for p in runs.glob(f"*/{JOURNAL}")]
    pending = BatchJournal(run_dir / JOURNAL).pending()
    assert list(pending) == [f"msgbatch_loopback_{held:04d}"]
    assert not (run_dir / TRANSCRIPTS).exists() or not load_transcripts(run_dir / TRANSCRIPTS)
    creates_before = server.creates

    if ended_while_dead:
        server.release()
    resumed = _sdi("run", str(suite), *common, "--resume", run_dir.name, server=server)
    if not ended_while_dead:
        # the resumed process polls the pending batch and sends nothing new while it waits
        path = f"/v1/messages/batches/{next(iter(pending))}"
        polls = lambda: sum(r.path == path for r in server.requests)  # noqa: E731
        seen = polls()
        _wait(lambda: polls() > seen + 3, "the resumed process to poll the pending batch")
        assert server.creates == creates_before
        server.release()
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err.decode()

    ids = _all_ids(server)
    assert len(ids) == len(set(ids)), "a request was sent in two batches: paid twice"
    assert server.creates > creates_before  # the later rounds ran after the resume
    transcripts = load_transcripts(run_dir / TRANSCRIPTS)
    counts = Counter(t.interview_id for t in transcripts)
    assert len(counts) == 4 and set(counts.values()) == {1}  # every interview exactly once
    assert all(t.meta["end_reason"] == "feedback" for t in transcripts)
    assert BatchJournal(run_dir / JOURNAL).pending() == {}
    assert read_manifest(run_dir).status == "complete"
