"""The disagreement gallery: every (transcript, rule) where a scorer and the label differ, with
the turns in question, each scorer's verdict and reason, and the label, as one self-contained
HTML page (`sdi validate-scorers --gallery FILE`).

Transcript text and model reasons are untrusted: the page is rendered by jinja2 with
autoescape, carries no script at all, and its Content-Security-Policy forbids scripts and any
network load.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from harness.contracts import RuleResult, ScoreRecord
from harness.scoring.golden import GoldenCase
from harness.scoring.score import DETERMINISTIC
from harness.scoring.validate import ValidationReport
from harness.store.runs import write_json_atomic

CONTEXT_BEFORE = 1  # the candidate turn before each turn in question, for context


@dataclass(frozen=True)
class Verdict:
    who: str
    verdict: str
    turns: list[int]
    evidence: list[str]
    reason: str
    agrees: bool


@dataclass(frozen=True)
class GalleryTurn:
    index: int
    role: str
    text: str
    elapsed_s: float
    flagged_by: list[str]


@dataclass(frozen=True)
class GalleryItem:
    case: str
    rule: str
    label: Verdict
    verdicts: list[Verdict]
    turns: list[GalleryTurn] = field(default_factory=list)


def _verdict(who: str, result: RuleResult, label: RuleResult | None) -> Verdict:
    reason = str(getattr(result, "reason", "") or "")
    agrees = label is None or (
        result.verdict == label.verdict
        and (result.verdict != "fail" or sorted(result.turns) == sorted(label.turns))
    )
    return Verdict(who, result.verdict, list(result.turns), list(result.evidence), reason, agrees)


def _made_by(record: ScoreRecord, rule: str, judged: bool | None) -> bool:
    """Whether this record's verdict on the rule is the scorer's own: the judge's records keep
    deterministic verdicts where the judge was not asked (or failed). `judged` None: a run's
    own records, every verdict whoever gave it."""
    if judged is None:
        return True
    who = getattr(record, "scorers", {}).get(rule, DETERMINISTIC)
    return who != DETERMINISTIC if judged else who == DETERMINISTIC


def gallery_items(
    cases: Sequence[GoldenCase], scored: Sequence[tuple[str, Sequence[ScoreRecord], bool | None]]
) -> list[GalleryItem]:
    """One item per (case, rule) where at least one scorer disagrees with the label (verdict,
    or turns of a fail); every scorer's verdict is shown, agreeing or not. `scored`: (name,
    records in case order, whether they are the judge's; None for a run's mixed records)."""
    items: list[GalleryItem] = []
    for i, case in enumerate(cases):
        for rule, label in case.labels.rules.items():
            verdicts = [
                _verdict(who, records[i].rules[rule], label)
                for who, records, judged in scored
                if rule in records[i].rules and _made_by(records[i], rule, judged)
            ]
            if all(v.agrees for v in verdicts):
                continue
            flagged: dict[int, list[str]] = {}
            for v in [_verdict("label", label, None), *verdicts]:
                for t in v.turns:
                    flagged.setdefault(t, []).append(v.who)
            shown = sorted(
                {j for t in flagged for j in range(max(0, t - CONTEXT_BEFORE), t + 1)}
                & set(range(len(case.transcript.turns)))
            )
            turns = [
                GalleryTurn(
                    j,
                    case.transcript.turns[j].role,
                    case.transcript.turns[j].text,
                    case.transcript.turns[j].elapsed_s,
                    flagged.get(j, []),
                )
                for j in shown
            ]
            items.append(
                GalleryItem(
                    case.transcript.interview_id,
                    rule,
                    _verdict("label", label, None),
                    verdicts,
                    turns,
                )
            )
    return items


def report_items(report: ValidationReport) -> list[GalleryItem]:
    """The gallery of a validation: the deterministic scorers', and the judge's beside them."""
    scored: list[tuple[str, Sequence[ScoreRecord], bool | None]] = [
        (report.deterministic.scorer, report.deterministic_records, False)
    ]
    if report.judged is not None and report.judged_records is not None:
        scored.append((report.judged.scorer, report.judged_records, True))
    return gallery_items(report.reference.cases, scored)


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("harness.scoring", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def gallery_html(items: Sequence[GalleryItem]) -> Markup:
    """The items alone, escaped, for a page that has its own head (the HTML report)."""
    return Markup(_environment().get_template("gallery_items.html.j2").render(items=items))


def render_gallery(report: ValidationReport) -> str:
    return (
        _environment()
        .get_template("gallery.html.j2")
        .render(
            items=report_items(report),
            source=str(report.reference.source),
            cases=len(report.reference.cases),
        )
    )


def write_gallery(report: ValidationReport, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out, render_gallery(report))
    return out
