"""The harness as users get it: a wheel built from this checkout, installed into a fresh venv
(`python -m venv`; the wheel with `pip install --no-deps`, its dependencies read from the test
environment's site-packages through a .pth file, which is quicker than a full install) and run
from empty folders, with no checkout on the path: the offline suite, `sdi init` and a gate."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sdi_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    shutil.copytree(ROOT / "harness", src / "harness", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    pip = [sys.executable, "-m", "pip", "-q"]
    subprocess.run([*pip, "wheel", "--no-deps", "-w", str(work / "dist"), str(src)], check=True)
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=False)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site = env_dir / "lib" / version / "site-packages"
    (site / "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheel = next((work / "dist").glob("*.whl"))
    python = env_dir / "bin" / "python"
    subprocess.run([*pip, "--python", str(python), "install", "--no-deps", str(wheel)], check=True)
    return env_dir / "bin"


def sdi(bin_dir: Path, cwd: Path, *args: str, code: int = 0) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SDI_PROJECT")}
    env.pop("ANTHROPIC_API_KEY", None)
    done = subprocess.run(
        [str(bin_dir / "sdi"), *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert done.returncode == code, done.stdout + done.stderr
    return done.stdout


def test_the_installed_harness_is_the_wheel_not_the_checkout(sdi_bin: Path, tmp_path: Path) -> None:
    out = subprocess.run(
        [str(sdi_bin / "python"), "-c", "import harness; print(harness.__file__)"],
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(sdi_bin.parent) in out and str(ROOT) not in out


def test_offline_suite_score_and_report_from_an_empty_folder(sdi_bin: Path, tmp_path: Path) -> None:
    run_dir = sdi(sdi_bin, tmp_path, "run", "suites/smoke.yaml", "-q").strip().splitlines()[-1]
    assert (tmp_path / run_dir / "transcripts.jsonl").is_file()
    table = sdi(sdi_bin, tmp_path, "score", run_dir, "-f", "table", "-q")
    assert "opening" in table
    sdi(sdi_bin, tmp_path, "report", run_dir, "-o", "report.html")
    assert "url-mid-solid" in (tmp_path / "report.html").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "runs"]


def test_init_then_run_and_gate(sdi_bin: Path, tmp_path: Path) -> None:
    out = sdi(sdi_bin, tmp_path, "init", "proj")
    project = tmp_path / "proj"
    assert out.strip().splitlines()[-3:] == [
        "  sdi run suites/smoke.yaml",
        "  cp prompts/interviewer/v1.md prompts/interviewer/v2.md   # then edit v2",
        "  sdi gate --baseline v1 --candidate v2",
    ]
    workflow = yaml.safe_load((project / ".github/workflows/prompt-gate.yml").read_text())
    assert workflow["concurrency"]["cancel-in-progress"] is True
    before = {p: p.read_bytes() for p in project.rglob("*") if p.is_file()}
    sdi(sdi_bin, project, "init", code=2)  # refuses to overwrite, changes nothing
    assert {p: p.read_bytes() for p in project.rglob("*") if p.is_file()} == before

    run_dir = sdi(sdi_bin, project, "run", "suites/smoke.yaml", "-q").strip().splitlines()[-1]
    personas = {
        yaml.safe_load(line)["persona"] for line in (project / run_dir / "transcripts.jsonl").open()
    }
    assert personas == {p.stem for p in (project / "candidates").glob("*.yaml")}
    v1 = (project / "prompts/interviewer/v1.md").read_text()
    # The edit drops rule 2 (one question at a time): the gate must fail it.
    v2 = "\n".join(line for line in v1.splitlines() if not line.startswith("2."))
    assert v2 != v1
    (project / "prompts/interviewer/v2.md").write_text(v2)
    out = sdi(sdi_bin, project, "gate", "--baseline", "v1", "--candidate", "v2", "-q", code=1)
    assert "gate FAILED" in out
    assert (project / "reports/gate").is_dir()


def test_run_overrides_pick_prompts_repeats_and_personas(sdi_bin: Path, tmp_path: Path) -> None:
    sdi(sdi_bin, tmp_path, "init")
    shutil.copy(tmp_path / "prompts/interviewer/v1.md", tmp_path / "prompts/interviewer/v2.md")
    args = ["--prompts", "v1,v2", "--repeats", "1", "--personas", "example-url-*", "--limit", "2"]
    out = sdi(sdi_bin, tmp_path, "run", "suites/smoke.yaml", *args, "-q")
    run_dir = out.strip().splitlines()[-1]
    assert f"next: sdi score {run_dir}" in out
    ids = [
        yaml.safe_load(line)["interview_id"]
        for line in (tmp_path / run_dir).joinpath("transcripts.jsonl").open()
    ]
    # smoke.yaml names only the example personas; one of them matches.
    assert sorted(ids) == ["v1:example-url-junior-vague#0", "v2:example-url-junior-vague#0"]
    err = sdi(sdi_bin, tmp_path, "run", "suites/smoke.yaml", "--personas", "nobody-*", code=2)
    assert err == ""
