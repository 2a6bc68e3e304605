"""`sdi practice` driven as a person drives it: pexpect types into the real terminal program,
whose interviewer is the real SDK talking to the loopback Messages server; the session must
end in feedback, be saved as a scored run and show up in `sdi runs list` and `--history`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from harness.project import BUILTIN_ROOT
from harness.store.rundata import load_run
from tests.loopback import FAKE_API_KEY, LoopbackServer

pexpect = pytest.importorskip("pexpect")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer() as s:
        yield s


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    path = tmp_path / "practice.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "name": "practice-suite",
                "prompts": ["v1"],
                "prompts_dir": str(BUILTIN_ROOT / "prompts" / "interviewer"),
                "personas": [str(BUILTIN_ROOT / "candidates" / "*.yaml")],
                "interviewer": {
                    "backend": "anthropic",
                    "model": "claude-sonnet-4-6",
                    "max_tokens": 800,
                },
            }
        )
    )
    return path


def _env(server: LoopbackServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    return {
        **env,
        "PYTHONPATH": str(REPO),
        "ANTHROPIC_API_KEY": FAKE_API_KEY,
        "ANTHROPIC_BASE_URL": server.url,
        "TERM": "xterm",
    }


def _sdi(*args: str, env: dict[str, str]) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "harness.cli.main", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return out.stdout


def _spawn(args: list[str], env: dict[str, str]) -> pexpect.spawn:
    return pexpect.spawn(
        sys.executable,
        ["-m", "harness.cli.main", "practice", *args],
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(60, 120),
    )


def test_a_short_session_to_feedback_is_a_scored_run(
    server: LoopbackServer, suite: Path, tmp_path: Path
) -> None:
    runs = tmp_path / "runs"
    env = _env(server)
    child = _spawn(
        [
            "--suite",
            str(suite),
            "--problem",
            "url-shortener",
            "--level",
            "mid",
            "--runs-dir",
            str(runs),
        ],
        env,
    )
    child.expect(r"Which of these problems")  # the loopback interviewer's opening
    child.expect(r"\[00:\d\d\] you> ")
    child.sendline("I'd start with the API: POST a long URL, get back a short code.")
    child.expect(r"\.\.\.> ")
    child.sendline("Reads dominate, so a cache sits in front of the database.")
    child.expect(r"\.\.\.> ")
    child.sendline("")  # an empty line sends the two-line answer
    child.expect(r"interviewer \[\d\d:\d\d\]")
    child.expect(r"you> ")
    child.sendline("/time")
    child.expect(r"Score: \d+/10")
    child.expect(r"saved as run (\S+)")
    run_id = child.match.group(1)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0

    assert run_id in _sdi("runs", "list", "--runs-dir", str(runs), env=env)
    run = load_run(run_id, runs)
    assert run.scores is not None and len(run.scores) == 1  # scored when saved
    (t,) = run.transcripts
    assert t.persona == "human" and t.problem == "url-shortener" and t.meta["level"] == "mid"
    assert run.manifest.personas_meta["human"]["level"] == "mid"
    assert not run.manifest.synthetic and run.manifest.interviewer.backend == "anthropic"
    said = [turn.text for turn in t.turns if turn.role == "candidate"]
    assert said[2] == (
        "I'd start with the API: POST a long URL, get back a short code.\n"
        "Reads dominate, so a cache sits in front of the database."
    )
    assert t.turns[-2].annotations[0].kind == "time_up"
    assert t.meta["end_reason"] == "feedback"
    assert run.scores[0].final_score is not None and 4 <= run.scores[0].final_score <= 8
    sent = server.messages_requests()
    assert len(sent) == 4  # opening, statement, the answer, the feedback
    assert sent[0].body is not None and "system" in sent[0].body
    wide = {**env, "COLUMNS": "200"}
    shown = " ".join(_sdi("practice", "--history", "--runs-dir", str(runs), env=wide).split())
    assert "url-shortener" in shown and "Last session's Needs Work: the cache stayed vague" in shown


def test_quit_keeps_what_was_said(server: LoopbackServer, suite: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    env = _env(server)
    child = _spawn(
        ["--suite", str(suite), "--problem", "rate-limiter", "--runs-dir", str(runs)], env
    )
    child.expect(r"you> ")
    child.sendline("A token bucket per client, kept in Redis.")
    child.expect(r"\.\.\.> ")
    child.sendline("")
    child.expect(r"you> ")
    child.sendline("/quit")
    child.expect(r"saved as run (\S+)")
    run_id = child.match.group(1)
    child.expect(pexpect.EOF)
    run = load_run(run_id, runs)
    (t,) = run.transcripts
    assert t.meta["end_reason"] == "quit"
    assert "A token bucket per client, kept in Redis." in [x.text for x in t.turns]
    assert run.scores is not None


def test_offline_the_stand_in_is_labelled_synthetic(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TERM": "xterm"}
    child = _spawn(["--problem", "job-queue", "--runs-dir", str(tmp_path / "runs")], env)
    child.expect("SYNTHETIC stand-in")
    child.expect(r"you> ")
    child.sendeof()
    child.expect(r"saved as run (\S+)")
    run = load_run(child.match.group(1), tmp_path / "runs")
    child.expect(pexpect.EOF)
    assert run.manifest.synthetic and run.transcripts[0].meta["synthetic"] is True
