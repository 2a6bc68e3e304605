"""The ten rules of `sdi.scores/1`, one check each: `check(view) -> RuleResult`."""

from __future__ import annotations

from collections.abc import Callable

from harness.contracts import RuleResult
from harness.scoring.rules.feedback_rules import (
    check_feedback_format,
    check_feedback_timing,
    check_score_justified,
)
from harness.scoring.rules.in_role import check_in_role
from harness.scoring.rules.one_question import check_one_question
from harness.scoring.rules.opening import check_opening
from harness.scoring.rules.probes import (
    check_drill_down,
    check_no_direct_correction,
    check_pushback,
    check_scale_probe,
)
from harness.scoring.view import TranscriptView

Check = Callable[[TranscriptView], RuleResult]

CHECKS: dict[str, Check] = {
    "opening": check_opening,
    "one_question": check_one_question,
    "pushback": check_pushback,
    "scale_probe": check_scale_probe,
    "drill_down": check_drill_down,
    "no_direct_correction": check_no_direct_correction,
    "feedback_timing": check_feedback_timing,
    "feedback_format": check_feedback_format,
    "score_justified": check_score_justified,
    "in_role": check_in_role,
}
