"""`sdi score`: jsonl in input order, tables, bad lines named and skipped, runs scored in place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli.main import app
from harness.contracts import RULE_IDS
from tests.loopback import message, running_loopback
from tests.test_scoring_support import cand, interview, intv

runner = CliRunner()


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _good(interview_id: str) -> str:
    return interview(
        cand("I'd add a cache in front of the database.", "gloss:cache"),
        intv("What eviction policy would that cache use?"),
        interview_id=interview_id,
    ).to_json()


def test_jsonl_keeps_input_order_and_every_rule(tmp_path: Path) -> None:
    ids = ["b", "a", "c"]
    path = _write(tmp_path / "t.jsonl", [_good(i) for i in ids])
    result = runner.invoke(app, ["score", str(path)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["interview_id"] for r in records] == ids
    for r in records:
        assert r["schema"] == "sdi.scores/1"
        assert set(r["rules"]) == set(RULE_IDS)
        assert r["final_score"] == 7.0
        assert r["scorer_version"]
        assert r["rules"]["drill_down"]["verdict"] == "pass"


def test_malformed_line_is_named_and_skipped(tmp_path: Path) -> None:
    bad_role = json.loads(_good("x"))
    bad_role["turns"][1]["role"] = "moderator"
    path = _write(tmp_path / "t.jsonl", [_good("a"), "{not json", json.dumps(bad_role), _good("b")])
    result = runner.invoke(app, ["score", str(path)])
    assert result.exit_code == 3
    assert [json.loads(x)["interview_id"] for x in result.stdout.splitlines()] == ["a", "b"]
    errors = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert len(errors) == 2
    assert f"{path}: line 2: " in errors[0] and "not valid JSON" in errors[0]
    assert f"{path}: line 3: turns.1.role: " in errors[1]
    assert "Traceback" not in result.output


def test_missing_file_is_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["score", str(tmp_path / "nope.jsonl"), "--runs-dir", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    assert len(result.stderr.strip().splitlines()) == 1


def test_table_format(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.jsonl", [_good("a")])
    result = runner.invoke(app, ["score", str(path), "--format", "table"])
    assert result.exit_code == 0
    assert "interview" in result.stdout and "fail_rate" in result.stdout
    assert "a " in result.stdout


# Written by hand in the contract's format, one turn a line here (joined into one JSONL line).
HAND_WRITTEN = r"""{"schema": "sdi.transcript/1", "interview_id": "url-junior-03#2", "prompt_version": "v1", "persona": "url-junior-03", "problem": "url-shortener", "turns": [
 {"role": "candidate", "text": "I'd like to do a system design interview.", "elapsed_s": 0},
 {"role": "interviewer", "text": "Which of these problems would you like to tackle?\n\n1. Design URL shortener (easy)\n2. Design Twitter feed (medium)\n3. Design distributed rate limiter (medium-hard)\n4. Design distributed job queue (hard)\n5. Design real-time collaborative document editor (hard)", "elapsed_s": 15},
 {"role": "candidate", "text": "The URL shortener, please.", "elapsed_s": 30},
 {"role": "interviewer", "text": "Design a URL shortener like bit.ly. Where would you like to start?", "elapsed_s": 40},
 {"role": "candidate", "text": "We'd put a cache in front of the database.", "elapsed_s": 900, "annotations": [{"kind": "gloss", "topic": "cache"}]},
 {"role": "interviewer", "text": "How would you shard it? And what about replication?", "elapsed_s": 960},
 {"role": "candidate", "text": "Time is up, I think. Could I get feedback and a score?", "elapsed_s": 2410, "annotations": [{"kind": "time_up"}]},
 {"role": "interviewer", "text": "**Score: 6.5 / 10**\n\n**Strong:** a clean API with a redirect endpoint.\n\n**Needs work:** the cache was never sized or given an eviction policy.\n\n**Would have liked to hear:** how you shard the database.", "elapsed_s": 2420}
], "meta": {}}"""  # noqa: E501  (one JSON line, written by hand)


def test_hand_written_file_in_the_contract_format(tmp_path: Path) -> None:
    path = tmp_path / "hand.jsonl"
    path.write_text(HAND_WRITTEN.replace("\n", " ") + "\n", encoding="utf-8")
    result = runner.invoke(app, ["score", str(path), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["schema"] == "sdi.scores/1"
    assert record["interview_id"] == "url-junior-03#2"
    assert record["final_score"] == 6.5
    rules = record["rules"]
    assert list(rules) == list(RULE_IDS)
    assert rules["one_question"]["verdict"] == "fail"
    assert rules["one_question"]["turns"] == [5]
    assert "replication" in rules["one_question"]["evidence"][0]
    assert rules["drill_down"] == {**rules["drill_down"], "verdict": "fail", "turns": [5]}
    assert rules["pushback"]["verdict"] == "n/a" and rules["pushback"]["opportunities"] is None
    for rule in ("opening", "feedback_timing", "feedback_format", "score_justified", "in_role"):
        assert rules[rule]["verdict"] == "pass", rule


def test_help_documents_the_exit_codes() -> None:
    result = runner.invoke(app, ["score", "--help"], env={"COLUMNS": "200"})
    assert "3 some lines were malformed" in " ".join(result.stdout.split())


def _judged_file(tmp_path: Path) -> Path:
    t = interview(
        cand("I'll go with Cassandra rather than Postgres.", "decision:cassandra"),
        intv("Why Cassandra over Postgres at 40 writes a second?"),
        interview_id="judged",
    )
    return _write(tmp_path / "judged.jsonl", [t.to_json()])


def _judge_answer() -> str:
    def rule(verdict: str, turns: list[int], evidence: list[str]) -> dict[str, object]:
        return {"verdict": verdict, "turns": turns, "evidence": evidence, "reason": "because"}

    return json.dumps(
        {
            "rules": {
                "pushback": rule("fail", [5], ["Why Cassandra over Postgres"]),
                "drill_down": rule("n/a", [], []),
                "no_direct_correction": rule("n/a", [], []),
                "in_role": rule("pass", [], []),
                "score_justified": rule("pass", [], []),
            }
        }
    )


def test_judge_through_the_real_sdk_on_loopback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_loopback(monkeypatch) as server:
        server.enqueue(message(_judge_answer()))
        args = ["score", str(_judged_file(tmp_path)), "--judge", "anthropic", "-q"]
        result = runner.invoke(app, [*args, "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["rules"]["pushback"]["verdict"] == "fail"  # the judge's, not the scorer's
    assert record["scorers"]["pushback"].startswith("anthropic:")
    assert record["scorers"]["one_question"] == "deterministic"
    assert "judge_error" not in record


def test_judge_that_cannot_answer_keeps_deterministic_verdicts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_loopback(monkeypatch):  # no scripted reply: the server answers in prose
        args = ["score", str(_judged_file(tmp_path)), "--judge", "anthropic", "-q"]
        result = runner.invoke(app, [*args, "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["judge_error"]
    assert record["rules"]["pushback"]["verdict"] == "pass"
    assert "judge failed on 1 (judged): deterministic verdicts kept" in result.stderr


def test_missing_api_key_stops_before_anything_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    path = _write(tmp_path / "t.jsonl", ["{not json"])
    result = runner.invoke(app, ["score", str(path), "--judge", "anthropic"])
    assert result.exit_code == 2
    assert result.stderr.count("error:") == 1 and "ANTHROPIC_API_KEY" in result.stderr


def test_nothing_readable_is_exit_2(tmp_path: Path) -> None:
    path = _write(tmp_path / "t.jsonl", [f"not json {i}" for i in range(30)])
    result = runner.invoke(app, ["score", str(path)])
    assert result.exit_code == 2
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 22  # 20 named lines, "10 more", and the final error
    assert errors[-1].endswith("no transcript could be read (30 malformed lines)")


def test_table_names_the_judge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with running_loopback(monkeypatch) as server:
        server.enqueue(message(_judge_answer()))
        args = ["score", str(_judged_file(tmp_path)), "--judge", "anthropic", "-q", "-f", "table"]
        result = runner.invoke(app, [*args, "--runs-dir", str(tmp_path / "runs")])
    assert result.exit_code == 0, result.output
    assert "judged by anthropic:" in result.stdout
    assert "pushback, drill_down, no_direct_correction, score_justified, in_role" in result.stdout
