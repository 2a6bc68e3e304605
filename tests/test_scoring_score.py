"""score_transcripts with a judge (a fake one), and scores kept with their run."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli.main import app
from harness.config.suites import load_suite
from harness.contracts import RULE_IDS, RuleResult, Transcript
from harness.scoring import SCORER_VERSION
from harness.scoring.judge import JUDGED_RULES, JudgeOutputError
from harness.scoring.runs import score_run, scored_run
from harness.scoring.score import score_transcript, score_transcripts
from harness.simulate.runner import run_suite
from harness.store.rundata import load_run
from harness.store.runs import SCORES
from tests.test_scoring_support import cand, interview, intv


class FakeJudge:
    """Says every judged rule fails at turn 1, except that it cannot answer for some ids."""

    name = "fake:judge"

    def __init__(self, unreadable: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.unreadable = unreadable
        self.closed = False
        self.calls = 0

    async def judge(
        self, transcript: Transcript, deterministic: object = None
    ) -> dict[str, RuleResult]:
        self.calls += 1
        await asyncio.sleep(random.random() / 200)  # finish out of order
        if transcript.interview_id in self.unreadable:
            raise JudgeOutputError("not JSON")
        return {
            rule: RuleResult(verdict="fail", turns=[1], evidence=["quote"]) for rule in JUDGED_RULES
        }

    async def aclose(self) -> None:
        self.closed = True


def _many(n: int) -> list[Transcript]:
    return [
        interview(
            cand("We'd add a cache.", "gloss:cache"), intv("What's the TTL?"), interview_id=f"i{k}"
        )
        for k in range(n)
    ]


def test_deterministic_record_fields() -> None:
    record = score_transcript(_many(1)[0])
    assert record.scorer_version == SCORER_VERSION  # type: ignore[attr-defined]
    assert record.prompt_version == "v1"  # type: ignore[attr-defined]
    assert record.persona == "human"  # type: ignore[attr-defined]
    assert record.scorers == dict.fromkeys(RULE_IDS, "deterministic")  # type: ignore[attr-defined]


def test_score_transcripts_keeps_order_without_judge() -> None:
    transcripts = _many(5)
    records = asyncio.run(score_transcripts(transcripts))
    assert [r.interview_id for r in records] == [t.interview_id for t in transcripts]


def test_judge_replaces_judged_rules_in_input_order() -> None:
    transcripts = _many(12)
    judge = FakeJudge()
    records = asyncio.run(score_transcripts(transcripts, judge=judge, concurrency=4))
    assert judge.calls == 12
    assert [r.interview_id for r in records] == [t.interview_id for t in transcripts]
    for record in records:
        for rule in RULE_IDS:
            judged = rule in JUDGED_RULES
            assert record.scorers[rule] == ("fake:judge" if judged else "deterministic")  # type: ignore[attr-defined]
            assert (record.rules[rule].turns == [1]) is judged
        assert record.final_score == 7.0
        assert record.rules["in_role"].opportunities == 4  # the deterministic count, kept
        assert record.rules["drill_down"].opportunities == 1


def test_judge_failure_keeps_deterministic_verdicts() -> None:
    transcripts = _many(3)
    records = asyncio.run(score_transcripts(transcripts, judge=FakeJudge({"i1"})))
    failed = records[1]
    assert failed.judge_error == "not JSON"  # type: ignore[attr-defined]
    assert failed.rules == score_transcript(transcripts[1]).rules
    assert set(failed.scorers.values()) == {"deterministic"}  # type: ignore[attr-defined]
    assert not getattr(records[0], "judge_error", None)


class CountingProgress:
    def __init__(self) -> None:
        self.events: list[str] = []

    def start(self, total: int, already_done: int, label: str) -> None:
        self.events.append(f"start {total}")

    def advance(self, interview_id: str, note: str) -> None:
        self.events.append(note)

    def stop(self) -> None:
        self.events.append("stop")


def test_progress_reports_each_judged_transcript() -> None:
    progress = CountingProgress()
    asyncio.run(score_transcripts(_many(3), judge=FakeJudge({"i2"}), progress=progress))
    assert progress.events[0] == "start 3" and progress.events[-1] == "stop"
    assert sorted(progress.events[1:-1]) == sorted(
        ["judged", "judged", "judge failed: deterministic verdicts kept"]
    )


# --- runs ---------------------------------------------------------------------------------


@pytest.fixture
def run_dir(suite_path: Path, tmp_path: Path) -> Path:
    from harness.simulate.progress import QuietProgress

    return run_suite(load_suite(suite_path), tmp_path / "runs", progress=QuietProgress())


def test_scored_run_scores_once_and_reuses(run_dir: Path) -> None:
    runs_dir = run_dir.parent
    run = scored_run(run_dir.name, runs_dir)
    assert run.scores is not None
    assert [s.interview_id for s in run.scores] == [t.interview_id for t in run.transcripts]
    stored = (run_dir / SCORES).read_text()
    assert len(stored.splitlines()) == len(run.transcripts)
    stamp = (run_dir / SCORES).stat().st_mtime_ns
    again = scored_run(run_dir.name, runs_dir)
    assert (run_dir / SCORES).stat().st_mtime_ns == stamp
    assert again.scores == load_run(run_dir).scores


def test_scored_run_rescores_stale_version(run_dir: Path) -> None:
    scored_run(run_dir)
    lines = [json.loads(x) for x in (run_dir / SCORES).read_text().splitlines()]
    for line in lines:
        line["scorer_version"] = "0"
    (run_dir / SCORES).write_text("".join(json.dumps(x) + "\n" for x in lines))
    run = scored_run(run_dir)
    assert run.scores is not None
    assert {s.scorer_version for s in run.scores} == {SCORER_VERSION}  # type: ignore[attr-defined]
    assert {s.scorer_version for s in load_run(run_dir).scores or []} == {SCORER_VERSION}  # type: ignore[attr-defined]


def test_score_run_with_judge_saves_judged_scores(run_dir: Path) -> None:
    records = score_run(load_run(run_dir), judge=FakeJudge())
    saved = load_run(run_dir).scores
    assert saved == records
    assert all(s.scorers["pushback"] == "fake:judge" for s in saved or [])  # type: ignore[attr-defined]


def test_cli_scores_a_run_and_saves_it(run_dir: Path) -> None:
    result = CliRunner().invoke(app, ["score", run_dir.name, "--runs-dir", str(run_dir.parent)])
    assert result.exit_code == 0, result.output
    printed = [json.loads(x) for x in result.stdout.splitlines()]
    saved = [json.loads(x) for x in (run_dir / SCORES).read_text().splitlines()]
    assert printed == saved
    assert "saved" in result.stderr


def test_cli_unknown_run_is_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["score", "no-such-run", "--runs-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: no-such-run: ")


def test_score_many_in_processes_matches_one_process() -> None:
    from harness.scoring.score import score_many

    transcripts = _many(40)
    one = score_many(transcripts, workers=1)
    pooled = score_many(transcripts, workers=2, min_for_pool=1)
    assert [r.to_json() for r in pooled] == [r.to_json() for r in one]


def test_rule_counts_and_compact_verdicts() -> None:
    from harness.scoring.tables import compact, rule_counts

    records = [
        score_transcript(interview(cand("Cache.", "gloss:cache"), intv(reply), interview_id=k))
        for k, reply in (("a", "What's the TTL?"), ("b", "What's next?"), ("c", "Next? And?"))
    ]
    counts = rule_counts(records)
    assert counts.loc["drill_down", "pass"] == 1 and counts.loc["drill_down", "fail"] == 2
    assert counts.loc["drill_down", "fail_rate"] == "67%"
    assert counts.loc["pushback", "n/a"] == 3 and counts.loc["pushback", "fail_rate"] == "-"
    assert compact(records[2].rules["one_question"]) == "FAIL@5"
    long = RuleResult(verdict="fail", turns=[1, 3, 5, 7, 9], evidence=list("abcde"))
    assert compact(long) == "FAIL@1,3,5+2"
