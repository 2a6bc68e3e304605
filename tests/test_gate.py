"""The CI gate: config validation, gate decisions, writers, and `sdi gate` end to end."""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from harness.cli.main import app
from harness.config.suites import load_suite
from harness.errors import InputError
from harness.project import BUILTIN_ROOT
from harness.simulate.progress import QuietProgress
from harness.simulate.runner import run_suite
from harness.stats.compare import compare_runs
from harness.stats.gate import (
    GateConfig,
    evaluate_gates,
    gate_junit,
    load_gate_config,
    write_gate_outputs,
)
from tests.test_stats_tables import PERSONAS, Row, make_run

REPO = Path(__file__).resolve().parent.parent
V1 = BUILTIN_ROOT / "prompts" / "interviewer" / "v1.md"
runner = CliRunner()


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_repo_gates_yaml_loads() -> None:
    config = load_gate_config(BUILTIN_ROOT / "gates.yaml")
    margins = config.regression_margins()
    assert margins["rule:opening"] == margins["rule:in_role"]
    assert "turns:one_question" in margins and config.floors


def test_unknown_field_is_refused_naming_it(tmp_path: Path) -> None:
    path = write_config(tmp_path / "g.yaml", "regression: {'rule:*': 0.1}\nfloor: {}\n")
    with pytest.raises(InputError) as err:
        load_gate_config(path)
    assert err.value.field == "floor" and "unknown field" in str(err.value)
    assert str(path) in str(err.value)


def test_unknown_metric_and_negative_margin_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="matches no metric"):
        load_gate_config(write_config(tmp_path / "a.yaml", "floors: {'score:nope': 1}\n"))
    with pytest.raises(InputError, match="must be >= 0"):
        load_gate_config(write_config(tmp_path / "b.yaml", "regression: {'rule:*': -0.1}\n"))


def regression_runs(  # type: ignore[no-untyped-def]
    fails_by_persona: list[tuple[int, int]], repeats: int = 3, tail: float = 0.05 / 16
):
    """one_question per persona: (baseline fails, candidate fails) out of `repeats`; scores
    vary by persona so score metrics are measurable."""
    PERSONAS.update({f"g{i:02d}": {"level": "mid", "expected_band": [5, 7]} for i in range(40)})
    rows = []
    for i, (base_fails, cand_fails) in enumerate(fails_by_persona):
        for s in range(repeats):
            score = 4.0 + (i % 4) + 0.5 * (s % 2)
            for prompt, fails in (("v1", base_fails), ("v2", cand_fails)):
                rules = {"one_question": ("fail", 2, 10)} if s < fails else {}
                rows.append(Row(f"g{i:02d}", s, score, prompt=prompt, rules=rules))
    return compare_runs([make_run(rows)], n_boot=2000, tail=tail)


def gate_for(comparison, config: GateConfig, metric: str):  # type: ignore[no-untyped-def]
    report = evaluate_gates(comparison, config)
    return report, next(g for g in report.gates if g.metric == metric)


ONE_Q = GateConfig(regression={"rule:one_question": 0.1})


def test_a_loss_shown_beyond_the_margin_fails() -> None:
    # 16 personas: every one loses 2 of 3 passes, give or take one: about -67 points.
    data = [(0, 2 + (i % 3 == 0)) for i in range(16)]
    report, gate = gate_for(regression_runs(data), ONE_Q, "rule:one_question")
    assert gate.outcome == "fail" and gate.status == "fail" and not report.passed
    assert gate.interval is not None and gate.interval[1] < -0.1
    assert "loss beyond the margin shown" in gate.message
    assert "one-sided" in report.decided_by and "Bonferroni" in report.decided_by


def test_no_loss_beyond_the_margin_passes_even_when_significant() -> None:
    # A small loss everywhere (one fail in 12 repeats): -8 points, wholly inside the 10-pt margin.
    data = [(0, 1) for _ in range(16)]
    report, gate = gate_for(regression_runs(data, repeats=12), ONE_Q, "rule:one_question")
    assert gate.verdict == "regressed"  # the interval excludes 0...
    assert gate.outcome == "pass" and report.passed  # ...but not a loss beyond the margin
    assert gate.interval is not None and gate.interval[0] >= -0.1


def test_an_interval_straddling_the_margin_is_inconclusive() -> None:
    # Half the personas lose one of three passes: -17 points, too few personas to tell.
    data = [(0, i % 2) for i in range(6)]
    comparison = regression_runs(data)
    report, gate = gate_for(comparison, ONE_Q, "rule:one_question")
    assert gate.outcome == "inconclusive" and gate.status == "warn" and report.passed
    assert gate.interval is not None and gate.interval[0] < -0.1 <= gate.interval[1]
    strict = ONE_Q.model_copy(update={"inconclusive": "fail"})
    assert not evaluate_gates(comparison, strict).passed


