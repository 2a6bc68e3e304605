"""Consistency and comparison reports as terminal tables (rich) or markdown (PRs, docs).

A report becomes a list of `Section`s (a title, lines of prose, and at most one table); the
two writers only lay them out, so the text and markdown forms always say the same thing. The
terminal writer fits the table to the terminal's width: it leaves out columns in the section's
`drop_order` (least useful first) and wraps the rest; a column named in no drop order, such as
the verdict, is always shown.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from harness.stats.compare import Comparison, Contrast, MetricComparison, decision_text
from harness.stats.consistency import ConsistencyReport, VersionConsistency
from harness.stats.measures import Interval
from harness.stats.power import MetricPlan, RatePlan

if TYPE_CHECKING:
    from rich.table import Table

SYNTHETIC_LABEL = "SYNTHETIC backend: offline stand-in, not model output"
STAND_IN_NOTE = (
    "Verdicts on the synthetic stand-in test the harness, not the prompt: it reads phrases in "
    "the prompt, not their meaning (a reworded rule reads as deleted; a contrary instruction "
    "that keeps the phrase is missed)."
)


@dataclass
class Section:
    title: str
    lines: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    drop_order: list[str] = field(default_factory=list)
    """Headers the terminal may leave out when the table is too wide, least useful first."""


# Terminal colours of the words that carry a decision (verdicts, gate and rule statuses).
VERDICT_STYLES = {
    "improved": "bold green",
    "regressed": "bold red",
    "changed": "magenta",
    "no change": "cyan",
    "inconclusive": "yellow",
    "not tested": "dim",
    "pass": "green",
    "fail": "bold red",
    "warn": "yellow",
}
DEFAULT_WIDTH = 100  # a terminal whose size cannot be read
UNBOUNDED = 100_000  # output to a pipe or file: lines as long as they are


def num(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def pval(value: float | None) -> str:
    if value is None:
        return "-"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def interval(iv: Interval, digits: int = 2) -> str:
    return iv.text(digits)


def _table(s: Section, keep: list[int]) -> Table:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for i in keep:
        verdictish = any(r[i] in VERDICT_STYLES for r in s.rows)
        table.add_column(s.headers[i], overflow="fold", no_wrap=verdictish)
    for row in s.rows:
        table.add_row(*(Text(row[i], style=VERDICT_STYLES.get(row[i], "")) for i in keep))
    return table


def _natural_width(s: Section, keep: list[int]) -> int:
    """Width of the table with no cell wrapped: widest cell per column, two spaces between."""
    from rich.cells import cell_len

    widths = [max(cell_len(s.headers[i]), *(cell_len(r[i]) for r in s.rows)) for i in keep]
    return sum(widths) + 2 * (len(widths) - 1)


def _fitted(s: Section, width: int) -> tuple[Table, list[str]]:
    """The section's table without as few droppable columns as it takes to fit `width`."""
    keep = list(range(len(s.headers)))
    dropped: list[str] = []
    droppable = [h for h in s.drop_order if h in s.headers]
    while droppable and _natural_width(s, keep) > width:
        header = droppable.pop(0)
        keep.remove(s.headers.index(header))
        dropped.append(header)
    return _table(s, keep), dropped


def terminal_width() -> int | None:
    """Columns to fit: the terminal's (or $COLUMNS); None when output goes to a pipe or a file,
    which get every column and unwrapped lines (for grep)."""
    if os.environ.get("COLUMNS") or sys.stdout.isatty():
        return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return None


def to_text(sections: list[Section], width: int | None = None, colour: bool = False) -> str:
    """Sections laid out for a terminal `width` columns wide, with coloured verdicts when
    `colour`; no line is wider than `width`. Without a width nothing is wrapped or left out."""
    from rich.cells import cell_len
    from rich.console import Console
    from rich.text import Text

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width or UNBOUNDED,
        force_terminal=colour,
        no_color=not colour,
        color_system="standard" if colour else None,
        highlight=False,
        emoji=False,
    )
    for i, s in enumerate(sections):
        if i:
            console.print()
        console.print(Text(s.title, style="bold"))
        console.print(Text(("=" if i == 0 else "-") * min(cell_len(s.title), console.width)))
        for line in s.lines:
            console.print(Text(line))
        if s.rows:
            table, dropped = _fitted(s, console.width)
            console.print(table)
            if dropped:
                left_out = f"  ({', '.join(dropped)} left out to fit {console.width} columns; "
                console.print(Text(left_out + "--format md shows every column)", style="dim"))
        for note in s.notes:
            console.print(Text(f"  {note}"))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


