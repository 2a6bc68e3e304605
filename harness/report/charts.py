"""Inline SVG charts, drawn in Python so the report needs no script library and no network.

Built with ElementTree, which escapes every text node and attribute, so persona, prompt and
rule ids cannot break out of the markup. Every mark links to the interviews behind it by
setting the transcript viewer's filters in the URL hash.

The charts are fluid: an SVG as wide as its box, horizontal positions in percent of that
width and vertical ones in pixels, each row's name on a line above its marks. So a chart
uses the whole width on a wide screen and its text stays 11-12 px on a phone (no viewBox
scaling), with no horizontal scroll.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlencode

from markupsafe import Markup

from harness.report.data import AdherencePoint, PersonaView, ReportData, ScoreCell, UsageRow
from harness.stats.compare import Contrast, MetricComparison
from harness.stats.measures import PassHatK

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
FONT = "12px system-ui, sans-serif"
# The plot area, in percent of the chart's width; the right margin holds the values.
PLOT_L = 1.0
PLOT_R = 86.0
LABEL_H = 15.0  # the line above a row that names it
VERDICT_COLOURS = {
    "regressed": "#cf222e",
    "improved": "#1a7f37",
    "no change": "#0969da",
    "changed": "#8250df",
    "inconclusive": "#6e7781",
    "not tested": "#afb8c1",
}


def arm_colour(arms: list[str], arm: str) -> str:
    return PALETTE[arms.index(arm) % len(PALETTE)]


def viewer_link(**filters: str | float | None) -> str:
    """`#v=..&p=..`: the transcript viewer reads its filters from the hash."""
    params = {k: str(v) for k, v in filters.items() if v is not None}
    return "#" + urlencode(params, quote_via=quote)


def _svg(height: float, label: str, css_class: str) -> ET.Element:
    return ET.Element(
        "svg",
        {
            "width": "100%",
            "height": f"{height:.0f}",
            "role": "img",
            "aria-label": label,
            "class": f"chart fluid {css_class}",
            "style": f"font: {FONT}",
        },
    )


def _el(parent: ET.Element, tag: str, text: str | None = None, **attrs: str | float) -> ET.Element:
    node = ET.SubElement(
        parent, tag, {k.rstrip("_").replace("_", "-"): _fmt(v) for k, v in attrs.items()}
    )
    if text is not None:
        node.text = text
    return node


def _fmt(value: str | float) -> str:
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _x(frac: float) -> str:
    """A horizontal position: `frac` in [0, 1] of the plot area, as percent of the width."""
    return f"{PLOT_L + (PLOT_R - PLOT_L) * min(max(frac, 0.0), 1.0):.2f}%"


def _w(frac: float) -> str:
    return f"{(PLOT_R - PLOT_L) * max(frac, 0.0):.2f}%"


def _link(parent: ET.Element, href: str, title: str) -> ET.Element:
    a = _el(parent, "a", href=href, class_="chart-link")
    _el(a, "title", title)
    return a


def _row_label(parent: ET.Element, text: str, y_top: float) -> None:
    """A row's name, on its own line at the top of the row."""
    _el(parent, "text", text, x=f"{PLOT_L}%", y=y_top + 11, class_="label")


def _markup(svg: ET.Element) -> Markup:
    return Markup(ET.tostring(svg, encoding="unicode"))


def _x_axis(svg: ET.Element, top: float, bottom: float, ticks: list[tuple[float, str]]) -> None:
    for frac, label in ticks:
        _el(svg, "line", x1=_x(frac), x2=_x(frac), y1=top, y2=bottom, class_="grid")
        _el(svg, "text", label, x=_x(frac), y=bottom + 14, text_anchor="middle", class_="tick")


def _value(parent: ET.Element, text: str, y: float, **attrs: str) -> None:
    _el(parent, "text", text, x=f"{PLOT_R + 1.5:.1f}%", y=y + 4, class_="value", **attrs)


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def adherence_chart(data: ReportData) -> Markup:
    """Per rule, each version's pass rate as a dot with its interval as a bar."""
    lane = 14.0
    row_h = LABEL_H + lane * len(data.arms) + 6
    top = 4.0
    bottom = top + row_h * len(data.rules)
    svg = _svg(bottom + 22, "Adherence per rule and prompt version", "adherence-chart")
    by_key = {(p.rule, p.arm): p for p in data.adherence}
    for r in range(1, len(data.rules), 2):
        _el(svg, "rect", x=0, y=top + r * row_h, width="100%", height=row_h, class_="band-row")
    _x_axis(svg, top, bottom, [(t / 4, f"{25 * t}%") for t in range(5)])
    for r, rule in enumerate(data.rules):
        y0 = top + r * row_h
        label = _link(svg, viewer_link(r=rule, x="fail"), f"{rule}: interviews that failed it")
        _row_label(label, rule, y0)
        for a, arm in enumerate(data.arms):
            point = by_key.get((rule, arm))
            y = y0 + LABEL_H + lane * a + lane / 2
            if point is not None:
                _adherence_mark(svg, point, y, arm_colour(data.arms, arm))
    return _markup(svg)


