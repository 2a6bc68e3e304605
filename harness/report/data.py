"""The report's view model: what the HTML and markdown renderers show, gathered from scored runs.

Statistics (intervals, ICC, alpha, pass^k, verdicts, gates) come from `harness.stats` as they
are; this module only gathers them next to the raw material a reader drills into (interviews,
score counts, token sums) and labels every prompt version the way the statistics do.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field

from harness.backends.base import Usage
from harness.contracts import (
    RULE_IDS,
    BadLine,
    Transcript,
    Turn,
    Verdict,
    iter_transcripts,
    scored_rules,
)
from harness.errors import InputError
from harness.report.pack import Packer, turns_entry
from harness.scoring.gallery import GalleryItem, gallery_items
from harness.scoring.rubrics import load_rubrics
from harness.scoring.run_labels import RunLabels
from harness.stats.compare import ArmValue, Comparison, compare_runs
from harness.stats.consistency import VersionConsistency, consistency_report
from harness.stats.gate import GateConfig, GateReport, evaluate_gates
from harness.stats.measures import Interval
from harness.stats.tables import arm_labels
from harness.store.rundata import RunData
from harness.store.runs import TRANSCRIPTS

ArmOf = dict[tuple[str, str], str]


class RunSummary(BaseModel):
    run_id: str
    suite_name: str
    status: str
    started_at: str
    ended_at: str | None
    interviewer: str = Field(description="backend / model")
    candidate: str = Field(description="backend / model")
    synthetic: bool
    interviews: int
    harness_version: str
    git_commit: str | None


class PersonaView(BaseModel):
    id: str
    level: str | None
    problem: str | None
    band: tuple[float, float] | None


class Violation(BaseModel):
    """A broken rule at one turn, with why: the quote, the scorer's reason, and for a rule
    whose chances come from the candidate (a decision, a gloss...) the turn that gave it."""

    rule: str
    turn: int
    evidence: str
    note: str | None = Field(default=None, description="the scorer's reason (its `note`)")
    opened_at: int | None = Field(
        default=None, description="the candidate turn whose annotation gave the rule a chance"
    )


class InterviewView(BaseModel):
    """One interview as the transcript viewer shows it."""

    key: str = Field(description="unique in the report: the interview id, or run/id on clashes")
    interview_id: str
    run_id: str
    arm: str
    persona: str
    sample_index: int
    problem: str | None
    final_score: float | None
    synthetic: bool
    end_reason: str | None
    verdicts: dict[str, Verdict]
    turn_count: int
    chunk: int = Field(description="which packed chunk of ReportData.chunks holds its text")
    violations: list[Violation]


class AdherencePoint(BaseModel):
    """One rule's adherence under one prompt version, as the statistics layer states it."""

    rule: str
    arm: str
    rate: Interval
    passed: int | None
    applicable: int | None
    failed_interviews: int = Field(description="interviews with verdict fail: the link target")


class ScoreCell(BaseModel):
    """The final scores one persona got under one prompt version, counted per value."""

    persona: str
    arm: str
    counts: list[tuple[float, int]]
    unscored: int
    mean: float | None = Field(description="from the consistency report")


class UsageRow(BaseModel):
    arm: str
    interviews: int
    usage: Usage
    cost_usd: float


class ArmConsistency(BaseModel):
    """A version's consistency figures, labelled with the report-wide arm name."""

    arm: str
    run_id: str
    figures: VersionConsistency


ChangeKind = Literal["kept", "broken", "fixed", "both"]
CHANGE_KINDS: tuple[ChangeKind, ...] = ("broken", "fixed", "both", "kept")


class ChangeCell(BaseModel):
    """One rule under one persona across the pairs (same persona and sample) of a contrast:
    how many pairs kept it in both versions, broke it only in the candidate, fixed it in the
    candidate, or broke it in both; with the first pair of each kind for the paired view."""

    rule: str
    persona: str
    counts: dict[ChangeKind, int]
    first: dict[ChangeKind, tuple[str, str]] = Field(
        description="kind -> (baseline interview key, candidate interview key)"
    )


class ContrastChanges(BaseModel):
    baseline: str
    candidate: str
    pairs: int
    cells: list[ChangeCell]

    def cell(self, rule: str, persona: str) -> ChangeCell | None:
        return next((c for c in self.cells if c.rule == rule and c.persona == persona), None)


