"""The report in a real browser: Debian's headless Chromium driven by Playwright opens a report
built from a real synthetic run, and from a run full of hostile text."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from harness.config.suites import load_suite
from harness.project import BUILTIN_ROOT
from harness.report.browser import CHROMIUM, READY, report_url
from harness.report.build import write_report
from harness.report.data import ReportData, gather
from harness.report.demo import scored, two_version_suite
from harness.report.html import render_html
from harness.scoring.runs import scored_run
from harness.simulate.progress import QuietProgress
from harness.simulate.runner import run_suite
from harness.stats.gate import load_gate_config
from harness.store.rundata import RunData, load_run
from tests.test_report_html import (
    BAD_ID,
    BAD_PROMPT,
    HOSTILE,
    PERSONAS,
    hostile_run,
    make_score,
    make_transcript,
    write_run,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no {CHROMIUM}: run `bash scripts/ensure-chromium.sh` as root (Debian chromium)",
    ),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")

REPO = Path(__file__).resolve().parent.parent
SCREENSHOT = REPO / "reports" / "test-report-browser.png"  # git-ignored


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunData, ReportData, Path]:
    """The smoke suite run for real on the synthetic backend, scored, reported."""
    root = tmp_path_factory.mktemp("smoke")
    run_dir = run_suite(
        load_suite(REPO / "suites" / "smoke.yaml"), root / "runs", progress=QuietProgress()
    )
    run = scored_run(run_dir, root / "runs")
    data = gather([run])
    return run, data, write_report(render_html(data), root / "report.html")


class Watched:
    """A page with every console error and page error it raised, and every dialog it opened."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        page.on("console", lambda m: m.type in ("error", "warning") and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("dialog", self._dialog)
        page.on("request", self._request)

    def _dialog(self, dialog: object) -> None:
        self.dialogs.append(getattr(dialog, "message", "?"))
        dialog.dismiss()  # type: ignore[attr-defined]

    def _request(self, request: object) -> None:
        url = getattr(request, "url", "")
        if not url.startswith(("file:", "data:", "about:")):
            self.errors.append(f"network request: {url}")

    def open(self, path: Path, fragment: str = "") -> None:
        self.page.goto(report_url(path, fragment))
        self.page.wait_for_selector(READY, state="attached")

    def shown(self) -> int:
        return int(self.page.get_attribute("#match-count", "data-count") or -1)


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    yield Watched(page)
    page.close()


def _fails(run: RunData, rule: str, arm: str | None = None) -> int:
    """Interviews that failed a rule, counted from the stored scores themselves."""
    assert run.scores is not None
    versions = {t.interview_id: t.prompt_version for t in run.transcripts}
    return sum(
        1
        for s in run.scores
        if s.rules[rule].verdict == "fail" and arm in (None, versions[s.interview_id])
    )


def test_charts_render_filters_work_and_nothing_errs(
    smoke: tuple[RunData, ReportData, Path], watched: Watched, tmp_path: Path
) -> None:
    run, data, path = smoke
    page = watched.page
    watched.open(path)
    # charts: each SVG has a real size and real marks
    for chart in ("adherence-chart", "score-chart", "usage-chart"):
        box = page.locator(f"svg.{chart}").bounding_box()
        assert box is not None and box["width"] > 100 and box["height"] > 20, chart
    dots = page.locator("svg.score-chart circle.score-dot")
    scored = sum(1 for s in run.scores or [] if s.final_score is not None)
    assert 0 < dots.count() <= scored
    dot_box = dots.first.bounding_box()
    assert dot_box is not None and dot_box["width"] > 0
    assert page.locator("svg.adherence-chart circle.dot").count() > 0
    total = len(run.transcripts)
    assert watched.shown() == total

    # a filter: a rule that some but not all interviews failed
    rule = next(r for r in data.rules if 0 < _fails(run, r) < total)
    page.select_option("#f-r", rule)
    page.select_option("#f-x", "fail")
    assert watched.shown() == _fails(run, rule)
    items = page.locator("#interview-list li")
    assert items.count() == min(_fails(run, rule), 50)
    for n in range(items.count()):
        assert rule in items.nth(n).locator(".chip.fail").all_inner_texts()

    # the chat of the first one highlights the violation on its turn, with the evidence
    first_key = items.first.get_attribute("data-key")
    score = next(s for s in run.scores or [] if s.interview_id == first_key)
    bad_turns = set(score.rules[rule].turns)
    violation_turns = {
        int(t)
        for t in page.locator("#chat .turn.violation").evaluate_all(
            "nodes => nodes.map(n => n.dataset.turn)"
        )
    }
    assert bad_turns <= violation_turns
    focused = page.locator(f"#chat #turn-{min(bad_turns)}")
    assert rule in focused.locator(".violations").inner_text()
    assert page.locator("#chat .turn.focus").get_attribute("data-turn") == str(min(bad_turns))
    # evidence quoted from a turn is marked inside that turn, and nowhere else
    marks = page.locator("#chat mark")
    assert marks.count() >= 1
    assert page.locator("#chat .turn.violation .text mark").count() == marks.count()
    transcript = next(t for t in run.transcripts if t.interview_id == first_key)
    assert page.locator("#chat .turn").count() == len(transcript.turns)
    assert "SYNTHETIC" in page.locator("#chat .synthetic-note").inner_text()

    # a chart mark sets the filters through the URL hash
    page.locator("#f-clear").click()
    assert watched.shown() == total
    arm = data.arms[0]
    page.locator(f'svg.adherence-chart a[href*="r={rule}"] circle').first.click()
    sync_api.expect(page.locator("#f-r")).to_have_value(rule)
    assert watched.shown() == _fails(run, rule, arm)

    # a score dot shows the interviews of that persona and version that got that score
    dot_link = page.locator("svg.score-chart a:has(circle.score-dot)").first
    params = dict(pair.split("=") for pair in (dot_link.get_attribute("href") or "")[1:].split("&"))
    dot_link.locator("circle").click()
    sync_api.expect(page.locator("#f-p")).to_have_value(params["p"])
    scores = {s.interview_id: s.final_score for s in run.scores or []}
    expected = sum(
        1
        for t in run.transcripts
        if t.persona == params["p"] and scores[t.interview_id] == float(params["s"])
    )
    assert watched.shown() == expected > 0

    assert watched.errors == [] and watched.dialogs == []
    page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    SCREENSHOT.parent.mkdir(exist_ok=True)
    shutil.copy(tmp_path / "report.png", SCREENSHOT)


