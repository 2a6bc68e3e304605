"""`sdi consistency`, `sdi compare` and `sdi plan` on real synthetic runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli.main import app
from harness.config.suites import load_suite
from harness.contracts import RULE_IDS
from harness.simulate.progress import QuietProgress
from harness.simulate.runner import run_suite
from harness.stats.compare import Comparison
from harness.stats.consistency import ConsistencyReport

REPO = Path(__file__).resolve().parent.parent
runner = CliRunner()


@pytest.fixture(scope="module")
def smoke_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """Two smoke runs of v1 that differ only in the suite seed."""
    runs = tmp_path_factory.mktemp("runs")
    loaded = load_suite(REPO / "suites" / "smoke.yaml")
    first = run_suite(loaded, runs, progress=QuietProgress())
    other = loaded.model_copy(update={"suite": loaded.suite.model_copy(update={"seed": 99})})
    second = run_suite(other, runs, progress=QuietProgress())
    return runs, first, second


def test_consistency_json_covers_every_persona_and_rule(
    smoke_runs: tuple[Path, Path, Path],
) -> None:
    runs, first, _ = smoke_runs
    result = runner.invoke(app, ["consistency", first.name, "--runs-dir", str(runs), "-f", "json"])
    assert result.exit_code == 0, result.output
    report = ConsistencyReport.model_validate_json(result.output)
    assert report.synthetic
    (version,) = report.versions
    assert len(version.personas) == 15
    assert [r.rule for r in version.rules] == list(RULE_IDS)
    assert version.agreement.icc2.estimate is not None
    assert "sdi regrade" in version.variance.note


def test_consistency_table_and_markdown(smoke_runs: tuple[Path, Path, Path]) -> None:
    runs, first, _ = smoke_runs
    table = runner.invoke(app, ["consistency", str(first), "--runs-dir", str(runs)])
    assert table.exit_code == 0
    for needle in ("SYNTHETIC", "ICC(A,1)", "Koo & Li", "Krippendorff", "Spearman", "pass^k"):
        assert needle in table.output
    md = runner.invoke(app, ["consistency", str(first), "--runs-dir", str(runs), "-f", "md"])
    assert md.output.startswith("## Consistency of run") and "| persona |" in md.output


def test_compare_two_runs_of_one_prompt(smoke_runs: tuple[Path, Path, Path]) -> None:
    runs, first, second = smoke_runs
    args = ["compare", str(first), str(second), "--runs-dir", str(runs), "-f", "json"]
    result = runner.invoke(app, [*args, "--n-boot", "300"])
    assert result.exit_code == 0, result.output
    comparison = Comparison.model_validate_json(result.output)
    (contrast,) = comparison.contrasts
    assert contrast.paired and contrast.personas == 15 and contrast.matched_interviews == 30
    assert [a.arm for a in comparison.arms] == [f"v1@{first.name}", f"v1@{second.name}"]
    assert {m.metric for m in contrast.metrics} >= {f"rule:{r}" for r in RULE_IDS}
    text = runner.invoke(app, ["compare", str(first), str(second), "--runs-dir", str(runs)])
    assert "difference [95%]" in text.output and "p(Holm)" in text.output
    assert "verdicts from studentized (bootstrap-t) cluster bootstrap" in text.output
    assert "one-sided at" in text.output and "test the harness, not the prompt" in text.output
    assert comparison.settings.tail == pytest.approx(0.05 / 16)  # Bonferroni, 16 directed


def test_compare_refuses_one_version_and_bad_margins(smoke_runs: tuple[Path, Path, Path]) -> None:
    runs, first, second = smoke_runs
    one = runner.invoke(app, ["compare", str(first), "--runs-dir", str(runs)])
    assert one.exit_code == 2 and "at least two prompt versions" in one.output
    bad = runner.invoke(
        app, ["compare", str(first), str(second), "--runs-dir", str(runs), "--margin", "rule:*"]
    )
    assert bad.exit_code == 2 and "--margin" in bad.output


def test_plan_from_a_rate_and_from_a_run(smoke_runs: tuple[Path, Path, Path]) -> None:
    runs, first, _ = smoke_runs
    rate = runner.invoke(app, ["plan", "--baseline-rate", "0.8", "--effect", "-0.2", "-f", "json"])
    assert rate.exit_code == 0, rate.output
    plan = json.loads(rate.output)
    assert plan["paired"]["repeats_per_persona"] >= 1 and plan["personas"] == 15
    from_run = runner.invoke(
        app,
        ["plan", str(first), "--effect", "0.1", "--metric", "turns:one_question",
         "--runs-dir", str(runs)],
    )  # fmt: skip
    assert from_run.exit_code == 0, from_run.output
    assert "turns:one_question" in from_run.output
    nothing = runner.invoke(app, ["plan", "--effect", "0.1"])
    assert nothing.exit_code == 2 and "--baseline-rate" in nothing.output
    unknown = runner.invoke(
        app,
        ["plan", str(first), "--effect", "0.1", "--metric", "score:icc2", "--runs-dir", str(runs)],
    )
    assert unknown.exit_code == 2 and "not plannable" in unknown.output
