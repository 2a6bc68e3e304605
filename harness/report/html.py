"""One self-contained HTML file: jinja2 with autoescape, inline CSS, one inline script, SVG charts.

Transcript text is untrusted. It reaches the page only as JSON inside a non-executing
`<script type="application/json">` with `<`, `>` and `&` written as `\\u003c` and so on (so
`</script>` in a transcript cannot end the element), and the page script puts it on screen with
`textContent` only. A Content-Security-Policy allows no network load and no script but the
report's own (by hash), as a second line of defence.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup
from pydantic import BaseModel, Field

from harness.report import charts
from harness.report.data import InterviewView, ReportData
from harness.stats.compare import Contrast, MetricComparison
from harness.stats.measures import Interval
from harness.stats.render import contrast_section, interval, num, pct, pval

VERDICT_CODE = {"pass": "p", "fail": "f", "n/a": "n"}


def script_json(payload: object) -> Markup:
    """JSON that is safe inside a `<script>` element: no `<`, `>` or `&` survives literally."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    escaped = text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    return Markup(escaped)


def _interview_payload(i: InterviewView, rules: list[str]) -> dict[str, Any]:
    rule_index = {r: n for n, r in enumerate(rules)}
    return {
        "k": i.key,
        "id": i.interview_id,
        "run": i.run_id,
        "v": i.arm,
        "p": i.persona,
        "pr": i.problem,
        "s": i.final_score,
        "syn": i.synthetic,
        "end": i.end_reason,
        "vd": "".join(VERDICT_CODE.get(i.verdicts.get(r, ""), "-") for r in rules),
        "t": [
            [
                0 if t.role == "candidate" else 1,
                t.text,
                round(t.elapsed_s),
                [[a.kind, a.topic, a.note] for a in t.annotations],
            ]
            for t in i.turns
        ],
        "x": [[rule_index[v.rule], v.turn, v.evidence] for v in i.violations],
    }


def viewer_payload(data: ReportData) -> dict[str, Any]:
    """What the transcript viewer needs, in a compact form (a long run has thousands)."""
    return {
        "rules": data.rules,
        "arms": data.arms,
        "personas": [p.id for p in data.personas],
        "interviews": [_interview_payload(i, data.rules) for i in data.interviews],
    }


def interval_pct(iv: Interval) -> str:
    """A rate and its interval in percent: `83% [66%, 93%]`."""
    if iv.estimate is None or iv.low is None or iv.high is None:
        return pct(iv.estimate)
    return f"{pct(iv.estimate)} [{pct(iv.low)}, {pct(iv.high)}]"


class ContrastRow(BaseModel):
    metric: MetricComparison
    cells: list[str]
    test: str | None = Field(description="the test's name, shown on hover instead of a column")


class ContrastTable(BaseModel):
    """`sdi compare`'s own table of a contrast (the same cells as its markdown), each row beside
    the metric it shows, so the page can style verdicts and link rules."""

    headers: list[str]
    rows: list[ContrastRow]
    lines: list[str]
    notes: list[str]


def contrast_table(contrast: Contrast) -> ContrastTable:
    section = contrast_section(contrast)
    test_col = section.headers.index("test") if "test" in section.headers else None

    def without_test(cells: list[str]) -> list[str]:
        return [c for n, c in enumerate(cells) if n != test_col]

    return ContrastTable(
        headers=without_test(section.headers),
        rows=[
            ContrastRow(
                metric=m,
                cells=without_test(cells),
                test=None if test_col is None else cells[test_col],
            )
            for m, cells in zip(contrast.metrics, section.rows, strict=True)
        ],
        lines=section.lines,
        notes=section.notes,
    )


def verdict_counts(contrast: Contrast) -> list[tuple[str, int]]:
    counts = Counter(m.verdict for m in contrast.metrics)
    return sorted(counts.items(), key=lambda kv: VERDICT_ORDER.index(kv[0]))


VERDICT_ORDER = ("regressed", "improved", "changed", "no change", "inconclusive", "not tested")


def rule_of(metric: str) -> str | None:
    """The rule a metric id is about (`rule:x` and `turns:x`), for links to its violations."""
    kind, _, rule = metric.partition(":")
    return rule if kind in ("rule", "turns") and rule else None


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harness.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(pct=pct, interval_pct=interval_pct, num=num, pval=pval, interval=interval)
    env.globals.update(
        link=charts.viewer_link,
        colour=charts.arm_colour,
        spark=charts.pass_k_sparkline,
        contrast_table=contrast_table,
        verdict_counts=verdict_counts,
        rule_of=rule_of,
    )
    return env


def _asset(name: str) -> str:
    return resources.files("harness.report").joinpath("templates", name).read_text("utf-8")


def render_html(data: ReportData) -> str:
    """The whole report as one HTML document."""
    script = _asset("report.js")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            data=data,
            adherence_svg=charts.adherence_chart(data),
            score_svg=charts.score_chart(data),
            usage_svg=charts.usage_chart(data.usage),
            style=Markup(_asset("report.css")),
            script=Markup(script),
            script_hash=f"sha256-{digest}",
            viewer_json=script_json(viewer_payload(data)),
        )
    )
