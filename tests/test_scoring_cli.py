"""`sdi score`: jsonl in input order, tables, bad lines named and skipped, runs scored in place."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from harness.cli.main import app
from harness.contracts import RULE_IDS
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