_LINK_SYNTAX = str.maketrans({"[": "\\[", "]": "\\]"})


def _inert(text: str) -> str:
    """Ids and names come from runs: angle brackets as entities, so a pull-request comment
    never renders them as HTML, and square brackets escaped, so `[x](javascript:...)` or an
    image from a persona id is shown as text, never made a link."""
    text = text.replace("\\[", "[").replace("\\]", "]")  # escaped already (md_text): once
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.translate(_LINK_SYNTAX)


def _cell(text: str) -> str:
    return _inert(text).replace("|", "\\|").replace("\n", " ")


def to_markdown(sections: list[Section], level: int = 2) -> str:
    out: list[str] = []
    for i, s in enumerate(sections):
        out += [f"{'#' * (level if i == 0 else level + 1)} {_inert(s.title)}", ""]
        if s.lines:
            out += [f"{_inert(line)}  " for line in s.lines] + [""]
        if s.rows:
            out.append("| " + " | ".join(_cell(h) for h in s.headers) + " |")
            out.append("|" + "---|" * len(s.headers))
            out += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in s.rows]
            out.append("")
        if s.notes:
            out += [f"- {_inert(n)}" for n in s.notes] + [""]
    return "\n".join(out)


# --- consistency ----------------------------------------------------------------------------


def consistency_sections(report: ConsistencyReport) -> list[Section]:
    head = Section(
        f"Consistency of run {report.run_id}",
        lines=[SYNTHETIC_LABEL] if report.synthetic else [],
    )
    sections = [head]
    for v in report.versions:
        sections += _version_sections(v)
    return sections


def _version_sections(v: VersionConsistency) -> list[Section]:
    tag = f"{v.arm} ({v.prompt_sha256[:12] if v.prompt_sha256 else '?'}…)"
    personas = Section(
        f"{tag}: scores per persona ({v.scored} of {v.interviews} interviews gave a score)",
        headers=[
            "persona",
            "level",
            "band",
            "n",
            "mean",
            "SD",
            "range",
            "mode (share)",
            "in band",
            "MAE to band",
        ],
        drop_order=["mode (share)", "range", "MAE to band", "level", "band", "SD"],
        rows=[
            [
                p.persona,
                p.level or "-",
                f"{p.band[0]:g}-{p.band[1]:g}" if p.band else "-",
                f"{p.scored}/{p.interviews}",
                num(p.mean),
                num(p.sd),
                f"{num(p.min, 1)}-{num(p.max, 1)} ({num(p.range, 1)})",
                f"{num(p.modal_score, 1)} ({pct(p.modal_share)})",
                pct(p.in_band_share),
                num(p.mae_to_band),
            ]
            for p in v.personas
        ],
    )
    a, val = v.agreement, v.validity
    agreement = Section(
        f"{tag}: agreement across repeats (personas = targets, repeats = raters)",
        lines=[
            f"ICC(1,1) one-way (repeats are exchangeable), single rating: {interval(a.icc1)}  "
            f"-> {a.icc_band}  ({a.targets} personas x {a.raters} repeats)",
            f"ICC(A,1) two-way, absolute agreement, single rating: {interval(a.icc2)}",
            f"Krippendorff's alpha (interval): {num(a.krippendorff_alpha, 3)}  -> {a.alpha_band}",
        ],
        notes=[a.balanced_note] if a.balanced_note else [],
    )
    validity = Section(
        f"{tag}: validity ({val.personas} personas; per-persona mean scores)",
        lines=[
            f"Spearman level vs score: {num(val.level_spearman.statistic)} "
            f"(p {pval(val.level_spearman.p_value)});  Kendall: "
            f"{num(val.level_kendall.statistic)} (p {pval(val.level_kendall.p_value)});  "
            f"Spearman band midpoint vs score: {num(val.band_mid_spearman.statistic)} "
            f"(p {pval(val.band_mid_spearman.p_value)})",
            f"scores inside the band: {interval(val.in_band)} (Wilson 95%, interviews);  "
            f"mean distance to the band: {num(val.mae_to_band)}",
            f"strong (senior/staff) mean {num(val.strong_mean)} vs weak (junior) mean "
            f"{num(val.weak_mean)}: gap {num(val.strong_weak_gap_sd)} within-persona SDs "
            f"(SD {num(val.within_sd)})",
        ],
    )
    rules = Section(
        f"{tag}: rules (pass rate among interviews where the rule applied; pass^k over personas)",
        headers=["rule", "applicable", "pass rate [95%]", "pass^k, k=1..n", "violations/chances"],
        drop_order=["violations/chances", "applicable", "pass^k, k=1..n"],
        rows=[
            [
                r.rule,
                str(r.applicable),
                interval(r.pass_rate),
                " ".join(f"{c.value:.2f}" for c in r.curve) or "-",
                f"{r.violations}/{r.opportunities}"
                if r.opportunities is not None
                else str(r.violations),
            ]
            for r in v.rules
        ],
        notes=[
            "pass^k = C(c,k)/C(n,k) per persona (c passes of n applicable repeats), averaged over "
            "one fixed set of personas per curve (those with at least K applicable repeats, K "
            "chosen to keep the most persona-repeats); a fall with k means the rule is kept "
            "unreliably"
        ],
    )
    var = v.variance
    variance = Section(f"{tag}: where score variance comes from", lines=[var.note])
    if var.available:
        variance.headers = ["source", "variance", "share"]
        variance.rows = [
            [c.source, num(c.variance, 3) + (" (clipped)" if c.clipped else ""), pct(c.share)]
            for c in var.components
        ]
        variance.notes = [var.method]
    return [personas, agreement, validity, rules, variance]