def _adherence_mark(svg: ET.Element, point: AdherencePoint, y: float, colour: str) -> None:
    rate = point.rate
    counts = f" ({point.passed}/{point.applicable} interviews)" if point.applicable else ""
    interval = f" [{pct(rate.low)}, {pct(rate.high)}]" if rate.low is not None else ""
    title = (
        f"{point.rule} · {point.arm}: {pct(rate.estimate)}{interval}{counts}; "
        f"{point.failed_interviews} failed: click to see them"
    )
    a = _link(svg, viewer_link(v=point.arm, r=point.rule, x="fail"), title)
    if rate.estimate is None:
        _el(a, "text", "n/a (never applied)", x=_x(0.01), y=y + 4, class_="na")
        return
    if rate.low is not None and rate.high is not None:
        _el(
            a,
            "line",
            x1=_x(rate.low),
            x2=_x(rate.high),
            y1=y,
            y2=y,
            stroke=colour,
            class_="interval",
        )
    _el(a, "circle", cx=_x(rate.estimate), cy=y, r=4.5, fill=colour, class_="dot")
    _value(a, pct(rate.estimate), y, fill=colour)


def score_chart(data: ReportData) -> Markup:
    """Per persona, the final scores each version gave (dot area = count), the mean as a
    tick, and the persona's expected band shaded."""
    lane = 16.0
    row_h = LABEL_H + lane * len(data.arms) + 4
    top = 4.0
    cells = {(c.persona, c.arm): c for c in data.scores}
    bottom = top + row_h * len(data.personas)
    svg = _svg(bottom + 22, "Final scores per persona and prompt version", "score-chart")
    for r in range(1, len(data.personas), 2):
        _el(svg, "rect", x=0, y=top + r * row_h, width="100%", height=row_h, class_="band-row")
    _x_axis(svg, top, bottom, [(t / 10, str(t)) for t in range(0, 11, 2)])
    for r, persona in enumerate(data.personas):
        y0 = top + r * row_h
        _persona_row(svg, persona, y0, row_h)
        for a, arm in enumerate(data.arms):
            cell = cells.get((persona.id, arm))
            if cell is not None:
                y = y0 + LABEL_H + lane * a + lane / 2
                _score_lane(svg, cell, y, arm_colour(data.arms, arm))
    return _markup(svg)


def _persona_row(svg: ET.Element, persona: PersonaView, y0: float, row_h: float) -> None:
    level = f" ({persona.level})" if persona.level else ""
    if persona.band is not None:
        lo, hi = persona.band
        band = _el(
            svg,
            "rect",
            x=_x(lo / 10),
            y=y0 + LABEL_H,
            width=_w(max(hi - lo, 0.1) / 10),
            height=row_h - LABEL_H - 2,
            class_="expected-band",
        )
        _el(band, "title", f"{persona.id}: expected band {lo:g}-{hi:g}")
    label = _link(svg, viewer_link(p=persona.id), f"{persona.id}{level}: all its interviews")
    _row_label(label, f"{persona.id}{level}", y0)


def _score_lane(svg: ET.Element, cell: ScoreCell, y: float, colour: str) -> None:
    biggest = max((n for _, n in cell.counts), default=1)
    for score, n in cell.counts:
        title = f"{cell.persona} · {cell.arm}: {score:g}/10 in {n} interview{'s' * (n != 1)}"
        a = _link(svg, viewer_link(v=cell.arm, p=cell.persona, s=f"{score:g}"), title)
        radius = 2.5 + 4.5 * math.sqrt(n / biggest)
        _el(a, "circle", cx=_x(score / 10), cy=y, r=radius, fill=colour, class_="dot score-dot")
    if cell.mean is not None:
        x = _x(cell.mean / 10)
        tick = _el(svg, "line", x1=x, x2=x, y1=y - 7, y2=y + 7, stroke=colour, class_="mean")
        _el(tick, "title", f"{cell.persona} · {cell.arm}: mean {cell.mean:.2f}")
    if cell.unscored:
        title = (
            f"{cell.persona} · {cell.arm}: {cell.unscored} interview(s) without a score out of 10"
        )
        a = _link(svg, viewer_link(v=cell.arm, p=cell.persona, s="none"), title)
        _value(a, f"{cell.unscored} none", y)


