"""`sdi report` end to end: a real synthetic run, scored on the way, written as HTML or markdown;
bad input is one line and exit code 2; the file appears whole or not at all."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli.main import app
from harness.config.suites import load_suite
from harness.report import build
from harness.simulate.progress import QuietProgress
from harness.simulate.runner import run_suite
from harness.store.runs import SCORES

runner = CliRunner()


@pytest.fixture
def run_dir(suite_path: Path, tmp_path: Path) -> Path:
    return run_suite(load_suite(suite_path), tmp_path / "runs", progress=QuietProgress())


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_html_report_into_a_new_folder(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "new" / "deeper" / "r.html"
    code, stdout, stderr = invoke(
        "report", run_dir.name, "--runs-dir", str(run_dir.parent), "-o", str(out), "--no-gates"
    )
    assert code == 0, stderr
    assert out.is_file()
    assert f"report: {out}" in stdout and "SYNTHETIC" in stdout
    assert (run_dir / SCORES).is_file(), "an unscored run is scored and its scores kept"
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert not list(out.parent.glob(".*.tmp")), "no temporary file is left behind"


def test_markdown_to_stdout(run_dir: Path) -> None:
    code, stdout, stderr = invoke(
        "report", str(run_dir), "--runs-dir", str(run_dir.parent), "--format", "md", "--no-gates"
    )
    assert code == 0, stderr
    assert stdout.startswith("## Interviewer report")
    assert "a comparison needs two" in stdout
    assert "| one_question |" in stdout


def test_unknown_run_is_one_line_and_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    code, stdout, stderr = invoke(
        "report", "no-such-run", "--runs-dir", str(tmp_path), "-o", str(out)
    )
    assert code == 2
    assert stderr.count("\n") == 1 and stderr.startswith("error: ")
    assert "no run 'no-such-run'" in stderr
    assert "Traceback" not in stdout + stderr
    assert not out.exists()


def test_bad_gates_file_is_one_line_and_exit_2(run_dir: Path, tmp_path: Path) -> None:
    gates = tmp_path / "gates.yaml"
    gates.write_text("regression: {nonsense: 0.1}\n")
    code, _, stderr = invoke(
        "report", str(run_dir), "--gates", str(gates), "-o", str(tmp_path / "r.html")
    )
    assert code == 2
    assert stderr.startswith(f"error: {gates}") and stderr.count("\n") == 1


def test_write_is_atomic(run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure while the new report is written leaves the old file as it was."""
    out = tmp_path / "r.html"
    out.write_text("old report")
    real_replace = os.replace

    def broken_replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        assert Path(src).read_text().startswith("<!doctype html>"), "the whole file was written"
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk gone"):
        build.write_report("<!doctype html>...", out)
    monkeypatch.setattr(os, "replace", real_replace)
    assert out.read_text() == "old report"


def test_a_run_without_interviews_is_an_error(run_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty-run"
    empty.mkdir()
    (empty / "manifest.json").write_text((run_dir / "manifest.json").read_text())
    (empty / "transcripts.jsonl").write_text("")
    code, _, stderr = invoke("report", str(empty), "-o", str(tmp_path / "r.html"), "--no-gates")
    assert code == 2
    assert stderr == f"error: {empty / 'transcripts.jsonl'}: no interviews to report\n"


def test_runs_index_lists_every_run_and_links_reports(run_dir: Path, tmp_path: Path) -> None:
    runs = run_dir.parent
    other = runs / "copied-run"
    other.mkdir()
    manifest = (run_dir / "manifest.json").read_text().replace(run_dir.name, "copied-run")
    (other / "manifest.json").write_text(manifest)
    (runs / "broken").mkdir()
    (runs / "broken" / "manifest.json").write_text("{not json")
    reports = tmp_path / "reports"
    code, _, stderr = invoke(
        "report",
        run_dir.name,
        "--runs-dir",
        str(runs),
        "-o",
        str(reports / f"{run_dir.name}.html"),
        "--no-gates",
    )
    assert code == 0, stderr
    code, stdout, stderr = invoke(
        "report", "--index", "--runs-dir", str(runs), "-o", str(reports / "index.html")
    )
    assert code == 0, stderr
    assert "(2 runs)" in stdout
    page = (reports / "index.html").read_text()
    assert f'<a href="{run_dir.name}.html">' in page  # the report beside the index
    assert "sdi report copied-run" in page  # no report yet: the command that makes one
    rows = page.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]
    scored = {row.split("<code>")[1].split("</code>")[0]: "<td>yes</td>" in row for row in rows}
    assert scored == {run_dir.name: True, "copied-run": False}
    assert "<code>broken</code>" in page and "<script" not in page
    assert "script-src 'none'" in page


def test_runs_index_takes_no_runs(run_dir: Path, tmp_path: Path) -> None:
    code, _, stderr = invoke("report", run_dir.name, "--index", "--runs-dir", str(run_dir.parent))
    assert code == 2 and "give no RUNS" in stderr
    code, _, stderr = invoke("report")
    assert code == 2 and "--index" in stderr
