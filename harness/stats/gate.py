"""The CI gate: which comparison results fail a prompt edit, and the reports CI systems read.

`gates.yaml` (a `GateConfig`) names, per metric, the margin a regression must exceed to fail
the gate, and floors (ceilings for lower-is-better metrics) the candidate's own figure must
keep. Every decision comes from an interval (`harness.stats.compare`: studentized cluster
bootstrap over personas), with each bound one-sided at alpha / (number of gates): Bonferroni on
the interval levels, so the chance that any gate decides wrongly is at most alpha.

- no regression (difference oriented so that positive is better, margin d): fail when the
  upper bound is below -d (a loss beyond the margin is shown); pass when the lower bound is at
  least -d (no loss beyond the margin, whether or not it improved); otherwise inconclusive.
  Improvements never fail.
- floor f (ceiling c) on the candidate's own value: pass when its lower bound is >= f (upper
  bound <= c); fail when its upper bound is < f (lower bound > c); otherwise inconclusive. A
  figure that cannot be measured is "not measured" and fails unless `unmeasured: warn`.
- inconclusive warns (or fails, with `inconclusive: fail`).

With repeats in stages (`harness.stats.sequential`), each look spends part of alpha and the
tail passed in is that look's share. Each gate is one JUnit test case.
"""

from __future__ import annotations

import fnmatch
import itertools
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harness.config.yamlio import read_yaml_model
from harness.errors import InputError
from harness.scoring.run_labels import ScorerAgreement, with_scorer_agreement
from harness.stats.compare import ArmInfo, Comparison, Contrast, MetricComparison, oriented
from harness.stats.metrics import metric_specs
from harness.stats.render import (
    STAND_IN_NOTE,
    SYNTHETIC_LABEL,
    Section,
    contrast_section,
    to_markdown,
)
from harness.store.runs import write_json_atomic

GateStatus = Literal["pass", "fail", "warn", "skip"]
Outcome = Literal["pass", "fail", "inconclusive", "not measured"]


def known_metrics() -> tuple[str, ...]:
    """Metric ids for the current project's rule set (its own rules included)."""
    return tuple(spec.id for spec in metric_specs())


def directed_metrics() -> tuple[str, ...]:
    """Metrics with a better direction: the ones a regression gate can judge."""
    return tuple(spec.id for spec in metric_specs() if spec.higher_is_better is not None)


def _known(patterns: dict[str, float]) -> dict[str, float]:
    known = known_metrics()
    for pattern in patterns:
        if not any(fnmatch.fnmatchcase(m, pattern) for m in known):
            raise ValueError(f"'{pattern}' matches no metric (known: {', '.join(known)})")
    return patterns


class RepeatStages(BaseModel):
    """Repeats per persona at each look of a sequential gate; the last is the cap."""

    model_config = ConfigDict(extra="forbid")

    stages: list[int] = Field(default_factory=lambda: [3, 6, 12], min_length=1)
    spending: Literal["pocock", "obrien-fleming"] = Field(
        default="pocock", description="Lan-DeMets alpha-spending function across the looks"
    )
    max_cost_usd: float | None = Field(
        default=None, ge=0, description="stop before a stage once both sides spent this much"
    )

    @field_validator("stages")
    @classmethod
    def _increasing(cls, value: list[int]) -> list[int]:
        if any(v < 1 for v in value) or any(b <= a for a, b in itertools.pairwise(value)):
            raise ValueError("stages must be increasing repeat counts >= 1, e.g. [3, 6, 12]")
        return value


