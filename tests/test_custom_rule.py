"""A rule defined only in a project's `rubrics/` (with its scorer in the project folder) is
scored, judged through the Messages API (a loopback server), compared, gated and reported;
runs scored with different rule sets are not compared."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from harness.cli.main import app
from harness.errors import InputError
from harness.project import BUILTIN_ROOT
from harness.scoring.registry import load_rules
from harness.scoring.score import score_transcript
from harness.stats.compare import compare_runs
from harness.store.rundata import load_run
from tests.loopback import LoopbackServer, Reply, message, running_loopback

runner = CliRunner()

RUBRIC = {
    "id": "monitoring",
    "prompt_rule": "Ask how the candidate would monitor the system in production.",
    "definition": {
        "passes": "some interviewer turn asks about monitoring, metrics or alerts",
        "fails": "no interviewer turn asks about monitoring",
        "na": "there is no interviewer turn",
    },
    "examples": {
        "passing": [{"text": "How would you know the redirect service is down?", "why": "asks"}],
        "failing": [{"text": "(an interview that never mentions monitoring)", "why": "absent"}],
    },
    "scorers": ["deterministic", "judge"],
    "scorer": "project_rules:check_monitoring",
    "judge_instructions": "Fail when no interviewer turn asks about monitoring or alerting.",
}
SCORER = """
from harness.contracts import RuleResult


def check_monitoring(view):
    asked = [i for i in view.interviewer if "monitor" in view.text(i).lower()]
    if not view.interviewer:
        return RuleResult(verdict="n/a")
    if asked:
        return RuleResult(verdict="pass", opportunities=1)
    first = view.interviewer[0]
    return RuleResult(
        verdict="fail", turns=[first], evidence=[view.text(first)[:30]], opportunities=1
    )
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "rubrics").mkdir()
    (tmp_path / "rubrics" / "monitoring.yaml").write_text(yaml.safe_dump(RUBRIC))
    (tmp_path / "project_rules.py").write_text(SCORER)
    prompts = tmp_path / "prompts" / "interviewer"
    prompts.mkdir(parents=True)
    v1 = (BUILTIN_ROOT / "prompts" / "interviewer" / "v1.md").read_text()
    (prompts / "v2.md").write_text(v1 + "\n7. Ask how they would monitor the system.\n")
    (tmp_path / "suites").mkdir()
    suite = yaml.safe_load((BUILTIN_ROOT / "suites" / "smoke.yaml").read_text())
    suite.update(prompts=["v1", "v2"], personas=["../candidates/url-*.yaml"], repeats=2)
    (tmp_path / "suites" / "two.yaml").write_text(yaml.safe_dump(suite))
    gates = yaml.safe_load((BUILTIN_ROOT / "gates.yaml").read_text())
    gates["floors"]["rule:monitoring"] = 0.0
    (tmp_path / "gates.yaml").write_text(yaml.safe_dump(gates))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def judge_reply(body: dict[str, Any]) -> Reply:
    """A judge that passes every rule it is asked about (n/a where the rule is not opened),
    and fails `monitoring` at the first interviewer turn, quoting it."""
    system = body["system"] if isinstance(body["system"], str) else body["system"][0]["text"]
    rules = re.findall(r"^## (\S+)$", system, re.M)
    user = body["messages"][-1]["content"]
    text = user if isinstance(user, str) else user[0]["text"]
    payload = re.search(r"<transcript-\w+>\n(.*)\n</transcript-\w+>", text, re.S)
    assert payload is not None
    turns = json.loads(payload.group(1))["turns"]
    kinds = {a["kind"] for t in turns for a in t.get("annotations", [])}
    opened = dict(re.findall(r"(\w+) \((\w+)\)", system.split("opens them:")[1].split(".")[0]))
    first = next(t for t in turns if t["role"] == "interviewer")
    answer: dict[str, Any] = {}
    for rule in rules:
        verdict = "n/a" if rule in opened and opened[rule] not in kinds else "pass"
        answer[rule] = {"verdict": verdict, "turns": [], "evidence": [], "reason": "r"}
    answer["monitoring"] = {
        "verdict": "fail",
        "turns": [first["index"]],
        "evidence": [first["text"][:20]],
        "reason": "never asks about monitoring",
    }
    return message(json.dumps({"rules": answer}))


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[LoopbackServer]:
    with running_loopback(monkeypatch) as server:
        server.responder = judge_reply
        yield server


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.stdout