# --- comparison -----------------------------------------------------------------------------


def _value(m: MetricComparison, side: Literal["baseline", "candidate"]) -> str:
    v = getattr(m, side)
    pct_unit = m.unit == "share"
    show = pct if pct_unit else num
    if v.value is None:
        return "-"
    text = show(v.value)
    if v.low is not None and v.high is not None:
        text += f" [{show(v.low)}, {show(v.high)}]"
    return text


def _difference(m: MetricComparison) -> str:
    if m.difference is None:
        return "-"
    scale, unit = (100, " pts") if m.unit == "share" else (1, "")
    text = f"{scale * m.difference:+.1f}{unit}" if scale == 100 else f"{m.difference:+.2f}"
    if m.ci95:
        lo, hi = (scale * m.ci95[0], scale * m.ci95[1])
        text += f" [{lo:+.1f}, {hi:+.1f}]" if scale == 100 else f" [{lo:+.2f}, {hi:+.2f}]"
    return text


def _margin(m: MetricComparison) -> str:
    return f"±{100 * m.margin:g} pts" if m.unit == "share" else f"±{m.margin:g}"


def _repeats(m: MetricComparison) -> str:
    r = m.repeats_needed
    if m.verdict != "inconclusive":
        return ""
    if r is None:
        return "-"
    if r.repeats_per_persona is None:
        return "more personas"
    return f"{r.repeats_per_persona} ({r.target})"


