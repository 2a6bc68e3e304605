"""Scores as tables a person reads: one row per interview with a compact verdict per rule, and
per-rule pass / fail / n/a counts."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from harness.contracts import RuleResult, ScoreRecord, scored_rules
from harness.scoring.rubrics import rule_order

SHORT_NAMES = {
    "opening": "opening",
    "one_question": "one_q",
    "pushback": "pushback",
    "scale_probe": "scale",
    "drill_down": "drill",
    "no_direct_correction": "no_corr",
    "feedback_timing": "fb_time",
    "feedback_format": "fb_form",
    "score_justified": "justified",
    "in_role": "in_role",
}
_SHOWN_TURNS = 3


def compact(result: RuleResult) -> str:
    """ "ok", "-" (n/a), or "FAIL@7,9" with the first turns at fault."""
    if result.verdict == "pass":
        return "ok"
    if result.verdict == "n/a":
        return "-"
    shown = ",".join(str(t) for t in result.turns[:_SHOWN_TURNS])
    more = f"+{len(result.turns) - _SHOWN_TURNS}" if len(result.turns) > _SHOWN_TURNS else ""
    return f"FAIL@{shown}{more}" if shown else "FAIL"


def verdict_table(records: Sequence[ScoreRecord]) -> pd.DataFrame:
    rows = []
    for r in records:
        row: dict[str, object] = {
            "interview": r.interview_id,
            "score": "-" if r.final_score is None else f"{r.final_score:g}",
        }
        row.update({SHORT_NAMES.get(rule, rule): compact(res) for rule, res in r.rules.items()})
        if getattr(r, "judge_error", None):
            row["note"] = "judge failed"
        rows.append(row)
    return pd.DataFrame(rows)


def rule_counts(records: Sequence[ScoreRecord]) -> pd.DataFrame:
    """Per rule: how many interviews pass, fail, or give it no chance, and the fail rate among
    those where it applied."""
    rule_ids = scored_rules(records)
    verdicts = pd.DataFrame(
        [{rule: r.rules[rule].verdict for rule in r.rules} for r in records],
        columns=list(rule_ids),
    )
    counts = (
        verdicts.apply(lambda col: col.value_counts())
        .reindex(["pass", "fail", "n/a"])
        .fillna(0)
        .astype(int)
        .T
    )
    applicable = counts["pass"] + counts["fail"]
    counts["fail_rate"] = (counts["fail"] / applicable.where(applicable > 0)).map(
        lambda v: "-" if pd.isna(v) else f"{v:.0%}"
    )
    counts.index.name = "rule"
    return counts


def render_table(records: Sequence[ScoreRecord]) -> str:
    if not records:
        return "no transcripts scored"
    legend = ["verdicts: ok = pass, FAIL@turns = fail at those turn indices, - = n/a"]
    judged = sorted(
        {
            (rule, name)
            for r in records
            for rule, name in getattr(r, "scorers", {}).items()
            if name != "deterministic"
        }
    )
    if judged:
        judges = sorted({name for _, name in judged})
        rules = sorted({rule for rule, _ in judged}, key=rule_order)
        legend.append(f"judged by {', '.join(judges)}: {', '.join(rules)}; the rest deterministic")
    return "\n".join(
        [
            verdict_table(records).to_string(index=False),
            "",
            *legend,
            "",
            rule_counts(records).to_string(),
        ]
    )
