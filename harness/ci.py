"""`sdi ci`: the pull-request gate as one tested command.

Given the base ref of a pull request, it finds the interviewer prompts the pull request added,
edited or renamed (`git diff -z --name-status -M`, so any file name works) and gates each
against its base version (a new prompt against a named default, `v1` unless told otherwise).
Everything but the prompts comes from the BASE commit: suites, personas, rubrics, gates and
the project's Python scorers are read from git into a temporary project, so a pull request
cannot loosen its own gate; the prompts are read from the head commit's git objects. The base
commit is the merge base of the base ref and the head (on GitHub's merge commit, the base
branch's tip). Writes one markdown comment body, an HTML report of both sides per prompt,
JUnit XML (warnings visible: a skipped case with the warning as its message) and JSON.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Literal

from pydantic import BaseModel, Field

from harness.errors import InputError
from harness.project import PROJECT_ENV
from harness.store.runs import DEFAULT_RUNS_DIR, write_json_atomic

# The harness configuration of a project, read from the base commit.
CONFIG_PATHS = ("suites", "candidates", "rubrics", "gates.yaml")
COMMENT_MARKER = "<!-- sdi-prompt-gate -->"
ChangeKind = Literal["added", "edited", "renamed", "deleted"]
Outcome = Literal["passed", "failed", "not gated", "error"]
KINDS: dict[str, ChangeKind] = {"A": "added", "M": "edited", "R": "renamed", "D": "deleted"}


class PromptChange(BaseModel):
    kind: ChangeKind
    path: str = Field(description="the prompt's path in the head commit (or, deleted, in base)")
    old_path: str | None = Field(default=None, description="its base path, when renamed")


class PromptResult(BaseModel):
    change: PromptChange
    outcome: Outcome
    baseline: str | None = Field(default=None, description="base path gated against")
    message: str = ""
    failed: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    gate_markdown: str = ""
    gate_junit_cases: list[dict[str, str]] = Field(default_factory=list, exclude=True)
    report: str | None = None
    runs: list[str] = Field(default_factory=list)


class CiResult(BaseModel):
    schema_: Literal["sdi.ci/1"] = Field(default="sdi.ci/1", alias="schema")
    base: str
    head: str
    prompts: list[PromptResult]
    notes: list[str] = Field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """2 when a prompt could not be gated for bad input, 1 when a gate failed, else 0."""
        outcomes = {p.outcome for p in self.prompts}
        return 2 if "error" in outcomes else 1 if "failed" in outcomes else 0


def git(repo: Path, *args: str) -> bytes:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True)
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(None, "--base", f"git {args[0]}: {message[-1] if message else 'failed'}")
    return done.stdout


def changed_prompts(repo: Path, base: str, head: str, prompts_dir: str) -> list[PromptChange]:
    """Prompt files (`*.md` under `prompts_dir`) added, edited, renamed or deleted between two
    commits; NUL-separated git output, so names with spaces or newlines survive."""
    fields = git(repo, "diff", "-z", "--name-status", "-M", base, head, "--").split(b"\0")
    out: list[PromptChange] = []
    i = 0
    while i < len(fields) - 1:
        status = fields[i].decode()
        kind = KINDS.get(status[:1])
        if status[:1] in "RC":
            old, new = fields[i + 1].decode(), fields[i + 2].decode()
            i += 3
        else:
            old = new = fields[i + 1].decode()
            i += 2
        if kind is None or status[:1] == "C":
            kind = "added" if status[:1] == "C" else "edited"  # copies are new prompts
        if not _is_prompt(new, prompts_dir) and not _is_prompt(old, prompts_dir):
            continue
        if kind == "renamed" and not _is_prompt(old, prompts_dir):
            kind = "added"  # moved in from elsewhere: a new prompt
        if kind == "renamed" and not _is_prompt(new, prompts_dir):
            kind, new = "deleted", old  # moved out: no longer a prompt
        out.append(PromptChange(kind=kind, path=new, old_path=old if kind == "renamed" else None))
    return out


def _is_prompt(path: str, prompts_dir: str) -> bool:
    p = PurePosixPath(path)
    return p.suffix == ".md" and p.parent == PurePosixPath(prompts_dir)


def export_config(repo: Path, commit: str, dest: Path) -> list[str]:
    """The base commit's harness configuration (and its top-level Python modules, which
    project rubrics may name as scorers) written under `dest`; the paths written."""
    listed = git(repo, "ls-tree", "-r", "-z", "--name-only", commit, "--", *CONFIG_PATHS)
    top = git(repo, "ls-tree", "-z", "--name-only", commit)
    names = [n.decode() for n in listed.split(b"\0") if n]
    names += [n.decode() for n in top.split(b"\0") if n.endswith(b".py")]
    for name in names:
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(git(repo, "show", f"{commit}:{name}"))
    return names


def blob(repo: Path, commit: str, path: str) -> bytes | None:
    """A file's bytes at a commit, or None when it has no such file."""
    done = subprocess.run(
        ["git", "cat-file", "blob", f"{commit}:{path}"], cwd=repo, capture_output=True
    )
    return done.stdout if done.returncode == 0 else None


