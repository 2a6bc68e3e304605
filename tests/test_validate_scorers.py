"""Validation against labelled cases: precision, recall and F1 with "fail" as the positive
class, turn and final-score agreement, the judge's agreement, and `sdi validate-scorers`."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from harness.cli.main import app
from harness.contracts import RULE_IDS, RuleResult
from harness.scoring.gallery import render_gallery
from harness.scoring.golden import GoldenCase, GoldenLabels
from harness.scoring.judge import JUDGED_RULES, make_judge
from harness.scoring.labels import (
    ITEMS,
    LabelLine,
    PartialLabels,
    Selection,
    interrater,
    load_reference,
)
from harness.scoring.score import score_transcript
from harness.scoring.validate import (
    compare,
    render,
    render_report,
    rule_agreement,
    validate_golden,
    validate_reference,
)
from harness.store.runs import append_jsonl
from tests.loopback import Reply, message, running_loopback
from tests.test_judge import _rubric
from tests.test_scoring_score import FakeJudge
from tests.test_scoring_support import cand, interview, intv
from tests.test_scoring_uncertain import GLOSS, GROUNDED


def test_rule_agreement_counts() -> None:
    labels = ["fail", "fail", "pass", "n/a", "fail", "pass"]
    found = ["fail", "pass", "fail", "n/a", "fail", "pass"]
    a = rule_agreement("x", labels, found)
    assert (a.tp, a.fp, a.fn) == (2, 1, 1)
    assert a.precision == 2 / 3 and a.recall == 2 / 3
    assert math.isclose(a.f1, 2 / 3)
    assert a.verdict_agreement == 4 / 6


def test_rule_agreement_without_any_fail_is_undefined() -> None:
    a = rule_agreement("x", ["pass", "n/a"], ["pass", "n/a"])
    assert math.isnan(a.f1) and a.verdict_agreement == 1.0


def _case(case_id: str, reply: str, label: str, turns: list[int]) -> GoldenCase:
    t = interview(cand("We'd add a cache.", "gloss:cache"), intv(reply), interview_id=case_id)
    rules = {rule: score_transcript(t).rules[rule] for rule in RULE_IDS}
    rules["drill_down"] = RuleResult(verdict=label, turns=turns)  # type: ignore[arg-type]
    return GoldenCase(
        transcript=t,
        labels=GoldenLabels(final_score=7.0, rules=rules),
        notes="test case",
    )


def _cases() -> list[GoldenCase]:
    return [
        _case("drilled", "What's the TTL?", "pass", []),
        _case("missed", "What's next?", "fail", [5]),
        _case("mislabelled-turn", "What's next?", "fail", [3]),
        _case("disputed", "What's the hit rate?", "fail", [5]),
    ]


def test_compare_reports_misses_and_turns() -> None:
    cases = _cases()
    result = compare(cases, [score_transcript(c.transcript) for c in cases])
    drill = next(a for a in result.rules if a.rule == "drill_down")
    assert (drill.tp, drill.fp, drill.fn) == (2, 0, 1)
    assert (drill.turns_agree, drill.turns_compared) == (1, 2)
    missed = {(m.case, m.rule) for m in result.misses}
    assert missed == {("mislabelled-turn", "drill_down"), ("disputed", "drill_down")}
    assert result.final_score.exact == 4


def test_final_score_agreement() -> None:
    cases = _cases()[:2]
    records = [score_transcript(c.transcript) for c in cases]
    records[1] = records[1].model_copy(update={"final_score": 5.0})
    s = compare(cases, records).final_score
    assert (s.exact, s.mean_abs_error) == (1, 1.0)
    assert s.mismatches == [("missed", 7.0, 5.0)]


def _write_cases(folder: Path) -> Path:
    folder.mkdir()
    for case in _cases():
        data = case.model_dump(mode="json", by_alias=True, exclude_none=True)
        (folder / f"{case.transcript.interview_id}.yaml").write_text(yaml.safe_dump(data))
    return folder


def test_validate_golden_with_a_judge(tmp_path: Path) -> None:
    folder = _write_cases(tmp_path / "cases")
    judge = FakeJudge(unreadable={"drilled"})
    cases, deterministic, judged = asyncio.run(validate_golden(folder, judge=judge))
    assert len(cases) == 4 and judged is not None
    assert [a.rule for a in judged.rules] == sorted(JUDGED_RULES)
    assert judged.judge_errors == ["drilled"]
    drill = next(a for a in judged.rules if a.rule == "drill_down")
    assert drill.cases == 3 and drill.found_fail == 3
    text = render(folder, deterministic, judged, misses=True)
    assert "judge: fake:judge" in text and "judge failed on 1 case(s)" in text


def test_cli_prints_table_and_positive_class(tmp_path: Path) -> None:
    folder = _write_cases(tmp_path / "cases")
    result = CliRunner().invoke(app, ["validate-scorers", "--golden", str(folder)])
    assert result.exit_code == 0, result.output
    assert 'positive class = "fail"' in result.stdout
    assert "drill_down" in result.stdout and "F1" in result.stdout
    assert "disputed  drill_down  fail@[5] -> pass" in result.stdout


def test_cli_bad_golden_folder_is_exit_2(tmp_path: Path) -> None:
    empty = tmp_path / "none"
    empty.mkdir()
    result = CliRunner().invoke(app, ["validate-scorers", "--golden", str(empty)])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ")
    (empty / "broken.yaml").write_text("transcript: [unclosed\n")
    result = CliRunner().invoke(app, ["validate-scorers", "--golden", str(empty)])
    assert result.exit_code == 2 and "broken.yaml" in result.stderr


# Label sets (labels/NAME.jsonl from `sdi label`): weights, two labellers, the gallery, the judge.


def _label_line(
    case: GoldenCase, labeller: str, stratum: str, size: int, order: str = "disagreement"
) -> LabelLine:
    return LabelLine(
        labeller=labeller,
        selection=Selection(order=order, stratum=stratum, stratum_size=size),
        given=list(ITEMS),
        complete=True,
        transcript=case.transcript,
        labels=PartialLabels.model_validate(case.labels.model_dump()),
        notes="labelled in a test",
    )


def _label_set(path: Path, *lines: LabelLine) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    for line in lines:
        append_jsonl(path, line.model_dump_json(by_alias=True))
    return path


def _strata_set(tmp_path: Path) -> Path:
    """Two disagreement cases standing for 2 transcripts, two of the rest standing for 98."""
    cases = _cases()
    return _label_set(
        tmp_path / "labels" / "mine.jsonl",
        _label_line(cases[0], "ann", "rest", 98),
        _label_line(cases[1], "ann", "disagreement", 2),
        _label_line(cases[2], "ann", "rest", 98),
        _label_line(cases[3], "ann", "disagreement", 2),
    )


def test_a_label_set_is_weighted_by_stratum(tmp_path: Path) -> None:
    reference = load_reference(_strata_set(tmp_path))
    assert reference.weighted and reference.labeller == "ann"
    assert sorted(reference.weights or []) == [1.0, 1.0, 49.0, 49.0]
    result = compare(
        reference.cases,
        [score_transcript(c.transcript) for c in reference.cases],
        weights=reference.weights,
        strata=reference.strata,
    )
    drill = next(a for a in result.rules if a.rule == "drill_down")
    # Unweighted: tp 2 (missed, mislabelled-turn), fn 1 (disputed); recall 2/3. Weighted, the
    # "rest" stratum's mislabelled-turn case counts 49 times, the disputed one once.
    assert (drill.tp, drill.fn) == (2, 1)
    assert math.isclose(drill.recall, (1 + 49) / (1 + 49 + 1))
    assert result.weighted and drill.stats.weighted


def test_random_order_is_not_weighted(tmp_path: Path) -> None:
    path = _label_set(
        tmp_path / "r.jsonl",
        *(_label_line(c, "ann", "random", 40, order="random") for c in _cases()),
    )
    assert not load_reference(path).weighted


def test_partial_and_later_lines(tmp_path: Path) -> None:
    """The last line of a (labeller, transcript) is its state; partial ones are left out."""
    cases = _cases()
    first = _label_line(cases[0], "ann", "rest", 3)
    partial = first.model_copy(update={"complete": False, "given": ["opening"]})
    other = _label_line(cases[1], "ann", "rest", 3).model_copy(update={"complete": False})
    path = _label_set(tmp_path / "p.jsonl", partial, first, other)
    reference = load_reference(path)
    assert [c.transcript.interview_id for c in reference.cases] == ["drilled"]
    assert reference.partial == 1


def test_two_labellers_give_kappa_per_rule(tmp_path: Path) -> None:
    cases = _cases()
    flipped = [
        c.model_copy(
            update={
                "labels": c.labels.model_copy(
                    update={
                        "rules": {
                            **c.labels.rules,
                            "drill_down": RuleResult(verdict="pass")
                            if c.transcript.interview_id == "disputed"
                            else c.labels.rules["drill_down"],
                        }
                    }
                )
            }
        )
        for c in cases
    ]
    path = _label_set(
        tmp_path / "two.jsonl",
        *(_label_line(c, "ann", "random", 4, "random") for c in cases),
        *(_label_line(c, "bob", "random", 4, "random") for c in flipped),
    )
    kappas = interrater(load_reference(path))["bob"]
    assert kappas["(cases)"] == 4
    # ann: pass fail fail fail; bob: pass fail fail pass -> po 3/4, pe 1/4*2/4 + 3/4*2/4 = 1/2
    assert math.isclose(kappas["drill_down"], 0.5)
    result = CliRunner().invoke(app, ["validate-scorers", "--golden", str(path), "--no-misses"])
    assert result.exit_code == 0, result.output
    assert "inter-rater: ann vs bob on 4 transcript(s)" in result.stdout
    assert "drill_down 0.50" in result.stdout


def test_cli_on_a_label_set_prints_intervals_and_writes_the_gallery(tmp_path: Path) -> None:
    cases = _cases()
    hostile = cases[3].transcript.model_copy(deep=True)
    hostile.turns[5].text = "What's the hit rate? <script>alert(1)</script>"
    cases[3] = cases[3].model_copy(update={"transcript": hostile})
    path = _label_set(
        tmp_path / "labels" / "g.jsonl",
        *(_label_line(c, "ann", "random", 4, "random") for c in cases),
    )
    page = tmp_path / "gallery.html"
    result = CliRunner().invoke(
        app, ["validate-scorers", "--golden", str(path), "--gallery", str(page)]
    )
    assert result.exit_code == 0, result.output
    assert "label set:" in result.stdout and "labeller ann" in result.stdout
    drill_line = next(ln for ln in result.stdout.splitlines() if ln.startswith("drill_down"))
    assert "0.67 [" in drill_line  # recall 2/3 with its Wilson interval
    html = page.read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count('class="item"') == 2  # disputed (verdict) and mislabelled-turn (turns)
    assert "Content-Security-Policy" in html


def test_a_label_line_that_is_not_a_label_is_exit_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"schema": "sdi.labels/1", "labeller": "ann"}\n')
    result = CliRunner().invoke(app, ["validate-scorers", "--golden", str(path)])
    assert result.exit_code == 2
    assert "bad.jsonl" in result.stderr and "line 1" in result.stderr


def _judge_responder(body: dict[str, Any]) -> Reply:
    """A judge that fails drill_down where the interviewer asked "What's next?" and passes it
    elsewhere, whatever the order the transcripts arrive in."""
    text = str(body["messages"][-1]["content"])
    rules: dict[str, Any] = {
        "pushback": {"verdict": "n/a", "turns": [], "evidence": [], "reason": "no decision"},
        "no_direct_correction": {"verdict": "n/a", "turns": [], "evidence": [], "reason": "-"},
        "in_role": {"verdict": "pass", "turns": [], "evidence": [], "reason": "in role"},
        "score_justified": {"verdict": "pass", "turns": [], "evidence": [], "reason": "fine"},
        "drill_down": {"verdict": "pass", "turns": [], "evidence": [], "reason": "drilled"},
    }
    if "What's next?" in text:
        rules["drill_down"] = {
            "verdict": "fail",
            "turns": [5],
            "evidence": ["What's next?"],
            "reason": "generic <b>move on</b>",
        }
    return message(json.dumps({"rules": rules}))


def test_judge_beside_the_scorers_through_the_loopback_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rubrics = tmp_path / "rubrics"
    rubrics.mkdir()
    for rule in JUDGED_RULES:
        (rubrics / f"{rule}.yaml").write_text(yaml.safe_dump(_rubric(rule)))
    path = _label_set(
        tmp_path / "j.jsonl", *(_label_line(c, "ann", "random", 4, "random") for c in _cases())
    )
    with running_loopback(monkeypatch) as server:
        server.responder = _judge_responder
        judge = make_judge("anthropic", cache_path=tmp_path / "c.sqlite", rubrics_dir=rubrics)
        report = asyncio.run(_validate_and_close(load_reference(path), judge))
        # two cases share one transcript: identical judge calls in flight share one request
        assert len(server.messages_requests()) == 3
    assert report.judged is not None
    table = render_report(report, misses=True)
    assert f"judge: {judge.name} beside deterministic" in table
    rows = [ln for ln in table.splitlines() if ln.startswith("drill_down ") or ln.startswith(" ")]
    assert any("deterministic" in ln for ln in rows) and any(judge.name in ln for ln in rows)
    html = render_gallery(report)
    assert "generic &lt;b&gt;move on&lt;/b&gt;" in html


async def _validate_and_close(reference: Any, judge: Any) -> Any:
    try:
        return await validate_reference(reference, judge=judge)
    finally:
        await judge.aclose()


def test_cli_judge_only_uncertain_asks_about_uncertain_transcripts_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    replies = {
        "sure-pass": ("What's the TTL?", "pass", []),
        "sure-fail": ("What's next?", "fail", [5]),
        "unsure": ("How will the database keep up with writes?", "fail", [5]),
    }
    cases = []
    for case_id, (reply, verdict, turns) in replies.items():
        t = interview(
            cand(GLOSS, "gloss:cache"),
            intv(reply),
            feedback=GROUNDED,
            interview_id=case_id,
        )
        rules = dict(score_transcript(t).rules)
        rules["drill_down"] = RuleResult.model_validate({"verdict": verdict, "turns": turns})
        cases.append(
            GoldenCase(transcript=t, labels=GoldenLabels(final_score=7.0, rules=rules), notes="-")
        )
    uncertain = [
        c.transcript.interview_id
        for c in cases
        if any(
            getattr(r, "uncertain", False) for r in score_transcript(c.transcript).rules.values()
        )
    ]
    assert uncertain == ["unsure"]
    path = _label_set(
        tmp_path / "u.jsonl", *(_label_line(c, "ann", "random", 3, "random") for c in cases)
    )
    with running_loopback(monkeypatch) as server:
        server.responder = _judge_responder
        result = CliRunner().invoke(
            app,
            [
                "validate-scorers",
                "--golden",
                str(path),
                "--judge",
                "anthropic",
                "--judge-only-uncertain",
                "--runs-dir",
                str(tmp_path / "runs"),
                "-q",
            ],
        )
        assert result.exit_code == 0, result.output
        assert len(server.messages_requests()) == 1  # only the uncertain transcript
    assert "on uncertain beside deterministic" in result.stdout
