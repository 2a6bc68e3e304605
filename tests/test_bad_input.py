"""Every bad input named in issue 10 gives one line naming the file or field, exit 2, no
traceback, and leaves nothing behind: no run folder, no report, no temporary file."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from harness.cli.main import app
from tests.conftest import SCRIPTED_PERSONA, write_project

runner = CliRunner()
BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"


class Case:
    """Paths of one test's project and a finished run to aim bad input at."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.suite = write_project(root / "p", repeats=1, personas=[SCRIPTED_PERSONA])
        self.runs = root / "runs"
        self.prompt = root / "p" / "prompts" / "interviewer" / "v1.md"
        self.persona = root / "p" / "candidates" / "url-mid-test.yaml"
        self.gates = root / "gates.yaml"
        shutil.copy(
            Path(__file__).resolve().parent.parent / "harness" / "data" / "gates.yaml", self.gates
        )
        self.run_dir: Path | None = None

    def finished_run(self) -> Path:
        result = runner.invoke(app, ["run", str(self.suite), "--runs-dir", str(self.runs), "-q"])
        assert result.exit_code == 0, result.output
        self.run_dir = Path(result.stdout.strip().splitlines()[-1])
        return self.run_dir

    def run_args(self, *extra: str) -> list[str]:
        return ["run", str(self.suite), "--runs-dir", str(self.runs), "-q", *extra]


def _suite_binary(c: Case) -> tuple[list[str], list[str]]:
    c.suite.write_bytes(BINARY)
    return c.run_args(), ["test.yaml", "not UTF-8"]


def _suite_latin1(c: Case) -> tuple[list[str], list[str]]:
    c.suite.write_bytes(c.suite.read_bytes().replace(b"name: test", b"name: caf\xe9"))
    return c.run_args(), ["test.yaml", "not UTF-8"]


def _prompt_binary(c: Case) -> tuple[list[str], list[str]]:
    c.prompt.write_bytes(BINARY)
    return c.run_args(), ["v1.md", "not UTF-8"]


def _prompt_empty(c: Case) -> tuple[list[str], list[str]]:
    c.prompt.write_text("  \n\n")
    return c.run_args(), ["v1.md", "empty"]


def _persona_binary(c: Case) -> tuple[list[str], list[str]]:
    c.persona.write_bytes(BINARY)
    return c.run_args(), ["url-mid-test.yaml", "not UTF-8"]


def _transcripts_binary(c: Case) -> tuple[list[str], list[str]]:
    path = c.root / "t.jsonl"
    path.write_bytes(BINARY + b"\n" + BINARY)
    return ["score", str(path)], ["t.jsonl", "no transcript could be read", "not UTF-8"]


def _runs_dir_is_a_file(c: Case) -> tuple[list[str], list[str]]:
    c.runs.write_text("not a folder")
    return c.run_args(), [str(c.runs), "--runs-dir", "is a file"]


def _runs_dir_unwritable(c: Case) -> tuple[list[str], list[str]]:
    (c.root / "blocker").write_text("a file where a folder should be")
    c.runs = c.root / "blocker" / "runs"
    return c.run_args(), ["--runs-dir", "cannot create it"]


def _report_path_is_a_folder(c: Case) -> tuple[list[str], list[str]]:
    run_dir = c.finished_run()
    (c.root / "out").mkdir()
    args = ["report", run_dir.name, "--runs-dir", str(c.runs), "-o", str(c.root / "out")]
    return [*args, "--no-gates"], ["out", "--out", "is a folder"]


def _report_path_unwritable(c: Case) -> tuple[list[str], list[str]]:
    run_dir = c.finished_run()
    (c.root / "blocker").write_text("x")
    out = c.root / "blocker" / "r.html"
    args = ["report", run_dir.name, "--runs-dir", str(c.runs), "-o", str(out), "--no-gates"]
    return args, ["r.html", "--out", "cannot write there"]


def _plan(*extra: str) -> Callable[[Case], tuple[list[str], list[str]]]:
    def case(c: Case) -> tuple[list[str], list[str]]:
        return ["plan", "--baseline-rate", "0.5", *extra], ["--effect"]

    return case


def _resume_over_a_corrupt_line(c: Case) -> tuple[list[str], list[str]]:
    run_dir = c.finished_run()
    with (run_dir / "transcripts.jsonl").open("a") as fh:
        fh.write('{"schema": "sdi.transcript/1", "interview_id": 7}\n')
    c.suite.write_text(c.suite.read_text())  # unchanged suite: resuming is allowed
    return c.run_args("--resume", run_dir.name), ["transcripts.jsonl", "line 2", "unreadable"]