def test_hostile_text_stays_text(browser: Browser, tmp_path: Path) -> None:
    """With the Content-Security-Policy bypassed, so that the escaping itself is what is tested."""
    data = gather([hostile_run(tmp_path / "runs")])
    path = write_report(render_html(data), tmp_path / "hostile.html")
    context = browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 1000})
    watched = Watched(context.new_page())
    page = watched.page
    key = f"{BAD_ID}#0"
    watched.open(path, f"i={key}".replace("#", "%23").replace(" ", "%20"))
    assert page.locator("#chat").get_attribute("data-key") == key
    chat = page.locator("#chat").inner_text()
    for value in (HOSTILE["script"], HOSTILE["end"], HOSTILE["comment"], HOSTILE["entity"]):
        assert value in chat, value
    assert HOSTILE["img"] in chat
    # nothing from the data became an element or a handler
    assert page.evaluate("document.querySelectorAll('img, iframe, object, embed').length") == 0
    assert (
        page.evaluate(
            "[...document.querySelectorAll('*')].filter(n => [...n.attributes]"
            ".some(a => a.name.startsWith('on'))).length"
        )
        == 0
    )
    chunks = page.evaluate(
        "document.querySelectorAll('script[type=\"application/x-sdi-chunk\"]').length"
    )
    assert chunks >= 1 and page.evaluate("document.scripts.length") == 2 + chunks
    options = page.locator("#f-p option").all_inner_texts()
    assert BAD_ID in options and BAD_PROMPT in page.locator("#f-v option").all_inner_texts()
    page.select_option("#f-p", BAD_ID)
    assert watched.shown() == 2
    page.wait_for_timeout(200)  # a handler that fired late would have opened its dialog by now
    assert watched.dialogs == [] and watched.errors == []
    context.close()


def test_long_lists_are_paged(browser: Browser, tmp_path: Path) -> None:
    """The viewer puts one page of interviews in the DOM, not all of them."""
    transcripts = [
        make_transcript(f"url-junior#{n}", "v1", "url-junior", hostile=False) for n in range(120)
    ]
    scores = [make_score(t, 3.0, fail_one_question=n % 3 == 0) for n, t in enumerate(transcripts)]
    run_dir = write_run(
        tmp_path,
        "run-long",
        transcripts,
        scores,
        personas_meta={"url-junior": PERSONAS["url-junior"]},
    )
    path = write_report(render_html(gather([load_run(run_dir)])), tmp_path / "long.html")
    watched = Watched(browser.new_page())
    page = watched.page
    watched.open(path)
    items = page.locator("#interview-list li")
    assert watched.shown() == 120 and items.count() == 50
    assert page.inner_text("#pg-label") == "page 1 of 3"
    page.click("#pg-next")
    page.click("#pg-next")
    assert items.count() == 20 and page.inner_text("#pg-label") == "page 3 of 3"
    assert page.locator("#pg-next").is_disabled()
    page.select_option("#f-x", "fail")
    assert watched.shown() == 40 and items.count() == 40
    assert page.inner_text("#pg-label") == "page 1 of 1"
    assert watched.errors == []
    page.close()


