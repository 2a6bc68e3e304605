"""Bad input to `sdi run`/`sdi runs`: one line naming file and field, exit 2, nothing written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from harness.cli.main import app
from tests.conftest import SCRIPTED_PERSONA, write_project

runner = CliRunner()


def _sdi(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def _edit_yaml(path: Path, **changes: object) -> None:
    data = yaml.safe_load(path.read_text())
    data.update(changes)
    path.write_text(yaml.safe_dump(data))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path / "project", repeats=1, personas=[SCRIPTED_PERSONA])


def _assert_bad_input(project: Path, tmp_path: Path, *needles: str) -> None:
    runs = tmp_path / "runs"
    code, out, err = _sdi("run", str(project), "--runs-dir", str(runs), "-q")
    assert code == 2, (out, err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    for needle in needles:
        assert needle in lines[0]
    assert "Traceback" not in err
    assert not runs.exists() or not any(p.is_dir() for p in runs.iterdir())


def test_malformed_yaml(project: Path, tmp_path: Path) -> None:
    project.write_text("name: x\nprompts: [v1\n")
    _assert_bad_input(project, tmp_path, "test.yaml", "malformed YAML", "line")


def test_unknown_suite_field(project: Path, tmp_path: Path) -> None:
    _edit_yaml(project, repeets=3)
    _assert_bad_input(project, tmp_path, "test.yaml", "repeets", "unknown field")


def test_missing_suite_field(project: Path, tmp_path: Path) -> None:
    data = yaml.safe_load(project.read_text())
    del data["name"]
    project.write_text(yaml.safe_dump(data))
    _assert_bad_input(project, tmp_path, "test.yaml", "name", "missing")


def test_unknown_problem_in_persona(project: Path, tmp_path: Path) -> None:
    persona = project.parent.parent / "candidates" / "url-mid-test.yaml"
    _edit_yaml(persona, problem="design-uber")
    _assert_bad_input(project, tmp_path, "url-mid-test.yaml", "problem")


def test_unknown_persona_field(project: Path, tmp_path: Path) -> None:
    persona = project.parent.parent / "candidates" / "url-mid-test.yaml"
    _edit_yaml(persona, favourite_colour="blue")
    _assert_bad_input(project, tmp_path, "url-mid-test.yaml", "favourite_colour")


def test_persona_glob_matching_nothing(project: Path, tmp_path: Path) -> None:
    _edit_yaml(project, personas=["../candidates/nobody-*.yaml"])
    _assert_bad_input(project, tmp_path, "test.yaml", "personas[0]", "nobody-")


def test_missing_prompt_file(project: Path, tmp_path: Path) -> None:
    _edit_yaml(project, prompts=["v1", "v9"])
    _assert_bad_input(project, tmp_path, "test.yaml", "prompts[1]", "v9.md")


def test_anthropic_suite_without_key(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    _edit_yaml(project, interviewer={"backend": "anthropic", "model": "claude-sonnet-4-6"})
    _assert_bad_input(project, tmp_path, "test.yaml", "interviewer.backend", "ANTHROPIC_API_KEY")


def test_unknown_run_to_resume_or_show(project: Path, tmp_path: Path) -> None:
    code, _, err = _sdi("run", str(project), "--runs-dir", str(tmp_path), "--resume", "nope")
    assert code == 2 and "no run 'nope'" in err
    code, _, err = _sdi("runs", "show", "nope", "--runs-dir", str(tmp_path))
    assert code == 2 and "no run 'nope'" in err


def test_run_list_and_show(project: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    code, out, _ = _sdi("run", str(project), "--runs-dir", str(runs), "-q")
    assert code == 0
    run_dir = Path(out.strip().splitlines()[-1])
    assert (run_dir / "manifest.json").is_file()
    assert "SYNTHETIC" in out
    code, out, _ = _sdi("runs", "list", "--runs-dir", str(runs))
    assert code == 0 and run_dir.name in out and "synthetic" in out
    code, out, _ = _sdi("runs", "show", run_dir.name, "--runs-dir", str(runs))
    assert code == 0 and "url-mid-test" in out and "SYNTHETIC" in out


def test_real_process_prints_one_line_and_no_traceback(project: Path, tmp_path: Path) -> None:
    project.write_text("name: [unclosed\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli.main",
            "run",
            str(project),
            "--runs-dir",
            str(tmp_path / "runs"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