class GateConfig(BaseModel):
    """`gates.yaml`. Metric ids: rule:<rule id>, turns:one_question, score:in_band, score:mae,
    score:mean, score:spread, score:icc (ICC(1,1)), score:icc2 (ICC(A,1)); globs such as
    `rule:*` allowed in `regression`."""

    model_config = ConfigDict(extra="forbid")

    regression: dict[str, float] = Field(
        default_factory=dict,
        description="metric (or glob) -> margin: fail when a loss beyond the margin is shown",
    )
    floors: dict[str, float] = Field(
        default_factory=dict, description="metric -> the candidate's value must be >= this"
    )
    ceilings: dict[str, float] = Field(
        default_factory=dict, description="metric -> the candidate's value must be <= this"
    )
    alpha: float = Field(
        default=0.05, gt=0, lt=0.5, description="family-wise error rate across all the gates"
    )
    inconclusive: Literal["warn", "fail"] = "warn"
    unmeasured: Literal["fail", "warn"] = Field(
        default="fail", description="what a floor or ceiling that cannot be measured does"
    )
    repeats: RepeatStages = Field(default_factory=RepeatStages)
    n_boot: int = Field(default=4000, ge=200, le=100_000)
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

    @model_validator(mode="after")
    def _enough_draws(self) -> GateConfig:
        if self.n_boot * self.alpha / max(self.family_size(), 1) < 2:
            raise ValueError(
                f"n_boot {self.n_boot} is too few for bounds one-sided at alpha / "
                f"{self.family_size()} gates; raise n_boot"
            )
        return self

    def regression_margins(self) -> dict[str, float]:
        """Margins for the comparison: every metric with a direction a regression gate names."""
        out: dict[str, float] = {}
        for metric in directed_metrics():
            keys = [k for k in self.regression if fnmatch.fnmatchcase(metric, k)]
            if keys:
                out[metric] = self.regression[max(keys, key=lambda k: (k == metric, len(k)))]
        return out

    def family_size(self) -> int:
        """How many gates share alpha."""
        return len(self.regression_margins()) + len(self.floors) + len(self.ceilings)

    def tail(self) -> float:
        """One-sided level of each decision bound with a single look."""
        return self.alpha / max(self.family_size(), 1)


def load_gate_config(path: str | Path) -> GateConfig:
    """Read and validate a gates YAML; errors name the file and the field."""
    return read_yaml_model(path, GateConfig)


class GateResult(BaseModel):
    name: str
    metric: str
    kind: Literal["no regression", "floor", "ceiling"]
    status: GateStatus
    outcome: Outcome
    message: str
    value: float | None = None
    threshold: float | None = None
    interval: tuple[float, float] | None = Field(
        default=None,
        description="the interval that decided (oriented difference, or the candidate's value)",
    )
    verdict: str | None = None
    scorer_agreement: ScorerAgreement | None = Field(
        default=None, description="the rule's scorer against a label set (--labels), if named"
    )

    def message_with_agreement(self) -> str:
        extra = self.scorer_agreement
        return self.message if extra is None else f"{self.message} ({extra.text()})"


class Stopping(BaseModel):
    """How a sequential gate ran: repeats per look, interviews per side, why it stopped."""

    looks: list[int] = Field(description="repeats per persona at each look taken")
    planned: list[int]
    spending: str
    interviews: dict[str, int] = Field(description="side -> interviews in the last look")
    reason: Literal["decided", "cap", "budget", "fixed"]
    method: str


class GateReport(BaseModel):
    """What `sdi gate` decided, and the comparison it decided from."""

    schema_: Literal["sdi.gate/1"] = Field(default="sdi.gate/1", alias="schema")
    passed: bool
    baseline: ArmInfo
    candidate: ArmInfo
    synthetic: bool
    decided_by: str = Field(default="", description="which interval and level decided")
    alpha: float = 0.05
    gates: list[GateResult]
    stopping: Stopping | None = None
    comparison: Comparison

    @property
    def failed(self) -> list[GateResult]:
        return [g for g in self.gates if g.status == "fail"]

    @property
    def decided(self) -> bool:
        """No gate is inconclusive (or one already failed: more repeats cannot undo it). A gate
        that cannot be measured counts as answered: more repeats of the same personas rarely
        make a rule apply that never did."""
        return bool(self.failed) or all(g.outcome != "inconclusive" for g in self.gates)

    def count(self, status: GateStatus) -> int:
        return sum(g.status == status for g in self.gates)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)


