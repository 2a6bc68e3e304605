"""How far the scorers agree with people's labels, where a run or a comparison is read.

Two uses of one label set (a golden folder or `labels/NAME.jsonl` from `sdi label`):
- `sdi report RUN --labels PATH`: the run's own score records against the labels of the
  interviews the run holds (labels of other interviews are ignored, and the report says how
  many matched), with the disagreement gallery;
- `sdi compare`/`sdi gate --labels PATH`: every labelled transcript scored by today's
  deterministic scorers, so that each rule's verdict carries the scorer's agreement with people
  on this model (a gate compares fresh runs, whose interviews were never labelled).
Both reuse `harness.scoring.validate` for the figures and `harness.scoring.gallery` for the page.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from harness.contracts import ScoreRecord
from harness.errors import InputError
from harness.scoring.labels import Reference, load_reference
from harness.scoring.validate import RuleAgreement, Validation, ValidationReport, compare

if TYPE_CHECKING:
    from harness.stats.compare import Comparison, MetricComparison
    from harness.store.rundata import RunData


def rule_of(metric: str) -> str | None:
    """The rule a metric id is about (`rule:x` and `turns:x`)."""
    kind, _, rule = metric.partition(":")
    return rule if kind in ("rule", "turns") and rule else None


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else value


class ScorerAgreement(BaseModel):
    """One rule's scorer against people's labels: Cohen's kappa with its 95% interval."""

    rule: str
    labels: str = Field(description="the label set")
    n: int = Field(description="labelled transcripts compared")
    kappa: float | None
    kappa_low: float | None
    kappa_high: float | None

    @classmethod
    def of(cls, agreement: RuleAgreement, labels: Path) -> ScorerAgreement:
        k = agreement.stats.kappa
        return cls(
            rule=agreement.rule,
            labels=str(labels),
            n=agreement.cases,
            kappa=_finite(k.value),
            kappa_low=_finite(k.low),
            kappa_high=_finite(k.high),
        )

    def short(self) -> str:
        """`kappa 0.82 [0.60, 0.95], n=40`."""
        if self.kappa is None:
            kappa = "kappa -"
        elif self.kappa_low is None or self.kappa_high is None:
            kappa = f"kappa {self.kappa:.2f}"
        else:
            kappa = f"kappa {self.kappa:.2f} [{self.kappa_low:.2f}, {self.kappa_high:.2f}]"
        return f"{kappa}, n={self.n}"

    def text(self) -> str:
        return f"scorer vs labels: {self.short()}"


@dataclass(frozen=True)
class RunLabels:
    """A validation against a label set, and how much of the set it used."""

    labelled: int
    report: ValidationReport

    @property
    def matched(self) -> int:
        return len(self.report.reference.cases)

    @property
    def validation(self) -> Validation:
        return self.report.deterministic

    def by_rule(self) -> dict[str, ScorerAgreement]:
        source = self.report.reference.source
        return {a.rule: ScorerAgreement.of(a, source) for a in self.validation.rules}


def run_labels(path: Path, runs: Sequence[RunData], labeller: str | None = None) -> RunLabels:
    """The runs' score records against the labels of their own interviews. Interview ids repeat
    across runs of one suite, so a label that records its run (`sdi label` does) matches that
    run only; one that does not (a golden folder) matches the first run holding the id."""
    reference = load_reference(path, labeller)
    records: dict[tuple[str | None, str], ScoreRecord] = {}
    for run in reversed(runs):  # the first run holding an id wins the run-less key
        for r in run.scores or []:
            records[(run.manifest.run_id, r.interview_id)] = r
            records[(None, r.interview_id)] = r
    labelled_in = reference.runs or [None] * len(reference.cases)
    keys = [
        (run, c.transcript.interview_id)
        for run, c in zip(labelled_in, reference.cases, strict=True)
    ]
    keep = [i for i, key in enumerate(keys) if key in records]
    if not keep:
        raise InputError(
            path,
            None,
            f"none of its {len(reference.cases)} labelled interview(s) is in these runs",
        )
    subset = Reference(
        source=reference.source,
        cases=[reference.cases[i] for i in keep],
        strata=[reference.strata[i] for i in keep],
        weights=None if reference.weights is None else [reference.weights[i] for i in keep],
        labeller=reference.labeller,
        partial=reference.partial,
        runs=[labelled_in[i] for i in keep],
    )
    mine = [records[keys[i]] for i in keep]
    weights = dict(weights=subset.weights, strata=subset.strata)
    validation = compare(subset.cases, mine, scorer="the run's scorers", **weights)  # type: ignore[arg-type]
    return RunLabels(len(reference.cases), ValidationReport(subset, mine, validation))


def label_set_agreement(path: Path, labeller: str | None = None) -> dict[str, ScorerAgreement]:
    """Each rule's deterministic scorer against the whole label set (scored afresh)."""
    from harness.scoring.validate import validate_reference

    reference = load_reference(path, labeller)
    report = asyncio.run(validate_reference(reference))
    return RunLabels(len(reference.cases), report).by_rule()


def with_scorer_agreement(
    comparison: Comparison, agreement: dict[str, ScorerAgreement]
) -> Comparison:
    """The comparison with each rule metric carrying its scorer's agreement with the labels
    (`sdi compare` and `sdi gate` both show it beside the verdict)."""

    def annotated(m: MetricComparison) -> MetricComparison:
        return m.model_copy(update={"scorer_agreement": agreement.get(rule_of(m.metric) or "")})

    contrasts = [
        c.model_copy(update={"metrics": [annotated(m) for m in c.metrics]})
        for c in comparison.contrasts
    ]
    return comparison.model_copy(update={"contrasts": contrasts})