def contrast_section(c: Contrast) -> Section:
    design = "paired by persona and sample" if c.paired else "unpaired"
    notes = list(c.notes)
    for m in c.metrics:
        extras = ", ".join(f"{k} {num(v, 3)}" for k, v in m.extra.items())
        if extras:
            notes.append(f"{m.metric}: {extras}")
        if m.repeats_needed and m.repeats_needed.note:
            notes.append(f"{m.metric}: {m.repeats_needed.note}")
    tail = next((m.tail for m in c.metrics if m.tail is not None), None)
    decided = f"verdicts from {decision_text(tail)}, " if tail is not None else ""
    notes.append(
        "difference = candidate - baseline with a 95% studentized cluster-bootstrap interval "
        f"over personas; {decided}Bonferroni across metrics: improved/regressed = the interval "
        "excludes 0, 'no change' = inside ±margin; p and p(Holm) for reference only"
    )
    section = Section(
        f"{c.candidate} vs {c.baseline}",
        lines=[
            f"{design}; {c.personas} personas, {c.matched_interviews} matched interviews per "
            "version"
        ],
        headers=[
            "metric",
            "baseline",
            "candidate",
            "difference [95%]",
            "test",
            "p",
            "p(Holm)",
            "margin",
            "verdict",
            "repeats/persona to settle",
        ],
        drop_order=[
            "test",
            "p",
            "repeats/persona to settle",
            "margin",
            "baseline",
            "candidate",
            "p(Holm)",
        ],
        rows=[
            [
                m.metric,
                _value(m, "baseline"),
                _value(m, "candidate"),
                _difference(m),
                m.test,
                pval(m.p_value),
                pval(m.p_holm),
                _margin(m),
                m.verdict,
                _repeats(m),
            ]
            for m in c.metrics
        ],
        notes=notes,
    )
    if any(m.scorer_agreement is not None for m in c.metrics):
        section.headers.append("scorer vs labels")
        for row, m in zip(section.rows, c.metrics, strict=True):
            row.append(m.scorer_agreement.short() if m.scorer_agreement else "-")
        source = next(m.scorer_agreement.labels for m in c.metrics if m.scorer_agreement)
        section.notes.append(
            f"scorer vs labels: Cohen's kappa [95%] of the rule's scorer against {source} "
            "(- where undefined: one verdict throughout)"
        )
    return section


def comparison_sections(comparison: Comparison) -> list[Section]:
    lines = [SYNTHETIC_LABEL, STAND_IN_NOTE] if comparison.synthetic else []
    if comparison.drift:
        lines.append(
            "WARNING: compared despite differences outside the prompt (--allow-drift): "
            + "; ".join(d.text() for d in comparison.drift)
        )
    head = Section(
        "Prompt version comparison",
        lines=lines,
        headers=["version", "run", "prompt sha256", "interviews", "personas", "seed"],
        drop_order=["seed", "prompt sha256", "personas"],
        rows=[
            [
                a.arm,
                a.run_id,
                (a.prompt_sha256 or "?")[:12] + "…",
                str(a.interviews),
                str(a.personas),
                "-" if a.seed is None else str(a.seed),
            ]
            for a in comparison.arms
        ],
    )
    return [head, *(contrast_section(c) for c in comparison.contrasts)]


# --- plans ----------------------------------------------------------------------------------


def run_plan_section(plans: list[MetricPlan], effect: float) -> Section:
    first = plans[0].answer if plans else None
    title = f"Repeats per persona to detect a change of {effect:g}"
    if first is not None:
        title += f" (power {first.power:g}, alpha {first.alpha:.4g}, paired design)"

    def repeats(p: MetricPlan) -> str:
        if p.answer.repeats_per_persona is None:
            return "more personas needed"
        note = f" ({p.answer.note})" if p.answer.note else ""
        return f"{p.answer.repeats_per_persona}{note}"

    return Section(
        title,
        headers=["metric", "now", "personas", "within-persona variance", "repeats per persona"],
        drop_order=["within-persona variance", "personas"],
        rows=[
            [
                p.metric,
                num(p.value, 3),
                str(p.answer.personas),
                num(p.answer.within_variance, 4),
                repeats(p),
            ]
            for p in plans
        ],
        notes=[
            f"from {plans[0].arm}: {first.method}; effect SD across personas assumed "
            f"{first.effect_variance**0.5:g} (--effect-sd)"
            if plans and first
            else "no plannable metric in the run"
        ],
    )


def rate_plan_section(plan: RatePlan) -> Section:
    paired = plan.paired.repeats_per_persona
    return Section(
        f"Repeats per persona to detect {plan.baseline_rate:g} -> "
        f"{plan.baseline_rate + plan.effect:g} (power {plan.power:g}, alpha {plan.alpha:.4g})",
        lines=[
            f"paired (both versions meet the same {plan.personas} personas, as `sdi run` does): "
            f"{paired if paired else 'no number of repeats suffices; add personas'}",
            "unpaired (different personas per version): "
            f"{plan.unpaired_repeats_per_persona or 'not reachable'}",
        ],
        notes=[plan.paired.method, plan.unpaired_note],
    )


def render(sections: list[Section], markdown: bool, colour: bool = False) -> str:
    """Markdown, or text fitted to the terminal when there is one."""
    return to_markdown(sections) if markdown else to_text(sections, terminal_width(), colour)