@pytest.fixture(scope="module")
def two_versions(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunData, Path, Path]:
    """The smoke personas under v1 and a v2 without its one-question rule, on the synthetic
    backend: reported as a comparison, and as a gate report with the project's gates."""
    root = tmp_path_factory.mktemp("two")
    # In a thread of its own: the browser fixture's event loop may be running in this one.
    with ThreadPoolExecutor(1) as pool:
        run = pool.submit(scored, two_version_suite(root), root / "runs").result()
    comparison = write_report(render_html(gather([run])), root / "comparison.html")
    config = load_gate_config(BUILTIN_ROOT / "gates.yaml")
    gate = write_report(render_html(gather([run], gate_config=config)), root / "gate.html")
    return run, comparison, gate


@pytest.mark.parametrize("kind", ["comparison", "gate"])
@pytest.mark.parametrize("width", [1400, 400])
def test_comparison_and_gate_reports_at_both_widths(
    browser: Browser, two_versions: tuple[RunData, Path, Path], kind: str, width: int
) -> None:
    run, comparison, gate = two_versions
    height = 900
    watched = Watched(browser.new_page(viewport={"width": width, "height": height}))
    page = watched.page
    watched.open(comparison if kind == "comparison" else gate)
    # nothing wider than the screen
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    # the verdict and the forest plot are above the fold
    verdict = page.locator("#verdict").bounding_box()
    forest = page.locator("svg.forest-plot").first.bounding_box()
    assert verdict is not None and forest is not None
    assert verdict["y"] + verdict["height"] <= height and forest["y"] < height - 40
    assert forest["width"] >= 0.9 * page.evaluate("document.querySelector('#headline').clientWidth")
    if kind == "gate":
        assert "gate" in page.locator("#verdict").inner_text().lower()
    # a cell of the change matrix opens that pair side by side
    mark = page.locator("table.change-matrix a.mk.broken").first
    href = mark.get_attribute("href") or ""
    mark.click()
    paired = page.locator("#paired")
    sync_api.expect(paired).to_be_visible()
    pair = dict(p.split("=", 1) for p in href[1:].split("&"))
    keys = [k.replace("%3A", ":").replace("%23", "#") for k in (pair["pa"], pair["pb"])]
    assert paired.get_attribute("data-pair") == "|".join(keys)
    by_id = {t.interview_id: t for t in run.transcripts}
    turns = max(len(by_id[keys[0]].turns), len(by_id[keys[1]].turns))
    assert page.locator("#paired .pair-grid > .side-a:not(.side-head)").count() == turns
    # the candidate's violation of that rule is marked, with its reason
    rule = pair["pr"]
    broken = page.locator(f'#paired .side-b .violations .v[data-rule="{rule}"]').first
    sync_api.expect(broken).to_be_visible()
    assert "why:" in broken.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert watched.errors == [] and watched.dialogs == []
    page.close()


def test_violation_reasons_navigation_search_and_score_range(
    browser: Browser, two_versions: tuple[RunData, Path, Path]
) -> None:
    run, comparison, _ = two_versions
    watched = Watched(browser.new_page(viewport={"width": 1280, "height": 1000}))
    page = watched.page
    watched.open(comparison)
    assert run.scores is not None
    scores = {s.interview_id: s for s in run.scores}
    with_fail = [
        t for t in run.transcripts if any(r.turns for r in scores[t.interview_id].rules.values())
    ]
    # next violation walks this interview's violations, then the next interview that has any
    page.click("#vx-next")
    focused = page.locator("#chat .turn.focus")
    sync_api.expect(focused).to_have_count(1)
    first_key = page.locator("#chat").get_attribute("data-key")
    assert first_key is not None
    record = scores[first_key]
    expected_turns = sorted(t for r in record.rules.values() for t in r.turns)
    if not expected_turns:  # the first interview had none: next moved on to one that has
        assert first_key in {t.interview_id for t in with_fail}
    assert "why:" in focused.locator(".violations").inner_text()
    seen = [first_key]
    for _ in range(sum(len(r.turns) for r in record.rules.values()) + 1):
        page.click("#vx-next")
    seen.append(page.locator("#chat").get_attribute("data-key") or "")
    assert seen[1] != seen[0]
    page.click("#vx-prev")
    # text search across transcripts
    last = run.transcripts[5].turns[-1].text
    needle = next(line.strip() for line in last.splitlines() if len(line.strip()) > 12)[:30]
    needle = needle.strip()
    page.fill("#f-q", needle)
    expected = sum(
        1 for t in run.transcripts if any(needle.lower() in x.text.lower() for x in t.turns)
    )
    sync_api.expect(page.locator("#match-count")).to_have_attribute("data-count", str(expected))
    assert page.locator("#chat mark.hit").count() >= 1
    page.fill("#f-q", "")
    # score range
    page.fill("#f-lo", "5")
    page.fill("#f-hi", "7")
    in_range = sum(1 for s in run.scores if s.final_score is not None and 5 <= s.final_score <= 7)
    sync_api.expect(page.locator("#match-count")).to_have_attribute("data-count", str(in_range))
    assert watched.errors == []
    page.close()
