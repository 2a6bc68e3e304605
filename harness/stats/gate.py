"""The CI gate: which comparison results fail a prompt edit, and the reports CI systems read.

`gates.yaml` (a `GateConfig`) names, per metric, the margin a regression must exceed to fail
the gate, and floors (ceilings for lower-is-better metrics) the candidate's own figure must
keep. A regression gate fails when the comparison's verdict is "regressed" (Holm-adjusted p <
0.05) and the 90% interval does not rule out a loss beyond the margin; an inconclusive metric
warns (or fails, with `inconclusive: fail`). Each gate is one JUnit test case.
"""

from __future__ import annotations

import fnmatch
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness.config.yamlio import read_yaml_model
from harness.errors import InputError
from harness.stats.compare import ArmInfo, Comparison, Contrast, MetricComparison, decide
from harness.stats.metrics import metric_specs
from harness.stats.render import SYNTHETIC_LABEL, Section, contrast_section, num, to_markdown
from harness.store.runs import write_json_atomic

GateStatus = Literal["pass", "fail", "warn", "skip"]


def known_metrics() -> tuple[str, ...]:
    """Metric ids for the current project's rule set (its own rules included)."""
    return tuple(spec.id for spec in metric_specs())


def _known(patterns: dict[str, float]) -> dict[str, float]:
    known = known_metrics()
    for pattern in patterns:
        if not any(fnmatch.fnmatchcase(m, pattern) for m in known):
            raise ValueError(f"'{pattern}' matches no metric (known: {', '.join(known)})")
    return patterns


class GateConfig(BaseModel):
    """`gates.yaml`. Metric ids: rule:<rule id>, turns:one_question, score:in_band, score:mae,
    score:mean, score:spread, score:icc2; globs such as `rule:*` allowed in `regression`."""

    model_config = ConfigDict(extra="forbid")

    regression: dict[str, float] = Field(
        default_factory=dict,
        description="metric (or glob) -> margin: fail when it regresses beyond the margin",
    )
    floors: dict[str, float] = Field(
        default_factory=dict, description="metric -> the candidate's value must be >= this"
    )
    ceilings: dict[str, float] = Field(
        default_factory=dict, description="metric -> the candidate's value must be <= this"
    )
    inconclusive: Literal["warn", "fail"] = "warn"
    n_boot: int = Field(default=2000, ge=200, le=100_000)
    seed: int = 0

    @field_validator("regression", "floors", "ceilings")
    @classmethod
    def _known_metrics(cls, value: dict[str, float]) -> dict[str, float]:
        return _known(value)

    @field_validator("regression")
    @classmethod
    def _non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        for metric, margin in value.items():
            if margin < 0:
                raise ValueError(f"margin for '{metric}' must be >= 0")
        return value

    def regression_margins(self) -> dict[str, float]:
        """Margins for the comparison: every metric a regression gate names."""
        out: dict[str, float] = {}
        for metric in known_metrics():
            keys = [k for k in self.regression if fnmatch.fnmatchcase(metric, k)]
            if keys:
                out[metric] = self.regression[max(keys, key=lambda k: (k == metric, len(k)))]
        return out


def load_gate_config(path: str | Path) -> GateConfig:
    """Read and validate a gates YAML; errors name the file and the field."""
    return read_yaml_model(path, GateConfig)


class GateResult(BaseModel):
    name: str
    metric: str
    kind: Literal["no regression", "floor", "ceiling"]
    status: GateStatus
    message: str
    value: float | None = None
    threshold: float | None = None
    verdict: str | None = None


class GateReport(BaseModel):
    """What `sdi gate` decided, and the comparison it decided from."""

    schema_: Literal["sdi.gate/1"] = Field(default="sdi.gate/1", alias="schema")
    passed: bool
    baseline: ArmInfo
    candidate: ArmInfo
    synthetic: bool
    gates: list[GateResult]
    comparison: Comparison

    @property
    def failed(self) -> list[GateResult]:
        return [g for g in self.gates if g.status == "fail"]

    def count(self, status: GateStatus) -> int:
        return sum(g.status == status for g in self.gates)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)


def _regression_gate(m: MetricComparison, config: GateConfig) -> GateResult:
    gate = GateResult(
        name=f"{m.metric} does not regress beyond {m.margin:g}",
        metric=m.metric,
        kind="no regression",
        status="pass",
        message="",
        threshold=-m.margin,
        value=m.difference,
        verdict=m.verdict,
    )
    diff = "-" if m.difference is None else f"{m.difference:+.3f}"
    ci = f" (90% CI {m.ci90[0]:+.3f} to {m.ci90[1]:+.3f})" if m.ci90 else ""
    if m.verdict == "not tested":
        return gate.model_copy(update={"status": "skip", "message": "not measurable in these runs"})
    if m.verdict == "regressed" and not m.non_inferior:
        message = f"regressed: difference {diff}{ci}, Holm p {num(m.p_holm, 4)}"
        return gate.model_copy(update={"status": "fail", "message": message})
    if m.verdict == "inconclusive":
        need = m.repeats_needed
        hint = ""
        if need is not None:
            hint = (
                f"; {need.repeats_per_persona} repeats per persona would settle it"
                if need.repeats_per_persona
                else f"; {need.note}"
            )
        status: GateStatus = "fail" if config.inconclusive == "fail" else "warn"
        message = f"inconclusive: difference {diff}{ci}{hint}"
        return gate.model_copy(update={"status": status, "message": message})
    message = f"{m.verdict}: difference {diff}{ci}"
    if m.verdict == "regressed":
        message += " (significant, but the 90% CI rules out a loss beyond the margin)"
    return gate.model_copy(update={"message": message})


