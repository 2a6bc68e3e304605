"""Tidy tables from scored runs: one row per interview, and one row per (interview, rule).

Every statistic in `harness.stats` is computed from these two frames, so what a figure means
can be checked by looking at the rows it came from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.config.personas import LEVEL_RANK
from harness.contracts import RULE_IDS, scored_rules
from harness.errors import InputError
from harness.store.rundata import RunData
from harness.store.runs import SCORES

ID_COLUMNS = (
    "run_id",
    "arm",
    "interview_id",
    "prompt_version",
    "prompt_sha256",
    "persona",
    "level",
    "level_rank",
    "band_lo",
    "band_hi",
    "sample_index",
    "synthetic",
)


def rule_column(rule: str, what: str) -> str:
    """Column of the interview table holding `what` (verdict, violations, opportunities)."""
    return f"{rule}.{what}"


def band_error(score: pd.Series, lo: pd.Series, hi: pd.Series) -> pd.Series:
    """Distance from a score to its persona's expected band: 0 inside it."""
    below = (lo - score).clip(lower=0)
    above = (score - hi).clip(lower=0)
    return below + above


def arm_labels(runs: list[RunData]) -> dict[tuple[str, str], str]:
    """A prompt version's label: its id, or `id@run` when the id appears in several runs."""
    keys = [(r.manifest.run_id, p.id) for r in runs for p in r.manifest.prompts]
    seen: dict[str, int] = {}
    for _, prompt_id in keys:
        seen[prompt_id] = seen.get(prompt_id, 0) + 1
    return {(run_id, pid): pid if seen[pid] == 1 else f"{pid}@{run_id}" for run_id, pid in keys}


def interview_table(runs: RunData | list[RunData]) -> pd.DataFrame:
    """One row per interview of one or more scored runs; the column `arm` names a prompt
    version uniquely across runs. Raises InputError for a run that has no scores."""
    run_list = [runs] if isinstance(runs, RunData) else runs
    labels = arm_labels(run_list)
    rows: list[dict[str, object]] = []
    for run in run_list:
        if run.scores is None:
            raise InputError(
                run.run_dir / SCORES, None, "run is not scored yet: `sdi score RUN` writes it"
            )
    rule_ids = scored_rules(s for run in run_list for s in run.scores or [])
    for run in run_list:
        assert run.scores is not None
        scores = {s.interview_id: s for s in run.scores}
        sha = {p.id: p.sha256 for p in run.manifest.prompts}
        for t in run.transcripts:
            meta = run.manifest.personas_meta.get(t.persona, {})
            band = meta.get("expected_band") or [np.nan, np.nan]
            level = meta.get("level")
            record = scores.get(t.interview_id)
            row: dict[str, object] = {
                "run_id": run.manifest.run_id,
                "arm": labels.get((run.manifest.run_id, t.prompt_version), t.prompt_version),
                "interview_id": t.interview_id,
                "prompt_version": t.prompt_version,
                "prompt_sha256": sha.get(t.prompt_version),
                "persona": t.persona,
                "level": level,
                "level_rank": LEVEL_RANK.get(str(level), np.nan),
                "band_lo": float(band[0]),
                "band_hi": float(band[1]),
                "sample_index": int(t.meta.get("sample_index", 0)),
                "synthetic": bool(t.meta.get("synthetic", run.manifest.synthetic)),
                "final_score": np.nan,
            }
            for rule in rule_ids:
                result = record.rules.get(rule) if record else None
                row[rule_column(rule, "verdict")] = result.verdict if result else None
                row[rule_column(rule, "violations")] = len(result.turns) if result else np.nan
                opp = result.opportunities if result else None
                row[rule_column(rule, "opportunities")] = np.nan if opp is None else opp
            if record is not None and record.final_score is not None:
                row["final_score"] = float(record.final_score)
            rows.append(row)
    frame = pd.DataFrame(rows, columns=_columns(rule_ids))
    frame.attrs["rules"] = rule_ids
    frame["in_band"] = np.where(
        frame["final_score"].isna() | frame["band_lo"].isna(),
        np.nan,
        (frame["final_score"] >= frame["band_lo"]) & (frame["final_score"] <= frame["band_hi"]),
    )
    frame["band_error"] = band_error(frame["final_score"], frame["band_lo"], frame["band_hi"])
    return frame


def table_rules(interviews: pd.DataFrame) -> tuple[str, ...]:
    """The rules an interview table holds (the rule set its runs were scored with)."""
    return tuple(interviews.attrs.get("rules", RULE_IDS))


def _columns(rule_ids: tuple[str, ...]) -> list[str]:
    per_rule = [
        rule_column(rule, what)
        for rule in rule_ids
        for what in ("verdict", "violations", "opportunities")
    ]
    return [*ID_COLUMNS, "final_score", *per_rule]


def rule_table(interviews: pd.DataFrame) -> pd.DataFrame:
    """The long form: one row per (interview, rule) with `applicable` (verdict is not n/a),
    `passed` (1.0, 0.0, or NaN when n/a or unscored), violations and opportunities."""
    parts = []
    for rule in table_rules(interviews):
        part = interviews[list(ID_COLUMNS)].copy()
        part["rule"] = rule
        verdict = interviews[rule_column(rule, "verdict")]
        part["verdict"] = verdict
        part["applicable"] = verdict.isin(["pass", "fail"])
        part["passed"] = np.where(part["applicable"], (verdict == "pass").astype(float), np.nan)
        part["violations"] = interviews[rule_column(rule, "violations")]
        part["opportunities"] = interviews[rule_column(rule, "opportunities")]
        parts.append(part)
    return pd.concat(parts, ignore_index=True)