def _fmt(metric: MetricComparison, value: float | None) -> str:
    if value is None:
        return "-"
    return f"{100 * value:+.1f} pts" if metric.unit == "share" else f"{value:+.3f}"


def _regression_gate(m: MetricComparison, config: GateConfig) -> GateResult:
    turned = oriented(m)
    gate = GateResult(
        name=f"{m.metric} does not regress beyond {m.margin:g}",
        metric=m.metric,
        kind="no regression",
        status="pass",
        outcome="pass",
        message="",
        threshold=-m.margin,
        value=None if m.difference is None else m.difference * (1 if m.higher_is_better else -1),
        interval=turned,
        verdict=m.verdict,
        scorer_agreement=m.scorer_agreement,
    )
    if turned is None:
        return gate.model_copy(
            update={
                "status": "skip",
                "outcome": "not measured",
                "message": "not measurable in these runs",
            }
        )
    low, high = turned
    edge = _fmt(m, -m.margin)
    shown = f"change {_fmt(m, gate.value)} (better = +), interval [{_fmt(m, low)}, {_fmt(m, high)}]"
    if high < -m.margin:
        message = f"fail: loss beyond the margin shown: {shown} lies below {edge}"
        return gate.model_copy(update={"status": "fail", "outcome": "fail", "message": message})
    if low >= -m.margin:
        what = "improved" if low > 0 else "no loss beyond the margin"
        return gate.model_copy(update={"message": f"pass: {what}: {shown}"})
    need = m.repeats_needed
    hint = ""
    if need is not None:
        hint = (
            f"; about {need.repeats_per_persona} repeats per persona would settle it"
            if need.repeats_per_persona
            else f"; {need.note}"
            if need.note
            else "; repeats alone would not settle it: add personas"
        )
    status: GateStatus = "fail" if config.inconclusive == "fail" else "warn"
    message = f"inconclusive: {shown} straddles {edge}{hint}"
    return gate.model_copy(update={"status": status, "outcome": "inconclusive", "message": message})


def _limit_gate(
    m: MetricComparison, kind: Literal["floor", "ceiling"], threshold: float, config: GateConfig
) -> GateResult:
    sign = ">=" if kind == "floor" else "<="
    value = m.candidate.value
    bounds = m.candidate.decision
    gate = GateResult(
        name=f"{m.metric} {sign} {threshold:g}",
        metric=m.metric,
        kind=kind,
        status="fail" if config.unmeasured == "fail" else "warn",
        outcome="not measured",
        message="not measured: the candidate run gives no interval for it",
        threshold=threshold,
        value=value,
        interval=bounds,
        verdict=m.verdict,
        scorer_agreement=m.scorer_agreement,
    )
    if value is None or bounds is None:
        return gate
    low, high = bounds
    shown = f"candidate {value:.3f}, interval [{low:.3f}, {high:.3f}], must be {sign} {threshold:g}"
    ok = low >= threshold if kind == "floor" else high <= threshold
    bad = high < threshold if kind == "floor" else low > threshold
    if ok:
        return gate.model_copy(
            update={"status": "pass", "outcome": "pass", "message": f"pass: {shown}"}
        )
    if bad:
        return gate.model_copy(
            update={"status": "fail", "outcome": "fail", "message": f"fail: {shown}"}
        )
    status: GateStatus = "fail" if config.inconclusive == "fail" else "warn"
    return gate.model_copy(
        update={"status": status, "outcome": "inconclusive", "message": f"inconclusive: {shown}"}
    )


