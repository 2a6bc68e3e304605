"""Building a RuleResult: a verdict, the turns at fault with one short quote each, and the
number of chances the rule had."""

from __future__ import annotations

from typing import Any

from harness.contracts import RuleResult
from harness.scoring.markdown import quote

Hit = tuple[int, str]  # (turn index, the text to quote from it)


def not_applicable() -> RuleResult:
    return RuleResult(verdict="n/a", opportunities=None)


def judged(
    hits: list[Hit], opportunities: int, note: str | None = None, *, failed: bool | None = None
) -> RuleResult:
    """Fail with the hits (by default: when there are any), else pass with no turns. `note`
    (an added field) says in a few words why it failed."""
    failed = bool(hits) if failed is None else failed
    if not failed:
        return RuleResult(verdict="pass", opportunities=opportunities)
    unique: dict[int, str] = {}
    for turn, text in hits:
        unique.setdefault(turn, text)
    ordered = sorted(unique.items())
    fields: dict[str, Any] = {
        "verdict": "fail",
        "turns": [t for t, _ in ordered],
        "evidence": [quote(text) for _, text in ordered],
        "opportunities": opportunities,
    }
    if note:
        fields["note"] = note
    return RuleResult.model_validate(fields)


def flagged(result: RuleResult, signals: list[str]) -> RuleResult:
    """The result marked `uncertain` (an added field) with the signals that make it so: the
    verdict rests on a match at the edge of the rule's word lists, where a paraphrase could
    have gone the other way. The verdict itself is unchanged; labelling and the judge
    (`--judge-only-uncertain`) can start there."""
    if not signals:
        return result
    return RuleResult.model_validate(
        {**result.model_dump(exclude_none=True), "uncertain": True, "signals": signals}
    )
