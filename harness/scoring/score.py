"""Scoring transcripts: every rule, deterministic by default, with an LLM judge for the
semantic rules when one is given.

`score_transcript` is pure and fast (no model calls). `score_transcripts` adds the judge: its
verdicts replace the deterministic ones for the rules it judges; when it cannot give a valid
answer for a transcript, the deterministic verdicts stay and the record says so.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from harness.contracts import RULE_IDS, RuleResult, ScoreRecord, Transcript
from harness.scoring import SCORER_VERSION
from harness.scoring.rules import CHECKS
from harness.scoring.view import view

if TYPE_CHECKING:
    from harness.scoring.judge import Judge
    from harness.simulate.progress import ProgressSink

DETERMINISTIC = "deterministic"


def score_transcript(transcript: Transcript) -> ScoreRecord:
    """Every rule's verdict, the turns at fault with evidence, and the interviewer's score."""
    seen = view(transcript)
    rules = {rule: CHECKS[rule](seen) for rule in RULE_IDS}
    final = seen.scores.get(seen.feedback) if seen.feedback is not None else None
    return _record(transcript, final, rules, dict.fromkeys(RULE_IDS, DETERMINISTIC))


def _record(
    transcript: Transcript,
    final_score: float | None,
    rules: dict[str, RuleResult],
    scorers: dict[str, str],
    **extra: Any,
) -> ScoreRecord:
    return ScoreRecord.model_validate(
        {
            "interview_id": transcript.interview_id,
            "final_score": final_score,
            "rules": rules,
            "prompt_version": transcript.prompt_version,
            "persona": transcript.persona,
            "scorer_version": SCORER_VERSION,
            "scorers": scorers,
            **extra,
        }
    )


def with_judge_verdicts(
    record: ScoreRecord, transcript: Transcript, verdicts: dict[str, RuleResult], judge_name: str
) -> ScoreRecord:
    """The record with the judge's verdicts in place of the deterministic ones it covers."""
    rules = dict(record.rules)
    scorers = dict(getattr(record, "scorers", {}))
    for rule, result in verdicts.items():
        if rule in rules:
            rules[rule] = result
            scorers[rule] = judge_name
    return _record(transcript, record.final_score, rules, scorers, judge=judge_name)


async def score_transcripts(
    transcripts: Sequence[Transcript],
    *,
    judge: Judge | None = None,
    concurrency: int = 8,
    progress: ProgressSink | None = None,
) -> list[ScoreRecord]:
    """Score many transcripts, in input order; with a judge, up to `concurrency` judge calls run
    at once. A transcript the judge fails on (JudgeOutputError) keeps its deterministic verdicts
    and gets `judge_error` in its record."""
    if progress is not None:
        progress.start(
            len(transcripts), 0, "scoring" if judge is None else f"judging ({judge.name})"
        )
    try:
        records = []
        for t in transcripts:
            records.append(score_transcript(t))
            if judge is None and progress is not None:
                progress.advance(t.interview_id, "scored")
        if judge is None:
            return records
        return await _judge_all(transcripts, records, judge, concurrency, progress)
    finally:
        if progress is not None:
            progress.stop()


async def _judge_all(
    transcripts: Sequence[Transcript],
    records: list[ScoreRecord],
    judge: Judge,
    concurrency: int,
    progress: ProgressSink | None,
) -> list[ScoreRecord]:
    from harness.scoring.judge import JudgeOutputError

    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(t: Transcript, record: ScoreRecord) -> ScoreRecord:
        async with gate:
            try:
                verdicts = await judge.judge(t)
            except JudgeOutputError as err:
                out = record.model_copy(update={"judge": judge.name, "judge_error": str(err)})
                note = "judge failed: deterministic verdicts kept"
            else:
                out = with_judge_verdicts(record, t, verdicts, judge.name)
                note = "judged"
        if progress is not None:
            progress.advance(t.interview_id, note)
        return out

    return list(
        await asyncio.gather(*(one(t, r) for t, r in zip(transcripts, records, strict=True)))
    )
