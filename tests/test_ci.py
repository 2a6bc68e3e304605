"""`sdi ci` on temporary git repositories: edits, additions, renames, deletions, names with
spaces, a pull request that also loosens the suite and gates (the base ones are used), and a
new prompt whose default baseline is missing."""

from __future__ import annotations

import json
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from harness.cli.main import app
from harness.project import BUILTIN_ROOT

runner = CliRunner()
V1 = (BUILTIN_ROOT / "prompts/interviewer/v1.md").read_text()
# Dropping rule 2 (one question at a time) fails the built-in gate on the synthetic backend.
V1_NO_RULE_2 = "\n".join(line for line in V1.splitlines() if not line.startswith("2."))
PROMPTS = "prompts/interviewer"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, check=True, capture_output=True, text=True
    ).stdout


def write(repo: Path, rel: str, text: str) -> None:
    path = repo / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", message)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A prompt repository: v1 and v3 on main, the built-in gate suite (renamed gate-base) and
    gates; the test continues on branch `pr`."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")
    write(root, f"{PROMPTS}/v1.md", V1)
    write(root, f"{PROMPTS}/v3.md", V1 + "\n7. Keep a friendly tone.\n")
    suite = yaml.safe_load((BUILTIN_ROOT / "suites/gate.yaml").read_text())
    write(root, "suites/gate.yaml", yaml.safe_dump({**suite, "name": "gate-base", "repeats": 2}))
    write(root, "gates.yaml", (BUILTIN_ROOT / "gates.yaml").read_text())
    commit(root, "base")
    git(root, "checkout", "-q", "-b", "pr")
    monkeypatch.chdir(root)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return root


def ci(*extra: str) -> tuple[Result, dict]:
    result = runner.invoke(app, ["ci", "--base", "main", "--runs-dir", "runs", *extra])
    out = Path("reports/ci/ci.json")
    return result, json.loads(out.read_text()) if out.exists() else {}


def by_path(data: dict) -> dict[str, dict]:
    return {p["change"]["path"]: p for p in data["prompts"]}


def test_an_edit_is_gated_against_its_base_version(repo: Path) -> None:
    write(repo, f"{PROMPTS}/v1.md", V1_NO_RULE_2)
    commit(repo, "drop rule 2")
    result, data = ci()
    assert result.exit_code == 1, result.output
    p = by_path(data)[f"{PROMPTS}/v1.md"]
    assert p["change"]["kind"] == "edited" and p["outcome"] == "failed"
    assert p["baseline"] == f"{PROMPTS}/v1.md"
    assert any("one_question" in name for name in p["failed"])
    comment = (repo / "reports/ci/comment.md").read_text()
    assert comment.startswith("<!-- sdi-prompt-gate -->") and "❌ failed" in comment
    html = Path(p["report"]).read_text()
    assert "<html" in html.lower() and "v1" in html
    junit = ET.parse(repo / "reports/ci/ci.junit.xml").getroot()
    assert junit.find(".//failure") is not None


