"""Which transcripts a labeller sees first, and the stratum each was drawn from.

Labels are most useful where the scorers are least sure, so the default order shows first the
transcripts where the deterministic scorers and the judge disagree (with no judge: where a
deterministic verdict is marked `uncertain`), then those with a rare failure (a rule that fails
in at most RARE_SHARE of the run), then the rest. Within a stratum the order is a seeded
shuffle, so the transcripts labelled from a stratum are a random sample of it; with each
stratum's size recorded, agreement can be weighted back to the whole run
(`harness.scoring.labels`).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from harness.contracts import RULE_IDS, ScoreRecord, Transcript
from harness.scoring.score import DETERMINISTIC, score_many
from harness.store.rundata import RunData

ORDERS: tuple[str, ...] = ("disagreement", "rare", "random")
STRATA: dict[str, tuple[str, ...]] = {
    "disagreement": ("disagreement", "uncertain", "rare", "rest"),
    "rare": ("rare", "rest"),
    "random": ("random",),
}
RARE_SHARE = 0.10


@dataclass(frozen=True)
class QueueItem:
    transcript: Transcript
    run: str
    stratum: str
    stratum_size: int


def _judged(record: ScoreRecord | None) -> dict[str, str]:
    """The verdicts a judge gave in a stored record (rule -> verdict), none if not judged."""
    if record is None:
        return {}
    scorers: dict[str, str] = getattr(record, "scorers", {}) or {}
    return {
        rule: record.rules[rule].verdict
        for rule, who in scorers.items()
        if who != DETERMINISTIC and rule in record.rules
    }


def stratum_of(
    deterministic: ScoreRecord,
    judged: ScoreRecord | None,
    rare_rules: set[str],
    order: str,
    with_judge: bool,
) -> str:
    """`with_judge`: some transcript of the runs was judged, so disagreement is the first
    stratum; otherwise the deterministic scorers' uncertain verdicts are."""
    if order == "random":
        return "random"
    if order == "disagreement":
        if with_judge:
            verdicts = _judged(judged)
            if any(deterministic.rules[r].verdict != v for r, v in verdicts.items()):
                return "disagreement"
        elif any(getattr(result, "uncertain", False) for result in deterministic.rules.values()):
            return "uncertain"
    if any(deterministic.rules[r].verdict == "fail" for r in rare_rules):
        return "rare"
    return "rest"


def rare_rules(records: Sequence[ScoreRecord], share: float = RARE_SHARE) -> set[str]:
    """Rules that fail somewhere, but in at most `share` of the transcripts."""
    fails = Counter(r for rec in records for r in RULE_IDS if rec.rules[r].verdict == "fail")
    return {r for r, n in fails.items() if n <= max(1.0, share * len(records))}


def build_queue(runs: Sequence[RunData], order: str, seed: str) -> list[QueueItem]:
    """Every transcript of the runs, in labelling order, each with its stratum and the
    stratum's size. The same runs, order and seed always give the same queue (so a labelling
    session resumes in the same order)."""
    pairs: list[tuple[Transcript, str, ScoreRecord | None]] = []
    for run in runs:
        stored = {s.interview_id: s for s in run.scores or []}
        pairs += [(t, run.manifest.run_id, stored.get(t.interview_id)) for t in run.transcripts]
    deterministic = score_many([t for t, _, _ in pairs], workers=1)
    rare = rare_rules(deterministic)
    with_judge = any(_judged(judged) for _, _, judged in pairs)
    strata = [
        stratum_of(d, judged, rare, order, with_judge)
        for d, (_, _, judged) in zip(deterministic, pairs, strict=True)
    ]
    sizes = Counter(strata)
    rng = random.Random(seed)
    queue: list[QueueItem] = []
    for stratum in STRATA[order]:
        members = [
            QueueItem(t, run, s, sizes[s])
            for (t, run, _), s in zip(pairs, strata, strict=True)
            if s == stratum
        ]
        rng.shuffle(members)
        queue += members
    return queue
