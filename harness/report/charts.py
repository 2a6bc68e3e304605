"""Inline SVG charts, drawn in Python so the report needs no script library and no network.

Built with ElementTree, which escapes every text node and attribute, so persona, prompt and
rule ids cannot break out of the markup. Every mark links to the interviews behind it by
setting the transcript viewer's filters in the URL hash.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlencode

from markupsafe import Markup

from harness.report.data import AdherencePoint, PersonaView, ReportData, ScoreCell, UsageRow
from harness.stats.measures import PassHatK

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
FONT = "12px system-ui, sans-serif"
LABEL_W = 190
PLOT_W = 440
RIGHT_PAD = 60


def arm_colour(arms: list[str], arm: str) -> str:
    return PALETTE[arms.index(arm) % len(PALETTE)]


def viewer_link(**filters: str | float | None) -> str:
    """`#v=..&p=..`: the transcript viewer reads its filters from the hash."""
    params = {k: str(v) for k, v in filters.items() if v is not None}
    return "#" + urlencode(params, quote_via=quote)


def _svg(width: float, height: float, label: str, css_class: str) -> ET.Element:
    return ET.Element(
        "svg",
        {
            "viewBox": f"0 0 {width:.0f} {height:.0f}",
            "width": f"{width:.0f}",
            "height": f"{height:.0f}",
            "role": "img",
            "aria-label": label,
            "class": f"chart {css_class}",
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


def _link(parent: ET.Element, href: str, title: str) -> ET.Element:
    a = _el(parent, "a", href=href, class_="chart-link")
    _el(a, "title", title)
    return a


def _row_label(parent: ET.Element, text: str, y_mid: float) -> None:
    """A row's name, right-aligned in the label column."""
    _el(parent, "text", text, x=LABEL_W - 10, y=y_mid + 4, text_anchor="end", class_="label")


def _markup(svg: ET.Element) -> Markup:
    return Markup(ET.tostring(svg, encoding="unicode"))


def _x_axis(
    svg: ET.Element, top: float, bottom: float, ticks: list[tuple[float, str]], scale: float
) -> None:
    for value, label in ticks:
        x = LABEL_W + value * scale
        _el(svg, "line", x1=x, x2=x, y1=top, y2=bottom, class_="grid")
        _el(svg, "text", label, x=x, y=bottom + 14, text_anchor="middle", class_="tick")


def pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.0f}%"


def adherence_chart(data: ReportData) -> Markup:
    """Per rule, each version's pass rate as a dot with its interval as a bar."""
    lane = 14.0
    row_h = lane * len(data.arms) + 12
    top = 8.0
    height = top + row_h * len(data.rules) + 24
    width = LABEL_W + PLOT_W + RIGHT_PAD
    svg = _svg(width, height, "Adherence per rule and prompt version", "adherence-chart")
    by_key = {(p.rule, p.arm): p for p in data.adherence}
    bottom = top + row_h * len(data.rules)
    _x_axis(svg, top, bottom, [(t / 4, f"{25 * t}%") for t in range(5)], PLOT_W)
    for r, rule in enumerate(data.rules):
        y0 = top + r * row_h
        if r % 2:
            _el(svg, "rect", x=0, y=y0, width=width, height=row_h, class_="band-row")
        label = _link(svg, viewer_link(r=rule, x="fail"), f"{rule}: interviews that failed it")
        _row_label(label, rule, y0 + row_h / 2)
        for a, arm in enumerate(data.arms):
            point = by_key.get((rule, arm))
            y = y0 + 6 + lane * a + lane / 2
            if point is None:
                continue
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
        _el(a, "text", "n/a (never applied)", x=LABEL_W + 4, y=y + 4, class_="na")
        return
    if rate.low is not None and rate.high is not None:
        _el(
            a,
            "line",
            x1=LABEL_W + rate.low * PLOT_W,
            x2=LABEL_W + rate.high * PLOT_W,
            y1=y,
            y2=y,
            stroke=colour,
            class_="interval",
        )
    _el(a, "circle", cx=LABEL_W + rate.estimate * PLOT_W, cy=y, r=4.5, fill=colour, class_="dot")
    _el(
        a,
        "text",
        pct(rate.estimate),
        x=LABEL_W + PLOT_W + 8,
        y=y + 4,
        fill=colour,
        class_="value",
    )