class LabelsSection(BaseModel):
    """`sdi report --labels`: the run's scorers against people's labels of its interviews."""

    source: str
    labeller: str | None
    labelled: int = Field(description="complete transcripts in the label set")
    matched: int = Field(description="of them, interviews in these runs (the rest are ignored)")
    weighted: bool
    headers: list[str]
    rows: list[list[str]] = Field(description="per rule: precision, recall, F1, kappa [95%]")
    final_score: str
    gallery: list[GalleryItem] = Field(description="every (interview, rule) in disagreement")


def labels_section(labels: RunLabels) -> LabelsSection:
    from harness.scoring.validate import agreement_table

    reference, validation = labels.report.reference, labels.validation
    table = agreement_table(validation).reset_index()
    s = validation.final_score
    low, high = s.exact_interval
    interval = "" if math.isnan(low) else f" [{low:.2f}, {high:.2f}]"
    return LabelsSection(
        source=str(reference.source),
        labeller=reference.labeller,
        labelled=labels.labelled,
        matched=labels.matched,
        weighted=validation.weighted,
        headers=[str(h) for h in table.columns],
        rows=[[str(v) for v in row] for row in table.itertuples(index=False)],
        final_score=f"{s.exact}/{s.cases} final scores exact{interval}",
        gallery=gallery_items(
            reference.cases, [(validation.scorer, labels.report.deterministic_records, None)]
        ),
    )


class ReportData(BaseModel):
    title: str
    generated_at: str
    runs: list[RunSummary]
    synthetic: bool
    arms: list[str]
    personas: list[PersonaView]
    rules: list[str] = Field(default_factory=lambda: list(RULE_IDS))
    rule_fails: dict[str, str] = Field(
        default_factory=dict, description="rule -> when it fails, from its rubric (the why)"
    )
    adherence: list[AdherencePoint]
    scores: list[ScoreCell]
    consistency: list[ArmConsistency]
    usage: list[UsageRow]
    interviews: list[InterviewView]
    chunks: list[str] = Field(description="every interview's turns and violations, packed")
    comparison: Comparison | None = Field(description="None with a single prompt version")
    gates: GateReport | None = Field(description="None without a gate config or a single pair")
    changes: list[ContrastChanges] = Field(
        default_factory=list, description="per contrast: the change matrix of paired interviews"
    )
    headline_notes: list[str] = Field(
        default_factory=list, description="why a comparison or the gates are missing"
    )
    labels: LabelsSection | None = Field(default=None, description="with --labels only")

    def adherence_point(self, rule: str, arm: str) -> AdherencePoint | None:
        return next((p for p in self.adherence if p.rule == rule and p.arm == arm), None)

    def weakest_rules(self, arm: str, n: int) -> list[AdherencePoint]:
        """Up to n rules this version broke, least kept first (by the stated rate)."""
        rated = [
            p
            for p in self.adherence
            if p.arm == arm and p.rate.estimate is not None and p.failed_interviews
        ]
        return sorted(rated, key=lambda p: (p.rate.estimate, p.rule))[:n]

    def interview_count(
        self,
        arm: str | None = None,
        persona: str | None = None,
        rule: str | None = None,
        verdict: Verdict | None = None,
    ) -> int:
        """How many interviews a viewer filter shows (the same rule as the page's script)."""
        return sum(
            1
            for i in self.interviews
            if matches(i, arm=arm, persona=persona, rule=rule, verdict=verdict)
        )


def matches(
    interview: InterviewView,
    *,
    arm: str | None = None,
    persona: str | None = None,
    rule: str | None = None,
    verdict: Verdict | None = None,
) -> bool:
    """The viewer's filter. With no rule, `fail` means some rule failed, `pass` that none did,
    and `n/a` that some rule had no chance to apply."""
    if arm is not None and interview.arm != arm:
        return False
    if persona is not None and interview.persona != persona:
        return False
    verdicts = interview.verdicts
    if rule is not None:
        return verdict is None or verdicts.get(rule) == verdict
    if verdict == "pass":
        return "fail" not in verdicts.values()
    return verdict is None or verdict in verdicts.values()


def _role(settings: object) -> str:
    return f"{getattr(settings, 'backend', '?')} / {getattr(settings, 'model', '?')}"


