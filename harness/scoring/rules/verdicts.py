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
