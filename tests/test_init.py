"""`sdi init` in-process: what it writes, the README section appended once, and nothing
written when any file is in the way. (The installed-wheel path is in test_package.py.)"""

from __future__ import annotations

from pathlib import Path

import yaml
from typer.testing import CliRunner

from harness.cli.main import app
from harness.config.suites import load_suite
from harness.scaffold import README_HEADING, project_files

runner = CliRunner()


def test_init_keeps_an_existing_readme_and_its_suites_load(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# My prompts\n\nOurs.\n")
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 0, result.output
    readme = (tmp_path / "README.md").read_text()
    assert readme.startswith("# My prompts\n\nOurs.\n") and readme.count(README_HEADING) == 1
    for rel in project_files():
        assert (tmp_path / rel).is_file(), rel
    smoke = load_suite(tmp_path / "suites" / "smoke.yaml")
    assert sorted(lp.persona.id for lp in smoke.personas) == sorted(
        p.stem for p in (tmp_path / "candidates").glob("example-*.yaml")
    )
    for name in ("compare", "gate", "gate-model"):
        suite = yaml.safe_load((tmp_path / "suites" / f"{name}.yaml").read_text())
        assert suite["name"] == name
    assert "SDI_VERSION" not in (tmp_path / ".github/workflows/prompt-gate.yml").read_text()


def test_init_writes_nothing_when_a_file_is_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "gates.yaml").write_text("mine: true\n")
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 2
    assert "gates.yaml" in result.output and "overwrites nothing" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gates.yaml"]
    assert (tmp_path / "gates.yaml").read_text() == "mine: true\n"
