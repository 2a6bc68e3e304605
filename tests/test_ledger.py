"""The spend ledger: every answered call is on disk as soon as its reply is read, so after a
kill -9 and a resume the run's spend is what the (loopback) API billed, to the cent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli.main import app
from harness.contracts import load_transcripts
from harness.store.ledger import LEDGER, read_ledger
from harness.store.rundata import load_run
from harness.store.runs import read_manifest
from tests.conftest import SCRIPTED_PERSONA, write_project
from tests.loopback import FAKE_API_KEY, LoopbackServer

REPO = Path(__file__).resolve().parent.parent
MODEL = "claude-sonnet-4-6"


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(latency_s=0.01) as srv:
        yield srv


def test_ledger_after_kill_9_matches_what_the_server_billed(
    server: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    suite = write_project(
        tmp_path / "p",
        repeats=4,
        personas=[SCRIPTED_PERSONA],
        extra_suite={"interviewer": {"backend": "anthropic", "model": MODEL, "max_tokens": 300}},
    )
    runs = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": str(REPO), "ANTHROPIC_API_KEY": FAKE_API_KEY}
    env["ANTHROPIC_BASE_URL"] = server.url
    server.hold_after = 7  # mid-interview for all four: nothing else is answered until the kill
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli.main", "run", str(suite), "--runs-dir", str(runs)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.billed_calls < 7:
        time.sleep(0.02)
    ledgers = list(runs.glob(f"*/{LEDGER}"))
    while time.monotonic() < deadline and (not ledgers or read_ledger(ledgers[0].parent).calls < 7):
        time.sleep(0.02)
        ledgers = list(runs.glob(f"*/{LEDGER}"))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    run_dir = ledgers[0].parent
    assert not load_transcripts(run_dir / "transcripts.jsonl")  # no interview had finished
    killed = read_ledger(run_dir)
    assert killed.calls == server.billed_calls == 7
    assert round(killed.spent_usd, 2) == round(server.billed_usd, 2) and killed.spent_usd > 0
    # the requests held at the kill were sent and never answered: in doubt, with a bound
    assert killed.in_doubt_calls >= 1 and killed.in_doubt_max_usd > 0
    # The manifest, written before any call, knows nothing; reading the run takes the ledger.
    assert read_manifest(run_dir).spent_usd == 0
    assert load_run(run_dir).manifest.spent_usd == killed.spent_usd

    server.hold_after = None
    server.released.set()
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_API_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    result = CliRunner().invoke(
        app, ["run", str(suite), "--runs-dir", str(runs), "-q", "--resume", run_dir.name]
    )
    assert result.exit_code == 0, result.output
    manifest = read_manifest(run_dir)
    assert manifest.status == "complete" and manifest.interviews_done == 4
    assert manifest.model_calls == server.billed_calls
    assert f"{manifest.spent_usd:.6f}" == f"{server.billed_usd:.6f}"
    # the seven calls answered before the kill were replayed from the cache, not paid twice
    calls = [c for t in load_transcripts(run_dir / "transcripts.jsonl") for c in t.meta["calls"]]
    assert sum(c["cached"] for c in calls) == 7
    assert sum(not c["cached"] for c in calls) == server.billed_calls - 7
    listed = CliRunner().invoke(app, ["runs", "list", "--runs-dir", str(runs)])
    assert f"{server.billed_usd:.4f}" in listed.stdout