def run_summary(run: RunData) -> RunSummary:
    m = run.manifest
    return RunSummary(
        run_id=m.run_id,
        suite_name=m.suite_name,
        status=m.status,
        started_at=m.started_at,
        ended_at=m.ended_at,
        interviewer=_role(m.interviewer),
        candidate=_role(m.candidate),
        synthetic=m.synthetic,
        interviews=len(run.transcripts),
        harness_version=m.harness_version,
        git_commit=m.git_commit,
    )


def personas_of(runs: list[RunData]) -> list[PersonaView]:
    """Every persona that appears, ordered by level then id, with its expected band."""
    meta: dict[str, dict[str, object]] = {}
    for run in runs:
        for t in run.transcripts:
            meta.setdefault(t.persona, run.manifest.personas_meta.get(t.persona, {}))
    order = {"junior": 0, "mid": 1, "senior": 2, "staff": 3}
    views = []
    for pid, info in meta.items():
        band = info.get("expected_band")
        views.append(
            PersonaView(
                id=pid,
                level=str(info["level"]) if info.get("level") else None,
                problem=str(info["problem"]) if info.get("problem") else None,
                band=(float(band[0]), float(band[1])) if isinstance(band, list | tuple) else None,
            )
        )
    return sorted(views, key=lambda p: (order.get(p.level or "", 9), p.id))


def arm_of_transcripts(runs: list[RunData]) -> ArmOf:
    """(run id, prompt version) -> the arm label the statistics use for it."""
    labels = arm_labels(runs)
    for run in runs:
        for t in run.transcripts:
            key = (run.manifest.run_id, t.prompt_version)
            labels.setdefault(key, t.prompt_version)
    return labels


def opened_by() -> dict[str, frozenset[str]]:
    """Rule -> the annotation kinds that give it its chances, from the rubrics."""
    return {rule: frozenset({r.opened_by}) for rule, r in load_rubrics().items() if r.opened_by}


def _opening_turn(turns: list[Turn], before: int, kinds: frozenset[str]) -> int | None:
    """The last candidate turn before `before` with an annotation of one of `kinds`."""
    for k in range(min(before, len(turns)) - 1, -1, -1):
        t = turns[k]
        if t.role == "candidate" and any(a.kind in kinds for a in t.annotations):
            return k
    return None


TextSource = Callable[[RunData], Iterable[Transcript]]


def in_memory(run: RunData) -> Iterable[Transcript]:
    """The run's transcripts as loaded, turns included."""
    return run.transcripts


def from_file(run: RunData) -> Iterator[Transcript]:
    """The run's transcripts read again from its folder one at a time, for a run loaded
    without its turns (`load_run(..., turns=False)`)."""
    for item in iter_transcripts(run.run_dir / TRANSCRIPTS):
        if isinstance(item, BadLine):
            raise InputError(item.path, item.field, item.error)
        yield item


def interview_views(
    runs: list[RunData], arm_of: ArmOf, rules: list[str], packer: Packer, texts: TextSource
) -> list[InterviewView]:
    """Transcripts joined with their scores; violations point at the turns they name, with
    the scorer's reason and, for rules opened by the candidate, the turn that opened them.
    Each interview's turns and violations go to the packer as they are read, so the views
    hold no transcript text."""
    ids = Counter(t.interview_id for run in runs for t in run.transcripts)
    openers = opened_by()
    rule_index = {r: n for n, r in enumerate(rules)}
    out: list[InterviewView] = []
    for run in runs:
        run_id = run.manifest.run_id
        scores = {s.interview_id: s for s in run.scores or []}
        for t in texts(run):
            record = scores.get(t.interview_id)
            violations: list[Violation] = []
            verdicts: dict[str, Verdict] = {}
            results = record.rules if record else {}
            for rule in (r for r in results if r in rule_index):
                result = results[rule]
                verdicts[rule] = result.verdict
                quotes = [*result.evidence, *[""] * len(result.turns)]
                note = getattr(result, "note", None)
                kinds = openers.get(rule)
                violations.extend(
                    Violation(
                        rule=rule,
                        turn=turn,
                        evidence=quote,
                        note=str(note) if note else None,
                        opened_at=_opening_turn(t.turns, turn, kinds) if kinds else None,
                    )
                    for turn, quote in zip(result.turns, quotes, strict=False)
                    if 0 <= turn < len(t.turns)
                )
            violations.sort(key=lambda v: (v.turn, v.rule))
            packed = [
                [rule_index[v.rule], v.turn, v.evidence, v.note, v.opened_at] for v in violations
            ]
            chunk = packer.add([turns_entry(t), packed])
            out.append(
                InterviewView(
                    key=t.interview_id
                    if ids[t.interview_id] == 1
                    else f"{run_id}/{t.interview_id}",
                    interview_id=t.interview_id,
                    run_id=run_id,
                    arm=arm_of[(run_id, t.prompt_version)],
                    persona=t.persona,
                    sample_index=int(t.meta.get("sample_index", 0)),
                    problem=t.problem,
                    final_score=record.final_score if record else None,
                    synthetic=bool(t.meta.get("synthetic", run.manifest.synthetic)),
                    end_reason=str(t.meta["end_reason"]) if "end_reason" in t.meta else None,
                    verdicts=verdicts,
                    turn_count=len(t.turns),
                    chunk=chunk,
                    violations=violations,
                )
            )
    return out


