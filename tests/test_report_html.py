"""The HTML report and its markdown twin, from runs written by hand: one self-contained file,
every section present, untrusted text inert, figures taken from the statistics layer."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape

from harness.contracts import RULE_IDS, Annotation, RuleResult, ScoreRecord, Transcript, Turn
from harness.report import html, pack
from harness.report.charts import decision_interval
from harness.report.data import ReportData, from_file, gather
from harness.report.html import iter_chunk_interviews, render_html, script_json
from harness.report.markdown import render_markdown
from harness.stats.compare import compare_runs
from harness.stats.consistency import consistency_report
from harness.stats.gate import evaluate_gates, load_gate_config
from harness.store.rundata import RunData, load_run
from harness.store.runs import SCORES, TRANSCRIPTS, write_manifest
from tests.factories import hand_manifest

HOSTILE = {
    "script": "<script>alert(1)</script>",
    "img": '<img src=x onerror="alert(2)">',
    "end": "</script><script>alert(3)</script>",
    "comment": "<!-- <script>alert(4)</script> -->",
    "entity": "&lt;b&gt; stays as typed & so does &amp;",
}
BAD_ID = 'p<svg onload=alert("id")>'
BAD_PROMPT = "v1<img src=x onerror=alert(5)>"


def _turns(texts: list[tuple[str, str]], annotations: dict[int, list[Annotation]]) -> list[Turn]:
    return [
        Turn(role=role, text=text, elapsed_s=60.0 * i, annotations=annotations.get(i, []))  # type: ignore[arg-type]
        for i, (role, text) in enumerate(texts)
    ]


def make_transcript(interview_id: str, prompt: str, persona: str, *, hostile: bool) -> Transcript:
    end = HOSTILE["end"] if hostile else ""
    texts = [
        ("candidate", "I'd like to do a system design interview."),
        ("interviewer", "Which problem would you like? 1. URL shortener 2. Rate limiter"),
        ("candidate", "The URL shortener."),
        ("interviewer", "Design a URL shortener. Where do you start?"),
        ("candidate", HOSTILE["script"] + " I'd put a cache in front." if hostile else "A cache."),
        ("interviewer", "How big is it? And how do you evict?" + end),
        ("candidate", HOSTILE["img"] + " " + HOSTILE["comment"] if hostile else "Time is up."),
        (
            "interviewer",
            "Strong: API. Weak: cache. Wanted: eviction. Score: 6/10. " + HOSTILE["entity"],
        ),
    ]
    topic = HOSTILE["img"] if hostile else "cache"
    return Transcript(
        interview_id=interview_id,
        prompt_version=prompt,
        persona=persona,
        problem="url-shortener",
        turns=_turns(
            texts,
            {
                4: [Annotation(kind="gloss", topic=topic, note=end or None)],
                6: [Annotation(kind="time_up")],
            },
        ),
        meta={
            "synthetic": True,
            "end_reason": "feedback",
            "sample_index": int(interview_id.rsplit("#", 1)[-1]),
            "usage": {"input_tokens": 1000, "output_tokens": 100, "cache_read_input_tokens": 400},
            "cost_usd": 0.01,
        },
    )


def make_score(t: Transcript, score: float | None, fail_one_question: bool) -> ScoreRecord:
    rules = {rule: RuleResult(verdict="pass", opportunities=1) for rule in RULE_IDS}
    rules["pushback"] = RuleResult(verdict="n/a")
    if fail_one_question:
        rules["one_question"] = RuleResult(
            verdict="fail", turns=[5], evidence=[t.turns[5].text], opportunities=3
        )
    return ScoreRecord(interview_id=t.interview_id, final_score=score, rules=rules)


def write_run(
    root: Path,
    run_id: str,
    transcripts: list[Transcript],
    scores: list[ScoreRecord],
    *,
    personas_meta: dict[str, dict[str, object]],
    synthetic: bool = True,
    suite_name: str = "hand",
) -> Path:
    """A run folder as the runner writes it, with scores as `sdi score` writes them."""
    run_dir = root / run_id
    run_dir.mkdir(parents=True)
    prompts = list(dict.fromkeys(t.prompt_version for t in transcripts))
    write_manifest(
        run_dir,
        hand_manifest(run_id, prompts, personas_meta, synthetic=synthetic, suite_name=suite_name),
    )
    (run_dir / TRANSCRIPTS).write_text("".join(t.to_json() + "\n" for t in transcripts))
    (run_dir / SCORES).write_text("".join(s.to_json() + "\n" for s in scores))
    return run_dir


PERSONAS = {
    "url-junior": {"level": "junior", "problem": "url-shortener", "expected_band": [2, 4]},
    "url-senior": {"level": "senior", "problem": "url-shortener", "expected_band": [7, 9]},
    BAD_ID: {"level": "mid", "problem": "url-shortener", "expected_band": [4, 6]},
}


def hostile_run(root: Path) -> RunData:
    """Three personas x two repeats of one prompt version; untrusted text everywhere."""
    transcripts, scores = [], []
    plan = {"url-junior": (3.0, 4.0), "url-senior": (8.0, 7.5), BAD_ID: (5.0, None)}
    for persona, finals in plan.items():
        for sample, final in enumerate(finals):
            t = make_transcript(
                f"{persona}#{sample}", BAD_PROMPT, persona, hostile=persona == BAD_ID
            )
            transcripts.append(t)
            scores.append(make_score(t, final, fail_one_question=sample == 0))
    return load_run(write_run(root, "run-hostile", transcripts, scores, personas_meta=PERSONAS))


@pytest.fixture
def data(tmp_path: Path) -> ReportData:
    return gather([hostile_run(tmp_path / "runs")])


@pytest.fixture
def page(data: ReportData) -> str:
    return render_html(data)


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text of each script element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def parse(page: str) -> Tags:
    tags = Tags()
    tags.feed(page)
    return tags


def test_one_file_with_no_external_resource(page: str) -> None:
    tags = parse(page)
    names = {t for t, _ in tags.tags}
    assert not names & {"link", "img", "iframe", "object", "embed", "base", "video", "audio"}
    for tag, attrs in tags.tags:
        assert "src" not in attrs, tag
        for key in ("href", "xlink:href", "action", "poster"):
            value = attrs.get(key) or ""
            assert not re.match(r"\s*(https?:)?//", value, re.I), (tag, key, value)
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page, re.I)
    assert not re.search(r"@import", page)
    csp = next(a for t, a in tags.tags if t == "meta" and a.get("http-equiv"))
    assert "default-src 'none'" in (csp["content"] or "")


def test_every_section_is_there(page: str, data: ReportData) -> None:
    for section in ("headline", "adherence", "scores", "consistency", "usage", "transcripts"):
        assert f'<section id="{section}">' in page
    assert page.count('class="chart fluid adherence-chart"') == 1
    assert page.count('class="chart fluid score-chart"') == 1
    assert page.count('class="chart fluid usage-chart"') == 1
    assert "ICC(A,1)" in page and "Krippendorff" in page and "pass<sup>k</sup>" in page
    # the expected band of each persona is drawn
    assert page.count('class="expected-band"') == len(PERSONAS)
    # a single version: no comparison, and the page says why
    assert data.comparison is None
    assert "a comparison needs two" in page


def test_untrusted_text_stays_inert(page: str, data: ReportData) -> None:
    tags = parse(page)
    scripts = [a for t, a in tags.tags if t == "script"]
    assert scripts[0].get("type") == "application/json"
    assert {a.get("type") for a in scripts[1:-1]} == {CHUNK_TYPE}, "data: index, then chunks"
    assert "type" not in scripts[-1], "and the report's own script last"
    for tag, attrs in tags.tags:
        assert tag != "img"
        assert tag != "svg" or "onload" not in attrs
        assert not [k for k in attrs if k.startswith("on")], (tag, attrs)
    # the index holds no markup characters, the chunks only base64; both give the exact text
    block = tags.scripts[0]
    assert not set(block) & {"<", ">", "&"}
    for chunk in tags.scripts[1:-1]:
        assert re.fullmatch(r"[A-Za-z0-9+/=]+", chunk.strip())
    payload = page_payload(tags)
    texts = [turn[1] for i in payload["interviews"] for turn in i["t"]]
    for value in HOSTILE.values():
        assert any(value in text for text in texts), value
    ids = {i["p"] for i in payload["interviews"]}
    assert BAD_ID in ids
    assert {i["v"] for i in payload["interviews"]} == {BAD_PROMPT}
    evidence = [x[2] for i in payload["interviews"] for x in i["x"]]
    assert any(HOSTILE["end"] in e for e in evidence)
    # ids shown in the page (charts, tables, filters) are escaped text
    assert (
        "p&lt;svg onload=alert(&#34;id&#34;)&gt;" in page
        or "p&lt;svg onload=alert(&quot;id&quot;)&gt;" in page
    )
    assert "v1&lt;img src=x onerror=alert(5)&gt;" in page


CHUNK_TYPE = "application/x-sdi-chunk"


def page_payload(tags: Tags) -> dict[str, Any]:
    """The viewer's data as the page script sees it: the index joined with its chunks."""
    index = json.loads(tags.scripts[0])
    chunks = [c.strip() for c in tags.scripts[1:-1]]
    return {**index, "interviews": list(iter_chunk_interviews(index, chunks))}