def _last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_a_project_rule_is_judged_compared_gated_and_reported(
    project: Path, loopback: LoopbackServer
) -> None:
    assert "monitoring" in load_rules().ids
    run_dir = _last_line(_ok(["run", "suites/two.yaml", "-q", "--runs-dir", "runs"]))
    _ok(["score", run_dir, "--judge", "anthropic", "--runs-dir", "runs", "-q"])
    scores = [json.loads(line) for line in (Path(run_dir) / "scores.jsonl").open()]
    assert len(scores) == 12 and loopback.requests  # 2 prompts x 3 url personas x 2
    for record in scores:
        assert list(record["rules"])[-1] == "monitoring"
        assert record["rules"]["monitoring"]["verdict"] == "fail"
        assert record["scorers"]["monitoring"].startswith("anthropic:")
    compared = json.loads(_ok(["compare", run_dir, "--runs-dir", "runs", "-f", "json"]))
    metric_ids = {m["metric"] for c in compared["contrasts"] for m in c["metrics"]}
    assert "rule:monitoring" in metric_ids
    html = project / "report.html"
    _ok(["report", run_dir, "--runs-dir", "runs", "-o", str(html)])
    assert "monitoring" in html.read_text()

    # The gate runs the suite for each side and scores it with the project's rule set.
    gate_suite = yaml.safe_load((project / "suites" / "two.yaml").read_text())
    gate_suite.update(name="gate", prompts=["v1"])
    (project / "suites" / "gate.yaml").write_text(yaml.safe_dump(gate_suite))
    out = _ok(["gate", "--baseline", "v1", "--candidate", "v2", "--runs-dir", "runs", "-q"])
    assert "rule:monitoring" in out
    gate_json = json.loads(next((project / "reports" / "gate").glob("*.json")).read_text())
    assert "rule:monitoring" in json.dumps(gate_json)


def test_runs_scored_with_different_rule_sets_are_not_compared(project: Path) -> None:
    run_a = _last_line(_ok(["run", "suites/two.yaml", "-q", "--runs-dir", "runs"]))
    data = load_run(run_a, Path("runs"))
    with_rule = load_rules()
    (project / "rubrics" / "monitoring.yaml").unlink()
    builtin = load_rules()
    assert "monitoring" not in builtin.ids and builtin.sha256 != with_rule.sha256
    first = data.model_copy(
        update={"scores": [score_transcript(t, with_rule) for t in data.transcripts]}
    )
    second = data.model_copy(
        update={"scores": [score_transcript(t, builtin) for t in data.transcripts]}
    )
    with pytest.raises(InputError) as err:
        compare_runs([first, second], allow_drift=True)
    assert err.value.field == "rules_sha256"


def test_a_rubric_asking_for_a_missing_scorer_names_the_file(project: Path) -> None:
    broken = {**RUBRIC, "scorer": "project_rules:no_such_check"}
    (project / "rubrics" / "monitoring.yaml").write_text(yaml.safe_dump(broken))
    with pytest.raises(InputError) as err:
        load_rules()
    assert err.value.field == "scorer"
    assert str(err.value.path).endswith("monitoring.yaml")
    shutil.rmtree(project / "rubrics")


def test_a_scorer_from_an_installed_package_through_the_entry_point(
    project: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rubric without `scorer:` gets the `sdi.rules` entry point named by its id, as an
    installed plugin package provides it (here a dist-info folder on sys.path)."""
    site = tmp_path_factory.mktemp("site")
    (site / "sdi_monitoring_plugin.py").write_text(SCORER)
    info = site / "sdi_monitoring_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: sdi-monitoring-plugin\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(
        "[sdi.rules]\nmonitoring = sdi_monitoring_plugin:check_monitoring\n"
    )
    monkeypatch.syspath_prepend(str(site))
    rubric = {k: v for k, v in RUBRIC.items() if k != "scorer"}
    (project / "rubrics" / "monitoring.yaml").write_text(yaml.safe_dump(rubric))
    rule = load_rules().rules["monitoring"]
    assert rule.check is not None and rule.check.__module__ == "sdi_monitoring_plugin"
    data = load_run(
        _last_line(_ok(["run", "suites/two.yaml", "-q", "--runs-dir", "runs"])), Path("runs")
    )
    verdicts = {score_transcript(t).rules["monitoring"].verdict for t in data.transcripts}
    assert verdicts <= {"pass", "fail"} and verdicts
