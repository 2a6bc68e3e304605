"""One self-contained HTML file: jinja2 with autoescape, inline CSS, one inline script, SVG charts.

Transcript text is untrusted. It reaches the page only inside non-executing script elements:
the interview index as JSON with `<`, `>` and `&` written as `\\u003c` and so on (so
`</script>` in a transcript cannot end the element), and the transcripts as gzip in base64
(whose alphabet has no markup character at all). The page script decompresses a chunk with
the browser's DecompressionStream when it is first needed and puts text on screen with
`textContent` only. A Content-Security-Policy allows no network load and no script but the
report's own (by hash), as a second line of defence.

Transcripts go in chunks (`harness.report.pack`), so a page over ten thousand interviews opens
by decompressing one chunk, not all of them; aggregates (charts, tables, the change matrix)
are drawn here, in Python.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from markupsafe import Markup
from pydantic import BaseModel, Field

from harness.report import charts
from harness.report.data import CHANGE_KINDS, InterviewView, ReportData
from harness.report.pack import compact, iter_chunk_entries
from harness.scoring.gallery import gallery_html
from harness.scoring.run_labels import rule_of
from harness.stats.compare import Contrast, MetricComparison
from harness.stats.measures import Interval
from harness.stats.render import contrast_section, interval, num, pct, pval

VERDICT_CODE = {"pass": "p", "fail": "f", "n/a": "n"}


def script_json(payload: object) -> Markup:
    """JSON that is safe inside a `<script>` element: no `<`, `>` or `&` survives literally."""
    escaped = (
        compact(payload).replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    )
    return Markup(escaped)


def _index_entry(i: InterviewView, rules: list[str]) -> dict[str, Any]:
    """What the list, the filters and the change matrix need of an interview, without its
    text: this part is parsed up front; the text is in chunk `c`."""
    return {
        "k": i.key,
        "id": i.interview_id,
        "run": i.run_id,
        "v": i.arm,
        "p": i.persona,
        "n": i.sample_index,
        "pr": i.problem,
        "s": i.final_score,
        "syn": i.synthetic,
        "end": i.end_reason,
        "vd": "".join(VERDICT_CODE.get(i.verdicts.get(r, ""), "-") for r in rules),
        "nx": len(i.violations),
        "nt": i.turn_count,
        "c": i.chunk,
    }


def viewer_payload(data: ReportData) -> dict[str, Any]:
    """The viewer's index (plain JSON); the transcripts are `data.chunks`, packed."""
    return {
        "rules": data.rules,
        "why": data.rule_fails,
        "arms": data.arms,
        "personas": [p.id for p in data.personas],
        "interviews": [_index_entry(i, data.rules) for i in data.interviews],
    }


def iter_chunk_interviews(index: dict[str, Any], chunks: list[str]) -> Iterator[dict[str, Any]]:
    """Index entries joined with their turns (`t`) and violations (`x`), as the page sees them."""
    entries = index["interviews"]
    for entry, (turns, violations) in zip(
        entries, iter_chunk_entries(chunks, [e["c"] for e in entries]), strict=True
    ):
        yield {**entry, "t": turns, "x": violations}


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


@cache
def environment() -> jinja2.Environment:
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
        forest=charts.forest_plot,
        decision_interval=charts.decision_interval,
        change_kinds=CHANGE_KINDS,
        contrast_table=contrast_table,
        verdict_counts=verdict_counts,
        rule_of=rule_of,
        gallery_html=gallery_html,
    )
    return env


def _asset(name: str) -> str:
    return resources.files("harness.report").joinpath("templates", name).read_text("utf-8")


def style() -> Markup:
    """The report's stylesheet, shared with the runs index."""
    return Markup(_asset("report.css"))


def render_html(data: ReportData) -> str:
    """The whole report as one HTML document."""
    script = _asset("report.js")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return (
        environment()
        .get_template("report.html.j2")
        .render(
            data=data,
            adherence_svg=charts.adherence_chart(data),
            score_svg=charts.score_chart(data),
            usage_svg=charts.usage_chart(data.usage),
            style=style(),
            script=Markup(script),
            script_hash=f"sha256-{digest}",
            viewer_json=script_json(viewer_payload(data)),
            chunks=data.chunks,
        )
    )