@contextmanager
def environ(**values: str | None) -> Iterator[None]:
    """Set (or, with None, remove) environment variables for the duration."""
    before = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, old in before.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


def slug(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", path).strip("_") or "prompt"


def md(text: str) -> str:
    """File names come from the pull request: inert in a markdown table cell."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("|", "\\|").replace("`", "\\`").replace("\n", " ").replace("\r", " ")


class CiOptions(BaseModel):
    base: str
    head: str = "HEAD"
    prompts_dir: str = "prompts/interviewer"
    default: str = Field(default="v1", description="baseline id for a new prompt")
    suite: str = "suites/gate.yaml"
    config: str = "gates.yaml"
    runs_dir: Path = DEFAULT_RUNS_DIR
    out: Path = Path("reports/ci")
    require_key: bool = False


def run_ci(repo: Path, options: CiOptions) -> CiResult:
    """Gate every changed prompt; writes the outputs and returns what was decided."""
    head = git(repo, "rev-parse", "--verify", f"{options.head}^{{commit}}").decode().strip()
    git(repo, "rev-parse", "--verify", f"{options.base}^{{commit}}")
    base = git(repo, "merge-base", options.base, head).decode().strip()
    changes = changed_prompts(repo, base, head, options.prompts_dir)
    result = CiResult(base=base, head=head, prompts=[])
    runs_dir = options.runs_dir.resolve()
    with tempfile.TemporaryDirectory(prefix="sdi-ci-") as tmp:
        project = Path(tmp) / "base"
        project.mkdir()
        export_config(repo, base, project)
        # The base config is the project; each gate's summary stays out of the step summary,
        # which gets the one combined comment instead.
        with environ(**{PROJECT_ENV: str(project), "GITHUB_STEP_SUMMARY": None}):
            for change in changes:
                result.prompts.append(
                    _gate_one(repo, base, head, change, options, project, runs_dir)
                )
    write_outputs(result, options.out)
    return result


def _gate_one(
    repo: Path,
    base: str,
    head: str,
    change: PromptChange,
    options: CiOptions,
    project: Path,
    runs_dir: Path,
) -> PromptResult:
    from harness.api import gate
    from harness.config.suites import load_suite

    if change.kind == "deleted":
        return PromptResult(change=change, outcome="not gated", message="deleted")
    baseline_path = change.old_path or change.path
    if change.kind == "added":
        baseline_path = f"{options.prompts_dir}/{options.default}.md"
    old = blob(repo, base, baseline_path)
    if old is None:
        return PromptResult(
            change=change,
            outcome="error",
            message=f"new prompt: no baseline '{baseline_path}' in the base commit {base[:12]} "
            "(name another with --default)",
        )
    new = blob(repo, head, change.path)
    assert new is not None  # listed by git diff as present in head
    stem = PurePosixPath(change.path).stem
    sides = project / "prompt-sides"
    (sides / "base").mkdir(parents=True, exist_ok=True)
    (sides / "head").mkdir(parents=True, exist_ok=True)
    base_file = sides / "base" / f"{stem}.md"
    head_file = sides / "head" / f"{stem}.md"
    base_file.write_bytes(old)
    head_file.write_bytes(new)
    suite_path = project / options.suite
    loaded = load_suite(suite_path, require_key=False)
    missing = loaded.missing_key()
    if missing:
        if options.require_key:
            raise InputError(loaded.path, "interviewer.backend", f"needs {missing}")
        return PromptResult(
            change=change,
            outcome="not gated",
            baseline=baseline_path,
            message="the gate suite runs on a model and no API key is available here "
            "(a pull request from a fork?): not gated",
        )
    out_dir = options.out / slug(change.path)
    report = gate(
        base_file,
        head_file,
        config=project / options.config,
        suite=suite_path,
        runs_dir=runs_dir,
        out=out_dir,
    )
    runs = [str(runs_dir / report.baseline.run_id), str(runs_dir / report.candidate.run_id)]
    html = write_html_report(runs, runs_dir, project / options.config, out_dir / "report.html")
    from harness.stats.gate import gate_markdown

    return PromptResult(
        change=change,
        outcome="passed" if report.passed else "failed",
        baseline=baseline_path,
        failed=[g.name for g in report.gates if g.status == "fail"],
        warnings=[f"{g.name}: {g.message}" for g in report.gates if g.status == "warn"],
        gate_markdown=gate_markdown(report),
        gate_junit_cases=[
            {"name": g.name, "status": g.status, "message": g.message} for g in report.gates
        ],
        report=str(html),
        runs=runs,
    )


def write_html_report(runs: list[str], runs_dir: Path, gates: Path, out: Path) -> Path:
    from harness.project import current_project
    from harness.report.build import render, report_data, write_report
    from harness.stats.gate import load_gate_config

    config = load_gate_config(current_project().locate(gates) or gates)
    data = report_data(runs, runs_dir=runs_dir, gate_config=config)
    return write_report(render(data, "html"), out)


def comment_markdown(result: CiResult) -> str:
    """One pull-request comment body (its first line marks it, for a sticky comment)."""
    counts = {o: sum(p.outcome == o for p in result.prompts) for o in ("passed", "failed")}
    if not result.prompts:
        headline = "No interviewer prompt changed."
    else:
        headline = (
            f"{len(result.prompts)} prompt(s): {counts['passed']} passed, {counts['failed']} "
            f"failed, {sum(p.outcome in ('not gated', 'error') for p in result.prompts)} "
            "not gated"
        )
    lines = [
        COMMENT_MARKER,
        "## Prompt gate",
        "",
        headline,
        f"Harness config from the base commit `{result.base[:12]}`; prompts from "
        f"`{result.head[:12]}`.",
    ]
    if result.prompts:
        lines += [
            "",
            "| prompt | change | against | result | warnings |",
            "| --- | --- | --- | --- | --- |",
        ]
    icon = {"passed": "✅", "failed": "❌", "not gated": "⏭️", "error": "⛔"}
    for p in result.prompts:
        change = p.change.kind + (f" from {md(p.change.old_path)}" if p.change.old_path else "")
        verdict = f"{icon[p.outcome]} {p.outcome}" + (f": {md(p.message)}" if p.message else "")
        if p.failed:
            verdict += " (" + md(", ".join(p.failed)) + ")"
        lines.append(
            f"| {md(p.change.path)} | {change} | {md(p.baseline or '-')} | {verdict} | "
            f"{len(p.warnings)} |"
        )
    for p in result.prompts:
        if p.gate_markdown:
            lines += [
                "",
                f"<details><summary>{md(p.change.path)}: {p.outcome}</summary>",
                "",
                p.gate_markdown,
                "</details>",
            ]
    lines += ["", "HTML reports with both sides and transcripts: the `prompt-gate` artifact."]
    return "\n".join(lines) + "\n"


def junit_xml(result: CiResult) -> str:
    """One test suite per prompt, one case per gate; a warning is a skipped case whose message
    says WARNING, so CI lists it instead of counting it as a plain pass."""
    root = ET.Element("testsuites", name="sdi ci")
    for p in result.prompts:
        cases = p.gate_junit_cases or [{"name": "gate", "status": p.outcome, "message": p.message}]
        suite = ET.SubElement(root, "testsuite", name=p.change.path, tests=str(len(cases)))
        for c in cases:
            case = ET.SubElement(suite, "testcase", classname="sdi.ci", name=c["name"])
            status, message = c["status"], c["message"]
            if status in ("fail", "failed"):
                ET.SubElement(case, "failure", message=message).text = message
            elif status == "error":
                ET.SubElement(case, "error", message=message).text = message
            elif status == "warn":
                ET.SubElement(case, "skipped", message=f"WARNING: {message}")
            elif status in ("skip", "not gated"):
                ET.SubElement(case, "skipped", message=message)
            else:
                ET.SubElement(case, "system-out").text = f"{status}: {message}"
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_outputs(result: CiResult, out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "comment": out / "comment.md",
        "junit": out / "ci.junit.xml",
        "json": out / "ci.json",
    }
    write_json_atomic(paths["comment"], comment_markdown(result))
    write_json_atomic(paths["junit"], junit_xml(result))
    write_json_atomic(paths["json"], result.model_dump_json(by_alias=True, indent=2))
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(comment_markdown(result))
    return paths