def test_an_unchanged_copy_passes_and_warnings_stay_visible(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(repo, f"{PROMPTS}/v3.md", (repo / f"{PROMPTS}/v3.md").read_text() + "\n")
    commit(repo, "whitespace")
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    result, data = ci()
    # The step summary gets the one comment, not each gate's markdown besides.
    assert summary.read_text() == (repo / "reports/ci/comment.md").read_text()
    assert result.exit_code == 0, result.output
    p = by_path(data)[f"{PROMPTS}/v3.md"]
    assert p["outcome"] == "passed"
    junit = ET.parse(repo / "reports/ci/ci.junit.xml").getroot()
    skipped = [s.get("message", "") for s in junit.iter("skipped")]
    assert len(skipped) == len(p["warnings"])
    assert all(m.startswith("WARNING: ") for m in skipped)


def test_added_renamed_and_deleted_prompts_with_spaces_in_names(repo: Path) -> None:
    # Unlike any base prompt, so git sees an addition, not a rename of the deleted v1.
    write(repo, f"{PROMPTS}/my new prompt.md", "You interview. Ask ONE question at a time.\n")
    git(repo, "mv", f"{PROMPTS}/v3.md", f"{PROMPTS}/v3 renamed.md")
    git(repo, "rm", "-q", f"{PROMPTS}/v1.md")
    commit(repo, "add, rename, delete")
    result, data = ci("--default", "v3")
    prompts = by_path(data)
    assert set(prompts) == {
        f"{PROMPTS}/my new prompt.md",
        f"{PROMPTS}/v3 renamed.md",
        f"{PROMPTS}/v1.md",
    }, result.output
    added = prompts[f"{PROMPTS}/my new prompt.md"]
    assert added["change"]["kind"] == "added" and added["baseline"] == f"{PROMPTS}/v3.md"
    renamed = prompts[f"{PROMPTS}/v3 renamed.md"]
    assert renamed["change"] == {
        "kind": "renamed",
        "path": f"{PROMPTS}/v3 renamed.md",
        "old_path": f"{PROMPTS}/v3.md",
    }
    assert renamed["outcome"] == "passed"  # same text as its base version
    deleted = prompts[f"{PROMPTS}/v1.md"]
    assert deleted["outcome"] == "not gated" and deleted["change"]["kind"] == "deleted"
    assert result.exit_code in (0, 1)
    assert "my new prompt.md" in (repo / "reports/ci/comment.md").read_text()


def test_a_pr_that_loosens_its_suite_and_gates_is_gated_by_the_base_ones(repo: Path) -> None:
    write(repo, f"{PROMPTS}/v1.md", V1_NO_RULE_2)
    loose = {
        "name": "gate-pr",
        "prompts": ["v1"],
        "personas": ["../candidates/url-mid-solid.yaml"],
        "repeats": 1,
    }
    write(repo, "suites/gate.yaml", yaml.safe_dump(loose))
    write(repo, "gates.yaml", yaml.safe_dump({"regression": {"rule:*": 1.0}}))
    commit(repo, "drop rule 2 and loosen the gate")
    result, data = ci()
    assert result.exit_code == 1, result.output
    p = by_path(data)[f"{PROMPTS}/v1.md"]
    assert p["outcome"] == "failed"
    for run in p["runs"]:
        manifest = json.loads((Path(run) / "manifest.json").read_text())
        assert manifest["suite_name"] == "gate-base"
        assert len(manifest["personas"]) == 15


def test_a_new_prompt_without_the_default_baseline_fails_clearly(repo: Path) -> None:
    write(repo, f"{PROMPTS}/v2.md", V1)
    commit(repo, "add v2")
    result, data = ci("--default", "v9")
    assert result.exit_code == 2
    p = by_path(data)[f"{PROMPTS}/v2.md"]
    assert p["outcome"] == "error"
    assert f"{PROMPTS}/v9.md" in p["message"] and "--default" in p["message"]
    assert "v9.md" in result.output


def test_no_prompt_changed_and_a_bad_base_ref(repo: Path) -> None:
    write(repo, "README.md", "hello\n")
    commit(repo, "docs")
    result, data = ci()
    assert result.exit_code == 0 and data["prompts"] == []
    assert "No interviewer prompt changed." in (repo / "reports/ci/comment.md").read_text()
    bad = runner.invoke(app, ["ci", "--base", "no-such-branch"])
    assert bad.exit_code == 2 and "error:" in bad.output


def test_a_model_suite_without_a_key_is_not_gated(repo: Path) -> None:
    suite = yaml.safe_load((repo / "suites/gate.yaml").read_text())
    suite["interviewer"] = {"backend": "anthropic", "model": "claude-sonnet-4-6"}
    write(repo, "suites/gate.yaml", yaml.safe_dump(suite))
    commit(repo, "gate on a model")
    git(repo, "checkout", "-q", "-b", "pr2")
    git(repo, "branch", "-f", "main", "pr")
    write(repo, f"{PROMPTS}/v1.md", V1_NO_RULE_2)
    commit(repo, "edit")
    result, data = ci()
    assert result.exit_code == 0, result.output
    p = by_path(data)[f"{PROMPTS}/v1.md"]
    assert p["outcome"] == "not gated" and "API key" in p["message"]
    strict = runner.invoke(app, ["ci", "--base", "main", "--require-key"])
    assert strict.exit_code == 2 and "ANTHROPIC_API_KEY" in strict.output