def consistency_by_arm(runs: list[RunData], arm_of: ArmOf) -> list[ArmConsistency]:
    return [
        ArmConsistency(
            arm=arm_of[(run.manifest.run_id, version.prompt_version)],
            run_id=run.manifest.run_id,
            figures=version,
        )
        for run in runs
        for version in consistency_report(run).versions
    ]


def _as_interval(value: ArmValue) -> Interval:
    return Interval(estimate=value.value, low=value.low, high=value.high)


def adherence_points(
    comparison: Comparison | None,
    consistency: list[ArmConsistency],
    interviews: list[InterviewView],
) -> list[AdherencePoint]:
    """Per-rule pass rates per version (Wilson 95%, per interview where the rule applied): from
    the comparison when there is one, else from the consistency report."""
    failed = Counter(
        (i.arm, rule) for i in interviews for rule, v in i.verdicts.items() if v == "fail"
    )
    rates: dict[tuple[str, str], tuple[Interval, int | None, int | None]] = {}
    if comparison is not None:
        for contrast in comparison.contrasts:
            for m in contrast.metrics:
                rule = m.metric.removeprefix("rule:")
                if rule == m.metric:
                    continue
                for arm, value in (
                    (contrast.baseline, m.baseline),
                    (contrast.candidate, m.candidate),
                ):
                    count = None if value.count is None else int(value.count)
                    n = None if value.n is None else int(value.n)
                    rates[(rule, arm)] = (_as_interval(value), count, n)
    else:
        for c in consistency:
            for r in c.figures.rules:
                rates[(r.rule, c.arm)] = (r.pass_rate, r.passed, r.applicable)
    return [
        AdherencePoint(
            rule=rule,
            arm=arm,
            rate=rate,
            passed=passed,
            applicable=applicable,
            failed_interviews=failed[(arm, rule)],
        )
        for (rule, arm), (rate, passed, applicable) in rates.items()
    ]


def score_cells(
    interviews: list[InterviewView], consistency: list[ArmConsistency]
) -> list[ScoreCell]:
    means = {(c.arm, p.persona): p.mean for c in consistency for p in c.figures.personas}
    groups: dict[tuple[str, str], list[float | None]] = {}
    for i in interviews:
        groups.setdefault((i.persona, i.arm), []).append(i.final_score)
    return [
        ScoreCell(
            persona=persona,
            arm=arm,
            counts=sorted(Counter(s for s in scores if s is not None).items()),
            unscored=sum(s is None for s in scores),
            mean=means.get((arm, persona)),
        )
        for (persona, arm), scores in groups.items()
    ]


def usage_rows(runs: list[RunData], arm_of: ArmOf, arms: list[str]) -> list[UsageRow]:
    """Token and cost sums per version, from what each interview recorded in its meta."""
    usage = {arm: Usage() for arm in arms}
    cost = dict.fromkeys(arms, 0.0)
    count = Counter[str]()
    for run in runs:
        for t in run.transcripts:
            arm = arm_of[(run.manifest.run_id, t.prompt_version)]
            usage[arm] = usage[arm] + Usage.model_validate(t.meta.get("usage") or {})
            cost[arm] += float(t.meta.get("cost_usd") or 0.0)
            count[arm] += 1
    return [UsageRow(arm=a, interviews=count[a], usage=usage[a], cost_usd=cost[a]) for a in arms]


