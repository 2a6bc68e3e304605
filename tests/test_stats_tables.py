"""Hand-made scored runs for the statistics tests, and the tests of the tidy tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.contracts import RULE_IDS, RuleResult, ScoreRecord, Transcript, Turn
from harness.errors import InputError
from harness.stats.tables import interview_table, rule_table
from harness.store.rundata import RegradeRecord, RunData
from tests.factories import hand_manifest

PERSONAS: dict[str, dict[str, Any]] = {
    "junior-a": {"level": "junior", "expected_band": [2, 4]},
    "mid-a": {"level": "mid", "expected_band": [5, 7]},
    "senior-a": {"level": "senior", "expected_band": [7, 9]},
    "staff-a": {"level": "staff", "expected_band": [8, 10]},
}


@dataclass
class Row:
    """One hand-made scored interview; rules not named pass with no violations."""

    persona: str
    sample: int
    score: float | None
    prompt: str = "v1"
    rules: dict[str, tuple[str, int, int | None]] = field(default_factory=dict)


def fingerprint(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "personas": {p: f"sha-{p}" for p in PERSONAS},
        "rubrics_sha256": "rubrics-1",
        "harness_version": "0.1.0",
        "scorer_version": "1",
        "interviewer": {"backend": "synthetic", "model": "synthetic-interviewer"},
        "candidate": {"backend": "synthetic", "model": "synthetic-candidate"},
        "clock": "off",
        "limits": {"max_turns": 80},
    }
    base.update(changes)
    return base


def make_run(
    rows: list[Row],
    *,
    run_id: str = "run-a",
    prompt_sha: dict[str, str] | None = None,
    regrades: list[tuple[str, str, int, float | None]] | None = None,
    fp: dict[str, Any] | None = None,
) -> RunData:
    """A RunData built from rows; regrades are (prompt, interview_id, index, score)."""
    prompts = sorted({r.prompt for r in rows})
    manifest = hand_manifest(
        run_id,
        prompts,
        {p: {**m, "problem": "url-shortener", "mode": "scripted"} for p, m in PERSONAS.items()},
        prompt_sha=prompt_sha,
        fingerprint=fp or fingerprint(),
    )
    transcripts, scores = [], []
    for r in rows:
        iid = f"{r.prompt}:{r.persona}#{r.sample}"
        transcripts.append(
            Transcript(
                interview_id=iid,
                prompt_version=r.prompt,
                persona=r.persona,
                turns=[Turn(role="candidate", text="hi", elapsed_s=0)],
                meta={"sample_index": r.sample, "synthetic": True},
            )
        )
        results = {}
        for rule in RULE_IDS:
            verdict, violations, opp = r.rules.get(rule, ("pass", 0, None))
            results[rule] = RuleResult(
                verdict=verdict,  # type: ignore[arg-type]
                turns=list(range(violations)),
                evidence=["x"] * violations,
                opportunities=opp,
            )
        scores.append(ScoreRecord(interview_id=iid, final_score=r.score, rules=results))
    regrade_records = [
        RegradeRecord(
            interview_id=iid,
            prompt_version=prompt,
            persona=iid.split(":")[1].split("#")[0],
            regrade_index=k,
            text="",
            final_score=score,
        )
        for prompt, iid, k, score in regrades or []
    ]
    return RunData(
        run_dir=Path(f"/nonexistent/{run_id}"),
        manifest=manifest,
        transcripts=transcripts,
        scores=scores,
        regrades=regrade_records,
    )


def test_interview_table_has_one_row_per_interview_with_band_and_rule_columns() -> None:
    run = make_run(
        [
            Row("junior-a", 0, 3.0, rules={"one_question": ("fail", 2, 10)}),
            Row("junior-a", 1, 5.5),
            Row("staff-a", 0, None, rules={"pushback": ("n/a", 0, 0)}),
        ]
    )
    table = interview_table(run)
    assert len(table) == 3
    first = table.iloc[0]
    assert (first["level"], first["level_rank"], first["band_lo"], first["band_hi"]) == (
        "junior",
        0,
        2.0,
        4.0,
    )
    assert first["one_question.verdict"] == "fail"
    assert first["one_question.violations"] == 2
    assert first["one_question.opportunities"] == 10
    assert bool(first["in_band"]) is True and first["band_error"] == 0
    second = table.iloc[1]
    assert bool(second["in_band"]) is False and second["band_error"] == pytest.approx(1.5)
    third = table.iloc[2]
    assert np.isnan(third["final_score"]) and np.isnan(third["in_band"])
    assert third["level_rank"] == 3 and third["prompt_sha256"] == "sha-v1"


def test_rule_table_marks_na_as_not_applicable() -> None:
    run = make_run(
        [Row("mid-a", 0, 6.0, rules={"pushback": ("n/a", 0, 0), "opening": ("fail", 1, 1)})]
    )
    long = rule_table(interview_table(run))
    assert len(long) == len(RULE_IDS)
    by_rule = long.set_index("rule")
    assert not by_rule.at["pushback", "applicable"] and np.isnan(by_rule.at["pushback", "passed"])
    assert by_rule.at["opening", "passed"] == 0.0 and by_rule.at["opening", "violations"] == 1
    assert by_rule.at["in_role", "passed"] == 1.0


def test_same_prompt_id_in_two_runs_gets_distinct_arms() -> None:
    a = make_run([Row("mid-a", 0, 6.0)], run_id="ra")
    b = make_run([Row("mid-a", 0, 6.0)], run_id="rb")
    c = make_run([Row("mid-a", 0, 6.0, prompt="v2")], run_id="rc")
    arms = interview_table([a, b, c])["arm"].tolist()
    assert arms == ["v1@ra", "v1@rb", "v2"]


def test_unscored_run_is_refused_with_the_file_named() -> None:
    run = make_run([Row("mid-a", 0, 6.0)]).model_copy(update={"scores": None})
    with pytest.raises(InputError, match=r"scores\.jsonl"):
        interview_table(run)
