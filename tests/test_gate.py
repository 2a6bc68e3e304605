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


def regression_runs(candidate_fails: int, personas: int = 12):  # type: ignore[no-untyped-def]
    """v1 passes one_question everywhere; v2 fails it in `candidate_fails` of 3 repeats."""
    PERSONAS.update(
        {f"g{i:02d}": {"level": "mid", "expected_band": [5, 7]} for i in range(personas)}
    )
    rows = []
    for i in range(personas):
        for s in range(3):
            rows.append(Row(f"g{i:02d}", s, 6.0, prompt="v1"))
            rules = {"one_question": ("fail", 2, 10)} if s < candidate_fails else {}
            rows.append(Row(f"g{i:02d}", s, 6.0, prompt="v2", rules=rules))
    return compare_runs([make_run(rows)], n_boot=300)


def test_a_regression_beyond_the_margin_fails_its_gate() -> None:
    config = GateConfig(regression={"rule:*": 0.1}, floors={"score:in_band": 0.5})
    report = evaluate_gates(regression_runs(candidate_fails=2), config)
    assert not report.passed
    failed = {g.metric for g in report.failed}
    assert failed == {"rule:one_question"}
    assert len(report.gates) == 10 + 1
    assert report.baseline.arm == "v1" and report.candidate.arm == "v2"


def test_a_significant_loss_within_the_margin_passes() -> None:
    # 1 of 3 fails everywhere: -33 points, significant; a 0.5 margin covers it.
    config = GateConfig(regression={"rule:one_question": 0.5})
    report = evaluate_gates(regression_runs(candidate_fails=1), config)
    (gate,) = report.gates
    assert gate.verdict == "regressed" and gate.status == "pass"
    assert "rules out a loss beyond the margin" in gate.message


def test_floors_and_ceilings() -> None:
    comparison = regression_runs(candidate_fails=0)
    config = GateConfig(
        floors={"score:in_band": 1.0, "score:icc2": 0.5}, ceilings={"score:mae": 0.0}
    )
    report = evaluate_gates(comparison, config)
    status = {g.name: g.status for g in report.gates}
    assert status["score:in_band >= 1"] == "pass"
    assert status["score:mae <= 0"] == "pass"
    # Every score is 6: the ICC is undefined, so its floor is skipped, not passed or failed.
    assert status["score:icc2 >= 0.5"] == "skip"
    strict = evaluate_gates(comparison, GateConfig(ceilings={"score:mean": 5.0}))
    assert not strict.passed and "must be <= 5" in strict.gates[0].message


def test_inconclusive_warns_or_fails_as_configured() -> None:
    comparison = regression_runs(candidate_fails=1, personas=4)  # 4 personas: p >= 2/16
    warn = evaluate_gates(comparison, GateConfig(regression={"rule:one_question": 0.1}))
    assert warn.passed and warn.gates[0].status == "warn"
    assert "inconclusive" in warn.gates[0].message
    strict = GateConfig(regression={"rule:one_question": 0.1}, inconclusive="fail")
    assert not evaluate_gates(comparison, strict).passed


def test_junit_has_one_testcase_per_gate_and_parses() -> None:
    config = GateConfig(regression={"rule:*": 0.1}, floors={"score:icc2": 0.5})
    report = evaluate_gates(regression_runs(candidate_fails=2), config)
    root = ET.fromstring(gate_junit(report))
    cases = root.findall("testcase")
    assert len(cases) == len(report.gates) == int(root.attrib["tests"])
    assert [c.attrib["name"] for c in cases] == [g.name for g in report.gates]
    failures = [c for c in cases if c.find("failure") is not None]
    assert len(failures) == int(root.attrib["failures"]) == 1
    assert root.attrib["skipped"] == "1"  # the ICC of constant scores


def test_outputs_and_the_step_summary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    report = evaluate_gates(
        regression_runs(candidate_fails=2), GateConfig(regression={"rule:*": 0.1})
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
    assert "FAIL  turns:one_question" in result.output
    assert "gate FAILED [SYNTHETIC backend]" in result.output
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
