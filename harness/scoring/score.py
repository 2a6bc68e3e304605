"""Scoring transcripts: every rule, deterministic by default, with an LLM judge for the
semantic rules when one is given.

`score_transcript` is pure and fast (no model calls). `score_transcripts` adds the judge: its
verdicts replace the deterministic ones for the rules it judges; when it cannot give a valid
answer for a transcript, the deterministic verdicts stay and the record says so.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from harness.contracts import RuleResult, ScoreRecord, Transcript
from harness.project import snapshot
from harness.scoring import SCORER_VERSION
from harness.scoring.registry import RuleSet, load_rules
from harness.scoring.view import view

if TYPE_CHECKING:
    from harness.scoring.judge import Judge
    from harness.simulate.progress import ProgressSink

DETERMINISTIC = "deterministic"
UNSCORED = "none"  # a judge-only rule scored without a judge
# Below this many transcripts, scoring in one process is faster than starting a pool.
POOL_MIN = 2000
CHUNKS_PER_WORKER = 4
OWN_SHARE = 0.95


def _unjudged() -> RuleResult:
    return RuleResult.model_validate(
        {"verdict": "n/a", "note": "judge-only rule: scored with --judge"}
    )


def score_transcript(transcript: Transcript, rules: RuleSet | None = None) -> ScoreRecord:
    """Every rule's verdict, the turns at fault with evidence, and the interviewer's score.
    `rules`: the rule set (default: the current project's, see harness.scoring.registry)."""
    ruleset = rules or load_rules()
    seen = view(transcript)
    results = {
        r.id: r.check(seen) if r.check is not None else _unjudged() for r in ruleset.rules.values()
    }
    scorers = {r.id: DETERMINISTIC if r.check else UNSCORED for r in ruleset.rules.values()}
    final = seen.scores.get(seen.feedback) if seen.feedback is not None else None
    return _record(transcript, final, results, scorers, rules_sha256=ruleset.sha256)


def _record(
    transcript: Transcript,
    final_score: float | None,
    rules: dict[str, RuleResult],
    scorers: dict[str, str],
    **extra: Any,
) -> ScoreRecord:
    """`rules_sha256` (an added field) names the rule set, so scores from different rule sets
    are never mixed."""
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
    """The record with the judge's verdicts in place of the deterministic ones it covers. The
    number of opportunities stays the deterministic count (it comes from the annotations and
    turns, not from judgement) unless the judge gives one or says n/a."""
    rules = dict(record.rules)
    scorers = dict(getattr(record, "scorers", {}))
    for rule, result in verdicts.items():
        if rule in rules:
            if result.opportunities is None and result.verdict != "n/a":
                result = result.model_copy(update={"opportunities": rules[rule].opportunities})
            rules[rule] = result
            scorers[rule] = judge_name
    extra = {"rules_sha256": getattr(record, "rules_sha256", None), "judge": judge_name}
    return _record(transcript, record.final_score, rules, scorers, **extra)


# What the worker processes score: set before the pool forks, so they inherit it instead of
# receiving pickled transcripts (unpickling pydantic models costs more than scoring them).
_FORKED_INPUT: Sequence[Transcript] = ()
_FORKED_RULES: RuleSet | None = None


def _score_slice(bounds: tuple[int, int]) -> str:
    """Score a slice of the inherited input; one JSON string back is the cheapest to ship."""
    start, end = bounds
    with snapshot():
        return _dump_slice(start, end)


def _dump_slice(start: int, end: int) -> str:
    return json.dumps(
        [
            score_transcript(t, _FORKED_RULES).model_dump(mode="json", by_alias=True)
            for t in _FORKED_INPUT[start:end]
        ]
    )


def _rebuild(data: dict[str, Any]) -> ScoreRecord:
    """A record from a worker: built without validating again what was valid when made."""
    rules = {rule: RuleResult.model_construct(**r) for rule, r in data.pop("rules").items()}
    data.pop("schema", None)
    return ScoreRecord.model_construct(rules=rules, **data)


def _score_here(
    transcripts: Sequence[Transcript], progress: ProgressSink | None, rules: RuleSet
) -> list[ScoreRecord]:
    records = []
    for t in transcripts:
        records.append(score_transcript(t, rules))
        if progress is not None:
            progress.advance(t.interview_id, "scored")
    return records


def score_many(
    transcripts: Sequence[Transcript],
    *,
    workers: int | None = None,
    progress: ProgressSink | None = None,
    min_for_pool: int = POOL_MIN,
    rules: RuleSet | None = None,
) -> list[ScoreRecord]:
    """Deterministic scores in input order. Inputs of `min_for_pool` transcripts or more are
    shared between this process and `workers - 1` forked ones (workers default: one per CPU),
    where processes can fork; below that a pool costs more than it saves."""
    with snapshot():
        return _score_many(transcripts, workers, progress, min_for_pool, rules)


def _score_many(
    transcripts: Sequence[Transcript],
    workers: int | None,
    progress: ProgressSink | None,
    min_for_pool: int,
    rules: RuleSet | None,
) -> list[ScoreRecord]:
    global _FORKED_INPUT, _FORKED_RULES
    ruleset = rules or load_rules()
    workers = workers if workers is not None else (os.cpu_count() or 1)
    can_fork = "fork" in multiprocessing.get_all_start_methods()
    if workers <= 1 or len(transcripts) < min_for_pool or not can_fork:
        return _score_here(transcripts, progress, ruleset)
    # This process scores the first share itself (a little less: it also unpacks the rest).
    own = int(len(transcripts) / workers * OWN_SHARE)
    size = max(1, -(-(len(transcripts) - own) // ((workers - 1) * CHUNKS_PER_WORKER)))
    bounds = [(i, min(i + size, len(transcripts))) for i in range(own, len(transcripts), size)]
    _FORKED_INPUT, _FORKED_RULES = transcripts, ruleset
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers - 1, mp_context=context) as pool:
            shipped = pool.map(_score_slice, bounds)  # submitted now, run beside the next line
            out = _score_here(transcripts[:own], progress, ruleset)
            for (start, end), chunk in zip(bounds, shipped, strict=True):
                out.extend(_rebuild(d) for d in json.loads(chunk))
                if progress is not None:
                    for t in transcripts[start:end]:
                        progress.advance(t.interview_id, "scored")
    finally:
        _FORKED_INPUT, _FORKED_RULES = (), None
    return out


async def score_transcripts(
    transcripts: Sequence[Transcript],
    *,
    judge: Judge | None = None,
    concurrency: int = 8,
    progress: ProgressSink | None = None,
    workers: int | None = None,
    only_uncertain: bool = False,
) -> list[ScoreRecord]:
    """Score many transcripts, in input order; with a judge, up to `concurrency` judge calls run
    at once. A transcript the judge fails on (JudgeOutputError) keeps its deterministic verdicts
    and gets `judge_error` in its record. `workers`: processes for the deterministic scoring of
    large inputs (see `score_many`). `only_uncertain`: the judge is asked only about
    transcripts with an `uncertain` verdict on a rule it judges, and only those verdicts are
    replaced (the deterministic one stays beside it as `deterministic`), which keeps judge
    cost to the share of uncertain verdicts."""
    if progress is not None:
        label = "scoring" if judge is None else f"judging ({judge.name})"
        progress.start(len(transcripts), 0, label)
    try:
        if judge is None:
            return score_many(transcripts, workers=workers, progress=progress)
        # No worker processes beside the judge's client: forking next to its threads is unsafe,
        # and the model calls take far longer than scoring in one process anyway.
        records = score_many(transcripts, workers=1)
        return await _judge_all(transcripts, records, judge, concurrency, progress, only_uncertain)
    finally:
        if progress is not None:
            progress.stop()


async def _judge_all(
    transcripts: Sequence[Transcript],
    records: list[ScoreRecord],
    judge: Judge,
    concurrency: int,
    progress: ProgressSink | None,
    only_uncertain: bool = False,
) -> list[ScoreRecord]:
    from harness.scoring.judge import JUDGED_RULES, JudgeOutputError

    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(t: Transcript, record: ScoreRecord) -> ScoreRecord:
        asked = [
            r
            for r in JUDGED_RULES
            if not only_uncertain or getattr(record.rules[r], "uncertain", False)
        ]
        if not asked:
            if progress is not None:
                progress.advance(t.interview_id, "no uncertain verdict: not judged")
            return record
        async with gate:
            try:
                verdicts = await judge.judge(t)
            except JudgeOutputError as err:
                out = record.model_copy(update={"judge": judge.name, "judge_error": str(err)})
                note = "judge failed: deterministic verdicts kept"
            else:
                if only_uncertain:
                    verdicts = {
                        r: RuleResult.model_validate(
                            {
                                **verdicts[r].model_dump(exclude_none=True),
                                "deterministic": record.rules[r].model_dump(exclude_none=True),
                            }
                        )
                        for r in asked
                    }
                out = with_judge_verdicts(record, t, verdicts, judge.name)
                note = "judged"
        if progress is not None:
            progress.advance(t.interview_id, note)
        return out

    return list(
        await asyncio.gather(*(one(t, r) for t, r in zip(transcripts, records, strict=True)))
    )
