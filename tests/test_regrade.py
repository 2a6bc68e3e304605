"""`sdi regrade`: K re-asked feedbacks per fixed transcript; resumable; a changed prompt refused."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli.main import app
from harness.config.suites import load_suite
from harness.contracts import load_transcripts
from harness.simulate.interview import TIME_UP_TEXT
from harness.simulate.progress import QuietProgress
from harness.simulate.regrade import cut_at_time_up, regrade_run, regrade_sample_index
from harness.simulate.runner import run_suite
from harness.store.rundata import REGRADES, RegradeRecord, load_run
from harness.store.runs import TRANSCRIPTS
from tests.conftest import SCRIPTED_PERSONA, write_project
from tests.loopback import LoopbackServer

K = 3


@pytest.fixture
def synthetic_run(tmp_path: Path) -> tuple[Path, Path]:
    """A finished synthetic run of two personas x 2 repeats; returns (runs dir, run folder)."""
    suite = write_project(tmp_path / "project", repeats=2)
    runs = tmp_path / "runs"
    return runs, run_suite(load_suite(suite), runs, progress=QuietProgress())


def _records(run_dir: Path) -> list[RegradeRecord]:
    return load_run(run_dir).regrades


def test_k_records_per_interview_with_distinct_samples(synthetic_run: tuple[Path, Path]) -> None:
    runs, run_dir = synthetic_run
    transcripts = load_transcripts(run_dir / TRANSCRIPTS)
    summary = regrade_run(run_dir, runs, samples=K, progress=QuietProgress())

    records = _records(run_dir)
    by_interview: dict[str, list[RegradeRecord]] = defaultdict(list)
    for r in records:
        by_interview[r.interview_id].append(r)
    assert set(by_interview) == {t.interview_id for t in transcripts}
    assert all(
        sorted(r.regrade_index for r in rs) == list(range(K)) for rs in by_interview.values()
    )
    assert summary.written == len(records) == K * len(transcripts)
    assert summary.model_calls == len(records) and summary.skipped_no_time_up == 0
    # The synthetic feedback carries seeded noise: samples of one transcript differ somewhere.
    assert any(len({r.text for r in rs}) > 1 for rs in by_interview.values())
    for r in records:
        assert r.meta["synthetic"] is True
        original = next(t for t in transcripts if t.interview_id == r.interview_id)
        expected = regrade_sample_index(original.meta["sample_index"], r.regrade_index)
        assert r.meta["sample_index"] == expected
        assert r.meta["usage"]["output_tokens"] > 0
        assert r.final_score is not None and 0 <= r.final_score <= 10
    transcript = next(t for t in transcripts if t.interview_id == records[0].interview_id)
    cut = cut_at_time_up(transcript.turns)
    assert cut is not None and records[0].meta["cut_at_turn"] == len(cut) - 1
    assert cut[-1].text == TIME_UP_TEXT


def test_resume_adds_nothing_and_more_samples_add_only_the_new_ones(
    synthetic_run: tuple[Path, Path],
) -> None:
    runs, run_dir = synthetic_run
    regrade_run(run_dir, runs, samples=K, progress=QuietProgress())
    before = (run_dir / REGRADES).read_bytes()

    again = regrade_run(run_dir, runs, samples=K, progress=QuietProgress())
    assert (run_dir / REGRADES).read_bytes() == before
    assert again.written == 0 and again.model_calls == 0 and again.already_present > 0

    more = regrade_run(run_dir, runs, samples=K + 1, progress=QuietProgress())
    assert more.written == again.already_present // K
    keys = [(r.interview_id, r.regrade_index) for r in _records(run_dir)]
    assert len(keys) == len(set(keys))


def test_a_torn_last_line_is_dropped_before_appending(synthetic_run: tuple[Path, Path]) -> None:
    runs, run_dir = synthetic_run
    regrade_run(run_dir, runs, samples=1, progress=QuietProgress())
    path = run_dir / REGRADES
    whole = path.read_text().splitlines(keepends=True)
    path.write_text("".join(whole[:-1]) + whole[-1][:40])  # killed in the middle of a line

    summary = regrade_run(run_dir, runs, samples=1, progress=QuietProgress())
    assert summary.written == 1
    lines = path.read_text().splitlines()
    assert len(lines) == len(whole)
    assert all(json.loads(line)["schema"] == "sdi.regrade/1" for line in lines)


def test_transcript_without_time_up_is_skipped_and_counted(
    synthetic_run: tuple[Path, Path],
) -> None:
    runs, run_dir = synthetic_run
    path = run_dir / TRANSCRIPTS
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    for turn in rows[0]["turns"]:
        turn["annotations"] = [a for a in turn.get("annotations", []) if a["kind"] != "time_up"]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))

    summary = regrade_run(run_dir, runs, samples=2, progress=QuietProgress())
    assert summary.skipped_no_time_up == 1
    assert rows[0]["interview_id"] not in {r.interview_id for r in _records(run_dir)}
    assert summary.written == 2 * (len(rows) - 1)


def test_cli_prints_summary_then_path_and_refuses_a_changed_prompt(
    synthetic_run: tuple[Path, Path],
) -> None:
    runs, run_dir = synthetic_run
    cli = CliRunner()
    args = ["regrade", run_dir.name, "--samples", "2", "--runs-dir", str(runs), "-q"]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    out = result.stdout.strip().splitlines()
    assert "SYNTHETIC" in out[0]
    assert out[-1] == str(run_dir / REGRADES)

    prompt = Path(load_run(run_dir).manifest.prompts[0].path)
    prompt.write_text(prompt.read_text() + "\nAlways give 10/10.\n")
    before = (run_dir / REGRADES).read_bytes()
    refused = cli.invoke(app, [*args[:3], "3", *args[4:]])
    assert refused.exit_code == 2
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "sha256" in lines[0]
    assert "Traceback" not in refused.stderr
    assert (run_dir / REGRADES).read_bytes() == before


def test_unknown_run_is_bad_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["regrade", "nope", "--runs-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "no run 'nope'" in result.stderr


def test_regrade_on_anthropic_goes_through_the_sdk_and_the_cache(
    loopback: LoopbackServer, tmp_path: Path
) -> None:
    suite = write_project(
        tmp_path / "project",
        repeats=1,
        personas=[SCRIPTED_PERSONA],
        extra_suite={
            "interviewer": {"backend": "anthropic", "model": "claude-sonnet-4-6"},
            "candidate": {"backend": "anthropic", "model": "claude-haiku-4-5"},
        },
    )
    runs = tmp_path / "runs"
    run_dir = run_suite(load_suite(suite), runs, progress=QuietProgress())
    interview_requests = len(loopback.messages_requests())

    summary = regrade_run(run_dir, runs, samples=K, progress=QuietProgress())
    sent = loopback.messages_requests()[interview_requests:]
    assert len(sent) == K == summary.model_calls
    for request in sent:
        assert request.body is not None
        assert request.body["messages"][-1] == {"role": "user", "content": TIME_UP_TEXT}
    records = _records(run_dir)
    assert all(r.final_score is not None and not r.meta["synthetic"] for r in records)
    assert all(r.meta["usage"]["cache_read_input_tokens"] > 0 for r in records)

    # Same samples again from a fresh records file: answered by the response cache.
    (run_dir / REGRADES).unlink()
    again = regrade_run(run_dir, runs, samples=K, progress=QuietProgress())
    assert again.written == K and again.model_calls == 0 and again.cache_hits == K
    assert len(loopback.messages_requests()) == interview_requests + K
