"""Validation against labelled cases: precision, recall and F1 with "fail" as the positive
class, turn and final-score agreement, the judge's agreement, and `sdi validate-scorers`."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import yaml
from typer.testing import CliRunner

from harness.cli.main import app
from harness.contracts import RULE_IDS, RuleResult
from harness.scoring.golden import GoldenCase, GoldenLabels
from harness.scoring.judge import JUDGED_RULES
from harness.scoring.score import score_transcript
from harness.scoring.validate import compare, render, rule_agreement, validate_golden
from tests.test_scoring_score import FakeJudge
from tests.test_scoring_support import cand, interview, intv


def test_rule_agreement_counts() -> None:
    labels = ["fail", "fail", "pass", "n/a", "fail", "pass"]
    found = ["fail", "pass", "fail", "n/a", "fail", "pass"]
    a = rule_agreement("x", labels, found)
    assert (a.tp, a.fp, a.fn) == (2, 1, 1)
    assert a.precision == 2 / 3 and a.recall == 2 / 3
    assert math.isclose(a.f1, 2 / 3)
    assert a.verdict_agreement == 4 / 6


def test_rule_agreement_without_any_fail_is_undefined() -> None:
    a = rule_agreement("x", ["pass", "n/a"], ["pass", "n/a"])
    assert math.isnan(a.f1) and a.verdict_agreement == 1.0


def _case(case_id: str, reply: str, label: str, turns: list[int]) -> GoldenCase:
    t = interview(cand("We'd add a cache.", "gloss:cache"), intv(reply), interview_id=case_id)
    rules = {rule: score_transcript(t).rules[rule] for rule in RULE_IDS}
    rules["drill_down"] = RuleResult(verdict=label, turns=turns)  # type: ignore[arg-type]
    return GoldenCase(
        transcript=t,
        labels=GoldenLabels(final_score=7.0, rules=rules),
        notes="test case",
    )


def _cases() -> list[GoldenCase]:
    return [
        _case("drilled", "What's the TTL?", "pass", []),
        _case("missed", "What's next?", "fail", [5]),
        _case("mislabelled-turn", "What's next?", "fail", [3]),
        _case("disputed", "What's the hit rate?", "fail", [5]),
    ]


def test_compare_reports_misses_and_turns() -> None:
    cases = _cases()
    result = compare(cases, [score_transcript(c.transcript) for c in cases])
    drill = next(a for a in result.rules if a.rule == "drill_down")
    assert (drill.tp, drill.fp, drill.fn) == (2, 0, 1)
    assert (drill.turns_agree, drill.turns_compared) == (1, 2)
    missed = {(m.case, m.rule) for m in result.misses}
    assert missed == {("mislabelled-turn", "drill_down"), ("disputed", "drill_down")}
    assert result.final_score.exact == 4


def test_final_score_agreement() -> None:
    cases = _cases()[:2]
    records = [score_transcript(c.transcript) for c in cases]
    records[1] = records[1].model_copy(update={"final_score": 5.0})
    s = compare(cases, records).final_score
    assert (s.exact, s.mean_abs_error) == (1, 1.0)
    assert s.mismatches == [("missed", 7.0, 5.0)]


def _write_cases(folder: Path) -> Path:
    folder.mkdir()
    for case in _cases():
        data = case.model_dump(mode="json", by_alias=True, exclude_none=True)
        (folder / f"{case.transcript.interview_id}.yaml").write_text(yaml.safe_dump(data))
    return folder


def test_validate_golden_with_a_judge(tmp_path: Path) -> None:
    folder = _write_cases(tmp_path / "cases")
    judge = FakeJudge(unreadable={"drilled"})
    cases, deterministic, judged = asyncio.run(validate_golden(folder, judge=judge))
    assert len(cases) == 4 and judged is not None
    assert [a.rule for a in judged.rules] == sorted(JUDGED_RULES)
    assert judged.judge_errors == ["drilled"]
    drill = next(a for a in judged.rules if a.rule == "drill_down")
    assert drill.cases == 3 and drill.found_fail == 3
    text = render(folder, deterministic, judged, misses=True)
    assert "judge: fake:judge" in text and "judge failed on 1 case(s)" in text


def test_cli_prints_table_and_positive_class(tmp_path: Path) -> None:
    folder = _write_cases(tmp_path / "cases")
    result = CliRunner().invoke(app, ["validate-scorers", "--golden", str(folder)])
    assert result.exit_code == 0, result.output
    assert 'positive class = "fail"' in result.stdout
    assert "drill_down" in result.stdout and "F1" in result.stdout
    assert "disputed  drill_down  fail@[5] -> pass" in result.stdout


def test_cli_bad_golden_folder_is_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "none"
    empty.mkdir()
    result = CliRunner().invoke(app, ["validate-scorers", "--golden", str(empty)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    (empty / "broken.yaml").write_text("transcript: [unclosed\n")
    result = CliRunner().invoke(app, ["validate-scorers", "--golden", str(empty)])
    assert result.exit_code == 2 and "broken.yaml" in result.stderr
