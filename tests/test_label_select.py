"""The labelling order: disagreements between the deterministic scorers and the judge first,
then rare failures, then the rest; each stratum shuffled with a seed and its size recorded."""

from __future__ import annotations

from collections import Counter

from harness.contracts import RuleResult, ScoreRecord, Transcript
from harness.label.select import build_queue, rare_rules
from harness.scoring.score import score_transcript
from harness.store.rundata import RunData
from tests.factories import hand_manifest
from tests.test_scoring_support import cand, interview, intv
from tests.test_scoring_uncertain import GROUNDED


def _transcripts() -> list[Transcript]:
    out = []
    for i in range(12):
        reply = "What's next?" if i == 0 else "What's the TTL?"  # one rare drill_down fail
        out.append(
            interview(
                cand("We'd add a cache.", "gloss:cache"),
                intv(reply),
                feedback=GROUNDED,
                interview_id=f"t{i}",
            )
        )
    return out


def _run(transcripts: list[Transcript], judged: dict[str, str]) -> RunData:
    """Stored scores where the judge gave drill_down the given verdict for some ids."""
    scores = []
    for t in transcripts:
        record = score_transcript(t)
        if t.interview_id in judged:
            rules = dict(record.rules)
            verdict = judged[t.interview_id]
            turns = [5] if verdict == "fail" else []
            rules["drill_down"] = RuleResult(
                verdict=verdict, turns=turns, evidence=["x"] * len(turns)
            )  # type: ignore[arg-type]
            scorers = {**record.scorers, "drill_down": "anthropic:judge"}  # type: ignore[attr-defined]
            record = record.model_copy(update={"rules": rules, "scorers": scorers})
        scores.append(record)
    manifest = hand_manifest("r", ["v1"], {"p": {}})
    return RunData(run_dir=".", manifest=manifest, transcripts=transcripts, scores=scores)


def test_disagreements_come_first_then_rare_failures() -> None:
    transcripts = _transcripts()
    # The judge fails t3 and t7 where the deterministic scorer passes; agrees on t1.
    run = _run(transcripts, {"t3": "fail", "t7": "fail", "t1": "pass"})
    queue = build_queue([run], "disagreement", seed="s")
    strata = [item.stratum for item in queue]
    assert strata == ["disagreement"] * 2 + ["rare"] + ["rest"] * 9
    assert {q.transcript.interview_id for q in queue[:2]} == {"t3", "t7"}
    assert queue[2].transcript.interview_id == "t0"
    assert [q.stratum_size for q in queue] == [2, 2, 1] + [9] * 9


def test_the_order_is_a_seeded_shuffle_within_strata() -> None:
    run = _run(_transcripts(), {})
    ids = lambda seed: [q.transcript.interview_id for q in build_queue([run], "random", seed)]  # noqa: E731
    assert ids("a") == ids("a") and ids("a") != ids("b")
    assert Counter(q.stratum for q in build_queue([run], "random", "a")) == {"random": 12}


def test_rare_rules_are_those_failing_in_at_most_a_tenth() -> None:
    records: list[ScoreRecord] = [score_transcript(t) for t in _transcripts()]
    assert rare_rules(records) == {"drill_down"}


def test_without_a_judge_uncertain_verdicts_come_first() -> None:
    transcripts = _transcripts()
    transcripts[4] = interview(
        cand("We'd add a cache.", "gloss:cache"),
        intv("How will the database keep up with writes?"),  # a near miss: uncertain
        feedback=GROUNDED,
        interview_id="t4",
    )
    queue = build_queue([_run(transcripts, {})], "disagreement", seed="s")
    first = queue[0]
    assert (first.stratum, first.transcript.interview_id) == ("uncertain", "t4")
