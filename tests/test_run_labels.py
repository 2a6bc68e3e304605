"""A label set named where runs are read: `sdi report --labels` (the run's scorers against the
labels of its interviews, and the disagreement gallery in the report, escaped) and `sdi compare`
/ `sdi gate --labels` (each rule's verdict carries its scorer's kappa against the labels).

The label sets are made here from real synthetic runs: the labels copy the run's own verdicts,
with one deliberate disagreement, one labelled interview the runs do not hold, and hostile text
in the labelled transcript and the label's evidence."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from harness.cli.main import app
from harness.contracts import RULE_IDS, RuleResult, ScoreRecord, Transcript
from harness.project import BUILTIN_ROOT
from harness.scoring.labels import ITEMS, LabelLine, PartialLabels, Selection
from harness.scoring.run_labels import label_set_agreement, run_labels
from harness.scoring.runs import scored_run
from harness.stats.compare import Comparison
from harness.store.rundata import RunData
from harness.store.runs import append_jsonl
from tests.test_stats_cli import smoke_runs  # noqa: F401 (the module's two smoke runs)

HOSTILE = '</script><script>alert("x")</script><img src=x onerror=alert(1)>'
runner = CliRunner()


@pytest.fixture(scope="module")
def runs(smoke_runs: tuple[Path, Path, Path]) -> tuple[Path, RunData, RunData]:  # noqa: F811
    """Two smoke runs of v1 that differ only in the suite seed, scored."""
    folder, first, second = smoke_runs
    return folder, scored_run(first.name, folder), scored_run(second.name, folder)


def _flip(result: RuleResult) -> RuleResult:
    if result.verdict == "fail":
        return RuleResult(verdict="pass", evidence=[HOSTILE])
    return RuleResult(verdict="fail", turns=[1], evidence=[HOSTILE])


def _line(
    run: RunData, transcript: Transcript, record: ScoreRecord, rules: dict[str, RuleResult]
) -> str:
    labels = PartialLabels(final_score=record.final_score, rules=rules)
    selection = Selection(
        order="random", stratum="random", stratum_size=30, run=run.manifest.run_id
    )
    line = LabelLine(
        labeller="ann",
        selection=selection,
        given=list(ITEMS),
        complete=True,
        transcript=transcript,
        labels=labels,
    )
    return line.model_dump_json(by_alias=True)


def label_set(path: Path, run: RunData, *, hostile: bool, n: int = 6) -> tuple[Path, str, str]:
    """Labels equal to the run's verdicts on its first `n` interviews, except one rule of the
    first interview (flipped), and one more labelled interview the run does not hold. Returns
    the set, the flipped rule and the interview it is flipped on."""
    assert run.scores is not None
    path.parent.mkdir(parents=True, exist_ok=True)
    records = {r.interview_id: r for r in run.scores}
    chosen = run.transcripts[:n]
    first = records[chosen[0].interview_id]
    flipped = next(r for r in RULE_IDS if first.rules[r].verdict == "pass")
    for i, transcript in enumerate(chosen):
        record = records[transcript.interview_id]
        rules = {
            rule: RuleResult(verdict=r.verdict, turns=list(r.turns), evidence=list(r.evidence))
            for rule, r in record.rules.items()
        }
        if i == 0:
            rules[flipped] = _flip(record.rules[flipped])
            if hostile:
                transcript = transcript.model_copy(deep=True)
                transcript.turns[1].text = f"{HOSTILE}\n{transcript.turns[1].text}"
        append_jsonl(path, _line(run, transcript, record, rules))
    stranger = chosen[1].model_copy(update={"interview_id": "not-in-any-run"})
    append_jsonl(path, _line(run, stranger, records[chosen[1].interview_id], rules))
    return path, flipped, chosen[0].interview_id


def test_run_labels_uses_the_runs_records_of_matched_interviews(
    runs: tuple[Path, RunData, RunData], tmp_path: Path
) -> None:
    _, first, _ = runs
    path, flipped, _ = label_set(tmp_path / "l.jsonl", first, hostile=True)
    result = run_labels(path, [first])
    assert (result.labelled, result.matched) == (7, 6)
    by_rule = {a.rule: a for a in result.validation.rules}
    assert by_rule[flipped].fn == 1 and by_rule[flipped].fp == 0
    assert by_rule[flipped].kappa < 1
    assert all(a.fp == a.fn == 0 for rule, a in by_rule.items() if rule != flipped)
    agreement = result.by_rule()[flipped]
    assert agreement.n == 6 and agreement.kappa is not None and agreement.kappa < 1
    assert agreement.text().startswith("scorer vs labels: kappa ")


def test_labels_of_no_interview_in_the_runs_are_one_clear_error(
    runs: tuple[Path, RunData, RunData], tmp_path: Path
) -> None:
    folder, first, second = runs
    path, _, _ = label_set(tmp_path / "l.jsonl", first, hostile=False)
    out = tmp_path / "r.html"
    result = runner.invoke(
        app,
        [
            "report",
            str(second.run_dir),
            "--runs-dir",
            str(folder),
            "--no-gates",
            "--labels",
            str(path),
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {path}") and result.stderr.count("\n") == 1
    assert "none of its 7 labelled interview(s) is in these runs" in result.stderr
    assert not out.exists()


def test_report_shows_agreement_and_the_gallery_escaped(
    runs: tuple[Path, RunData, RunData], tmp_path: Path
) -> None:
    folder, first, _ = runs
    path, flipped, case = label_set(tmp_path / "labels" / "l.jsonl", first, hostile=True)
    out = tmp_path / "r.html"
    args = [
        "report",
        first.manifest.run_id,
        "--runs-dir",
        str(folder),
        "--no-gates",
        "-o",
        str(out),
    ]
    plain = runner.invoke(app, [*args[:-1], str(tmp_path / "plain.html")])
    result = runner.invoke(app, [*args, "--labels", str(path)])
    assert plain.exit_code == 0 and result.exit_code == 0, result.output
    assert "labels: 6 of 7 labelled interview(s) in these runs; 1 disagreement(s)" in result.stdout
    page = out.read_text(encoding="utf-8")
    section = page[page.index('<section id="labels">') : page.index('<section id="transcripts">')]
    assert "6 of its 7 labelled interview(s)" in section and "the other 1 are ignored" in section
    row = re.search(rf"<tr><td>{flipped}</td>(.*?)</tr>", section)
    assert row is not None and "[" in row.group(1), "kappa with its interval"
    # The one deliberate disagreement, with the label and the run's verdict side by side.
    assert section.count('class="item"') == 1
    assert f"{case} &middot; {flipped}" in section
    assert "the run&#39;s scorers" in section
    # Hostile text from the labelled transcript and the label's evidence stays text.
    assert "alert" in section and "<img" not in section and "<script>" not in section
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img" in section
    # Nothing executable was added: the same script elements as without --labels.
    plain_page = (tmp_path / "plain.html").read_text(encoding="utf-8")
    assert page.count("<script") == plain_page.count("<script")
    assert "script-src 'sha256-" in page

    md = runner.invoke(app, [*args[:-2], "-f", "md", "--labels", str(path)])
    assert md.exit_code == 0, md.output
    assert "Scorers against people's labels" in md.stdout and f"| {flipped} |" in md.stdout


def test_compare_and_gate_name_a_label_set(
    runs: tuple[Path, RunData, RunData], tmp_path: Path
) -> None:
    folder, first, second = runs
    path, flipped, _ = label_set(tmp_path / "l.jsonl", first, hostile=False)
    # The whole set is scored afresh: n counts the interview the runs do not hold too.
    agreement = label_set_agreement(path)[flipped]
    assert agreement.n == 7 and agreement.kappa is not None and agreement.kappa < 1
    expected = agreement.short()

    base = [
        "compare",
        first.manifest.run_id,
        second.manifest.run_id,
        "--runs-dir",
        str(folder),
        "--n-boot",
        "300",
    ]
    as_json = runner.invoke(app, [*base, "-f", "json", "--labels", str(path)])
    assert as_json.exit_code == 0, as_json.output
    (contrast,) = Comparison.model_validate_json(as_json.stdout).contrasts
    metrics = {m.metric: m for m in contrast.metrics}
    assert metrics[f"rule:{flipped}"].scorer_agreement == agreement
    assert all(m.scorer_agreement is None for k, m in metrics.items() if k.startswith("score:"))
    table = runner.invoke(app, [*base, "--labels", str(path)], env={"COLUMNS": "400"})
    assert table.exit_code == 0, table.output
    assert "scorer vs labels" in table.stdout and expected in table.stdout

    gate = runner.invoke(
        app,
        [
            "gate",
            "--baseline",
            first.manifest.run_id,
            "--candidate",
            second.manifest.run_id,
            "--config",
            str(BUILTIN_ROOT / "gates.yaml"),
            "--runs-dir",
            str(folder),
            "--out",
            str(tmp_path / "gate"),
            "--quiet",
            "--labels",
            str(path),
        ],
    )
    assert gate.exit_code in (0, 1), gate.output
    gated = f"rule:{flipped}"
    line = next(x for x in gate.stdout.splitlines() if f" {gated} " in x)
    assert f"(scorer vs labels: {expected})" in line
    report = json.loads((tmp_path / "gate" / "gate.json").read_text(encoding="utf-8"))
    (result,) = [g for g in report["gates"] if g["metric"] == gated]
    assert result["scorer_agreement"]["n"] == 7
    assert result["scorer_agreement"]["kappa"] == pytest.approx(agreement.kappa)
    markdown = (tmp_path / "gate" / "gate.md").read_text(encoding="utf-8")
    assert f"scorer vs labels: {expected}" in markdown.replace("\\", "")  # \[ in markdown


def test_a_missing_label_set_stops_compare_before_any_work(
    runs: tuple[Path, RunData, RunData], tmp_path: Path
) -> None:
    _, first, second = runs
    missing = tmp_path / "nope.jsonl"
    result = runner.invoke(
        app,
        ["compare", first.manifest.run_id, second.manifest.run_id, "--labels", str(missing)],
    )
    assert result.exit_code == 2 and result.stderr.startswith(f"error: {missing}")