def decision_interval(m: MetricComparison) -> tuple[float, float, float] | None:
    """(low, high, two-sided level) of the interval the verdict was decided on, read from the
    comparison: its decision interval (`ci_decision`, each bound one-sided at `tail`) when the
    statistics layer states one, else the 90% interval that decides "no change"."""
    stated = getattr(m, "ci_decision", None)
    tail = getattr(m, "tail", None)
    if stated is not None and tail is not None:
        return float(stated[0]), float(stated[1]), 1 - 2 * float(tail)
    if m.ci90 is not None:
        return m.ci90[0], m.ci90[1], 0.90
    return None


def _units(m: MetricComparison) -> tuple[float, str]:
    """Display scale and unit: rates in percentage points, scores as they are."""
    return (100.0, " pts") if m.unit == "share" else (1.0, "")


def forest_plot(contrast: Contrast, link_arm: str | None = None) -> Markup:
    """Candidate minus baseline per metric: the estimate, the decision's interval and the
    ±margin band, coloured by verdict. Rates and scores get panels of their own (their units
    differ); each row says which direction is better."""
    rows = [m for m in contrast.metrics if m.difference is not None]
    panels = [
        ("rates, percentage points", [m for m in rows if m.unit == "share"]),
        ("scores, points", [m for m in rows if m.unit != "share"]),
    ]
    row_h = LABEL_H + 16.0
    heights = [26 + row_h * len(ms) + 22 for _, ms in panels if ms]
    levels = {iv[2] for m in rows if (iv := decision_interval(m)) is not None}
    level = f"{100 * min(levels):.3g}%" if levels else "no"
    svg = _svg(
        sum(heights) + 4,
        f"{contrast.candidate} minus {contrast.baseline} per metric, {level} intervals",
        "forest-plot",
    )
    y = 4.0
    for title, metrics in panels:
        if metrics:
            y = _forest_panel(svg, contrast, metrics, title, level, y, row_h, link_arm)
    return _markup(svg)


def _nice(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 times a power of ten at or above `value` (axis ends)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= value)


def _tick(value: float, scale: float) -> str:
    return f"{scale * value:+g}" if value else "0"


def _signed(value: float, scale: float) -> str:
    return f"{scale * value:+.1f}" if scale == 100 else f"{value:+.2f}"


def _forest_panel(
    svg: ET.Element,
    contrast: Contrast,
    metrics: list[MetricComparison],
    title: str,
    level: str,
    y: float,
    row_h: float,
    link_arm: str | None,
) -> float:
    intervals = [decision_interval(m) for m in metrics]
    spans = [abs(m.difference or 0.0) for m in metrics] + [m.margin for m in metrics]
    spans += [abs(v) for iv in intervals if iv is not None for v in iv[:2]]
    reach = _nice(max(spans) * 1.1)

    def at(value: float) -> float:
        return 0.5 + value / (2 * reach)

    heading = f"{title}: {level} interval, shaded ±margin"
    _el(svg, "text", heading, x="0%", y=y + 12, class_="panel-title")
    top = y + 20
    bottom = top + row_h * len(metrics)
    scale, unit = _units(metrics[0])
    ticks = [-reach, -reach / 2, 0.0, reach / 2, reach]
    _x_axis(svg, top, bottom, [(at(t), _tick(t, scale)) for t in ticks])
    _el(svg, "line", x1=_x(0.5), x2=_x(0.5), y1=top, y2=bottom, class_="zero")
    arm = link_arm or contrast.candidate
    for r, (m, iv) in enumerate(zip(metrics, intervals, strict=True)):
        y0 = top + r * row_h
        colour = VERDICT_COLOURS.get(m.verdict, "#6e7781")
        rule = m.metric.partition(":")[2] if m.metric.startswith("rule:") else None
        diff = m.difference or 0.0
        shown = _signed(diff, scale) + unit
        if iv is not None:
            shown += f" [{_signed(iv[0], scale)}, {_signed(iv[1], scale)}]"
        better = {True: " (higher is better)", False: " (lower is better)", None: ""}
        a = _link(
            svg,
            viewer_link(v=arm, r=rule, x="fail" if rule else None),
            f"{m.label}: {shown}; {m.verdict}; margin ±{scale * m.margin:g}{unit}"
            + better[m.higher_is_better],
        )
        a.set("class", f"chart-link forest-row verdict-{m.verdict.replace(' ', '-')}")
        label = _el(a, "text", m.metric, x=f"{PLOT_L}%", y=y0 + 11, class_="label")
        _el(label, "tspan", f"  {m.verdict}", fill=colour, class_="verdict-word")
        if m.higher_is_better is not None:
            _el(label, "tspan", "  ↑ better" if m.higher_is_better else "  ↓ better", class_="hint")
        yc = y0 + LABEL_H + 7
        x0, width = _x(at(-m.margin)), _w(m.margin / reach)
        _el(a, "rect", x=x0, y=yc - 6, width=width, height=12, class_="margin-band")
        if iv is not None:
            x1, x2 = _x(at(iv[0])), _x(at(iv[1]))
            _el(a, "line", x1=x1, x2=x2, y1=yc, y2=yc, stroke=colour, class_="ci")
        _el(a, "circle", cx=_x(at(diff)), cy=yc, r=5, fill=colour, class_="dot")
        _value(a, _signed(diff, scale), yc, fill=colour)
    return bottom + 22