def evaluate_gates(
    comparison: Comparison, config: GateConfig, stopping: Stopping | None = None
) -> GateReport:
    """Apply the gates to a baseline-vs-candidate comparison (exactly one contrast) computed at
    the gates' level (`compare_runs(..., tail=config.tail())`, or a look's share of alpha)."""
    if len(comparison.contrasts) != 1:
        raise InputError(None, "candidate", "the gate compares one candidate with one baseline")
    contrast: Contrast = comparison.contrasts[0]
    margins = config.regression_margins()
    gates: list[GateResult] = []
    for m in contrast.metrics:
        if m.metric in margins:
            gates.append(
                _regression_gate(m.model_copy(update={"margin": margins[m.metric]}), config)
            )
    limits: list[tuple[Literal["floor", "ceiling"], dict[str, float]]] = [
        ("floor", config.floors),
        ("ceiling", config.ceilings),
    ]
    for kind, thresholds in limits:
        for metric, threshold in thresholds.items():
            limited = contrast.metric(metric)
            if limited is None:
                raise InputError(None, f"{kind}s.{metric}", "not in this comparison")
            gates.append(_limit_gate(limited, kind, threshold, config))
    arms = {a.arm: a for a in comparison.arms}
    decided_by = (
        f"{comparison.settings.decided_by()}; family-wise alpha {config.alpha:g} across "
        f"{len(gates)} gates (Bonferroni on interval levels)"
    )
    if stopping is not None and len(stopping.planned) > 1:
        decided_by += f"; look {len(stopping.looks)} of {len(stopping.planned)}, {stopping.method}"
    return GateReport(
        passed=not any(g.status == "fail" for g in gates),
        baseline=arms[contrast.baseline],
        candidate=arms[contrast.candidate],
        synthetic=comparison.synthetic,
        decided_by=decided_by,
        alpha=config.alpha,
        gates=gates,
        stopping=stopping,
        comparison=comparison,
    )


def with_label_agreement(report: GateReport, agreement: dict[str, ScorerAgreement]) -> GateReport:
    """The report with each rule's gate, and the comparison under it, carrying how far that
    rule's scorer agreed with people (`sdi gate --labels`)."""
    comparison = with_scorer_agreement(report.comparison, agreement)
    by_metric = {m.metric: m.scorer_agreement for c in comparison.contrasts for m in c.metrics}
    gates = [
        g.model_copy(update={"scorer_agreement": by_metric.get(g.metric)}) for g in report.gates
    ]
    return report.model_copy(update={"comparison": comparison, "gates": gates})


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
        lines.append(f"**{SYNTHETIC_LABEL}** {STAND_IN_NOTE}")
    lines.append(f"Decided by: {report.decided_by}.")
    if report.stopping is not None:
        lines.append(stopping_text(report.stopping))
    if report.comparison.drift:
        lines.append(
            "**Compared despite differences outside the prompt:** "
            + "; ".join(d.text() for d in report.comparison.drift)
        )
    summary = Section(
        f"{ICON['pass'] if report.passed else ICON['fail']} Prompt gate {verdict}",
        lines=lines,
        headers=["", "gate", "result"],
        rows=[[ICON[g.status], g.name, g.message_with_agreement()] for g in report.gates],
    )
    detail = contrast_section(report.comparison.contrasts[0])
    detail.title = f"Comparison: {detail.title}"
    return to_markdown([summary, detail])


def stopping_text(stop: Stopping) -> str:
    """Interviews per side and why the repeats stopped, in one line."""
    sides = ", ".join(f"{side} {n}" for side, n in stop.interviews.items())
    why = {
        "decided": "every gate decided",
        "cap": f"the repeat cap ({stop.planned[-1] if stop.planned else '?'}) was reached",
        "budget": "the budget was spent",
        "fixed": "fixed runs were given (no further repeats possible)",
    }[stop.reason]
    looks = " -> ".join(str(r) for r in stop.looks)
    return (
        f"Repeats per persona {looks} (planned {stop.planned}); interviews {sides}; stopped: {why}."
    )


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