def change_matrix(
    baseline: str, candidate: str, interviews: list[InterviewView], rules: list[str]
) -> ContrastChanges:
    """Per rule and persona, how the verdicts of paired interviews (same persona and sample
    index, as the paired statistics match them) moved from the baseline to the candidate."""
    by_pair = {(i.arm, i.persona, i.sample_index): i for i in interviews}
    pairs = [
        (i, by_pair[(candidate, i.persona, i.sample_index)])
        for i in interviews
        if i.arm == baseline and (candidate, i.persona, i.sample_index) in by_pair
    ]
    cells: dict[tuple[str, str], ChangeCell] = {}
    for a, b in pairs:
        for rule in rules:
            before, after = a.verdicts.get(rule), b.verdicts.get(rule)
            if before not in ("pass", "fail") or after not in ("pass", "fail"):
                continue
            kind: ChangeKind = (
                ("kept" if after == "pass" else "broken")
                if before == "pass"
                else ("fixed" if after == "pass" else "both")
            )
            cell = cells.setdefault(
                (rule, a.persona),
                ChangeCell(
                    rule=rule, persona=a.persona, counts=dict.fromkeys(CHANGE_KINDS, 0), first={}
                ),
            )
            cell.counts[kind] += 1
            cell.first.setdefault(kind, (a.key, b.key))
    return ContrastChanges(
        baseline=baseline, candidate=candidate, pairs=len(pairs), cells=list(cells.values())
    )


NEEDS_TWO = (
    "One prompt version ({arm}): a comparison needs two. Run a suite with two prompt versions, "
    "or pass two runs to sdi report."
)


def gather(
    runs: list[RunData],
    *,
    gate_config: GateConfig | None = None,
    allow_drift: bool = False,
    title: str | None = None,
    texts: TextSource = in_memory,
) -> ReportData:
    """Everything the report shows, from scored runs. With two or more prompt versions it
    compares them as `sdi compare` does (with the gate config's margins, draws and seed when one
    is given, as `sdi gate` does) and, for exactly one pair, applies the gates."""
    if not any(run.transcripts for run in runs):
        where = runs[0].run_dir / TRANSCRIPTS if runs else None
        raise InputError(where, None, "no interviews to report")
    arm_of = arm_of_transcripts(runs)
    rules = list(scored_rules(s for run in runs for s in run.scores or [])) or list(RULE_IDS)
    packer = Packer()
    interviews = interview_views(runs, arm_of, rules, packer, texts)
    arms = list(dict.fromkeys(i.arm for i in interviews))
    consistency = consistency_by_arm(runs, arm_of)
    comparison = None
    gates = None
    notes: list[str] = []
    if len(arms) >= 2:
        comparison = compare_runs(
            runs,
            allow_drift=allow_drift,
            margins=gate_config.regression_margins() if gate_config else None,
            n_boot=gate_config.n_boot if gate_config else 2000,
            seed=gate_config.seed if gate_config else 0,
        )
        if gate_config is not None and len(comparison.contrasts) == 1:
            gates = evaluate_gates(comparison, gate_config)
        elif gate_config is not None:
            notes.append(
                f"Gates not applied: they judge one candidate against one baseline, and this "
                f"report has {len(arms)} versions."
            )
    else:
        notes.append(NEEDS_TWO.format(arm=arms[0]))
    summaries = [run_summary(r) for r in runs]
    return ReportData(
        title=title or f"Interviewer report: {', '.join(s.run_id for s in summaries)}",
        generated_at=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        runs=summaries,
        synthetic=any(s.synthetic for s in summaries),
        arms=arms,
        rules=rules,
        rule_fails={rule: r.definition.fails for rule, r in load_rubrics().items()},
        personas=personas_of(runs),
        adherence=adherence_points(comparison, consistency, interviews),
        scores=score_cells(interviews, consistency),
        consistency=consistency,
        usage=usage_rows(runs, arm_of, arms),
        interviews=interviews,
        chunks=packer.finish(),
        comparison=comparison,
        gates=gates,
        changes=[
            change_matrix(c.baseline, c.candidate, interviews, rules)
            for c in (comparison.contrasts if comparison else [])
        ],
        headline_notes=notes,
    )
