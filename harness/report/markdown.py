"""The report's headline figures as markdown, for a pull-request comment.

The comparison and gate tables are the ones `sdi compare --format md` and `sdi gate` write
(`harness.stats.render`, `gate_markdown`), so a reviewer sees the same figures everywhere.
Text that comes from runs (ids, models) is escaped so it cannot become markup in the comment.
"""

from __future__ import annotations

from harness.report.data import ReportData
from harness.report.html import interval_pct
from harness.stats.consistency import RuleConsistency
from harness.stats.gate import gate_markdown
from harness.stats.render import (
    SYNTHETIC_LABEL,
    Section,
    comparison_sections,
    interval,
    num,
    pct,
    to_markdown,
)

# Angle brackets and pipes are left to `to_markdown`, which writes them as entities and \|.
MD_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]#~"})


def md_text(text: str) -> str:
    """Untrusted text as literal markdown: emphasis, code and link characters backslash-escaped,
    one line."""
    return " ".join(text.translate(MD_SPECIAL).split())


def _header(data: ReportData) -> Section:
    lines = [
        f"run {md_text(r.run_id)}: suite {md_text(r.suite_name)}, {r.interviews} interviews, "
        f"interviewer {md_text(r.interviewer)}, candidate {md_text(r.candidate)}"
        + (" (SYNTHETIC)" if r.synthetic else "")
        for r in data.runs
    ]
    if data.synthetic:
        lines.insert(0, f"**{SYNTHETIC_LABEL}**")
    return Section(
        md_text(data.title), lines=lines, notes=[md_text(n) for n in data.headline_notes]
    )


def _adherence(data: ReportData) -> Section:
    return Section(
        "Adherence per rule (interviews passing where the rule applied, Wilson 95%)",
        headers=["rule", *(md_text(a) for a in data.arms)],
        rows=[
            [
                rule,
                *(_rate_cell(data, rule, arm) for arm in data.arms),
            ]
            for rule in data.rules
        ],
    )


def _rate_cell(data: ReportData, rule: str, arm: str) -> str:
    point = data.adherence_point(rule, arm)
    if point is None or point.rate.estimate is None:
        return "n/a"
    failed = f", {point.failed_interviews} failed" if point.failed_interviews else ""
    return f"{interval_pct(point.rate)} ({point.passed}/{point.applicable}{failed})"


def _consistency(data: ReportData) -> Section:
    return Section(
        "Score consistency and validity",
        headers=[
            "version",
            "scored",
            "ICC(A,1) [95%]",
            "Krippendorff alpha",
            "in band [95%]",
            "Spearman level",
            "pass^k of the least reliable rule",
        ],
        rows=[
            [
                md_text(c.arm),
                f"{c.figures.scored}/{c.figures.interviews}",
                f"{interval(c.figures.agreement.icc2)} ({c.figures.agreement.icc_band})",
                f"{num(c.figures.agreement.krippendorff_alpha, 3)}",
                interval_pct(c.figures.validity.in_band),
                num(c.figures.validity.level_spearman.statistic),
                _least_reliable(c.figures.rules),
            ]
            for c in data.consistency
        ],
    )


def _least_reliable(rules: list[RuleConsistency]) -> str:
    curves = [(r.curve[-1].value, r.curve[-1].k, r.rule) for r in rules if r.curve]
    if not curves:
        return "-"
    value, k, rule = min(curves)
    return f"{rule}: pass^{k} {pct(value)}"


def _usage(data: ReportData) -> Section:
    return Section(
        "Tokens and cost",
        headers=["version", "interviews", "input", "cache read", "cache write", "output", "cost"],
        rows=[
            [
                md_text(u.arm),
                str(u.interviews),
                f"{u.usage.input_tokens:,}",
                f"{u.usage.cache_read_input_tokens:,}",
                f"{u.usage.cache_creation_input_tokens:,}",
                f"{u.usage.output_tokens:,}",
                f"${u.cost_usd:.4f}",
            ]
            for u in data.usage
        ],
    )


def _labels(data: ReportData) -> Section | None:
    lab = data.labels
    if lab is None:
        return None
    return Section(
        "Scorers against people's labels",
        lines=[
            f"{md_text(lab.source)}: {lab.matched} of {lab.labelled} labelled interview(s) in "
            f"these runs; {md_text(lab.final_score)}; {len(lab.gallery)} disagreement(s), shown "
            "in the HTML report"
        ],
        headers=lab.headers,
        rows=[[md_text(c) for c in row] for row in lab.rows],
    )


def render_markdown(data: ReportData) -> str:
    parts = [to_markdown([_header(data)])]
    if data.gates is not None:
        parts.append(gate_markdown(data.gates))
    elif data.comparison is not None:
        parts.append(to_markdown(comparison_sections(data.comparison)))
    parts += [
        to_markdown([s], level=3)
        for s in (_adherence(data), _consistency(data), _usage(data), _labels(data))
        if s is not None
    ]
    return "\n".join(p.rstrip("\n") + "\n" for p in parts)