def test_an_improvement_never_fails() -> None:
    data = [(2 + (i % 3 == 0), 0) for i in range(16)]
    for setting in ("warn", "fail"):
        config = ONE_Q.model_copy(update={"inconclusive": setting})
        report, gate = gate_for(regression_runs(data), config, "rule:one_question")
        assert gate.outcome == "pass" and report.passed
        assert gate.interval is not None and gate.interval[0] > 0
        assert gate.message.startswith("pass: improved")


def test_floors_decide_on_interval_bounds() -> None:
    comparison = regression_runs([(0, 0)] * 12)
    config = GateConfig(floors={"score:in_band": 0.3}, ceilings={"score:mae": 1.5})
    report = evaluate_gates(comparison, config)
    by = {g.metric: g for g in report.gates}
    # Scores 4 to 7.5 against a 5-7 band: in band in about half, so the floor's whole interval
    # clears 0.3 only if it is narrow; its bound, not the point estimate, decides.
    band = by["score:in_band"]
    assert band.interval is not None and band.value is not None
    assert band.interval[0] < band.value < band.interval[1]
    expected = (
        "pass" if band.interval[0] >= 0.3 else "fail" if band.interval[1] < 0.3 else "inconclusive"
    )
    assert band.outcome == expected
    tight = evaluate_gates(comparison, GateConfig(floors={"score:in_band": 0.99}))
    assert tight.gates[0].outcome == "fail"  # the whole interval is below 0.99
    point_clears = GateConfig(floors={"score:in_band": band.value - 0.01})
    assert evaluate_gates(comparison, point_clears).gates[0].outcome == "inconclusive"


def test_an_unmeasured_floor_fails_unless_configured() -> None:
    # Every persona's scores are constant within the persona: the ICC is undefined.
    PERSONAS.update({f"c{i}": {"level": "mid", "expected_band": [5, 7]} for i in range(6)})
    rows = [
        Row(f"c{i}", s, 6.0, prompt=prompt) for i in range(6) for s in range(3)
        for prompt in ("v1", "v2")
    ]  # fmt: skip
    comparison = compare_runs([make_run(rows)], n_boot=500)
    report = evaluate_gates(comparison, GateConfig(floors={"score:icc": 0.5}))
    (gate,) = report.gates
    assert gate.outcome == "not measured" and gate.status == "fail" and not report.passed
    lenient = GateConfig(floors={"score:icc": 0.5}, unmeasured="warn")
    assert evaluate_gates(comparison, lenient).passed


def test_junit_has_one_testcase_per_gate_and_parses() -> None:
    config = GateConfig(regression={"rule:*": 0.1}, floors={"score:icc": 0.5}, unmeasured="warn")
    report = evaluate_gates(regression_runs([(0, 2 + (i % 3 == 0)) for i in range(16)]), config)
    root = ET.fromstring(gate_junit(report))
    cases = root.findall("testcase")
    assert len(cases) == len(report.gates) == int(root.attrib["tests"])
    assert [c.attrib["name"] for c in cases] == [g.name for g in report.gates]
    failures = [c for c in cases if c.find("failure") is not None]
    assert len(failures) == int(root.attrib["failures"]) == 1
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert len(skipped) == int(root.attrib["skipped"])


def test_outputs_and_the_step_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    report = evaluate_gates(
        regression_runs([(0, 2 + (i % 3 == 0)) for i in range(16)]),
        GateConfig(regression={"rule:*": 0.1}),
    )
    paths = write_gate_outputs(report, tmp_path / "out")
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("earlier step\n")
    assert "Prompt gate FAILED" in text and "rule:one_question" in text
    assert paths.markdown.read_text(encoding="utf-8") in text
    data = json.loads(paths.json_path.read_text(encoding="utf-8"))
    assert data["schema"] == "sdi.gate/1" and data["passed"] is False
    ET.parse(paths.junit)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    assert write_gate_outputs(report, tmp_path / "again").step_summary is None


# --- `sdi gate` end to end on the synthetic backend, default settings -----------------------


@pytest.fixture
def prompts(tmp_path: Path) -> Path:
    folder = tmp_path / "prompts"
    folder.mkdir()
    shutil.copy(V1, folder / "v1-copy.md")
    text = V1.read_text(encoding="utf-8")
    cut = re.sub(r"^2\. .*\n", "", text, count=1, flags=re.MULTILINE)
    assert cut != text and "ONE question" not in cut
    (folder / "v1-no-rule-2.md").write_text(cut, encoding="utf-8")
    return folder


def gate_args(tmp_path: Path, candidate: Path) -> list[str]:
    return [
        "gate",
        "--baseline", "v1",
        "--candidate", str(candidate),
        "--config", str(BUILTIN_ROOT / "gates.yaml"),
        "--suite", str(BUILTIN_ROOT / "suites" / "gate.yaml"),
        "--runs-dir", str(tmp_path / "runs"),
        "--out", str(tmp_path / "out"),
        "--quiet",
    ]  # fmt: skip