def test_script_json_escapes_markup_characters() -> None:
    text = script_json({"a": "</script><b>&amp;", "b": "\u2028"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert json.loads(text) == {"a": "</script><b>&amp;", "b": "\u2028"}


def test_page_script_never_uses_html_sinks(page: str) -> None:
    script = parse(page).scripts[1]
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script


def test_figures_come_from_the_statistics_layer(data: ReportData, tmp_path: Path) -> None:
    run = hostile_run(tmp_path / "again")
    version = consistency_report(run).versions[0]
    one_question = next(r for r in version.rules if r.rule == "one_question")
    point = data.adherence_point("one_question", BAD_PROMPT)
    assert point is not None
    assert point.rate == one_question.pass_rate
    assert (point.passed, point.applicable, point.failed_interviews) == (3, 6, 3)
    assert data.adherence_point("pushback", BAD_PROMPT).rate.estimate is None  # type: ignore[union-attr]
    assert data.consistency[0].figures.agreement == version.agreement


def test_interviews_carry_violations_and_annotations(data: ReportData) -> None:
    assert len(data.interviews) == 6
    failing = [i for i in data.interviews if i.verdicts["one_question"] == "fail"]
    assert len(failing) == 3
    for i in failing:
        assert [(v.rule, v.turn) for v in i.violations] == [("one_question", 5)]
        assert i.violations[0].evidence.startswith("How big is it? And how do you evict?")
    assert data.interview_count(rule="one_question", verdict="fail") == 3
    assert data.interview_count(verdict="pass") == 3
    assert data.interview_count(persona=BAD_ID) == 2


def test_score_counts_and_usage(data: ReportData) -> None:
    cell = next(c for c in data.scores if c.persona == BAD_ID)
    assert cell.counts == [(5.0, 1)] and cell.unscored == 1
    senior = next(c for c in data.scores if c.persona == "url-senior")
    assert senior.counts == [(7.5, 1), (8.0, 1)]
    assert senior.mean == pytest.approx(7.75)
    (usage,) = data.usage
    assert usage.interviews == 6
    assert usage.usage.input_tokens == 6000 and usage.usage.cache_read_input_tokens == 2400
    assert usage.cost_usd == pytest.approx(0.06)


def test_synthetic_label_in_header_and_data(page: str, data: ReportData) -> None:
    assert 'id="synthetic-banner"' in page and "not model output" in page
    payload = json.loads(parse(page).scripts[0])
    assert all(i["syn"] for i in payload["interviews"])


def test_a_model_run_has_no_synthetic_label(tmp_path: Path) -> None:
    t = make_transcript("url-junior#0", "v1", "url-junior", hostile=False)
    t.meta["synthetic"] = False
    run_dir = write_run(
        tmp_path,
        "run-model",
        [t],
        [make_score(t, 3.0, False)],
        personas_meta={"url-junior": PERSONAS["url-junior"]},
        synthetic=False,
    )
    page = render_html(gather([load_run(run_dir)]))
    markup = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S)
    assert "SYNTHETIC" not in markup and "synthetic-banner" not in markup
    assert not json.loads(parse(page).scripts[0])["interviews"][0]["syn"]


def test_markdown_headline(data: ReportData) -> None:
    md = render_markdown(data)
    assert md.startswith("## ")
    assert "SYNTHETIC" in md
    assert "a comparison needs two" in md
    assert "| one_question |" in md
    point = data.adherence_point("one_question", BAD_PROMPT)
    assert point is not None and point.rate.low is not None
    assert f"[{100 * point.rate.low:.0f}%" in md
    assert "ICC(A,1)" in md and "Tokens and cost" in md
    # ids from the run are literal text, not markup
    assert "<" not in md, "every < from the run is written as an entity"
    assert "v1&lt;img src=x onerror=alert(5)&gt;" in md


def two_version_run(root: Path) -> RunData:
    """v1 and v2 over the same three personas, two repeats; v2 breaks one_question every time."""
    transcripts, scores = [], []
    for prompt in ("v1", "v2"):
        for persona in ("url-junior", "url-senior", "url-mid"):
            for sample in range(2):
                t = make_transcript(f"{prompt}:{persona}#{sample}", prompt, persona, hostile=False)
                transcripts.append(t)
                final = {"url-junior": 3.0, "url-mid": 5.0, "url-senior": 8.0}[persona]
                scores.append(make_score(t, final, fail_one_question=prompt == "v2"))
    meta = {**PERSONAS, "url-mid": PERSONAS[BAD_ID]}
    del meta[BAD_ID]
    return load_run(write_run(root, "run-two", transcripts, scores, personas_meta=meta))


def test_headline_verdicts_and_gates_are_the_statistics_layers(tmp_path: Path) -> None:
    run = two_version_run(tmp_path / "runs")
    gates_path = tmp_path / "gates.yaml"
    gates_path.write_text(
        "regression: {'rule:*': 0.1}\nfloors: {score:in_band: 0.9}\nn_boot: 500\n"
    )
    config = load_gate_config(gates_path)
    data = gather([run], gate_config=config)
    expected = compare_runs(
        [run], margins=config.regression_margins(), n_boot=config.n_boot, seed=config.seed
    )
    assert data.comparison is not None
    assert data.comparison.contrasts == expected.contrasts
    assert data.gates == evaluate_gates(expected, config)
    page = render_html(data)
    headline = page[page.index('<section id="headline">') : page.index('<section id="adherence">')]
    for m in expected.contrasts[0].metrics:
        assert re.search(f"<code[^>]*>{re.escape(m.metric)}</code>", headline), m.metric
    one_question = expected.contrasts[0].metric("rule:one_question")
    assert one_question is not None
    row = headline[headline.index("<code>rule:one_question</code>") :].split("</tr>")[0]
    assert f">{one_question.verdict}</span>" in row
    assert data.gates is not None
    assert ("gate passed" if data.gates.passed else "gate FAILED") in headline
    for gate in data.gates.gates:
        assert str(escape(gate.name)) in headline
    assert "a comparison needs two" not in headline
    # adherence per version comes from the comparison's figures
    point = data.adherence_point("one_question", "v2")
    assert point is not None
    assert point.rate.estimate == one_question.candidate.value == 0.0
    md = render_markdown(data)
    assert "Prompt gate" in md and "| rule:one_question |" in md


def test_comparison_opens_with_the_verdict_then_the_forest_plot(tmp_path: Path) -> None:
    run = two_version_run(tmp_path / "runs")
    data = gather([run])
    page = render_html(data)
    headline = page[page.index('<section id="headline">') : page.index('<section id="changes">')]
    verdict, forest, table = (
        headline.index('id="verdict"'),
        headline.index('class="chart fluid forest-plot"'),
        headline.index('class="compact contrast-table"'),
    )
    assert verdict < forest < table
    assert '<details class="contrast-details">' in headline  # the table, collapsed
    assert data.comparison is not None
    contrast = data.comparison.contrasts[0]
    svg = headline[forest : headline.index("</svg>", forest)]
    for m in contrast.metrics:
        if m.difference is None:
            continue
        assert f">{m.metric}<" in svg
        assert f"forest-row verdict-{m.verdict.replace(' ', '-')}" in svg
    # the chart states the interval the decision used, at the decision's level
    one_question = contrast.metric("rule:one_question")
    assert one_question is not None
    iv = decision_interval(one_question)
    assert iv is not None
    assert f"{100 * iv[2]:.3g}% interval" in svg
    assert f"[{100 * iv[0]:+.1f}, {100 * iv[1]:+.1f}]" in svg


def test_change_matrix_counts_pairs_and_links_them(tmp_path: Path) -> None:
    data = gather([two_version_run(tmp_path / "runs")])
    (changes,) = data.changes
    assert (changes.baseline, changes.candidate, changes.pairs) == ("v1", "v2", 6)
    for persona in ("url-junior", "url-mid", "url-senior"):
        cell = changes.cell("one_question", persona)
        assert cell is not None
        assert cell.counts == {"broken": 2, "fixed": 0, "both": 0, "kept": 0}
        a, b = cell.first["broken"]
        assert a == f"v1:{persona}#0" and b == f"v2:{persona}#0"
        kept = changes.cell("opening", persona)
        assert kept is not None and kept.counts["kept"] == 2
    assert changes.cell("pushback", "url-mid") is None  # n/a on both sides: no cell
    page = render_html(data)
    matrix = page[page.index('<section id="changes">') :]
    assert "#pa=v1%3Aurl-mid%230&amp;pb=v2%3Aurl-mid%230&amp;pr=one_question" in matrix


def test_violations_carry_the_reason_and_the_turn_that_opened_the_chance(tmp_path: Path) -> None:
    t = make_transcript("why#0", "v1", "url-junior", hostile=False)
    rules = {rule: RuleResult(verdict="pass", opportunities=1) for rule in RULE_IDS}
    rules["drill_down"] = RuleResult.model_validate(
        {
            "verdict": "fail",
            "turns": [5],
            "evidence": ["How big is it?"],
            "opportunities": 1,
            "note": "moves on without a specific question",
        }
    )
    score = ScoreRecord(interview_id=t.interview_id, final_score=3.0, rules=rules)
    run = load_run(write_run(tmp_path / "runs", "run-why", [t], [score], personas_meta=PERSONAS))
    data = gather([run])
    (violation,) = data.interviews[0].violations
    assert violation.note == "moves on without a specific question"
    assert violation.opened_at == 4  # the candidate's gloss turn
    (entry,) = page_payload(parse(render_html(data)))["interviews"]
    rule = data.rules.index("drill_down")
    assert entry["x"] == [[rule, 5, "How big is it?", violation.note, 4]]
    assert entry["nx"] == 1


def test_transcripts_are_packed_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = two_version_run(tmp_path / "runs")
    monkeypatch.setattr(pack, "CHUNK_BYTES", 1)  # one interview per chunk
    data = gather([run])
    assert len(data.chunks) == len(data.interviews) == len(run.transcripts)
    index = html.viewer_payload(data)
    assert [i["c"] for i in index["interviews"]] == list(range(len(data.chunks)))
    joined = list(iter_chunk_interviews(index, data.chunks))
    for t, entry in zip(run.transcripts, joined, strict=True):
        assert [x[1] for x in entry["t"]] == [x.text for x in t.turns]
    monkeypatch.setattr(pack, "CHUNK_BYTES", 10**9)
    assert len(gather([run]).chunks) == 1


def test_a_run_loaded_without_turns_gives_the_same_report(tmp_path: Path) -> None:
    """What `sdi report` does: statistics from a run held without its turns, the text streamed
    from the run's file into the chunks."""
    full = two_version_run(tmp_path / "runs")
    lean = load_run(full.run_dir, turns=False)
    assert all(not t.turns for t in lean.transcripts)
    a, b = gather([full]), gather([lean], texts=from_file)
    assert b.chunks == a.chunks
    assert b.interviews == a.interviews and b.comparison == a.comparison


def test_the_forest_plot_takes_the_decision_interval_the_comparison_states(
    tmp_path: Path,
) -> None:
    """The statistics layer may decide on a one-sided family-wise interval: the chart shows
    that interval at its level, not a fixed 90%."""
    data = gather([two_version_run(tmp_path / "runs")])
    assert data.comparison is not None
    m = data.comparison.contrasts[0].metrics[0]
    assert m.ci_decision is not None and m.tail is not None
    assert decision_interval(m) == (*m.ci_decision, 1 - 2 * m.tail)
    assert decision_interval(m.model_copy(update={"ci_decision": None})) == (*m.ci90, 0.90)  # type: ignore[misc]
    stated = m.model_copy(update={"ci_decision": (-0.3, 0.2), "tail": 0.0025})
    assert decision_interval(stated) == (-0.3, 0.2, 0.995)