def score_chart(data: ReportData) -> Markup:
    """Per persona, the final scores each version gave (dot area = count), the mean as a
    tick, and the persona's expected band shaded."""
    lane = 16.0
    row_h = lane * len(data.arms) + 10
    top = 8.0
    scale = PLOT_W / 10
    cells = {(c.persona, c.arm): c for c in data.scores}
    height = top + row_h * len(data.personas) + 24
    width = LABEL_W + PLOT_W + RIGHT_PAD
    svg = _svg(width, height, "Final scores per persona and prompt version", "score-chart")
    bottom = top + row_h * len(data.personas)
    _x_axis(svg, top, bottom, [(float(t), str(t)) for t in range(0, 11, 2)], scale)
    for r, persona in enumerate(data.personas):
        y0 = top + r * row_h
        if r % 2:
            _el(svg, "rect", x=0, y=y0, width=width, height=row_h, class_="band-row")
        _persona_row(svg, data.arms, persona, y0, row_h, scale)
        for a, arm in enumerate(data.arms):
            cell = cells.get((persona.id, arm))
            if cell is not None:
                _score_lane(
                    svg, cell, y0 + 5 + lane * a + lane / 2, scale, arm_colour(data.arms, arm)
                )
    return _markup(svg)


def _persona_row(
    svg: ET.Element, arms: list[str], persona: PersonaView, y0: float, row_h: float, scale: float
) -> None:
    level = f" ({persona.level})" if persona.level else ""
    label = _link(svg, viewer_link(p=persona.id), f"{persona.id}{level}: all its interviews")
    _row_label(label, persona.id, y0 + row_h / 2)
    if persona.band is not None:
        lo, hi = persona.band
        band = _el(
            svg,
            "rect",
            x=LABEL_W + lo * scale,
            y=y0 + 2,
            width=max((hi - lo) * scale, 2.0),
            height=row_h - 4,
            class_="expected-band",
        )
        _el(band, "title", f"{persona.id}: expected band {lo:g}-{hi:g}")


def _score_lane(svg: ET.Element, cell: ScoreCell, y: float, scale: float, colour: str) -> None:
    biggest = max((n for _, n in cell.counts), default=1)
    for score, n in cell.counts:
        title = f"{cell.persona} · {cell.arm}: {score:g}/10 in {n} interview{'s' * (n != 1)}"
        a = _link(svg, viewer_link(v=cell.arm, p=cell.persona, s=f"{score:g}"), title)
        radius = 2.5 + 4.5 * math.sqrt(n / biggest)
        _el(
            a,
            "circle",
            cx=LABEL_W + score * scale,
            cy=y,
            r=radius,
            fill=colour,
            class_="dot score-dot",
        )
    if cell.mean is not None:
        x = LABEL_W + cell.mean * scale
        tick = _el(svg, "line", x1=x, x2=x, y1=y - 7, y2=y + 7, stroke=colour, class_="mean")
        _el(tick, "title", f"{cell.persona} · {cell.arm}: mean {cell.mean:.2f}")
    if cell.unscored:
        title = (
            f"{cell.persona} · {cell.arm}: {cell.unscored} interview(s) without a score out of 10"
        )
        a = _link(svg, viewer_link(v=cell.arm, p=cell.persona, s="none"), title)
        _el(a, "text", f"{cell.unscored} no score", x=LABEL_W + PLOT_W + 8, y=y + 4, class_="na")


def pass_k_sparkline(curve: list[PassHatK], width: float = 90, height: float = 22) -> Markup:
    """pass^k over k = 1..n as a small line from 1 (top) to 0 (bottom)."""
    svg = _svg(width, height, "pass^k over k", "sparkline")
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
    bar_h = 18.0
    top = 24.0
    width = LABEL_W + PLOT_W + RIGHT_PAD
    height = top + (bar_h + 10) * len(rows) + 8
    svg = _svg(width, height, "Tokens per prompt version", "usage-chart")
    key_x = float(LABEL_W)
    for (_, name), colour in zip(TOKEN_PARTS, TOKEN_COLOURS, strict=True):
        _el(svg, "rect", x=key_x, y=6, width=10, height=10, fill=colour)
        _el(svg, "text", name, x=key_x + 14, y=15, class_="tick")
        key_x += 14 + 6.5 * len(name) + 18
    biggest = float(max((_total(r) for r in rows), default=0) or 1)
    for r, row in enumerate(rows):
        y = top + r * (bar_h + 10)
        a = _link(svg, viewer_link(v=row.arm), f"{row.arm}: {_total(row):,} tokens; its interviews")
        _row_label(a, row.arm, y + bar_h / 2)
        x = float(LABEL_W)
        for (field, name), colour in zip(TOKEN_PARTS, TOKEN_COLOURS, strict=True):
            value = getattr(row.usage, field)
            w = PLOT_W * value / biggest
            if w > 0:
                seg = _el(a, "rect", x=x, y=y, width=w, height=bar_h, fill=colour, class_="bar")
                _el(seg, "title", f"{row.arm}: {name} {value:,} tokens")
            x += w
        _el(svg, "text", _short(_total(row)), x=x + 6, y=y + bar_h / 2 + 4, class_="value")
    return _markup(svg)


def _total(row: UsageRow) -> int:
    return sum(getattr(row.usage, f) for f, _ in TOKEN_PARTS)


def _short(n: int) -> str:
    for size, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)