def _gate_misspelled_candidate(c: Case) -> tuple[list[str], list[str]]:
    args = ["gate", "--baseline", "v1", "--candidate", "v9", "--suite", str(c.suite)]
    args += ["--config", str(c.gates), "--runs-dir", str(c.runs), "--out", str(c.root / "g")]
    return args, ["--candidate", "'v9'"]


def _gate_bad_suite_file(c: Case) -> tuple[list[str], list[str]]:
    c.prompt.write_bytes(BINARY)
    args = ["gate", "--baseline", str(c.root / "nope.md"), "--candidate", "v1"]
    args += ["--suite", str(c.suite), "--config", str(c.gates), "--runs-dir", str(c.runs)]
    return [*args, "--out", str(c.root / "g")], ["v1.md", "not UTF-8"]


def _gate_out_is_a_file(c: Case) -> tuple[list[str], list[str]]:
    (c.root / "g").write_text("x")
    args = ["gate", "--baseline", "v1", "--candidate", "v1", "--suite", str(c.suite)]
    args += ["--config", str(c.gates), "--runs-dir", str(c.runs), "--out", str(c.root / "g")]
    return args, ["--out", "is a file"]


CASES: dict[str, Callable[[Case], tuple[list[str], list[str]]]] = {
    "suite-binary": _suite_binary,
    "suite-latin1": _suite_latin1,
    "prompt-binary": _prompt_binary,
    "prompt-empty": _prompt_empty,
    "persona-binary": _persona_binary,
    "transcripts-binary": _transcripts_binary,
    "runs-dir-is-a-file": _runs_dir_is_a_file,
    "runs-dir-unwritable": _runs_dir_unwritable,
    "report-path-is-a-folder": _report_path_is_a_folder,
    "report-path-unwritable": _report_path_unwritable,
    "plan-effect-0": _plan("--effect", "0"),
    "plan-effect-nan": _plan("--effect", "nan"),
    "plan-effect-inf": _plan("--effect", "inf"),
    "plan-rate-5.5": _plan("--effect", "5.5"),
    "resume-over-a-corrupt-line": _resume_over_a_corrupt_line,
    "gate-misspelled-candidate": _gate_misspelled_candidate,
    "gate-unreadable-prompt": _gate_bad_suite_file,
    "gate-out-is-a-file": _gate_out_is_a_file,
}


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_gives_one_line_exit_2_and_leaves_nothing(name: str, tmp_path: Path) -> None:
    case = Case(tmp_path)
    args, needles = CASES[name](case)
    before = _snapshot(tmp_path)
    result = runner.invoke(app, args)
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert _snapshot(tmp_path) == before, "bad input must leave nothing behind"
    assert not [p for p in tmp_path.rglob("*.tmp")]


def test_one_non_utf8_line_is_skipped_and_named_and_the_rest_scored(tmp_path: Path) -> None:
    case = Case(tmp_path)
    run_dir = case.finished_run()
    good = (run_dir / "transcripts.jsonl").read_bytes()
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(good + b'{"caf\xe9": 1}\n' + good)
    result = runner.invoke(app, ["score", str(path), "-q"])
    assert result.exit_code == 3 and "Traceback" not in result.output
    assert "mixed.jsonl: line 2" in result.stderr and "not UTF-8" in result.stderr
    assert "scored 2 transcript(s)" in result.stderr


def test_suite_name_cannot_put_a_run_outside_the_runs_folder(tmp_path: Path) -> None:
    case = Case(tmp_path)
    data = yaml.safe_load(case.suite.read_text())
    data["name"] = "x/../../../escaped"
    case.suite.write_text(yaml.safe_dump(data))
    run_dir = case.finished_run()
    assert run_dir.parent == case.runs and ".." not in run_dir.name and "/" not in run_dir.name
    manifests = list(tmp_path.rglob("manifest.json"))
    assert manifests == [run_dir / "manifest.json"]


def test_runs_list_does_not_create_a_missing_folder(tmp_path: Path) -> None:
    missing = tmp_path / "no-runs-here"
    result = runner.invoke(app, ["runs", "list", "--runs-dir", str(missing)])
    assert result.exit_code == 0 and "no runs" in result.stdout
    assert not missing.exists()


def test_report_to_a_folder_after_a_run_leaves_no_tmp(tmp_path: Path) -> None:
    case = Case(tmp_path)
    run_dir = case.finished_run()
    out = tmp_path / "reports"
    out.mkdir()
    result = runner.invoke(
        app, ["report", run_dir.name, "--runs-dir", str(case.runs), "-o", str(out), "--no-gates"]
    )
    assert result.exit_code == 2
    assert not list(tmp_path.rglob("*.tmp")) and not any(out.iterdir())