def _limit_gate(
    m: MetricComparison, kind: Literal["floor", "ceiling"], threshold: float
) -> GateResult:
    sign = ">=" if kind == "floor" else "<="
    value = m.candidate.value
    gate = GateResult(
        name=f"{m.metric} {sign} {threshold:g}",
        metric=m.metric,
        kind=kind,
        status="skip",
        message="not measurable in the candidate run",
        threshold=threshold,
        value=value,
        verdict=m.verdict,
    )
    if value is None:
        return gate
    ok = value >= threshold if kind == "floor" else value <= threshold
    message = (
        f"candidate {value:.3f} (baseline {num(m.baseline.value, 3)}), must be {sign} {threshold:g}"
    )
    return gate.model_copy(update={"status": "pass" if ok else "fail", "message": message})


def evaluate_gates(comparison: Comparison, config: GateConfig) -> GateReport:
    """Apply the gates to a baseline-vs-candidate comparison (exactly one contrast)."""
    if len(comparison.contrasts) != 1:
        raise InputError(None, "candidate", "the gate compares one candidate with one baseline")
    contrast: Contrast = comparison.contrasts[0]
    margins = config.regression_margins()
    gates: list[GateResult] = []
    for m in contrast.metrics:
        if m.metric in margins:
            judged = m.model_copy(update={"margin": margins[m.metric]})
            judged.verdict, judged.non_inferior = decide(judged)
            gates.append(_regression_gate(judged, config))
    limits: list[tuple[Literal["floor", "ceiling"], dict[str, float]]] = [
        ("floor", config.floors),
        ("ceiling", config.ceilings),
    ]
    for kind, thresholds in limits:
        for metric, threshold in thresholds.items():
            limited = contrast.metric(metric)
            if limited is None:
                raise InputError(None, f"{kind}s.{metric}", "not in this comparison")
            gates.append(_limit_gate(limited, kind, threshold))
    arms = {a.arm: a for a in comparison.arms}
    return GateReport(
        passed=not any(g.status == "fail" for g in gates),
        baseline=arms[contrast.baseline],
        candidate=arms[contrast.candidate],
        synthetic=comparison.synthetic,
        gates=gates,
        comparison=comparison,
    )


# --- writers --------------------------------------------------------------------------------

ICON: dict[GateStatus, str] = {"pass": "✅", "fail": "❌", "warn": "⚠️", "skip": "⏭️"}


def gate_markdown(report: GateReport) -> str:
    """The summary a reviewer reads in the pull request."""
    verdict = "passed" if report.passed else "FAILED"
    lines = [
        f"{report.candidate.arm} (sha256 {(report.candidate.prompt_sha256 or '?')[:12]}…) against "
        f"{report.baseline.arm} (sha256 {(report.baseline.prompt_sha256 or '?')[:12]}…): "
        f"{report.count('fail')} failed, {report.count('warn')} warnings, "
        f"{report.count('pass')} passed, {report.count('skip')} skipped",
    ]
    if report.synthetic:
        lines.append(f"**{SYNTHETIC_LABEL}**")
    if report.comparison.drift:
        lines.append(
            "**Compared despite differences outside the prompt:** "
            + "; ".join(d.text() for d in report.comparison.drift)
        )
    summary = Section(
        f"{ICON['pass'] if report.passed else ICON['fail']} Prompt gate {verdict}",
        lines=lines,
        headers=["", "gate", "result"],
        rows=[[ICON[g.status], g.name, g.message] for g in report.gates],
    )
    detail = contrast_section(report.comparison.contrasts[0])
    detail.title = f"Comparison: {detail.title}"
    return to_markdown([summary, detail])


def gate_junit(report: GateReport) -> str:
    """JUnit XML, one test case per gate, so CI systems list the gates natively."""
    suite = ET.Element(
        "testsuite",
        name="sdi prompt gate",
        tests=str(len(report.gates)),
        failures=str(report.count("fail")),
        skipped=str(report.count("skip")),
        errors="0",
    )
    props = ET.SubElement(suite, "properties")
    for key, value in (
        ("baseline", report.baseline.arm),
        ("candidate", report.candidate.arm),
        ("synthetic", str(report.synthetic).lower()),
    ):
        ET.SubElement(props, "property", name=key, value=value)
    for g in report.gates:
        case = ET.SubElement(
            suite, "testcase", classname=f"sdi.gate.{g.kind.replace(' ', '_')}", name=g.name
        )
        if g.status == "fail":
            ET.SubElement(case, "failure", message=g.message, type="GateFailure").text = g.message
        elif g.status == "skip":
            ET.SubElement(case, "skipped", message=g.message)
        else:
            ET.SubElement(case, "system-out").text = f"{g.status}: {g.message}"
    ET.indent(suite)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
    )


class GateOutputs(BaseModel):
    markdown: Path
    junit: Path
    json_path: Path
    step_summary: Path | None


def write_gate_outputs(report: GateReport, out_dir: Path) -> GateOutputs:
    """gate.md, gate.junit.xml and gate.json in `out_dir` (each written atomically), and the
    markdown appended to $GITHUB_STEP_SUMMARY when it is set."""
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown = gate_markdown(report)
    paths = GateOutputs(
        markdown=out_dir / "gate.md",
        junit=out_dir / "gate.junit.xml",
        json_path=out_dir / "gate.json",
        step_summary=None,
    )
    write_json_atomic(paths.markdown, markdown)
    write_json_atomic(paths.junit, gate_junit(report))
    write_json_atomic(paths.json_path, report.to_json())
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(markdown + "\n")
        paths.step_summary = Path(summary)
    return paths