def pass_k_sparkline(curve: list[PassHatK], width: float = 90, height: float = 22) -> Markup:
    """pass^k over k = 1..n as a small line from 1 (top) to 0 (bottom)."""
    svg = ET.Element(
        "svg",
        {
            "viewBox": f"0 0 {width:.0f} {height:.0f}",
            "width": f"{width:.0f}",
            "height": f"{height:.0f}",
            "role": "img",
            "aria-label": "pass^k over k",
            "class": "chart sparkline",
        },
    )
    if not curve:
        return _markup(svg)
    step = (width - 6) / max(len(curve) - 1, 1)
    points = " ".join(
        f"{3 + i * step:.1f},{3 + (1 - c.value) * (height - 6):.1f}" for i, c in enumerate(curve)
    )
    _el(svg, "polyline", points=points, class_="spark")
    last = curve[-1]
    _el(
        svg,
        "circle",
        cx=3 + (len(curve) - 1) * step,
        cy=3 + (1 - last.value) * (height - 6),
        r=2.2,
        class_="spark-end",
    )
    return _markup(svg)


TOKEN_PARTS = (
    ("input_tokens", "input (uncached)"),
    ("cache_read_input_tokens", "cache read"),
    ("cache_creation_input_tokens", "cache write"),
    ("output_tokens", "output"),
)
TOKEN_COLOURS = ("#0072B2", "#56B4E9", "#9ecae1", "#E69F00")


def usage_chart(rows: list[UsageRow]) -> Markup:
    """Tokens per version as one stacked bar: uncached input, cache reads, cache writes, output."""
    bar_h = 16.0
    top = 22.0
    row_h = LABEL_H + bar_h + 8
    svg = _svg(top + row_h * len(rows) + 4, "Tokens per prompt version", "usage-chart")
    key = _el(svg, "text", x="0%", y=14, class_="tick")
    for (_, name), colour in zip(TOKEN_PARTS, TOKEN_COLOURS, strict=True):
        _el(key, "tspan", "\u25a0 ", fill=colour)
        _el(key, "tspan", f"{name}   ")
    biggest = float(max((_total(r) for r in rows), default=0) or 1)
    for r, row in enumerate(rows):
        y0 = top + r * row_h
        a = _link(svg, viewer_link(v=row.arm), f"{row.arm}: {_total(row):,} tokens; its interviews")
        _row_label(a, row.arm, y0)
        done = 0.0
        for (field, name), colour in zip(TOKEN_PARTS, TOKEN_COLOURS, strict=True):
            value = getattr(row.usage, field)
            frac = value / biggest
            if frac > 0:
                seg = _el(
                    a,
                    "rect",
                    x=_x(done),
                    y=y0 + LABEL_H,
                    width=_w(frac),
                    height=bar_h,
                    fill=colour,
                    class_="bar",
                )
                _el(seg, "title", f"{row.arm}: {name} {value:,} tokens")
            done += frac
        _value(svg, _short(_total(row)), y0 + LABEL_H + bar_h / 2)
    return _markup(svg)


def _total(row: UsageRow) -> int:
    return sum(getattr(row.usage, f) for f, _ in TOKEN_PARTS)


def _short(n: int) -> str:
    for size, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)