def test_sdi_gate_fails_v1_without_rule_2(tmp_path: Path, prompts: Path) -> None:
    result = runner.invoke(app, gate_args(tmp_path, prompts / "v1-no-rule-2.md"))
    assert result.exit_code == 1, result.output
    assert "FAIL  rule:one_question" in result.output
    assert "gate FAILED [SYNTHETIC backend]" in result.output
    # Every output says which interval and level decided, how far the repeats went and why,
    # and what a verdict on the stand-in can tell.
    assert "decided by: studentized (bootstrap-t) cluster bootstrap" in result.output
    assert "one-sided at" in result.output and "Bonferroni" in result.output
    assert "interviews baseline 45, candidate 45; stopped:" in result.output
    assert "test the harness, not the prompt" in result.output
    markdown = (tmp_path / "out" / "gate.md").read_text(encoding="utf-8")
    assert "Decided by: studentized" in markdown and "test the harness" in markdown
    data = json.loads((tmp_path / "out" / "gate.json").read_text(encoding="utf-8"))
    assert "one-sided" in data["decided_by"]
    assert data["stopping"]["reason"] in {"decided", "cap"}
    assert data["stopping"]["interviews"]["candidate"] >= 45
    root = ET.parse(tmp_path / "out" / "gate.junit.xml").getroot()
    assert int(root.attrib["failures"]) >= 1


def test_sdi_gate_passes_an_unchanged_copy(tmp_path: Path, prompts: Path) -> None:
    result = runner.invoke(app, gate_args(tmp_path, prompts / "v1-copy.md"))
    assert result.exit_code == 0, result.output
    assert "gate passed" in result.output
    report = json.loads((tmp_path / "out" / "gate.json").read_text(encoding="utf-8"))
    assert report["passed"] is True
    assert report["candidate"]["prompt_sha256"] == report["baseline"]["prompt_sha256"]
    # A side can also be a finished run: the baseline run just made, by id.
    args = gate_args(tmp_path, prompts / "v1-copy.md")
    args[args.index("--baseline") + 1] = report["baseline"]["run_id"]
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output


def test_compare_until_decided_runs_stages_and_says_why_it_stopped(
    tmp_path: Path, prompts: Path
) -> None:
    config = write_config(
        tmp_path / "g.yaml", "regression: {'rule:*': 0.1}\nrepeats: {stages: [1, 2]}\n"
    )
    suite = tmp_path / "one.yaml"
    suite.write_text(
        yaml.safe_dump(
            {
                "name": "one",
                "prompts": ["v1"],
                "prompts_dir": str(V1.parent),
                "personas": [str(REPO / "candidates" / "url-mid-solid.yaml"),
                             str(REPO / "candidates" / "queue-junior-wrongclaims.yaml"),
                             str(REPO / "candidates" / "feed-mid-fanout.yaml")],
                "repeats": 1,
            }
        ),
        encoding="utf-8",
    )  # fmt: skip
    args = [
        "compare", str(V1), str(prompts / "v1-no-rule-2.md"), "--until-decided",
        "--suite", str(suite), "--config", str(config), "--runs-dir", str(tmp_path / "runs"),
    ]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Sequential repeats" in result.output and "stopped:" in result.output
    assert "one-sided at" in result.output and "test the harness, not the prompt" in result.output


def test_a_run_with_two_prompt_versions_is_not_one_side(tmp_path: Path, prompts: Path) -> None:
    suite = tmp_path / "two.yaml"
    suite.write_text(
        yaml.safe_dump(
            {
                "name": "two",
                "prompts": [str(V1), str(prompts / "v1-copy.md")],
                "personas": [str(BUILTIN_ROOT / "candidates" / "url-mid-solid.yaml")],
                "repeats": 1,
            }
        ),
        encoding="utf-8",
    )
    run_dir = run_suite(load_suite(suite), tmp_path / "runs", progress=QuietProgress())
    args = gate_args(tmp_path, prompts / "v1-copy.md")
    args[args.index("--baseline") + 1] = str(run_dir)
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert "--baseline: run has 2 prompt versions (v1, v1-copy)" in result.output


def test_sdi_gate_bad_input_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, gate_args(tmp_path, tmp_path / "missing.md"))
    assert result.exit_code == 2
    assert "--candidate" in result.output and "neither a run" in result.output
    assert not (tmp_path / "out").exists()
    bad = write_config(tmp_path / "g.yaml", "regresion: {}\n")
    args = gate_args(tmp_path, tmp_path / "missing.md")
    args[args.index("--config") + 1] = str(bad)
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "regresion: unknown field" in result.output
